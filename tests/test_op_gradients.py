"""Every differentiable Tensor op, gradient-checked by central finite differences in float64."""

import numpy as np
import pytest

import xpgrad as xg


def leaf(shape, backend, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return xg.tensor(rng.uniform(low, high, shape), dtype="float64", requires_grad=True, backend=backend)


UNARY = {
    "exp": lambda a: a.exp(),
    "log": lambda a: (a.abs() + 0.5).log(),
    "sqrt": lambda a: (a.abs() + 0.5).sqrt(),
    "sin": lambda a: a.sin(),
    "cos": lambda a: a.cos(),
    "tanh": lambda a: a.tanh(),
    "sigmoid": lambda a: a.sigmoid(),
    "relu": lambda a: a.relu(),
    "abs": lambda a: a.abs(),
    "neg": lambda a: -a,
    "pow_scalar": lambda a: a**3,
    "square": lambda a: a**2,
    "rpow": lambda a: 2.0**a,
    "clip": lambda a: a.clip(-1.0, 1.0),
    "sum": lambda a: a.sum(),
    "sum_axis": lambda a: a.sum(axis=1),
    "sum_keepdims": lambda a: a.sum(axis=0, keepdims=True),
    "mean": lambda a: a.mean(axis=-1),
    "var": lambda a: a.var(axis=0),
    "var_ddof": lambda a: xg.var(a, ddof=1),
    "max": lambda a: a.max(axis=1),
    "min": lambda a: a.min(),
    "reshape": lambda a: a.reshape(4, 3) * 2,
    "transpose": lambda a: a.T * 2,
    "swapaxes": lambda a: a.swapaxes(0, 1) * 2,
    "expand_squeeze": lambda a: a.expand_dims(0).squeeze(0) * 2,
    "flatten": lambda a: a.flatten() * 2,
    "getitem_basic": lambda a: a[1:, ::2],
    "getitem_int_array": lambda a: a[[0, 2, 0], [1, 1, 3]],
    "getitem_bool_free": lambda a: a[:, [3, 0, 3]],
    "pad": lambda a: a.pad(1, value=0.5),
    "split": lambda a: a.split(2, axis=1)[1] * 3,
    "self_mul": lambda a: a * a,
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary(backend, name):
    a = leaf((3, 4), backend)
    if name in ("max", "min"):  # distinct values: the derivative exists
        a = xg.tensor((np.arange(12.0) % 7 + np.arange(12) * 0.01).reshape(3, 4), dtype="float64", requires_grad=True)
    assert xg.gradcheck(UNARY[name], (a,))


BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b.abs() + 0.5),
    "pow": lambda a, b: (a.abs() + 0.5) ** b,
    "maximum": lambda a, b: xg.maximum(a, b),
    "minimum": lambda a, b: xg.minimum(a, b),
    "where": lambda a, b: xg.where(a > b, a, b * 2),
}


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1))])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_broadcasting(backend, name, shapes):
    a = leaf(shapes[0], backend, seed=1)
    b = leaf(shapes[1], backend, seed=2)
    assert xg.gradcheck(BINARY[name], (a, b))
    out = BINARY[name](a, b)
    out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((2, 3, 4), (4, 2)), ((2, 3, 4), (2, 4, 2))])
def test_matmul(backend, shapes):
    a, b = leaf(shapes[0], backend, seed=3), leaf(shapes[1], backend, seed=4)
    assert xg.gradcheck(lambda x, y: x @ y, (a, b))


def test_concatenate_stack(backend):
    a, b = leaf((2, 3), backend, seed=5), leaf((2, 3), backend, seed=6)
    assert xg.gradcheck(lambda x, y: xg.concatenate([x, y * 2], axis=1), (a, b))
    assert xg.gradcheck(lambda x, y: xg.stack([x, y * 2], axis=-1), (a, b))


