"""Activations of nn.functional: gradients (first and second order) on every backend, values
against closed forms and PyTorch, numerical stability, and the properties of sparsemax."""

import numpy as np
import pytest
from nn_support import gradient_of, leaf

import xpgrad as xg
import xpgrad.nn.functional as F
from xpgrad import nn

ACTIVATIONS = {
    "identity": F.identity,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "relu": F.relu,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "elu": lambda x: F.elu(x, alpha=0.7),
    "softmax": F.softmax,
    "softmax_axis0": lambda x: F.softmax(x, axis=0),
    "log_softmax": F.log_softmax,
    "log_softmax_axis0": lambda x: F.log_softmax(x, axis=0),
    "sparsemax": F.sparsemax,
    "sparsemax_axis0": lambda x: F.sparsemax(x, axis=0),
    "maxout": lambda x: F.maxout(x, 2),
    "maxout_axis0": lambda x: F.maxout(x, 2, axis=0),
}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_gradcheck(backend, name):
    x = leaf((4, 6), backend)
    assert xg.gradcheck(ACTIVATIONS[name], [x])


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_double_backward(backend, name):
    x = leaf((4, 4), backend, seed=1)
    fn = ACTIVATIONS[name]
    assert xg.gradcheck(gradient_of(lambda z: (fn(z) * fn(z)).sum()), [x])


def test_prelu_gradcheck_per_channel_and_shared(backend):
    x = leaf((2, 3, 4), backend)
    per_channel = xg.tensor([0.1, 0.2, 0.3], dtype="float64", requires_grad=True)
    shared = xg.tensor([0.25], dtype="float64", requires_grad=True)
    assert xg.gradcheck(F.prelu, [x, per_channel])
    assert xg.gradcheck(F.prelu, [x, shared])


@pytest.mark.parametrize("shape", [(2, 2), (1, 1), (4, 1)])
def test_prelu_weight_is_a_scalar_or_1d_as_pytorch(backend, shape):
    # a (2, 2) weight on 4 channels (or (4, 1)) was taken as 4 per-channel slopes
    with pytest.raises(ValueError, match=rf"prelu: weight must be a scalar or 1-D, got shape \({shape[0]}, {shape[1]}\)"):
        F.prelu(xg.randn(2, 4, 3), xg.ones(*shape))


TORCH_EQUIVALENTS = {
    "sigmoid": (F.sigmoid, lambda t, x: t.sigmoid(x)),
    "tanh": (F.tanh, lambda t, x: t.tanh(x)),
    "relu": (F.relu, lambda t, x: t.relu(x)),
    "leaky_relu": (F.leaky_relu, lambda t, x: t.nn.functional.leaky_relu(x)),
    "elu": (lambda x: F.elu(x, 0.5), lambda t, x: t.nn.functional.elu(x, 0.5)),
    "softmax": (lambda x: F.softmax(x, 0), lambda t, x: t.softmax(x, 0)),
    "log_softmax": (F.log_softmax, lambda t, x: t.log_softmax(x, -1)),
    "prelu": (
        lambda x: F.prelu(x, xg.tensor([0.1, -0.2, 0.3], dtype="float64")),
        lambda t, x: t.nn.functional.prelu(x, t.tensor([0.1, -0.2, 0.3], dtype=t.float64)),
    ),
}


@pytest.mark.parametrize("name", TORCH_EQUIVALENTS)
def test_values_and_gradients_match_pytorch(backend, name):
    torch = pytest.importorskip("torch")
    ours, theirs = TORCH_EQUIVALENTS[name]
    x = leaf((5, 3), backend, low=-3, high=3)
    y = ours(x)
    (y * y).sum().backward()
    xt = torch.tensor(x.numpy(), requires_grad=True)
    yt = theirs(torch, xt)
    (yt * yt).sum().backward()
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_closed_forms(backend):
    x = xg.tensor([-2.0, -0.5, 0.0, 1.5], dtype="float64")
    np.testing.assert_allclose(F.leaky_relu(x).numpy(), [-0.02, -0.005, 0.0, 1.5])
    np.testing.assert_allclose(
        F.elu(x, 2.0).numpy(), [2 * (np.exp(-2) - 1), 2 * (np.exp(-0.5) - 1), 0, 1.5]
    )
    np.testing.assert_allclose(
        F.softmax(x).numpy(), np.exp([-2, -0.5, 0, 1.5]) / np.exp([-2, -0.5, 0, 1.5]).sum()
    )
    np.testing.assert_allclose(
        F.maxout(xg.tensor([[1.0, 3.0, -1.0, -2.0]]), 2).numpy(), [[3.0, -1.0]]
    )


