"""im2col / col2im kernels (csrc/cpu/im2col.cpp) against the numpy reference: random
geometries, the adjoint identity, a size the thread pool splits, and the binding's checks."""

import numpy as np
import pytest
from kernel_helpers import DTYPES, assert_close, cpu, non_contiguous, ref, rng


def random_geometry(r):
    """x shape, kernel, stride, padding with at least one output position: kernels 1-5, strides
    1-3, padding 0-2 (each may differ between height and width), odd and stride-misaligned sizes."""
    kernel = tuple(int(v) for v in r.integers(1, 6, 2))
    stride = tuple(int(v) for v in r.integers(1, 4, 2))
    padding = tuple(int(v) for v in r.integers(0, 3, 2))
    hw = tuple(int(r.integers(max(1, k - 2 * p), 12)) for k, p in zip(kernel, padding))
    shape = (int(r.choice([1, 3])), int(r.choice([1, 4])), *hw)
    return shape, kernel, stride, padding


def check(x, geometry, dtype):
    """im2col equals the reference exactly (a copy); col2im of random rows to float rounding."""
    want = ref.im2col(np.ascontiguousarray(x), *geometry)
    got = cpu.im2col(x, *geometry)
    assert got.dtype == dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    cols = rng(1).standard_normal(want.shape).astype(dtype)
    assert_close(cpu.col2im(cols, x.shape, *geometry), ref.col2im(cols, x.shape, *geometry), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(40))
def test_random_geometries_match_numpy(seed, dtype):
    shape, *geometry = random_geometry(rng(seed))
    check(rng(seed).standard_normal(shape).astype(dtype), geometry, dtype)


@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((2, 3, 7, 9), (3, 3), (1, 1), (1, 1)),  # a conv layer's "same" geometry
    ((2, 3, 8, 8), (2, 2), (2, 2), (0, 0)),  # pooling
    ((1, 2, 9, 7), (2, 3), (3, 2), (0, 1)),  # stride does not tile the input: trailing rows unused
    ((2, 1, 5, 6), (1, 1), (1, 1), (2, 2)),  # windows entirely in the padding
    ((1, 1, 1, 1), (5, 5), (1, 3), (2, 2)),  # one pixel, kernel larger than the image
    ((3, 2, 1, 9), (1, 4), (1, 2), (0, 1)),  # one-row images
    ((2, 2, 6, 6), (4, 5), (2, 1), (1, 2)),  # widths past the compile-time ones
    # interior windows copied a kernel row and one element at a time (widths 1-3, more than one
    # channel), in rows that the threads split: the MNIST CNN's second convolution, and more
    ((64, 32, 14, 14), (3, 3), (1, 1), (1, 1)),
    ((16, 9, 12, 13), (2, 2), (1, 1), (0, 0)),
    ((16, 20, 9, 9), (3, 1), (2, 1), (0, 0)),
])
@pytest.mark.parametrize("dtype", DTYPES)
def test_edge_geometries_match_numpy(shape, kernel, stride, padding, dtype):
    check(rng(2).standard_normal(shape).astype(dtype), (kernel, stride, padding), dtype)


def test_empty_batch_and_channels():
    for shape in [(0, 2, 5, 5), (2, 0, 5, 5)]:
        x = np.zeros(shape, np.float32)
        assert cpu.im2col(x, (3, 3), (1, 1), (1, 1)).shape == ref.im2col(x, (3, 3), (1, 1), (1, 1)).shape
        cols = ref.im2col(x, (3, 3), (1, 1), (1, 1))
        assert cpu.col2im(cols, shape, (3, 3), (1, 1), (1, 1)).shape == shape


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_inputs(dtype):
    x = rng(3).standard_normal((2, 3, 9, 8)).astype(dtype)
    geometry = ((3, 2), (2, 1), (1, 0))
    check(non_contiguous(x), geometry, dtype)
    check(np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2), geometry, dtype)
    cols = rng(4).standard_normal(ref.im2col(x, *geometry).shape).astype(dtype)
    assert_close(cpu.col2im(non_contiguous(cols), x.shape, *geometry), ref.col2im(cols, x.shape, *geometry), dtype)


def test_other_dtypes_use_the_reference():
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5)
    geometry = ((2, 2), (1, 1), (1, 1))
    np.testing.assert_array_equal(cpu.im2col(x, *geometry), ref.im2col(x, *geometry))
    cols = ref.im2col(x, *geometry).astype(np.float16)
    np.testing.assert_array_equal(cpu.col2im(cols, x.shape, *geometry), ref.col2im(cols, x.shape, *geometry))


