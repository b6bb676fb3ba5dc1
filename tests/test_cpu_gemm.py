"""The C++ GEMM kernels (xpgrad._C.gemm / linear / linear_backward) and the cpu backend's
linear-algebra overrides, against float64 NumPy and the reference Backend."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from xpgrad.backends.cpu import CpuBackend
from xpgrad.backends.numpy import NumpyBackend

_C = pytest.importorskip("xpgrad._C")

DTYPES = (np.float32, np.float64)
# (m, k, n): empty, unit, odd, register-block edges (14/16/32), the small-shape path (also in
# row bands when N fits one sliver), the shared-A path with one and several K blocks (also with
# B packed in blocks of several slivers, the last one partial: 40×3500×300), the shared-B path
# (large M) with several K blocks and several N panels; m = 13, 33, 200, 1100 end in a short
# A sliver that is split with the one before it. A (transposed or row-major) is read in place
# when N is small (33×1100×65, 130×1500×70, and 300×1000×64, 700×70×40 and 1100×200×40 on the
# shared-B path, the first with several K blocks); a transposed A is packed by ranges of K
# otherwise (40×3500×300). A small C over a long K is split in K between the threads (with two
# or more: 32×9000×9, whose N-fits-one-sliver B is too deep for the row bands, 37×5000×70 and
# 250×4500×260). A transposed A on the unpacked path goes down K in blocks (5×2000×7; in row
# bands 600×1500×12).
SHAPES = [(0, 3, 4), (3, 0, 4), (3, 4, 0), (1, 1, 1), (1, 7, 1), (5, 1, 9), (3, 5, 7), (14, 16, 32),
          (15, 17, 33), (13, 31, 15), (64, 64, 64), (100, 37, 10), (200, 300, 17), (33, 1100, 65),
          (257, 129, 300), (700, 70, 40), (1100, 300, 9), (130, 1500, 70), (40, 3500, 300), (1100, 200, 40),
          (1030, 600, 4100), (300, 1000, 64), (32, 9000, 9), (37, 5000, 70), (250, 4500, 260), (5, 2000, 7),
          (600, 1500, 12)]


def rng():
    return np.random.default_rng(1234)


def tolerance(dtype, k):
    """Bound on |C − C_exact| for standard-normal operands: a few ulps times √k."""
    return (3e-6 if dtype == np.float32 else 1e-14) * (k + 1) ** 0.5 * 4


def operands(m, k, n, trans_a, trans_b, dtype, r):
    a = r.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = r.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def reference(a, b, trans_a, trans_b):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)


def assert_close(c, ref, dtype, k):
    assert c.shape == ref.shape and c.dtype == dtype
    if c.size:
        err = np.abs(c - ref).max()
        assert err <= tolerance(dtype, k), f"max error {err:.3g} > {tolerance(dtype, k):.3g}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_gemm_matches_numpy(m, k, n, trans_a, trans_b, dtype):
    a, b = operands(m, k, n, trans_a, trans_b, dtype, rng())
    assert_close(_C.gemm(a, b, trans_a, trans_b), reference(a, b, trans_a, trans_b), dtype, k)


def strided_views(x):
    """Views of x's values with other layouts: Fortran order, negative strides, every other
    row/column of a bigger array, the first columns of a wider one, a transposed copy viewed back."""
    big = np.zeros((2 * x.shape[0] + 1, 3 * x.shape[1] + 2), x.dtype)
    big[1::2, 2::3] = x
    wide = np.zeros((x.shape[0], x.shape[1] + 3), x.dtype)
    wide[:, :x.shape[1]] = x
    flipped = np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1]
    return {"fortran": np.asfortranarray(x), "negative": flipped, "sliced": big[1::2, 2::3],
            "padded rows": wide[:, :x.shape[1]], "transposed": np.ascontiguousarray(x.T).T}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("m,k,n", [(9, 13, 21), (130, 150, 170), (130, 600, 40)])
def test_gemm_any_strides(m, k, n, trans_a, trans_b, dtype):
    a, b = operands(m, k, n, trans_a, trans_b, dtype, rng())
    ref = reference(a, b, trans_a, trans_b)
    for name_a, va in strided_views(a).items():
        for name_b, vb in strided_views(b).items():
            np.testing.assert_array_equal(va, a)
            c = _C.gemm(va, vb, trans_a, trans_b)
            assert_close(c, ref, dtype, k), (name_a, name_b)


def broadcast_views(x, r):
    """x's shape as broadcast views (a zero stride): one column repeated, one row repeated, one
    value everywhere."""
    rows, cols = x.shape
    column = r.standard_normal((rows, 1)).astype(x.dtype)
    row = r.standard_normal((1, cols)).astype(x.dtype)
    return [np.broadcast_to(column, x.shape), np.broadcast_to(row, x.shape),
            np.broadcast_to(np.ones((1, 1), x.dtype), x.shape)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True)])
@pytest.mark.parametrize("m,k,n", [(9, 13, 21), (100, 100, 100), (300, 300, 17), (1000, 500, 17), (20, 1000, 40),
                                   (7, 5000, 13), (130, 600, 40), (32, 9000, 9)])
def test_gemm_of_broadcast_operands(m, k, n, trans_a, trans_b, dtype):
    # A stride of 0 in A read in place was taken for the packed layout's marker: the kernel read
    # far past the operand (garbage and NaN in C)
    r = rng()
    a, b = operands(m, k, n, trans_a, trans_b, dtype, r)
    for va in [a, *broadcast_views(a, r)]:
        for vb in [b, *broadcast_views(b, r)]:
            want = reference(va, vb, trans_a, trans_b)
            # repeated values add up coherently: rounding grows with k, not √k
            bound = 4 * k * np.finfo(dtype).eps * max(np.abs(want).max(), 1.0)
            np.testing.assert_allclose(_C.gemm(va, vb, trans_a, trans_b), want, rtol=0, atol=bound)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_out(dtype):
    a, b = operands(40, 50, 60, False, True, dtype, rng())
    out = np.full((40, 60), np.nan, dtype)
    result = _C.gemm(a, b, False, True, out=out)
    assert result is out or np.shares_memory(result, out)
    assert_close(out, reference(a, b, False, True), dtype, 50)


@pytest.mark.parametrize("dtype", DTYPES)
def test_backend_gemm_out_aliasing_an_input(dtype):
    """The backend keeps matmul's semantics when out is an operand (the kernel refuses it)."""
    a = rng().standard_normal((30, 30)).astype(dtype)
    b = rng().standard_normal((30, 30)).astype(dtype)
    ref = reference(a, b, False, False)
    with pytest.raises(ValueError, match="overlaps"):
        _C.gemm(a, b, out=a)
    result = CpuBackend().gemm(a, b, out=a)
    assert result is a
    assert_close(a, ref, dtype, 30)