def test_maxout_checks_its_axis_as_softmax(backend):
    # an axis out of range was wrapped (axis % ndim): axis=2 of a (2, 4) input split axis 0
    x = xg.tensor(np.arange(8.0).reshape(2, 4))
    np.testing.assert_array_equal(F.maxout(x, 2, axis=-2).numpy(), [[4.0, 5.0, 6.0, 7.0]])
    for bad in (2, -3, 5):
        with pytest.raises(ValueError, match=f"axis {bad} is out of bounds for an array of dimension 2"):
            F.maxout(x, 2, axis=bad)
    with pytest.raises(TypeError, match="maxout: axis must be one integer"):
        F.maxout(x, 2, axis=1.0)
    with pytest.raises(ValueError, match=r"maxout: input of shape \(\) has no axis"):
        F.maxout(xg.tensor(1.0), 1)


def test_hard_threshold_is_a_sign_unit_without_gradient(backend):
    x = xg.tensor([-3.0, -1e-7, 0.0, 2.0], requires_grad=True)
    y = F.hard_threshold(x)
    assert y.tolist() == [-1.0, -1.0, 1.0, 1.0]
    assert not y.requires_grad
    assert F.hard_threshold(x, threshold=1.0).tolist() == [-1.0, -1.0, -1.0, 1.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_softmax_family_stable_for_huge_logits(backend, dtype, scale):
    x = xg.tensor([[scale, -scale, 0.0], [scale, scale, -scale]], dtype=dtype, requires_grad=True)
    p = F.softmax(x)
    log_p = F.log_softmax(x)
    np.testing.assert_allclose(p.numpy(), [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-7)
    assert np.isfinite(log_p.numpy()[:, :2]).all() and log_p.numpy()[0, 0] == 0
    np.testing.assert_allclose(log_p.numpy()[1, :2], np.log(0.5), rtol=1e-6)
    (p.sum() + log_p[:, 0].sum()).backward()
    assert np.isfinite(x.grad.numpy()).all()


# ---- sparsemax ---------------------------------------------------------------------------------
def test_sparsemax_is_on_the_simplex_and_sparse(backend):
    rng = np.random.default_rng(3)
    x = xg.tensor(rng.normal(0, 3, (50, 10)), dtype="float64")
    p = F.sparsemax(x).numpy()
    assert (p >= 0).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    assert (p == 0).sum() > p.size // 2  # with scale 3 most coordinates are exactly zero


def test_sparsemax_is_the_euclidean_projection(backend):
    x = np.array([0.5, 0.2, -0.4, 0.45])
    p = F.sparsemax(xg.tensor(x, dtype="float64")).numpy()
    # KKT: p = max(x − τ, 0) with one τ for the whole support
    tau = x[p > 0] - p[p > 0]
    np.testing.assert_allclose(tau, tau[0])
    assert (x[p == 0] <= tau[0]).all()


@pytest.mark.parametrize("t", [-3.0, -1.0, -0.4, 0.0, 0.3, 0.99, 1.0, 2.5])
def test_sparsemax_two_classes_is_hard_sigmoid(backend, t):
    p = F.sparsemax(xg.tensor([t, 0.0], dtype="float64")).numpy()
    np.testing.assert_allclose(p[0], np.clip((t + 1) / 2, 0, 1), atol=1e-15)
    np.testing.assert_allclose(p[1], 1 - p[0], atol=1e-15)


def test_sparsemax_ties_share_equally(backend):
    p = F.sparsemax(xg.tensor([[2.0, 2.0, 2.0, -5.0], [1.0, 1.0, 0.0, 0.0]])).numpy()
    np.testing.assert_allclose(p, [[1 / 3, 1 / 3, 1 / 3, 0], [0.5, 0.5, 0, 0]], rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [1e4, 1e30])
def test_sparsemax_huge_inputs(backend, dtype, scale):
    x = xg.tensor([[scale, -scale, 0.0], [scale, scale, 0.0]], dtype=dtype, requires_grad=True)
    p = F.sparsemax(x)
    np.testing.assert_allclose(p.numpy(), [[1, 0, 0], [0.5, 0.5, 0]])
    p[:, 0].sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_sparsemax_one_class(backend):
    x = xg.tensor([[3.0], [-1e4]], requires_grad=True)
    p = F.sparsemax(x)
    assert p.tolist() == [[1.0], [1.0]]
    p.sum().backward()
    assert x.grad.tolist() == [[0.0], [0.0]]


@pytest.mark.parametrize("name", ["softmax", "sparsemax"])
def test_sparsemax_of_a_0d_tensor_is_one_as_softmax(backend, name):
    # sparsemax raised NumPy's AxisError (moveaxis of a 0-d array) where softmax gives 1
    x = xg.tensor(-3.0, dtype="float64", requires_grad=True)
    for y in (getattr(F, name)(x), getattr(nn, name.capitalize())()(x)):
        assert y.shape == () and y.item() == 1.0
    y.backward()
    assert x.grad.shape == () and x.grad.item() == 0.0
    assert xg.gradcheck(gradient_of(lambda z: getattr(F, name)(z) * z), [x])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_sparsemax_nan_input_does_not_crash(backend):
    x = xg.tensor([[float("nan"), 1.0, 0.0], [0.5, 0.1, 0.0]], requires_grad=True)
    p = F.sparsemax(x)
    assert p.shape == (2, 3)
    np.testing.assert_allclose(p.numpy()[1], F.sparsemax(xg.tensor([[0.5, 0.1, 0.0]])).numpy()[0])
    p.sum().backward()  # returns; NaN may propagate in the NaN row only


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "name, expected",
    [
        ("sigmoid", [0.0, 1.0]),
        ("tanh", [-1.0, 1.0]),
        ("relu", [0.0, 1e4]),
        ("leaky_relu", [-100.0, 1e4]),
        ("elu", [-1.0, 1e4]),
    ],
)
def test_elementwise_activations_stable_at_1e4(backend, dtype, name, expected):
    x = xg.tensor([-1e4, 1e4], dtype=dtype, requires_grad=True)
    y = getattr(F, name)(x)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize(
    "name", ["sigmoid", "tanh", "leaky_relu", "elu", "softmax", "log_softmax", "sparsemax"]
)
@pytest.mark.parametrize("int_dtype", ["int64", "int32", "bool"])
def test_float_valued_activations_of_integers_are_float32(backend, name, int_dtype):
    values = np.array([[1, 0, 2], [0, 1, 1]], dtype=int_dtype)
    y = getattr(F, name)(xg.tensor(values))
    assert y.dtype == np.float32
    expected = getattr(F, name)(xg.tensor(values.astype(np.float32)))
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["tanh", "relu", "leaky_relu", "elu"])
def test_odd_and_rectifying_activations_keep_signed_zeros_and_nan_as_pytorch(backend, dtype, name):
    """f(−0) = −0 and f(+0) = +0 (PyTorch's results; numpy.maximum(−0, 0) gives +0 and a
    polynomial expm1 rounds −0 to +0), NaN stays NaN, on every backend."""
    y = getattr(F, name)(xg.tensor([-0.0, 0.0, float("nan")], dtype=dtype)).numpy()
    assert np.signbit(y[:2]).tolist() == [True, False] and y[0] == 0 and y[1] == 0
    assert np.isnan(y[2])


