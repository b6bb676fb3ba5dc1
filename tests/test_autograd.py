"""The backward engine: accumulation, retain_graph, errors, no_grad, deep graphs, xg.grad."""

import re

import numpy as np
import pytest

import xpgrad as xg
from xpgrad.autograd import Function


def test_gradient_sums_over_paths(backend):
    """x used twice: ∂(x·x + x)/∂x = 2x + 1."""
    x = xg.tensor([1.0, -2.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -3.0])


def test_grad_accumulates_until_zeroed(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_second_backward_through_freed_graph_raises(backend):
    x = xg.tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()


def test_retain_graph_allows_second_backward(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_backward_on_non_scalar_needs_gradient(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(xg.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 20.0])
    with pytest.raises(ValueError, match=r"\(3,\)"):
        (x * 2).backward(xg.tensor([1.0, 1.0, 1.0]))


def test_backward_without_graph_raises(backend):
    with pytest.raises(RuntimeError, match="does not require grad"):
        xg.tensor([1.0]).sum().backward()


def test_no_grad_records_nothing(backend):
    x = xg.tensor([1.0], requires_grad=True)
    with xg.no_grad():
        y = x * 2
        assert not xg.is_grad_enabled()
        with xg.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad and not z.is_leaf
    assert xg.is_grad_enabled()


def test_deep_chain_backpropagates_without_recursion(backend):
    """100,000 ops in a chain: the iterative topological sort has no recursion limit."""
    x = xg.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_leaves_and_intermediates(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    out = (h * h).sum()
    out.backward()
    assert x.is_leaf and not h.is_leaf
    np.testing.assert_allclose(h.grad.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(x.grad.numpy(), [8.0, 16.0])


def test_grad_does_not_touch_dot_grad(backend):
    x = xg.tensor([3.0], requires_grad=True)
    (g,) = xg.grad((x**2).sum(), [x])
    assert x.grad is None
    np.testing.assert_allclose(g.numpy(), [6.0])


def test_grad_of_intermediate(backend):
    x = xg.tensor([3.0], requires_grad=True)
    h = x * 2
    (gh,) = xg.grad((h**2).sum(), h)
    np.testing.assert_allclose(gh.numpy(), [12.0])


def test_grad_unused_input(backend):
    x = xg.tensor([1.0], requires_grad=True)
    y = xg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="not used"):
        xg.grad((x * 2).sum(), [x, y])
    gx, gy = xg.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None and gx.item() == 2.0


def test_double_backward_of_tanh_closed_form(backend):
    """d²tanh/dx² = −2 tanh(x)(1 − tanh²(x))."""
    x = xg.tensor([0.3, -1.2], dtype="float64", requires_grad=True)
    (g,) = xg.grad(x.tanh().sum(), x, create_graph=True)
    (g2,) = xg.grad(g.sum(), x)
    t = np.tanh([0.3, -1.2])
    np.testing.assert_allclose(g2.numpy(), -2 * t * (1 - t * t))


def test_backward_create_graph_fills_differentiable_grad(backend):
    x = xg.tensor(2.0, dtype="float64", requires_grad=True)
    (x**3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad
    (g2,) = xg.grad(g, x)
    assert g2.item() == pytest.approx(12.0)


class _WrongSquare(Function):
    """a² with the gradient 3a instead of 2a."""

    def forward(self, a):
        return a * a

    def backward(self, gy):
        return (gy * self.inputs[0] * 3,)


class _NanGradient(Function):
    """2a with a NaN gradient (NaN compares False with every bound)."""

    def forward(self, a):
        return a * 2

    def backward(self, gy):
        return (gy * float("nan"),)


@pytest.mark.parametrize("op,match", [
    (_WrongSquare, r"input 0 at index \(1,\)"),  # the worst element is named
    (_NanGradient, r"input 0 at index \(0,\): autodiff nan"),
])
def test_gradcheck_fails_and_names_the_element(backend, op, match):
    x = xg.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    with pytest.raises(xg.GradcheckError, match=match):
        xg.gradcheck(lambda a: op.apply(a), (x,))
    assert xg.gradcheck(lambda a: op.apply(a), (x,), raise_exception=False) is False


def test_gradcheck_of_a_0d_input(backend):
    # a scalar input failed inside gradcheck with "'numpy.float64' object does not support
    # item assignment" instead of checking d(x^3)/dx = 3x^2 at x = 1.5 against finite differences
    x = xg.tensor(1.5, dtype="float64", requires_grad=True)
    assert xg.gradcheck(lambda a: a**3, (x,))
    with pytest.raises(xg.GradcheckError, match=r"input 0 at index \(\): autodiff") as info:
        xg.gradcheck(lambda a: _WrongSquare.apply(a) * a, (x,))
    # both scaled by the same random projection: autodiff 3a·a + a² = 9, numeric 3a² = 6.75
    auto, numeric = map(float, re.findall(r"autodiff (\S+), finite difference (\S+) ", str(info.value))[0])
    assert auto / numeric == pytest.approx(9 / 6.75, rel=1e-6)


def test_to_dot_names_ops_shapes_values_and_grads(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).sum()
    y.backward()
    dot = xg.to_dot(y)
    assert dot.startswith("digraph")
    assert "Mul" in dot and "Sum" in dot
    assert "shape (2,)" in dot and "grad [3., 3.]" in dot


def test_each_leaf_gets_its_own_gradient(backend):
    """x + w sends the same ∂L/∂y to both leaves; each .grad must be a separate array."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    w = xg.tensor([3.0, 4.0], requires_grad=True)
    seed = xg.ones(2)
    (x + w).backward(seed)
    assert x.grad is not w.grad and x.grad.data is not w.grad.data
    x.grad[0] = 5.0
    seed[1] = 7.0
    assert w.grad.tolist() == [1.0, 1.0] and x.grad.tolist() == [5.0, 1.0]


@pytest.mark.parametrize("make", [lambda x: x + 1, lambda x: x.reshape(2, 1), lambda x: x.clone()])
def test_gradient_does_not_alias_the_seed(backend, make):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    y = make(x)
    g = np.ones(y.shape, np.float32)
    y.backward(g)
    g[...] = 5.0
    assert x.grad.tolist() == [1.0, 1.0]
    assert x.grad.data.base is None  # owned: no hidden link to the seed


def test_leaf_gradient_of_broadcast_is_writable_and_owned(backend):
    """The gradient of sum is ∂L/∂y broadcast: the leaf gets a real array, not a stride-0 view."""
    x = xg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.sum().backward()
    assert x.grad.data.base is None
    x.grad[0] = 5.0
    assert x.grad.tolist() == [5.0, 1.0, 1.0]
    if backend in ("numpy", "cpu"):
        assert x.grad.data.flags.writeable
        np.testing.assert_array_equal(np.from_dlpack(x.grad), [5.0, 1.0, 1.0])


def test_leaf_backward_with_seed_copies_it(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    seed = xg.tensor([3.0, 4.0])
    x.backward(seed)
    seed[0] = 0.0
    assert x.grad.tolist() == [3.0, 4.0]


def test_gradient_copied_from_a_seed_follows_create_graph(backend):
    """As PyTorch: with create_graph, x.grad copied from a seed that requires grad stays a
    function of it (the copy was a detached leaf, so ∂Σx.grad/∂g was lost); without, x.grad
    is a plain tensor that requires no grad."""
    g = xg.tensor([3.0, 4.0], requires_grad=True)
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    x.backward(g, create_graph=True)
    assert x.grad.tolist() == [3.0, 4.0] and x.grad.requires_grad
    x.grad.sum().backward()
    assert g.grad.tolist() == [1.0, 1.0]
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    (x + 0).backward(g)
    assert x.grad.tolist() == [3.0, 4.0] and not x.grad.requires_grad


def test_grad_of_several_outputs_sharing_a_graph(backend):
    """One backward pass from all outputs: with y = 2x, ∂(Σy + Σy²)/∂x = 2 + 8x."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (g,) = xg.grad([y.sum(), (y * y).sum()], [x])
    np.testing.assert_allclose(g.numpy(), [10.0, 18.0])
    assert x.grad is None
    y = x * 2  # an output may also feed another: ∂(Σy + y·v)/∂x = 2(1 + v)
    (h,) = xg.grad([y.sum(), y], [x], grad_outputs=[None, xg.tensor([1.0, 3.0])])
    np.testing.assert_allclose(h.numpy(), [4.0, 8.0])


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_results_never_require_grad(backend, dtype):
    """As in PyTorch: a cast to a non-float dtype cuts the graph; backward through it raises."""
    x = xg.tensor([1.5, 2.5], requires_grad=True)
    y = x.astype(dtype)
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        (y * 2).sum().backward()
    assert x.grad is None
    z = x.astype("float64")
    assert z.requires_grad
    (z * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_inplace_write_to_a_saved_input_raises_on_backward(backend):
    """∂(x·w)/∂x reads w: writing w between forward and backward raises (PyTorch), not x.grad = new w."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    w = xg.tensor([3.0, 4.0])
    y = (x * w).sum()
    w[0] = 100.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation: input 1 of Mul"):
        y.backward()


def test_inplace_writes_that_backward_does_not_read_are_fine(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    w = xg.tensor([3.0, 4.0])
    w[1] = 5.0  # before the op: used with its new value
    y = (x * w).sum() + (x + w).sum()  # Add's backward needs only shapes
    w2 = xg.tensor([1.0, 1.0])
    z = (x + w2).sum()
    w2[0] = 9.0
    (y + z).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0 + 2.0, 5.0 + 2.0])


def test_inplace_write_between_retained_backwards_raises(backend):
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    buf = xg.tensor([2.0, 2.0])
    y = (x * buf).sum()
    y.backward(retain_graph=True)
    buf[:] = 0.0
    with pytest.raises(RuntimeError, match="inplace"):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_gradcheck_and_to_dot_name_a_non_tensor():
    x = xg.ones(2, dtype="float64", requires_grad=True)
    for fn in (lambda t: 3.0, lambda t: None, lambda t: {"y": t}):
        with pytest.raises(TypeError, match="fn must return a Tensor or a tuple of Tensors"):
            xg.gradcheck(fn, [x])
    with pytest.raises(TypeError, match="to_dot: root must be a Tensor, got int"):
        xg.to_dot(3)


def test_grad_of_the_same_tensor_asked_twice(backend):
    w = xg.tensor([1.0, 2.0], requires_grad=True)
    h = w * 2
    gh1, gh2, gw = xg.grad((h * h).sum(), [h, h, w])
    assert gh1.tolist() == gh2.tolist() == [4.0, 8.0] and gw.tolist() == [8.0, 16.0]
    gw1, gw2 = xg.grad((w * w).sum(), [w, w])
    assert gw1.tolist() == gw2.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_and_minimum_give_both_inputs_the_gradient_at_a_nan(backend, op):
    """PyTorch zeroes an input's gradient only where the other input was chosen; a NaN compares
    false both ways, so both inputs get all of it (a NaN input used to get none, and
    max(x, y) and max(y, x) differed)."""
    a = [np.nan, 1.0, 2.0, 3.0, np.inf]
    b = [1.0, np.nan, 2.0, 1.0, 5.0]
    x, y = xg.tensor(a, requires_grad=True), xg.tensor(b, requires_grad=True)
    getattr(xg, op)(x, y).sum().backward()
    chosen, lost = [1.0, 1.0, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.0, 0.0]  # a > b at the last two
    expected = (chosen, lost) if op == "maximum" else (lost, chosen)
    assert (x.grad.tolist(), y.grad.tolist()) == expected


def test_pow_and_abs_gradients_at_nan_as_pytorch(backend):
    """∂(aᵇ)/∂a = 0 where b = 0 even for a NaN base (0·NaN was NaN); ∂|a|/∂a = 0 at NaN
    (PyTorch's sgn), not NaN."""
    a = xg.tensor([np.nan, np.inf, 0.0, 2.0], dtype="float64", requires_grad=True)
    b = xg.tensor([0.0, 0.0, 0.0, 3.0], dtype="float64", requires_grad=True)
    (a**b).sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 0.0, 12.0]
    x = xg.tensor([np.nan, -2.0, 0.0, 3.0], requires_grad=True)
    x.abs().sum().backward()
    assert x.grad.tolist() == [0.0, -1.0, 0.0, 1.0]


def test_grad_outputs_must_match_the_outputs_in_number(backend):
    """zip dropped the extra outputs or gradients: a silently wrong gradient."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    a, b = (x * x).sum(), (x * 3).sum()
    with pytest.raises(ValueError, match="got 2 outputs and 1 grad_outputs"):
        xg.grad([a, b], x, grad_outputs=[xg.tensor(1.0)], retain_graph=True)
    with pytest.raises(ValueError, match="got 1 outputs and 2 grad_outputs"):
        xg.grad([a], x, grad_outputs=[xg.tensor(1.0), xg.tensor(5.0)])
    with pytest.raises(ValueError, match="inputs cannot be empty"):
        xg.grad(a, [])
    with pytest.raises(RuntimeError, match="output 0 does not require grad"):
        xg.grad(xg.ones(2).sum(), x)


def test_grad_runs_and_frees_only_the_part_of_the_graph_leading_to_its_inputs(backend):
    """PyTorch's xg.grad equivalent: the rest of the graph is neither run (an in-place write
    there does not matter) nor freed (a later backward through it works)."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    (gh,) = xg.grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.numpy(), 2 * np.exp([1.0, 2.0]), rtol=1e-6)
    h.sum().backward()  # raised "backward through the graph a second time"
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]), rtol=1e-6)
    w = xg.tensor([1.0, 2.0], requires_grad=True)
    e = w.exp()
    loss = (x * 2).sum() + e.sum()
    with xg.no_grad():
        e.detach().__iadd__(1)  # read by Exp's backward, which xg.grad(loss, x) does not need
    assert xg.grad(loss, x)[0].tolist() == [2.0, 2.0]
    y = x * 3
    z = (y * y).sum()
    z.backward(retain_graph=False)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        xg.grad(z, x)  # the part it needs was freed


def test_grad_accumulation_follows_create_graph_not_the_callers_mode(backend):
    """Leaf .grad accumulated in the caller's grad mode: once .grad had a graph (one
    create_graph backward), every later backward chained an Add onto it (a leak), and a
    create_graph backward inside no_grad gave a constant .grad."""
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    for _ in range(3):
        (x * 2.0).sum().backward()
    assert x.grad._node is None and x.grad.tolist() == [9.0, 18.0]
    y = xg.tensor([1.0, 2.0], requires_grad=True)
    (y**3).sum().backward(create_graph=True)
    loss = (y**3).sum()
    with xg.no_grad():
        loss.backward(create_graph=True)
    assert y.grad.requires_grad  # differentiable, as PyTorch's


def test_backward_gradient_is_checked_for_backend_and_cast_to_the_dtype():
    if "cpu" not in xg.available_backends():
        pytest.skip("needs the cpu backend beside numpy")
    x = xg.tensor([1.0, 2.0], requires_grad=True, backend="cpu")
    with pytest.raises(xg.BackendMismatchError, match="different backends"):
        (x * 2).backward(xg.tensor([1.0, 1.0], backend="numpy"))
    (x * 2).backward(xg.tensor([1.0, 1.0], dtype="float64", backend="cpu"))
    assert x.grad.dtype == np.float32  # as PyTorch: the gradient takes the output's dtype


def test_leaf_only_operations_refuse_computed_tensors(backend):
    import copy
    import pickle

    x = xg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="only leaf tensors .* support deepcopy"):
        copy.deepcopy(x * 2)  # its copied graph sent gradients to a copied x
    with pytest.raises(RuntimeError, match="use t.detach"):
        (x * 2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="can't retain_grad"):
        xg.ones(2).retain_grad()
    z = x
    for _ in range(3000):  # pickling followed the graph: RecursionError on deep ones
        z = z * 1.0
    restored = pickle.loads(pickle.dumps(z))
    assert restored.requires_grad and restored._node is None and restored.tolist() == [1.0, 2.0]
    x.grad = xg.ones(2)
    clone = copy.deepcopy(x)
    assert clone.grad.tolist() == [1.0, 1.0] and clone.backend == x.backend and clone.requires_grad