def test_backend_gemm_falls_back_for_integers_and_mixed_dtypes():
    be = CpuBackend()
    ai = np.arange(6).reshape(2, 3)
    np.testing.assert_array_equal(be.gemm(ai, ai, trans_b=True), ai @ ai.T)
    a32 = np.ones((2, 3), np.float32)
    assert be.gemm(a32, np.ones((3, 2), np.float64)).dtype == np.float64


@pytest.mark.parametrize("dtype", DTYPES)
def test_backend_gemm_and_matmul(dtype):
    be, ref_be = CpuBackend(), NumpyBackend()
    a, b = operands(70, 80, 90, True, True, dtype, rng())
    assert_close(be.gemm(a, b, True, True), reference(a, b, True, True), dtype, 80)
    x, y = a.T[::2], b.T[:, ::3]
    assert_close(be.matmul(x, y), ref_be.matmul(x.astype(np.float64), y.astype(np.float64)), dtype, 80)


ACTIVATIONS = ("identity", "relu", "sigmoid", "tanh")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("n,i,o", [(1, 1, 1), (7, 5, 3), (100, 784, 33), (64, 300, 200)])
def test_linear_matches_reference(n, i, o, with_bias, activation, dtype):
    r = rng()
    x = (3 * r.standard_normal((n, i))).astype(dtype)
    w = (r.standard_normal((i, o)) / np.sqrt(i)).astype(dtype)
    bias = r.standard_normal(o).astype(dtype) if with_bias else None
    y = CpuBackend().linear(x, w, bias, activation)
    ref = NumpyBackend().linear(x.astype(np.float64), w.astype(np.float64),
                                None if bias is None else bias.astype(np.float64), activation)
    assert y.dtype == dtype
    np.testing.assert_allclose(y, ref, rtol=2e-5 if dtype == np.float32 else 1e-12,
                               atol=2e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_linear_extreme_inputs(activation, dtype):
    """Saturating inputs: no overflow, sigmoid/tanh exactly bounded, NaN propagates, and σ keeps
    its relative accuracy into the subnormals (its e^(−x) stopped at e^88: σ(−200) was 6e-39)."""
    x = np.array([[-np.inf, -1e4, -800, -745, -700, -200, -103, -90, -88.5, -80.0, -1e-6, 0.0, 1e-6,
                   80.0, 1e4, np.inf, np.nan]], np.float64).T
    y = _C.linear(x.astype(dtype), np.ones((1, 1), dtype), None, activation)[:, 0]
    ref = NumpyBackend().linear(x, np.ones((1, 1)), None, activation)[:, 0].astype(dtype)
    tiny = np.finfo(dtype).smallest_subnormal
    np.testing.assert_allclose(y, ref, rtol=1e-6 if dtype == np.float32 else 1e-13, atol=2 * tiny)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("has_bias,need_gx", [(True, True), (False, True), (True, False)])
@pytest.mark.parametrize("n,i,o", [(1, 1, 1), (10, 7, 5), (100, 784, 300), (5000, 12, 9)])
def test_linear_backward_matches_reference(n, i, o, has_bias, need_gx, activation, dtype):
    r = rng()
    be, ref_be = CpuBackend(), NumpyBackend()
    x = r.standard_normal((n, i)).astype(dtype)
    w = (r.standard_normal((i, o)) / np.sqrt(i)).astype(dtype)
    y = be.linear(x, w, r.standard_normal(o).astype(dtype), activation)
    gy = r.standard_normal((n, o)).astype(dtype)
    got = be.linear_backward(x, w, y, gy, activation, has_bias, need_gx)
    want = ref_be.linear_backward(*(v.astype(np.float64) for v in (x, w, y, gy)), activation, has_bias,
                                  need_gx)
    assert (got[0] is None) == (not need_gx)
    tol = 5e-5 if dtype == np.float32 else 1e-11
    for g, ref in zip(got, want):
        if ref is None:
            assert g is None
        else:
            assert g.dtype == dtype and g.shape == ref.shape
            np.testing.assert_allclose(g, ref, rtol=tol, atol=tol * max(n, i, o) ** 0.5)


@pytest.mark.parametrize("backend", ["cpu", "numpy"])
def test_bias_gradient_of_many_rows_keeps_its_precision(backend):
    """Σ over 2M rows of 0.1 in float32: row-by-row accumulation (the kernel's, and NumPy's
    along axis 0) was 1-4% off; blocked in the kernel, float64 in the reference."""
    n = 1 << 21
    gy = np.full((n, 4), 0.1, np.float32)
    x, w = np.ones((n, 3), np.float32), np.ones((3, 4), np.float32)
    be = CpuBackend() if backend == "cpu" else NumpyBackend()
    gb = be.linear_backward(x, w, None, gy, "identity", True, False)[2]
    np.testing.assert_allclose(gb, n * np.float64(np.float32(0.1)), rtol=1e-5)


def test_linear_backward_non_contiguous_inputs():
    r = rng()
    x = r.standard_normal((40, 30)).T  # (30, 40), Fortran order
    w = r.standard_normal((80, 50))[::2]
    y = np.maximum(r.standard_normal((50, 30)), 0).T
    gy = r.standard_normal((30, 100))[:, ::-2]
    got = CpuBackend().linear_backward(x, w, y, gy, "relu", True)
    want = NumpyBackend().linear_backward(x, w, y, gy, "relu", True)
    for g, ref in zip(got, want):
        np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: _C.gemm(np.ones((2, 3), np.float32), np.ones((4, 2), np.float32)), r"\(2, 3\).*\(4, 2\)"),
        (lambda: _C.gemm(np.ones((2, 3)), np.ones((3, 2)), True, False), r"\(2, 3\).*\(3, 2\).*trans_a=True"),
        (lambda: _C.gemm(np.ones((2, 3), np.float32), np.ones((3, 2), np.float64)), r"dtype mismatch float32 vs float64 \(a vs b\)"),
        (lambda: _C.linear(np.ones((2, 3)), np.ones((3, 5)), np.ones(5, np.float32)), r"dtype mismatch float64 vs float32 \(x vs bias\)"),
        (lambda: _C.linear_backward(np.ones((2, 3)), np.ones((3, 5)), None, np.ones((2, 5), np.float32), "identity",
                                    True), r"dtype mismatch float64 vs float32 \(x vs gy\)"),
        (lambda: _C.gemm(np.ones((2, 3), np.int64), np.ones((3, 2), np.int64)), "int64"),
        (lambda: _C.gemm(np.ones(3), np.ones((3, 2))), r"2-D.*\(3,\)"),
        (lambda: _C.gemm(np.ones((2, 2, 2)), np.ones((2, 2))), r"2-D.*\(2, 2, 2\)"),
        (lambda: _C.gemm(np.ones((2, 3)), np.ones((3, 2)), out=np.ones((3, 3))), r"out.*\(3, 3\).*\(2, 2\)"),
        (lambda: _C.gemm(np.ones((2, 3)), np.ones((3, 2)), out=np.ones((2, 2), np.float32)), "out.*float32"),
        (lambda: _C.gemm(np.ones((2, 3)), np.ones((3, 2)), out=np.ones((2, 4))[:, ::2]), "contiguous"),
        (lambda: _C.linear(np.ones((2, 3)), np.ones((4, 5))), r"\(2, 3\).*\(4, 5\)"),
        (lambda: _C.linear(np.ones((2, 3)), np.ones((3, 5)), np.ones(4)), r"bias.*\(4,\)"),
        (lambda: _C.linear(np.ones((2, 3)), np.ones((3, 5)), None, "softplus"), "softplus"),
        (lambda: _C.linear_backward(np.ones((2, 3)), np.ones((3, 5)), None, np.ones((2, 4)), "identity", True),
         r"gy.*\(2, 4\).*\(2, 5\)"),
        (lambda: _C.linear_backward(np.ones((2, 3)), np.ones((3, 5)), None, np.ones((2, 5)), "relu", True),
         "y"),
    ],
)
def test_bad_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_read_only_out_is_rejected():
    out = np.zeros((2, 2))
    out.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        _C.gemm(np.ones((2, 3)), np.ones((3, 2)), out=out)