def test_clip_between_tensors(backend):
    # values and gradients as PyTorch's clamp: a bound equal to the input leaves the gradient to
    # the input; where min > max the result is max (NumPy's clip).
    x = xg.tensor([-2.0, 0.5, 1.0, 3.0, 0.0], dtype="float64", requires_grad=True)
    low = xg.tensor([-1.0, 1.0, 1.0, 0.0, 1.0], dtype="float64", requires_grad=True)
    high = xg.tensor([2.0, 2.0, 2.0, 2.0, -1.0], dtype="float64", requires_grad=True)
    y = xg.clip(x, low, high)
    np.testing.assert_array_equal(y.numpy(), np.clip(x.numpy(), low.numpy(), high.numpy()))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 1, 0, 0])
    np.testing.assert_array_equal(low.grad.numpy(), [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(high.grad.numpy(), [0, 0, 0, 1, 1])
    a, b = leaf((3, 4), backend, seed=10), leaf((4,), backend, seed=11)
    assert xg.gradcheck(lambda x, lo: xg.clip(x, lo, lo + 1.5), (a, b))  # broadcast bounds
    assert xg.gradcheck(lambda x, hi: xg.clip(x, None, hi), (a, b))
    np.testing.assert_array_equal(xg.clip(xg.arange(5), np.ones(5, np.int64), 3).numpy(), [1, 1, 2, 3, 3])


def test_concatenate_of_flattened_tensors(backend):
    a, b = leaf((2, 3), backend, seed=5), leaf((4,), backend, seed=6)
    np.testing.assert_array_equal(xg.concatenate([a, b], axis=None).numpy(),
                                  np.concatenate([a.numpy(), b.numpy()], axis=None))
    assert xg.gradcheck(lambda x, y: xg.concatenate([x, y * 2], axis=None), (a, b))


@pytest.mark.parametrize("activation", ["identity", "relu", "sigmoid", "tanh"])
def test_fused_linear(backend, activation):
    from xpgrad.functions.linalg import Linear

    x, w, b = leaf((5, 4), backend, seed=7), leaf((4, 3), backend, seed=8), leaf((3,), backend, seed=9)
    assert xg.gradcheck(lambda x, w, b: Linear.apply(x, w, b, activation=activation), (x, w, b))
    assert xg.gradcheck(lambda x, w: Linear.apply(x, w, activation=activation), (x, w))


def test_fused_linear_input_without_grad(backend):
    """A first layer (input needs no gradient): x.grad stays None, W and b still get theirs."""
    from xpgrad.functions.linalg import Linear

    x = xg.tensor(np.arange(12.0).reshape(3, 4) / 10, dtype="float64")
    w, b = leaf((4, 2), backend, seed=11), leaf((2,), backend, seed=12)
    Linear.apply(x, w, b, activation="tanh").sum().backward()
    assert x.grad is None
    g = 1 - np.tanh(x.numpy() @ w.numpy() + b.numpy()) ** 2
    np.testing.assert_allclose(w.grad.numpy(), x.numpy().T @ g, rtol=1e-12)
    np.testing.assert_allclose(b.grad.numpy(), g.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("name", ["exp", "sqrt", "tanh", "sigmoid", "mul", "div", "matmul", "getitem"])
def test_double_backward(backend, name):
    """Gradients built with create_graph=True are themselves gradient-checked."""
    fns = {
        "exp": lambda a: a.exp(),
        "sqrt": lambda a: (a * a + 1).sqrt(),
        "tanh": lambda a: a.tanh(),
        "sigmoid": lambda a: a.sigmoid(),
        "mul": lambda a: a * a * a,
        "div": lambda a: 1 / (a * a + 1),
        "matmul": lambda a: (a @ a.T).sum(axis=0),
        "getitem": lambda a: a[[0, 0, 1]] ** 3,
    }
    fn = fns[name]

    def first_derivative(a):
        (g,) = xg.grad(fn(a).sum(), a, create_graph=True)
        return g

    assert xg.gradcheck(first_derivative, (leaf((2, 3), backend, seed=10),))


def _torch_grads(fn, *values):
    """∂Σfn/∂input for each input, computed by PyTorch (the reference)."""
    torch = pytest.importorskip("torch")
    inputs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]
    fn(*inputs).sum().backward()
    return [t.grad.numpy() for t in inputs]


@pytest.mark.parametrize("p", [0, 0.5, 1, 2, 3])
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # 0^-0.5 = inf, as in torch
def test_pow_scalar_at_zero_matches_torch(backend, p):
    """∂aᵖ/∂a = p·aᵖ⁻¹, which is 0 for p = 0 even at a = 0 (0·0⁻¹ would be NaN)."""
    values = [0.0, 1.0, 2.0]
    x = xg.tensor(values, dtype="float64", requires_grad=True)
    (x**p).sum().backward()
    (want,) = _torch_grads(lambda t: t**p, values)
    np.testing.assert_allclose(x.grad.numpy(), want)


@pytest.mark.parametrize("exponent", [[2.0, 2.0, 2.0, 2.0], [0.0, 1.0, 0.0, -1.0], [0.0]])
def test_pow_tensor_exponent_at_zero_base_matches_torch(backend, exponent):
    """∂aᵇ/∂a = 0 where b = 0;  ∂aᵇ/∂b = aᵇ·ln a, taken as 0 where a = 0 and b ≥ 0."""
    base = [0.0, 0.0, 2.0, 3.0]
    a = xg.tensor(base, dtype="float64", requires_grad=True)
    b = xg.tensor(exponent, dtype="float64", requires_grad=True)
    (a**b).sum().backward()
    want_a, want_b = _torch_grads(lambda s, t: s**t, base, exponent)
    np.testing.assert_allclose(a.grad.numpy(), want_a)
    np.testing.assert_allclose(b.grad.numpy(), want_b)
    assert xg.gradcheck(lambda s, t: s**t, [xg.tensor([0.0, 1.0], dtype="float64", requires_grad=True),
                                            xg.tensor([2.0, 3.0], dtype="float64", requires_grad=True)])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_split_ties_like_torch(backend, name):
    a_values, b_values = [1.0, 2.0, 0.0, 3.0], [1.0, 1.0, 0.0, 4.0]
    a = xg.tensor(a_values, dtype="float64", requires_grad=True)
    b = xg.tensor(b_values, dtype="float64", requires_grad=True)
    (getattr(xg, name)(a, b) * xg.tensor([1.0, 2.0, 3.0, 4.0], dtype="float64")).sum().backward()
    torch = pytest.importorskip("torch")
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a_values, b_values))
    (getattr(torch, name)(ta, tb) * torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.filterwarnings("ignore:invalid value")
def test_maximum_minimum_give_the_other_input_zero_under_infinite_or_nan_gradients(backend, name):
    """∂L/∂y = ∞ or NaN reaches only the chosen input (∞/2 each at a tie); the other gets an exact 0,
    not ∞·0 = NaN (PyTorch's values, written out)."""
    big, small = (1.0, 0.0) if name == "maximum" else (0.0, 1.0)
    a = xg.tensor([big, 2.0, small], dtype="float64", requires_grad=True)
    b = xg.tensor([small, 2.0, big], dtype="float64", requires_grad=True)
    getattr(xg, name)(a, b).backward(xg.tensor([np.inf, np.inf, np.nan], dtype="float64"))
    np.testing.assert_array_equal(a.grad.numpy(), [np.inf, np.inf, 0.0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, np.inf, np.nan])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum_double_backward_keeps_each_inputs_share(backend, name):
    """∂L/∂a and ∂L/∂b built with create_graph are linear in ∂L/∂y with the shares of a and of b:
    ∂(Σ w·∂L/∂a)/∂(∂L/∂y) = w·share_a, whichever gradient is formed first."""
    big, small = (3.0, 0.0) if name == "maximum" else (0.0, 3.0)
    a = xg.tensor([big, 2.0, small], dtype="float64", requires_grad=True)
    b = xg.tensor([1.0, 2.0, 1.0], dtype="float64", requires_grad=True)
    gy = xg.tensor([1.0, 1.0, 1.0], dtype="float64", requires_grad=True)
    w = xg.tensor([1.0, 10.0, 100.0], dtype="float64")
    ga, gb = xg.grad(getattr(xg, name)(a, b), [a, b], grad_outputs=gy, create_graph=True)
    ((ga * w).sum() + (gb * w * w).sum()).backward()
    share_a = np.array([1.0, 0.5, 0.0])
    np.testing.assert_array_equal(gy.grad.numpy(), w.numpy() * share_a + w.numpy() ** 2 * (1 - share_a))


def test_maximum_backward_reads_its_inputs(backend):
    """The shares are formed in backward from a and b: a write to b in between raises."""
    a = xg.tensor([1.0, 2.0], requires_grad=True)
    b = xg.tensor([1.5, 1.5])
    y = xg.maximum(a, b).sum()
    b[0] = 0.0
    with pytest.raises(RuntimeError, match="inplace operation: input 1 of Maximum"):
        y.backward()


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_with_nan_send_gradient_to_the_nan(backend, name):
    """The max of [1, NaN, 3] is NaN, so ∂y/∂x = [0, 1, 0] (PyTorch); the others get no NaN."""
    x = xg.tensor([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    getattr(x, name)().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    x.zero_grad()
    getattr(x, name)(axis=1).sum().backward()
    want_row = [0.0, 0.0, 1.0] if name == "max" else [1.0, 0.0, 0.0]
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], want_row])


