"""Max pooling kernels (csrc/cpu/max_pool_impl.h, built per ISA) against the numpy reference: random geometries
with ties, NaN and −∞ windows, output rows longer than the kernel's chunk, overlapping windows
in the backward, a size the thread pool splits, and the binding's checks."""

import numpy as np
import pytest
from kernel_helpers import DTYPES, assert_close, cpu, ref, rng


def random_geometry(r):
    """x shape, kernel 1-4, stride 1-3, padding 0..k/2 (each may differ between height and
    width), odd sizes with at least one output position."""
    kernel = tuple(int(v) for v in r.integers(1, 5, 2))
    stride = tuple(int(v) for v in r.integers(1, 4, 2))
    padding = tuple(int(r.integers(0, k // 2 + 1)) for k in kernel)
    hw = tuple(int(r.integers(max(1, k - 2 * p), 12)) for k, p in zip(kernel, padding))
    shape = (int(r.choice([1, 3])), int(r.choice([1, 4])), *hw)
    return shape, kernel, stride, padding


def random_input(r, shape, dtype, kind):
    """Normal values; small integers (ties); or integers sprinkled with NaN and −∞."""
    if kind == "normal":
        return r.standard_normal(shape).astype(dtype)
    x = r.integers(-2, 3, shape).astype(dtype)
    if kind == "special":
        x[r.random(shape) < 0.1] = np.nan
        x[r.random(shape) < 0.3] = -np.inf
    return x


def channels_last(x):
    """x (N, C, H, W) laid out in memory as (N, H, W, C), as a convolution's output is."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["normal", "ties", "special"])
@pytest.mark.parametrize("layout", ["planar", "channels_last"])
def test_matches_reference_on_random_geometries(dtype, kind, layout):
    """The reference's maxima, argmax and gradient on random geometries. A channels-last x goes
    to the channels-last kernels (no copy) and its gradient, asked for channels-last, has that
    layout; there also more channels than a block of the kernel holds (2048 pixels × channels),
    rows of several pixel blocks, and a size the threads split."""
    r = rng(0)
    cases = [random_geometry(r) for _ in range(60)]
    if layout == "channels_last":
        cases += [((2, 300, 5, 17), (3, 3), (2, 1), (1, 1)), ((1, 2100, 3, 4), (2, 2), (1, 1), (0, 0)),
                  ((64, 32, 28, 28), (2, 2), (2, 2), (0, 0))]
    for shape, *geometry in cases:
        x = random_input(r, shape, dtype, kind)
        if layout == "channels_last":
            x = channels_last(x)
        y, argmax = cpu.max_pool2d(x, *geometry)
        want_y, want_argmax = ref.max_pool2d(x, *geometry)
        assert y.dtype == dtype and argmax.dtype == np.int64
        np.testing.assert_array_equal(argmax, want_argmax)
        np.testing.assert_array_equal(y, want_y)  # NaN where the reference has NaN
        gy = r.standard_normal(y.shape).astype(dtype)
        gx = cpu.max_pool2d_backward(gy, argmax, shape, channels_last=layout == "channels_last")
        assert gx.shape == shape and (layout == "planar" or gx.transpose(0, 2, 3, 1).flags.c_contiguous)
        assert_close(gx, ref.max_pool2d_backward(gy, argmax, shape), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["normal", "special"])
def test_output_rows_longer_than_the_kernels_chunk(dtype, kind):
    """The forward works through an output row 256 outputs at a time: 550 outputs a row, with
    padding at both ends and windows that straddle the chunk boundaries."""
    r = rng(1)
    x = random_input(r, (1, 2, 3, 1100), dtype, kind)
    geometry = (2, 3), (1, 2), (0, 1)
    y, argmax = cpu.max_pool2d(x, *geometry)
    want_y, want_argmax = ref.max_pool2d(x, *geometry)
    assert y.shape[-1] == 550
    np.testing.assert_array_equal(argmax, want_argmax)
    np.testing.assert_array_equal(y, want_y)


def test_first_maximum_wins_and_nan_propagates():
    x = np.array([[[[1, 3, 3], [3, np.nan, np.nan], [-np.inf, -np.inf, 2]]]])
    for backend in (cpu, ref):
        y, argmax = backend.max_pool2d(x, (2, 2), (1, 1), (0, 0))
        np.testing.assert_array_equal(argmax[0, 0], [[4, 4], [4, 4]])
        y, argmax = backend.max_pool2d(x[..., :1, :], (1, 2), (1, 1), (0, 0))
        np.testing.assert_array_equal(argmax[0, 0], [[1, 1]])
        # a window of −∞ only (with −∞ padding before it): its first element inside x
        y, argmax = backend.max_pool2d(x[..., 2:, :2], (3, 3), (1, 1), (1, 1))
        np.testing.assert_array_equal(y[0, 0], [[-np.inf, -np.inf]])
        np.testing.assert_array_equal(argmax[0, 0], [[0, 0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_backward_adds_where_overlapping_windows_pick_one_element(dtype):
    x = np.zeros((1, 1, 3, 3), dtype)
    x[0, 0, 1, 1] = 1  # the maximum of all four 2×2 windows
    y, argmax = cpu.max_pool2d(x, (2, 2), (1, 1), (0, 0))
    gy = np.arange(1, 5, dtype=dtype).reshape(1, 1, 2, 2)
    gx = cpu.max_pool2d_backward(gy, argmax, x.shape)
    assert gx[0, 0, 1, 1] == 10 and gx.sum() == 10
    np.testing.assert_array_equal(gx, ref.max_pool2d_backward(gy, argmax, x.shape))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,geometry", [
    ((64, 32, 28, 28), ((2, 2), (2, 2), (0, 0))),  # the first pool of the MNIST CNN
    ((9, 7, 31, 30), ((3, 2), (1, 2), (1, 1))),  # overlapping rows: the backward adds
])
def test_threaded_size_matches_one_thread(shape, geometry, dtype):
    k = cpu.kernels
    x = random_input(rng(6), shape, dtype, "ties")
    gy_shape = ref.max_pool2d(x, *geometry)[0].shape
    gy = rng(7).standard_normal(gy_shape).astype(dtype)
    y, argmax = cpu.max_pool2d(x, *geometry)
    gx = cpu.max_pool2d_backward(gy, argmax, shape)
    before = k.pool_threads()
    try:
        k.set_pool_threads(1)
        single = cpu.max_pool2d(x, *geometry)
        single_gx = cpu.max_pool2d_backward(gy, argmax, shape)
    finally:
        k.set_pool_threads(before)
    want_y, want_argmax = ref.max_pool2d(x, *geometry)
    np.testing.assert_array_equal(y, want_y)
    np.testing.assert_array_equal(argmax, want_argmax)
    np.testing.assert_array_equal(y, single[0])
    np.testing.assert_array_equal(argmax, single[1])
    np.testing.assert_array_equal(gx, single_gx)
    assert_close(gx, ref.max_pool2d_backward(gy, argmax, shape), dtype)


def test_binding_rejects_bad_arguments():
    k = cpu.kernels
    x = np.zeros((2, 3, 6, 6), np.float32)
    g = ((2, 2), (2, 2), (0, 0))
    gy = np.zeros((2, 3, 3, 3), np.float32)
    argmax = np.zeros((2, 3, 3, 3), np.int64)
    bad_calls = [
        (lambda: k.max_pool2d(x.astype(np.int32), *g), "x must be float32 or float64, got int32"),
        (lambda: k.max_pool2d(x[..., ::2], *g), "x must be C-contiguous"),
        (lambda: k.max_pool2d(x[0], *g), r"x must be \(N, C, H, W\), got shape \(3, 6, 6\)"),
        (lambda: k.max_pool2d(x[0], *g, channels_last=True), r"x must be \(N, H, W, C\), got shape \(3, 6, 6\)"),
        (lambda: k.max_pool2d(x.transpose(0, 2, 3, 1), *g, channels_last=True), "x must be C-contiguous"),
        (lambda: k.max_pool2d(x, (2, 2), (0, 1), (0, 0)), r"stride must be at least 1, got \(0, 1\)"),
        (lambda: k.max_pool2d(x, (0, 2), (1, 1), (0, 0)), "kernel_size must be at least 1"),
        (lambda: k.max_pool2d(x, (2, 2), (1, 1), (-1, 0)), "padding must be at least 0"),
        (lambda: k.max_pool2d(x, (3, 3), (1, 1), (2, 1)),
         r"padding \(2, 1\) should be at most half of kernel_size \(3, 3\)"),
        (lambda: k.max_pool2d(x, (7, 2), (1, 1), (0, 0)), r"kernel \(7, 2\) is larger than the padded input"),
        (lambda: k.max_pool2d(x, (3, 3), (1, 1), (2**62, 0)), r"padding must be below 2\^40, got \(4611686018427387904, 0\)"),
        (lambda: k.max_pool2d(x[:, :, :0], (2, 2), (1, 1), (1, 1)), r"\(2, 3, 0, 6\) has an empty spatial dimension"),
        (lambda: k.max_pool2d(np.zeros((1, 3, 0, 2), np.float32), (2, 2), (1, 1), (1, 1), channels_last=True),
         "empty spatial dimension"),
        (lambda: k.max_pool2d_backward(gy.astype(np.float16), argmax, x.shape), "gy must be float32 or float64"),
        (lambda: k.max_pool2d_backward(gy[0], argmax[0], x.shape), r"gy must be \(N, C, OH, OW\)"),
        (lambda: k.max_pool2d_backward(gy[..., ::2], argmax[..., ::2], x.shape), "gy must be C-contiguous"),
        (lambda: k.max_pool2d_backward(gy, argmax.astype(np.int32), x.shape), "argmax must be int64, got int32"),
        (lambda: k.max_pool2d_backward(gy, argmax.T, x.shape), "argmax must be C-contiguous"),
        (lambda: k.max_pool2d_backward(gy, argmax[..., :2].copy(), x.shape),
         r"shape mismatch \(2, 3, 3, 3\) vs \(2, 3, 3, 2\) \(gy vs argmax\)"),
        (lambda: k.max_pool2d_backward(gy, argmax, (2, 4, 6, 6)), "N, C differ"),
        (lambda: k.max_pool2d_backward(gy, argmax, (2, 3, -6, 6)), "negative dimension"),
        (lambda: k.max_pool2d_backward(gy, argmax, (2, 3, 2**62, 8)), "overflow"),
        (lambda: k.max_pool2d_backward(gy, argmax + 36, x.shape), r"index outside \[0, H\*W\)"),
        (lambda: k.max_pool2d_backward(gy, argmax - 1, x.shape), r"index outside \[0, H\*W\)"),
    ]
    for call, match in bad_calls:
        with pytest.raises(ValueError, match=match):
            call()


def test_window_arithmetic_stays_in_int64():
    # A stride near 2^63 overflowed the window's column range: no element was visited and the
    # output was uninitialised memory. A kernel 2^39 wide (padded as wide) walked every column
    # of the padding for each output row: it hung. Sizes up to 2^40 are taken, in the image only.
    x = np.arange(32, dtype=np.float32).reshape(1, 2, 4, 4)
    with pytest.raises(ValueError, match=r"stride must be below 2\^40"):
        cpu.kernels.max_pool2d(x, (2, 2), (2**63 - 1, 2**63 - 1), (0, 0))
    y, argmax = cpu.kernels.max_pool2d(x, (2, 2), (2**40 - 1, 2**40 - 1), (0, 0))
    np.testing.assert_array_equal(y.ravel(), [5, 21])
    y, argmax = cpu.kernels.max_pool2d(x, (1, 2**39), (1, 1), (0, 2**38))
    # OW = 5, each window the whole image row: its last element (x rises along it)
    last = np.arange(4) * 4 + 3
    np.testing.assert_array_equal(argmax, np.broadcast_to(last[:, None], (1, 2, 4, 5)))
    np.testing.assert_array_equal(y, np.broadcast_to(x[..., 3:], (1, 2, 4, 5)))
