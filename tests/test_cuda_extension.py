"""xpgrad._cuda without a GPU: it imports, counts 0 devices, validates arguments (ValueError),
reports failed launches as RuntimeError, and its launch arithmetic is right. The CudaBackend's
Python glue is driven into the real bindings through a stand-in CuPy made of host arrays, so
every keyword it passes is checked against the extension. (GPU results: test_gpu_backends.py.)
"""

import os
import random
import sys
import types
from pathlib import Path

import numpy as np
import pytest

_cuda = pytest.importorskip("xpgrad._cuda", reason="xpgrad._cuda is not built (no nvcc at install time)")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "cuda_emu"))
from host_cupy import HostArray, HostCupy  # noqa: E402  (host arrays posing as CuPy's)

NO_GPU = _cuda.device_count() == 0 and not os.path.exists("/dev/nvidia0")
needs_no_gpu = pytest.mark.skipif(not NO_GPU, reason="uses fake device pointers: only safe without a GPU")


def test_imports_and_counts_devices():
    assert isinstance(_cuda.device_count(), int) and _cuda.device_count() >= 0
    if NO_GPU:
        assert _cuda.device_count() == 0
    assert _cuda.runtime_version() >= 11000


def test_launch_arithmetic():
    assert [_cuda._blocks_1d(n) for n in (0, 1, 256, 257)] == [0, 1, 1, 2]
    assert _cuda._blocks_1d(10**12) == 65535  # capped: the kernels grid-stride past it
    plan = _cuda._row_plan
    # float rows in registers: 4 elements per thread, 4-32 threads per row (several rows a warp)
    assert plan(1000, 10, True, 1) == (4, 4, 256, 16)  # 64 rows per block
    assert plan(1000, 32, True, 1) == (8, 4, 256, 32)
    assert plan(1000, 128, True, 1) == (32, 4, 256, 125)
    assert plan(17, 129, True, 1) == (32, 8, 256, 3)  # a warp per row, 8 rows per block
    assert plan(17, 1024, True, 2) == (32, 32, 256, 3)
    assert plan(17, 1025, True, 1) == (1024, 4, 1024, 17)  # a block per row
    assert plan(17, 32768, True, 1) == (1024, 32, 1024, 17)
    assert plan(17, 16385, True, 2) == (256, 0, 256, 17)  # two rows need twice the registers
    assert plan(17, 32769, True, 1) == (256, 0, 256, 17)  # too long: re-read global memory
    assert plan(17, 1024, False, 1) == (32, 0, 256, 3)  # fp64: global memory, warp per row
    assert plan(17, 1025, False, 1) == (256, 0, 256, 17)
    assert plan(0, 10, True, 1)[3] == 0
    assert plan(10**9, 10, True, 1)[3] == 65535
    assert _cuda._gemm_use_big_tiles(4096, 4096, 132)
    assert not _cuda._gemm_use_big_tiles(1024, 10, 132)


