"""Activation kernels (sigmoid, tanh, relu, leaky_relu, elu; forward and backward) against
the numpy reference, and the ULP error of the vectorised exp / sigmoid / tanh."""

import numpy as np
import pytest
from kernel_helpers import DTYPES, FLAT_SIZES, assert_close, cpu, non_contiguous, ref, rng

FORWARD = [("sigmoid", ()), ("tanh", ()), ("relu", ()), ("leaky_relu", (0.1,)), ("elu", (1.3,))]


def backward_of(backend, name, args, x, y, gy):
    """The backward of activation ``name``, given its input, output and ∂L/∂y."""
    if name in ("leaky_relu", "elu"):
        return getattr(backend, name + "_backward")(x, gy, *args)
    return getattr(backend, name + "_backward")(y, gy)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", FLAT_SIZES)
@pytest.mark.parametrize("name,args", FORWARD)
def test_forward_and_backward_match_reference(name, args, n, dtype):
    r = rng(n)
    x = (r.standard_normal(n) * 4).astype(dtype)
    gy = r.standard_normal(n).astype(dtype)
    y = getattr(cpu, name)(x, *args)
    assert_close(y, getattr(ref, name)(x, *args), dtype)
    yr = getattr(ref, name)(x, *args)
    assert_close(backward_of(cpu, name, args, x, yr, gy), backward_of(ref, name, args, x, yr, gy), dtype)


@pytest.mark.parametrize("name,args", FORWARD)
def test_non_contiguous_and_nd_inputs(name, args):
    x = rng(1).standard_normal((6, 11)).astype(np.float32)
    view = non_contiguous(x)
    assert_close(getattr(cpu, name)(view, *args), getattr(ref, name)(x, *args), np.float32)
    assert_close(getattr(cpu, name)(x.T, *args), getattr(ref, name)(x.T, *args), np.float32)


@pytest.mark.parametrize("name,args", FORWARD)
def test_permuted_layouts_are_kept_without_a_copy(name, args):
    """Arrays laid out alike as a permutation of a C-contiguous one (a convolution's
    channels-last output, a transpose) are computed in memory order and the result has their
    layout, as NumPy's ufuncs keep it; mixed layouts are copied and still agree."""
    stored = (rng(2).standard_normal((2, 5, 6, 3)) * 3).astype(np.float32)  # (N, H, W, C)
    x = stored.transpose(0, 3, 1, 2)  # viewed (N, C, H, W)
    y = getattr(cpu, name)(x, *args)
    assert y.strides == x.strides
    assert_close(y, getattr(ref, name)(x, *args), np.float32)
    gy = rng(3).standard_normal(stored.shape).astype(np.float32).transpose(0, 3, 1, 2)
    want = backward_of(ref, name, args, x, y, gy)
    got = backward_of(cpu, name, args, x, y, gy)
    assert got.strides == x.strides
    assert_close(got, want, np.float32)
    mixed = backward_of(cpu, name, args, x, y, np.ascontiguousarray(gy))
    assert_close(mixed, want, np.float32)


def test_integer_input_falls_back_to_reference():
    x = np.arange(-3, 4)
    np.testing.assert_array_equal(cpu.relu(x), ref.relu(x))
    assert cpu.relu(x).dtype == x.dtype


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e30, -1e30], np.float32)
    with np.errstate(all="ignore"):
        for name in ("sigmoid", "tanh", "relu", "elu"):
            np.testing.assert_array_equal(getattr(cpu, name)(x), getattr(ref, name)(x), err_msg=name)


def ulp_error(actual32, exact64):
    """|actual − exact| in units of the float32 spacing at the exact value (subnormals included)."""
    spacing = np.spacing(np.abs(exact64.astype(np.float32))).astype(np.float64)
    spacing = np.maximum(spacing, float(np.spacing(np.float32(0))))
    return np.abs(actual32.astype(np.float64) - exact64) / spacing


def sweep():
    r = rng(7)
    return np.concatenate([
        r.uniform(-105, 90, 300_000), r.standard_normal(200_000) * 3, r.standard_normal(50_000) * 1e-4,
        np.linspace(-0.7, 0.7, 50_001), [0.0, 88.72, -87.3, -103.9, 20.0, -20.0],
    ]).astype(np.float32)


def test_exp_sigmoid_tanh_within_4_ulp_of_float64():
    from xpgrad import _C

    x = sweep()
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        exact = {
            "exp": np.exp(x64),
            "sigmoid": np.where(x64 >= 0, 1 / (1 + np.exp(-x64)), np.exp(x64) / (1 + np.exp(x64))),
            "tanh": np.tanh(x64),
        }
    got = {"exp": _C.exp(x), "sigmoid": _C.sigmoid_forward(x), "tanh": _C.tanh_forward(x)}
    for name, want in exact.items():
        finite = np.isfinite(want) & (np.abs(want) < np.finfo(np.float32).max)
        err = ulp_error(got[name][finite], want[finite])
        assert err.max() <= 4, f"{name}: {err.max():.2f} ULP at x = {x[finite][err.argmax()]!r}"


