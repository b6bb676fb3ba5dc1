"""Sparsemax forward/backward and the sparsemax loss against the numpy reference, plus the
properties of the projection (on the simplex, ties, huge logits, K = 1, NaN rows)."""

import numpy as np
import pytest
from kernel_helpers import (
    ADDRESS_SPACE_LIMIT,
    DTYPES,
    ROW_SHAPES,
    assert_close,
    cpu,
    needs_address_space_limit,
    non_contiguous,
    ref,
    rng,
    run_python,
)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("scale", [0.01, 1.0, 20.0])
def test_forward_backward_match_reference(shape, scale, dtype):
    r = rng(sum(shape))
    x = (r.standard_normal(shape) * scale).astype(dtype)
    gy = r.standard_normal(shape).astype(dtype)
    if x.size == 0:
        assert cpu.sparsemax(x).shape == shape
        return
    y = cpu.sparsemax(x)
    assert_close(y, ref.sparsemax(x), dtype, factor=5)
    yr = ref.sparsemax(x)
    assert_close(cpu.sparsemax_backward(yr, gy), ref.sparsemax_backward(yr, gy), dtype, factor=5)


@pytest.mark.parametrize("k", [1, 2, 10, 33, 1000])
def test_output_is_on_the_simplex(k):
    x = rng(k).standard_normal((50, k)).astype(np.float32) * 3
    y = cpu.sparsemax(x)
    assert (y >= 0).all()
    np.testing.assert_allclose(y.sum(axis=-1), 1, rtol=1e-5)
    if k == 1:
        np.testing.assert_array_equal(y, 1)


def test_ties_and_constant_rows():
    x = np.array([[1, 1, 1, 1], [2, 2, 0, 0], [0.5, 0.5, 0.5, -3], [3, 3, 2.5, 2.5]], np.float32)
    assert_close(cpu.sparsemax(x), ref.sparsemax(x), np.float32)
    np.testing.assert_allclose(cpu.sparsemax(x)[0], 0.25)


@pytest.mark.parametrize("big", [1e4, 1e8, 1e30])
def test_huge_logits(big):
    x = np.array([[big, big, 0.0], [big, big - 0.25 * min(big, 1e4) / 1e4, -big], [-big, 0, big]], np.float32)
    y = cpu.sparsemax(x)
    assert np.isfinite(y).all()
    assert_close(y, ref.sparsemax(x), np.float32)


def test_nan_and_inf_rows_do_not_crash_or_hang():
    x = np.array([[np.nan, 1, 2], [np.inf, 0, 0], [np.nan] * 3, [-np.inf] * 3, [0, 1, 2]], np.float32)
    y = cpu.sparsemax(x)
    assert np.isnan(y[:4]).all()
    assert_close(y[4:], ref.sparsemax(x[4:]), np.float32)
    loss, grad = cpu.sparsemax_loss(x, np.array([0, 0, 0, 0, 2]))
    assert np.isnan(loss[:4]).all() and np.isfinite(loss[4])


@pytest.mark.parametrize("axis", [0, 1])
def test_other_axis_and_strided_input(axis):
    x = rng(9).standard_normal((7, 12)).astype(np.float32)
    assert_close(cpu.sparsemax(non_contiguous(x), axis), ref.sparsemax(x, axis), np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,k", [(0, 4), (1, 1), (6, 3), (9, 10), (5, 26), (4, 1000)])
def test_loss_with_indices_and_multilabel(n, k, dtype):
    r = rng(n + k)
    x = (r.standard_normal((n, k)) * 2).astype(dtype)
    t = r.integers(0, k, n)
    labels = (r.random((n, k)) < 0.3).astype(dtype)
    if n:
        labels[0] = 0  # an all-zero row: q = 0 by the reference's max(Σt, 1e-12)
    for target in (t, labels):
        loss, grad = cpu.sparsemax_loss(x, target)
        want_loss, want_grad = ref.sparsemax_loss(x, target)
        assert_close(loss, want_loss, dtype, factor=5)
        assert_close(grad, want_grad, dtype, factor=5)
        assert (loss >= 0).all()


def test_loss_bad_targets_raise():
    with pytest.raises(ValueError, match=r"target\[0\] = 3"):
        cpu.kernels.sparsemax_loss(np.zeros((2, 3), np.float32), np.array([3, 0]))
    with pytest.raises(ValueError, match="int64"):
        cpu.kernels.sparsemax_loss(np.zeros((2, 3), np.float32), np.array([1.0, 0.0]))


@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_of_a_nan_target_is_nan(dtype):
    """The clamp at 0 (`l > 0 ? l : 0`) turned a NaN loss into 0, and max(sum(t), 1e-12) scaled
    the row's gradient by 1e12 instead of NaN; the reference's maximum keeps NaN in both."""
    x = rng(5).standard_normal((3, 6)).astype(dtype)
    labels = np.zeros((3, 6), dtype)
    labels[:, 1] = 1
    labels[1, 2] = np.nan
    loss, grad = cpu.sparsemax_loss(x, labels)
    want_loss, want_grad = ref.sparsemax_loss(x, labels)
    assert np.isnan(loss[1]) and not np.isnan(loss[[0, 2]]).any()
    assert_close(loss, want_loss, dtype)
    assert_close(grad, want_grad, dtype)


@pytest.mark.parametrize("k", [16000, 32000])
def test_one_huge_logit_among_thousands_in_float32(k):
    # The reference counted every sorted position where 1 + k·z_k > cumsum_k, and a cumsum
    # rounded far down a float32 row made that true again past the support: p[0] came out 1e30
    x = np.zeros((1, k), np.float32)
    x[0, 0] = 1e30
    expected = np.zeros(k, np.float32)
    expected[0] = 1
    for backend in (cpu, ref):
        np.testing.assert_array_equal(backend.sparsemax(x)[0], expected)
        loss, grad = backend.sparsemax_loss(x, np.array([1]))
        np.testing.assert_allclose(loss, [1e30], rtol=1e-6)


@needs_address_space_limit
def test_a_failed_scratch_row_allocation_leaves_the_thread_usable():
    """The per-thread scratch row was freed before its larger replacement was allocated: when
    that allocation failed (MemoryError), the thread kept the freed pointer, later calls wrote
    into freed memory and the thread-exit destructor freed it again (abort at exit)."""
    code = """
        import numpy as np, xpgrad._C as C
        rng = np.random.default_rng(0)
        small = rng.standard_normal((1, 5000)).astype(np.float32)
        want = C.sparsemax_forward(small)  # this thread's scratch row: 5000 floats
        x = np.ones((1, 1 << 23), np.float32)
        limit_address_space(x.nbytes + (8 << 20))
        try:
            C.sparsemax_forward(x)  # a 32 MiB scratch row does not fit
            print("returned")
        except MemoryError:
            print("MemoryError")
        lift_address_space_limit()
        del x
        junk = [np.full(5000, 7.0, np.float32) for _ in range(50)]  # reuses freed blocks
        print(bool(np.array_equal(C.sparsemax_forward(small), want)))
    """
    result = run_python(ADDRESS_SPACE_LIMIT, code, XPGRAD_NUM_THREADS="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["MemoryError", "True"], result.stdout