def test_max_over_non_empty_axes_of_an_empty_tensor(backend):
    """NumPy/torch reduce (0, 3) over axis 1 to shape (0,); only an empty reduced axis raises."""
    x = xg.zeros(0, 3, requires_grad=True)
    y = x.max(axis=1)
    assert y.shape == np.zeros((0, 3)).max(axis=1).shape
    y.sum().backward()
    assert x.grad.shape == (0, 3)
    for reduce_empty in (lambda: x.max(axis=0), lambda: x.min(), lambda: xg.zeros(0).max()):
        with pytest.raises(ValueError, match=r"empty axis of shape \(0"):
            reduce_empty()


def test_clip_between_tensors_with_nan_as_numpy_and_torch(backend):
    """A NaN input or bound gives NaN (np.clip, torch.clamp; the where-built path passed the
    input through), with gradient 0 to the input and both bounds (torch.clamp, float64)."""
    torch = pytest.importorskip("torch")
    nan = np.nan
    x = np.array([1.0, 2.0, nan, 0.5, -3.0, 5.0, nan, 1.5, 0.0], np.float64)
    lo = np.array([nan, 0.0, 0.0, 0.0, -1.0, 0.0, nan, 2.0, 1.0], np.float64)
    hi = np.array([3.0, nan, 1.0, 1.0, 1.0, 4.0, 2.0, 2.5, -1.0], np.float64)
    for bounds in ((lo, hi), (lo, None), (None, hi)):
        leaves = [xg.tensor(a, requires_grad=True) for a in (x, *bounds) if a is not None]
        args = iter(leaves[1:])
        y = xg.clip(leaves[0], *(None if b is None else next(args) for b in bounds))
        np.testing.assert_array_equal(y.numpy(), np.clip(x, *bounds))
        y.sum().backward()
        refs = [torch.tensor(a, requires_grad=True) for a in (x, *bounds) if a is not None]
        args = iter(refs[1:])
        torch.clamp(refs[0], *(None if b is None else next(args) for b in bounds)).sum().backward()
        for leaf_, ref in zip(leaves, refs):
            np.testing.assert_array_equal(leaf_.grad.numpy(), ref.grad.numpy())