def test_dropout_hash_is_uniform_and_reproducible():
    u = np.array([_cuda._dropout_uniform(1234, i) for i in range(20000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs((u < 0.3).mean() - 0.3) < 0.015
    assert np.corrcoef(u[:-1], u[1:])[0, 1] < 0.03  # neighbours independent
    assert _cuda._dropout_uniform(1234, 7) == u[7]
    assert _cuda._dropout_uniform(1235, 7) != u[7]


P = 4096  # any non-null "pointer": validation fails before it is used
BAD_CALLS = {
    "dtype": (lambda: _cuda.activation_forward("relu", P, P, 4, "float16"), "float32' or 'float64"),
    "negative n": (lambda: _cuda.activation_forward("relu", P, P, -1, "float32"), "n must be >= 0"),
    "null x": (lambda: _cuda.activation_forward("relu", 0, P, 4, "float32"), "x is a null device pointer"),
    "activation": (lambda: _cuda.activation_forward("gelu", P, P, 4, "float32"), "unknown activation"),
    "not fusable": (lambda: _cuda.gemm(False, False, 2, 2, 2, P, 2, P, 2, P, "float32", activation="elu"),
                    "fusable"),
    "both transposed": (lambda: _cuda.gemm(True, True, 2, 2, 2, P, 2, P, 2, P, "float32"), "not supported"),
    "lda": (lambda: _cuda.gemm(False, False, 2, 3, 5, P, 4, P, 3, P, "float32"), "lda too small"),
    "ldb": (lambda: _cuda.gemm(False, True, 2, 3, 5, P, 5, P, 4, P, "float32"), "ldb too small"),
    "null c": (lambda: _cuda.gemm(False, False, 2, 2, 2, P, 2, P, 2, 0, "float32"), "c is a null"),
    "linear g": (lambda: _cuda.linear_backward(P, P, P, P, 0, P, P, 0, 2, 3, 4, "relu", "float32"), "g is a null"),
    "elu needs x": (lambda: _cuda.activation_backward("elu", 0, P, P, P, 4, "float32"), "x is a null"),
    "rows": (lambda: _cuda.softmax_forward(P, P, -2, 3, False, "float32"), "rows must be >= 0"),
    "smoothing": (lambda: _cuda.cross_entropy(P, P, True, P, P, 2, 3, 1.5, "float32"), "label_smoothing"),
    "k = 0": (lambda: _cuda.sparsemax_loss(P, P, True, P, P, 2, 0, "float32"), "k must be > 0"),
    "step": (lambda: _cuda.adam_update(P, P, P, P, 4, "float32", step=0, lr=0.1), "step must be >= 1"),
    "momentum buffer": (lambda: _cuda.sgd_update(P, P, 0, 4, "float32", lr=0.1, momentum=0.9), "momentum_buffer"),
    "centered": (lambda: _cuda.rmsprop_update(P, P, P, 4, "float32", lr=0.1, centered=True), "grad_avg"),
    "p": (lambda: _cuda.dropout_mask(P, 4, 1.5, 2.0, 1, "float32"), r"p must be in \[0"),
}


@pytest.mark.parametrize("case", BAD_CALLS, ids=str)
def test_bad_arguments_raise_value_error(case):
    call, message = BAD_CALLS[case]
    with pytest.raises(ValueError, match=message):
        call()


def test_empty_work_is_a_no_op_even_without_a_gpu():
    _cuda.activation_forward("sigmoid", 0, 0, 0, "float64")
    _cuda.gemm(False, False, 0, 5, 3, 0, 3, 0, 5, 0, "float32")
    _cuda.softmax_forward(0, 0, 0, 7, True, "float32")
    _cuda.cross_entropy(0, 0, True, 0, 0, 0, 5, 0.0, "float32")
    _cuda.adam_update(0, 0, 0, 0, 0, "float32", step=1, lr=0.1)


@needs_no_gpu
def test_launch_failure_is_runtime_error():
    with pytest.raises(RuntimeError, match="activation_forward: CUDA error"):
        _cuda.activation_forward("relu", P, P, 4, "float32")


# ---- the CudaBackend glue, against a stand-in CuPy of host arrays ------------------------
def _fake_cupy():
    def wrap(a):
        return np.asarray(a).view(HostArray)

    return types.SimpleNamespace(
        ndarray=HostArray, dtype=np.dtype, int64=np.int64, may_share_memory=np.may_share_memory,
        ascontiguousarray=lambda a: wrap(np.ascontiguousarray(a)),
        empty=lambda shape, dtype=np.float64: wrap(np.empty(shape, dtype)),
        empty_like=lambda a: wrap(np.empty_like(a)),
        cuda=HostCupy.cuda,
    )


@pytest.fixture
def glue():
    from xpgrad.backends.cuda import CudaBackend

    backend = CudaBackend.__new__(CudaBackend)  # skips the GPU checks of __init__
    backend.xp, backend.kernels, backend.use_tf32 = _fake_cupy(), _cuda, False
    backend._seeds = random.Random(0)  # as Backend.__init__ makes it
    return backend


def _calls(rows):
    """(method, args, kwargs) exercising every kernel path, with `rows` rows of data."""
    def a(*shape, dtype=np.float32):
        return np.ones(shape, dtype).view(HostArray)

    x, y, w, b = a(rows, 3), a(rows, 4), a(3, 4), a(4)
    idx = np.zeros(rows, np.int64).view(HostArray)
    p = a(7)
    return [
        ("gemm", (x, w), {}), ("gemm", (a(3, rows), w), {"trans_a": True}),
        ("gemm", (x, a(4, 3)), {"trans_b": True}), ("gemm", (x, w), {"out": a(rows, 4)}),
        ("linear", (x, w, b, "relu"), {}), ("linear_backward", (x, w, y, y, "sigmoid", True), {}),
        ("linear_backward", (x, w, y, y, "identity", False), {}),
        ("sigmoid", (x,), {}), ("tanh", (x,), {}), ("relu", (x,), {}), ("leaky_relu", (x, 0.1), {}),
        ("elu", (x, 1.0), {}), ("sigmoid_backward", (x, x), {}), ("tanh_backward", (x, x), {}),
        ("relu_backward", (x, x), {}), ("leaky_relu_backward", (x, x, 0.1), {}),
        ("elu_backward", (x, x, 1.0), {}),
        ("softmax", (y,), {}), ("log_softmax", (y,), {}), ("sparsemax", (y,), {}),
        ("softmax_backward", (y, y), {}), ("log_softmax_backward", (y, y), {}),
        ("sparsemax_backward", (y, y), {}),
        ("cross_entropy", (y, idx, 0.1), {}), ("cross_entropy", (y, y), {}),
        ("sparsemax_loss", (y, idx), {}), ("sparsemax_loss", (y, y), {}),
        ("dropout_mask", ((rows, 5), 0.5, 2.0, "float32"), {}),
        ("sgd_update", (x, x, x), {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        ("adam_update", (x, x, x, x), {"step": 3, "lr": 0.1, "weight_decay": 0.1,
                                       "decoupled_weight_decay": True}),
        ("adamax_update", (x, x, x, x), {"step": 2, "lr": 0.1}),
        ("rmsprop_update", (x, x, x), {"lr": 0.1, "momentum": 0.9, "momentum_buffer": x,
                                       "centered": True, "grad_avg": x}),
        ("adagrad_update", (x, x, x), {"lr": 0.1}),
    ] + [("gemm", (p[:0].reshape(0, 7), a(7, 2)), {})] * (rows == 0)


@needs_no_gpu
@pytest.mark.parametrize("i", range(len(_calls(2))))
def test_glue_reaches_the_kernel_with_valid_arguments(glue, i):
    name, args, kwargs = _calls(2)[i]
    with pytest.raises(RuntimeError, match="CUDA error"):  # validation passed, launch failed
        getattr(glue, name)(*args, **kwargs)


# linear_backward of an empty batch still writes zeros into gw: GPU work, so not listed here.
EMPTY = [c for c in _calls(0) if c[0] != "linear_backward"]


@needs_no_gpu
@pytest.mark.parametrize("i", range(len(EMPTY)))
def test_glue_on_empty_inputs_returns_empty_outputs(glue, i):
    name, args, kwargs = EMPTY[i]
    result = getattr(glue, name)(*args, **kwargs)
    for out in result if isinstance(result, tuple) else (result,):
        assert out is None or out.size == 0