def test_strides_not_whole_elements_are_rejected_by_the_kernel_and_copied_by_the_backend():
    rec = np.zeros((3, 3), dtype=[("x", np.float32), ("pad", np.int8)])["x"]  # stride 5 bytes
    with pytest.raises(ValueError, match="strides"):
        _C.gemm(rec, rec)
    np.testing.assert_array_equal(CpuBackend().gemm(rec, rec), np.zeros((3, 3), np.float32))


ISA_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    from xpgrad import _C
    r = np.random.default_rng(7)
    worst = 0.0
    for dt in (np.float32, np.float64):
        for m, k, n in [(1, 1, 1), (7, 9, 5), (15, 17, 33), (100, 300, 250), (257, 33, 129), (1100, 300, 40)]:
            for ta in (False, True):
                for tb in (False, True):
                    a = r.standard_normal((k, m) if ta else (m, k)).astype(dt)
                    b = r.standard_normal((n, k) if tb else (k, n)).astype(dt)
                    ref = (a.T if ta else a).astype(float) @ (b.T if tb else b).astype(float)
                    tol = (3e-6 if dt == np.float32 else 1e-14) * (k + 1) ** 0.5 * 4
                    worst = max(worst, np.abs(_C.gemm(a, b, ta, tb) - ref).max() / tol)
            x = 3 * r.standard_normal((m, k)).astype(dt)
            w = (r.standard_normal((k, n)) / np.sqrt(k)).astype(dt)
            bias = r.standard_normal(n).astype(dt)
            z = x.astype(float) @ w + bias
            for act, f in [("relu", lambda z: np.maximum(z, 0)), ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
                           ("tanh", np.tanh)]:
                err = np.abs(_C.linear(x, w, bias, act) - f(z)).max()
                worst = max(worst, err / (3e-5 if dt == np.float32 else 1e-12))
    print(_C.isa(), worst)
    """
)


@pytest.mark.parametrize("isa", ["portable", "avx2", "avx512"])
def test_every_isa_path(isa):
    """Each dispatch target, selected with XPGRAD_ISA in a fresh process (chosen once per process)."""
    env = dict(os.environ, XPGRAD_ISA=isa)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(_C.__file__))]
                                        + env.get("PYTHONPATH", "").split(os.pathsep))
    out = subprocess.run([sys.executable, "-c", ISA_SCRIPT], check=False, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    active, worst = out.stdout.split()
    if active != isa:
        pytest.skip(f"this CPU does not support {isa} (runs {active})")
    assert float(worst) <= 1.0, f"{isa}: error {worst}× the tolerance"


def test_gemm_threads_follow_the_pool_not_openmps_global_setting():
    """Another library's omp_set_num_threads(1) (torch.set_num_threads does this) leaves the GEMM
    on xpgrad's thread count; set_pool_threads caps it."""
    code = textwrap.dedent("""
        import ctypes
        from xpgrad import _C
        try:
            ctypes.CDLL("libgomp.so.1").omp_set_num_threads(1)
        except OSError:
            pass  # built without libgomp: nothing global to change
        assert _C.num_threads() == _C.pool_threads() == 2, (_C.num_threads(), _C.pool_threads())
        assert _C.set_pool_threads(1) == 1 and _C.num_threads() == 1
    """)
    env = {**os.environ, "XPGRAD_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_products_too_large_for_int64_sizes_raise(dtype):
    # Stride-0 views claim any K without the memory: at K = 2^60 the scratch size wrapped to 0
    # and the packing wrote past it (a segfault); m·n·k >= 2^62 is refused.
    def huge(shape):
        return np.lib.stride_tricks.as_strided(np.ones(1, dtype), shape, (0, 0))

    k_too_deep = 2**60 if dtype == np.float32 else 2**59  # (a float64 view of 2^60 is too big for NumPy)
    for a, b in [(huge((1, k_too_deep)), huge((k_too_deep, 1))), (huge((16, 2**55)), huge((2**55, 16)))]:
        with pytest.raises(ValueError, match="too large"):
            _C.gemm(a, b)
        with pytest.raises(ValueError, match="too large"):
            _C.linear(a, b)