def test_exp_saturation_and_nan():
    from xpgrad import _C

    x = np.array([89.0, 1000.0, np.inf, -104.0, -1000.0, -np.inf, np.nan], np.float32)
    y = _C.exp(x)
    assert np.all(np.isposinf(y[:3])) and np.all(y[3:6] == 0) and np.isnan(y[6])
    x64 = np.array([710.0, -746.0, 1.0, -1.0])
    np.testing.assert_allclose(_C.exp(x64), [np.inf, 0.0, np.e, 1 / np.e], rtol=2e-16)


@pytest.mark.parametrize("name", ["relu_backward", "sparsemax_backward"])
def test_backward_ignores_non_finite_gradients_off_the_support(name):
    """Where y <= 0 the gradient is 0 even for an inf or NaN gy (selected, as in PyTorch's
    threshold_backward), in the kernels and the reference alike."""
    y = np.array([[0.0, 0.4, 0.0, 0.6]], np.float32)
    gy = np.array([[np.inf, 1.0, np.nan, 3.0]], np.float32)
    got, want = getattr(cpu, name)(y, gy), getattr(ref, name)(y, gy)
    assert np.all(np.isfinite(want)) and want[0, 0] == want[0, 2] == 0
    assert_close(got, want, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 7, 8, 9, 17, 1000])
def test_elu_backward_keeps_every_digit_of_the_exponential(n, dtype):
    """elu' = α·eˣ for x ≤ 0. Taken from the output as y + α it lost eˣ's digits to the rounding
    of y ≈ −α: 0 below x ≈ −17 in float32 (−37 in float64), a relative error of 1e-3 at x = −10.
    Checked against float64's exp to a few units of the dtype's rounding; a NaN passes gy as in
    PyTorch's elu_backward (x <= 0 ? negative branch : gy)."""
    x = -np.geomspace(1e-3, 80, n).astype(dtype)
    x[n // 2] = -np.inf
    if n > 2:
        x[n // 3] = np.nan
    gy = (rng(n).standard_normal(n) + 2).astype(dtype)
    alpha = 0.7
    want = np.where(np.isnan(x), gy, gy * (alpha * np.exp(x.astype(np.float64))))
    for backend in (cpu, ref):
        got = backend.elu_backward(x, gy, alpha)
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want.astype(dtype), rtol=8 * np.finfo(dtype).eps,
                                   atol=np.finfo(dtype).smallest_subnormal * 4)


def _with_nans(n, dtype, seed):
    """n values of every sign, NaN at the first and last position (a vector tail) and a third."""
    x = (rng(seed).standard_normal(n) * 4).astype(dtype)
    x[:: max(1, n // 3)] = 0
    x[[0, n // 3, n - 1]] = np.nan
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 7, 8, 9, 17, 1000])
def test_relu_backward_passes_the_gradient_at_nan_as_pytorch(n, dtype):
    """PyTorch's threshold_backward is gx = (x <= 0 ? 0 : gy): a NaN input (whose output is NaN)
    passes gy; the kernels and the reference gave 0 (y > 0 is false for NaN). The fused linear
    layer's relu epilogue too: with x = [[1]], bias 0 and W = v, y = relu(v), gw = g and gb = g."""
    v = _with_nans(n, dtype, n)
    gy = rng(n + 1).standard_normal(n).astype(dtype)
    want = np.where(v <= 0, dtype(0), gy)
    for backend in (cpu, ref):
        np.testing.assert_array_equal(backend.relu_backward(backend.relu(v), gy), want)
        x, w = np.ones((1, 1), dtype), v.reshape(1, n)
        y = backend.linear(x, w, np.zeros(n, dtype), "relu")
        _, gw, gb = backend.linear_backward(x, w, y, gy.reshape(1, n), "relu")
        np.testing.assert_array_equal(gw[0], want)
        np.testing.assert_array_equal(gb, want)


@pytest.mark.parametrize("call", [
    lambda k: k.sigmoid_forward(np.zeros(3, np.int32)),
    lambda k: k.sigmoid_backward(np.zeros(3, np.float32), np.zeros(4, np.float32)),
    lambda k: k.tanh_backward(np.zeros(3, np.float32), np.zeros(3, np.float64)),
    lambda k: k.relu_forward(np.zeros((4, 4), np.float32)[:, ::2]),
    lambda k: k.elu_backward(np.zeros(3), np.zeros((3, 1)), 1.0),
])
def test_bad_inputs_raise_value_error(call):
    with pytest.raises(ValueError):
        call(cpu.kernels)