def test_no_grad_and_enable_grad_decorate_with_or_without_parentheses(backend):
    x = xg.tensor([1.0], requires_grad=True)

    @xg.no_grad
    def bare(t):
        return (t * 2).requires_grad

    @xg.no_grad()
    def called(t):
        return (t * 2).requires_grad

    @xg.enable_grad
    def enabled(t):
        return (t * 2).requires_grad

    assert not bare(x) and not called(x)
    with xg.no_grad():
        assert enabled(x)


def test_an_infinite_gradient_does_not_reach_what_where_clip_or_relu_left_out(backend):
    # sqrt of where(x > 0, x, 0), of clip(x, 1) - 1 and of relu(x) has an infinite derivative
    # at the 0s; the inputs that were not selected got ∞·0 = NaN (PyTorch: 0), relu only when
    # creating a graph (the kernel selects, the Tensor ops multiplied).
    for create_graph in (False, True):
        x = xg.tensor([-1.0, 4.0], requires_grad=True)
        for y in (xg.where(x > 0, x, 0.0), x.clip(1.0, None) - 1, x.clip(xg.tensor([1.0, 1.0]), None) - 1,
                  x.relu(), xg.nn.functional.linear(x.reshape(1, 2), xg.eye(2), activation="relu")):
            with np.errstate(divide="ignore", invalid="ignore"):  # ∂√y at y = 0
                (g,) = xg.grad(y.sqrt().sum(), x, create_graph=create_graph)
            assert g.numpy()[0] == 0 and np.isfinite(g.numpy()).all()