def test_sigmoid_and_tanh_of_integers_match_pytorch(backend):
    torch = pytest.importorskip("torch")
    values = [-2, 1, 2]
    for name in ("sigmoid", "tanh"):
        theirs = getattr(torch, name)(torch.tensor(values))
        assert str(theirs.dtype) == "torch.float32"
        np.testing.assert_allclose(getattr(F, name)(xg.tensor(values)).numpy(), theirs.numpy(),
                                   rtol=1e-6)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax"])
@pytest.mark.parametrize("shape, axis", [((0,), -1), ((3, 0), -1), ((3, 0), 0), ((0, 4), 0), ((2, 0, 3), 1)])
def test_softmax_family_of_an_empty_tensor_is_empty(backend, name, shape, axis):
    # PyTorch returns an empty result (and gradient); the reference's max shift raised
    # "zero-size array to reduction operation maximum" where the cpu kernels returned one.
    torch = pytest.importorskip("torch")
    x = xg.zeros(*shape, dtype="float64", requires_grad=True)
    y = getattr(F, name)(x, axis=axis)
    theirs = getattr(torch, "softmax" if name == "sparsemax" else name)(
        torch.zeros(shape, dtype=torch.float64), dim=axis)
    assert y.shape == tuple(theirs.shape) and y.dtype == np.float64
    y.sum().backward()
    assert x.grad.shape == shape
    with pytest.raises(ValueError, match="out of bounds"):  # the axis is still checked
        getattr(F, name)(x, axis=len(shape))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax"])
def test_softmax_family_takes_one_integer_axis_on_every_backend(backend, name):
    # the cpu backend's kernels took axis=1.0 and rejected None where the reference did the opposite
    x = xg.tensor(np.arange(6.0).reshape(2, 3))
    expected = getattr(F, name)(x, axis=-2).numpy()
    np.testing.assert_array_equal(getattr(F, name)(x, axis=np.int64(0)).numpy(), expected)
    for bad in (None, 1.0, (0, 1)):
        with pytest.raises(TypeError, match=f"{name}: axis must be one integer"):
            getattr(F, name)(x, axis=bad)
    with pytest.raises(ValueError, match="out of bounds"):
        getattr(F, name)(x, axis=2)