def test_adjoint_identity():
    """<im2col(x), c> = <x, col2im(c)>: col2im is im2col's transpose."""
    r = rng(5)
    for _ in range(10):
        shape, *geometry = random_geometry(r)
        x = r.standard_normal(shape)
        c = r.standard_normal(cpu.im2col(x, *geometry).shape)
        lhs = float(np.vdot(cpu.im2col(x, *geometry), c))
        rhs = float(np.vdot(x, cpu.col2im(c, shape, *geometry)))
        assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs)) * c.size


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,geometry", [
    ((8, 7, 40, 40), ((3, 3), (1, 1), (1, 1))),  # long rows; C = 7: plane ranges cross images
    ((201, 1, 63, 63), ((2, 2), (2, 2), (0, 0))),  # short rows (along ox); chunks end mid image row
])
def test_threaded_size_matches_one_thread(shape, geometry, dtype):
    """Big enough for several chunks per thread."""
    k = cpu.kernels
    x = rng(6).standard_normal(shape).astype(dtype)
    cols = rng(7).standard_normal(ref.im2col(x, *geometry).shape).astype(dtype)
    threaded = cpu.im2col(x, *geometry), cpu.col2im(cols, x.shape, *geometry)
    before = k.pool_threads()
    try:
        k.set_pool_threads(1)
        single = cpu.im2col(x, *geometry), cpu.col2im(cols, x.shape, *geometry)
    finally:
        k.set_pool_threads(before)
    np.testing.assert_array_equal(threaded[0], ref.im2col(x, *geometry))
    np.testing.assert_array_equal(threaded[0], single[0])
    np.testing.assert_array_equal(threaded[1], single[1])  # each element's adds in one order
    assert_close(threaded[1], ref.col2im(cols, x.shape, *geometry), dtype)


def test_binding_rejects_bad_arguments():
    k = cpu.kernels
    x = np.zeros((2, 3, 6, 6), np.float32)
    g = ((3, 3), (1, 1), (1, 1))
    cols = np.zeros((72, 27), np.float32)
    bad_calls = [
        (lambda: k.im2col(x.astype(np.int32), *g), "x must be float32 or float64, got int32"),
        (lambda: k.col2im(cols.astype(np.float16), x.shape, *g), "cols must be float32 or float64, got float16"),
        (lambda: k.im2col(x[..., ::2], *g), "x must be C-contiguous"),
        (lambda: k.col2im(cols[:, ::2], x.shape, *g), "cols must be C-contiguous"),
        (lambda: k.im2col(x[0], *g), r"x must be \(N, C, H, W\), got shape \(3, 6, 6\)"),
        (lambda: k.col2im(cols[:-1], x.shape, *g),
         r"cols has shape \(71, 27\), expected \(72, 27\) for input \(2, 3, 6, 6\)"),
        (lambda: k.col2im(cols.reshape(-1), x.shape, *g), r"cols has shape \(1944,\)"),
        (lambda: k.col2im(cols, (2, 3, -6, 6), *g), "negative dimension"),
        (lambda: k.im2col(x, (3, 3), (1, 1), (-1, 0)), r"padding must be at least 0, got \(-1, 0\)"),
        (lambda: k.im2col(x, (3, 3), (1, 0), (1, 1)), r"stride must be at least 1, got \(1, 0\)"),
        (lambda: k.col2im(cols, x.shape, (0, 3), (1, 1), (1, 1)), "kernel_size must be at least 1"),
        (lambda: k.im2col(x, (9, 3), (1, 1), (1, 1)), r"kernel \(9, 3\) is larger than the padded input \(8, 8\)"),
        (lambda: k.im2col(x, (3, 3), (1, 1), (2**62, 0)), r"padding must be below 2\^40"),
        (lambda: k.col2im(cols, (2**62, 3, 6, 6), *g), "overflow"),
    ]
    for call, match in bad_calls:
        with pytest.raises(ValueError, match=match):
            call()


def test_im2col_of_no_channels_walks_no_rows():
    x = np.empty((2**40, 0, 4, 4), np.float32)  # N·OH·OW = 2^44 rows of no columns: it hung
    assert cpu.kernels.im2col(x, (3, 3), (1, 1), (0, 0)).shape == (2**42, 0)