def test_no_grad_holds_inside_a_decorated_generator_and_enable_grad_too():
    def body():
        yield xg.is_grad_enabled()
        yield xg.is_grad_enabled()
        return "done"

    for mode, enabled in ((xg.no_grad, False), (xg.enable_grad, True)):
        for decorated in (mode(body), mode()(body)):
            with (xg.enable_grad() if not enabled else xg.no_grad()):  # the opposite outside
                steps = decorated()
                assert next(steps) is enabled
                assert xg.is_grad_enabled() is not enabled  # back outside between steps
                assert next(steps) is enabled
                with pytest.raises(StopIteration) as stop:
                    next(steps)
                assert stop.value.value == "done"


def test_a_grad_mode_object_is_reusable_and_restores_across_threads():
    import threading

    mode = xg.no_grad()
    for _ in range(2):  # a second `with` raised AttributeError
        with mode:
            assert not xg.is_grad_enabled()
        assert xg.is_grad_enabled()

    @xg.no_grad()
    def steps():
        yield 1
        yield 2

    it = steps()
    thread = threading.Thread(target=lambda: next(it))  # entered in another thread
    thread.start()
    thread.join()
    assert next(it) == 2  # resumed here: the exit reset a token of another context, ValueError
    assert xg.is_grad_enabled()