def test_hard_threshold_of_bool_and_unsigned_is_float32(backend):
    """−1 cast to bool is True and to uint8 255: those inputs give float32 (the float-valued
    activations' rule for non-float inputs); signed integers and floats keep their dtype."""
    y = F.hard_threshold(xg.tensor([True, False]))
    assert y.dtype == xg.float32 and y.tolist() == [1.0, 1.0]
    y = F.hard_threshold(xg.tensor(np.array([0, 5], np.uint8)), threshold=3)
    assert y.dtype == xg.float32 and y.tolist() == [-1.0, 1.0]
    y = F.hard_threshold(xg.tensor(np.array([0, 5], np.int8)), threshold=3)
    assert y.dtype == np.int8 and y.tolist() == [-1, 1]
    assert F.hard_threshold(xg.tensor([True, False]), threshold=0.5).tolist() == [1.0, -1.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 7, 8, 9, 17, 1000])
@pytest.mark.parametrize("backend_name", ["numpy", "cpu"])
def test_relu_gradient_at_nan_follows_pytorch(backend_name, n, dtype):
    """PyTorch: relu' gives gy unless x <= 0 (threshold_backward), so a NaN input passes the
    gradient; leaky_relu's gy if x > 0 else slope·gy gives it slope·gy. relu and the fused
    linear(..., activation="relu") gave 0 at NaN. (x = [[1]], bias 0: y = relu(W).)"""
    if backend_name not in xg.available_backends():
        pytest.skip(f"backend {backend_name!r} unavailable")
    rng = np.random.default_rng(n)
    v = (rng.standard_normal(n) * 4).astype(dtype)
    v[:: max(1, n // 3)] = 0
    v[[0, n // 3, n - 1]] = np.nan  # the first, a middle and the last (vector tail) element
    gy = rng.standard_normal(n).astype(dtype)
    want = np.where(v <= 0, 0, gy).astype(dtype)

    def grad_of(fn, data):
        t = xg.tensor(data, dtype=dtype, requires_grad=True, backend=backend_name)
        fn(t).backward(xg.tensor(gy.reshape(fn(t).shape), dtype=dtype, backend=backend_name))
        return t.grad.numpy().reshape(n)

    np.testing.assert_array_equal(grad_of(F.relu, v), want)
    np.testing.assert_array_equal(grad_of(lambda t: F.leaky_relu(t, 0.1), v),
                                  np.where(v > 0, gy, gy * 0.1))
    x = xg.tensor(np.ones((1, 1)), dtype=dtype, backend=backend_name)
    b = xg.tensor(np.zeros(n), dtype=dtype, requires_grad=True, backend=backend_name)
    np.testing.assert_array_equal(grad_of(lambda w: F.linear(x, w, b, activation="relu"), v.reshape(1, n)), want)
    np.testing.assert_array_equal(b.grad.numpy(), want)


@pytest.mark.parametrize("backend_name", ["numpy", "cpu"])
def test_relu_gradient_at_nan_is_the_same_when_creating_a_graph(backend_name):
    """The differentiable backward (create_graph=True) of relu and of the fused linear follows
    the same rule as the backends' relu_backward: it gave 0 at a NaN input where they give gy."""
    if backend_name not in xg.available_backends():
        pytest.skip(f"backend {backend_name!r} unavailable")
    v = np.array([np.nan, -1.0, 0.0, 2.0])
    want = [1.0, 0.0, 0.0, 1.0]
    for fn in (F.relu, lambda t: F.linear(xg.tensor(np.ones((1, 1)), dtype="float64", backend=backend_name),
                                          t.reshape(1, 4), activation="relu")):
        x = xg.tensor(v, dtype="float64", requires_grad=True, backend=backend_name)
        plain, = xg.grad(fn(x).sum(), [x])
        graphed, = xg.grad(fn(x).sum(), [x], create_graph=True)
        np.testing.assert_array_equal(plain.numpy(), want)
        np.testing.assert_array_equal(graphed.numpy(), want)


def test_elu_gradient_at_nan_is_the_same_with_create_graph(backend):
    """The differentiable form took a NaN input as negative (gradient NaN); the backends' kernels
    pass the upstream gradient there, as PyTorch's elu_backward."""
    def grad_of(create_graph):
        a = xg.tensor([np.nan, -1.0, 2.0], dtype="float64", requires_grad=True)
        (g,) = xg.grad(F.elu(a).sum(), [a], create_graph=create_graph)
        return g.numpy()

    np.testing.assert_array_equal(grad_of(True), grad_of(False))
    np.testing.assert_allclose(grad_of(True), [1.0, np.exp(-1.0), 1.0])