def test_one_grad_mode_object_entered_in_two_threads_restores_each_threads_mode():
    """One no_grad() object entered in thread A (recording on) and, while A is inside, in thread
    B (inside an outer no_grad); A leaves first. Each thread gets its own mode back: the saved
    modes were one list on the object, so A took B's and B took A's."""
    import threading

    shared = xg.no_grad()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    after = {}

    def a():
        with shared:
            a_in.set()
            b_in.wait(5)
        a_out.set()
        after["a"] = xg.is_grad_enabled()

    def b():
        a_in.wait(5)
        with xg.no_grad():
            with shared:
                b_in.set()
                a_out.wait(5)
            after["b"] = xg.is_grad_enabled()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert after == {"a": True, "b": False}

    def body():
        with shared:
            yield

    steps = body()
    thread = threading.Thread(target=lambda: next(steps))  # entered there, left here
    thread.start()
    thread.join()
    assert next(steps, "left") == "left" and xg.is_grad_enabled()


def test_a_parameter_given_as_the_seed_is_a_gradient_like_any_tensor():
    x = xg.ones(2, requires_grad=True)
    seed = xg.nn.Parameter(xg.tensor([2.0, 3.0]))
    (x + 0).backward(seed)  # AttributeError: 'Parameter' has no 'base' (wrapped as an array)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0])
    (g,) = xg.grad(x.clone(), x, grad_outputs=seed)
    assert isinstance(g.data, np.ndarray)
    np.testing.assert_array_equal(g.numpy(), [2.0, 3.0])
