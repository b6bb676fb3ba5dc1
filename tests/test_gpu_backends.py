"""The cupy and cuda backends against the numpy reference, on a GPU.

Without one (CI, most machines) every test here skips, naming the reason the backend gave
(no CuPy, no GPU, extension not built). Shapes include 0, 1 and odd sizes; both dtypes.
With XPGRAD_CUDA_EMULATION=<path of a module built by tools/cuda_emu/build.py> the kernel
tests also run on a CPU emulation of the CUDA kernels ("cuda-emulated").
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import xpgrad as xg
from xpgrad.backends.registry import unavailable_reason

EMULATION = os.environ.get("XPGRAD_CUDA_EMULATION")
GPU_BACKENDS = ["cupy", "cuda"] + (["cuda-emulated"] if EMULATION else [])
REF = xg.get_backend("numpy")


def emulated():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "cuda_emu"))
    from host_cupy import emulated_backend

    return emulated_backend(EMULATION)


@pytest.fixture(params=GPU_BACKENDS)
def gpu(request):
    """A GPU backend object, or a skip saying why it cannot run here."""
    if request.param == "cuda-emulated":
        return emulated()
    reason = unavailable_reason(request.param)
    if reason is not None:
        pytest.skip(f"backend {request.param!r} unavailable: {reason}")
    return xg.get_backend(request.param)


def tol(dtype):
    return {"rtol": 2e-4, "atol": 2e-5} if np.dtype(dtype) == np.float32 else {"rtol": 1e-10, "atol": 1e-12}


def same(backend, got, want, dtype, **override):
    """Compare a backend result (array or tuple of arrays) with the numpy reference."""
    if isinstance(want, tuple):
        for g, w in zip(got, want, strict=True):
            same(backend, g, w, dtype, **override)
        return
    if want is None:
        assert got is None
        return
    host = backend.to_numpy(got)
    assert host.shape == want.shape and host.dtype == np.dtype(dtype)  # (the reference may promote empties)
    np.testing.assert_allclose(host, want, **{**tol(dtype), **override})


def rand(rng, *shape, dtype=np.float32, scale=1.0):
    return np.asarray(scale * rng.standard_normal(shape), dtype)  # an array even for shape ()


def run_both(backend, method, *args, **kwargs):
    """(backend result, numpy result) for method(*args) with host args copied to the device."""
    dev = [backend.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args]
    return getattr(backend, method)(*dev, **kwargs), getattr(REF, method)(*args, **kwargs)


DTYPES = [np.float32, np.float64]
# (1600, 1500, 37) has enough 128x128 tiles to take the big-tile fp32 kernel.
GEMM_SHAPES = [(0, 3, 4), (1, 1, 1), (3, 0, 5), (5, 7, 0), (17, 33, 65), (128, 96, 130), (300, 257, 129),
               (1600, 1500, 37)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,n,k", GEMM_SHAPES)
@pytest.mark.parametrize("trans", [(False, False), (True, False), (False, True)])
def test_gemm(gpu, dtype, m, n, k, trans):
    rng = np.random.default_rng(m * 1000 + n + k)
    ta, tb = trans
    a = rand(rng, *((k, m) if ta else (m, k)), dtype=dtype)
    b = rand(rng, *((n, k) if tb else (k, n)), dtype=dtype)
    got, want = run_both(gpu, "gemm", a, b, ta, tb)
    same(gpu, got, want, dtype, atol=1e-4 if dtype == np.float32 else 1e-11)


def test_gemm_views_out_and_tf32(gpu):
    rng = np.random.default_rng(0)
    a, b = rand(rng, 70, 50), rand(rng, 40, 70)
    want = a.T @ b.T
    da, db = gpu.asarray(a), gpu.asarray(b)
    same(gpu, gpu.gemm(da.T, db.T), want, np.float32, atol=1e-4)  # transposed views
    same(gpu, gpu.gemm(da[::2].T, db[:, ::2].T), a[::2].T @ b[:, ::2].T, np.float32, atol=1e-4)
    out = gpu.xp.empty((50, 40), dtype=np.float32)
    assert gpu.gemm(da, db, trans_a=True, trans_b=True, out=out) is out  # reference path
    same(gpu, out, want, np.float32, atol=1e-4)
    assert gpu.gemm(da.T, db.T, out=out) is out
    same(gpu, out, want, np.float32, atol=1e-4)
    if gpu.name != "cupy":
        gpu.use_tf32 = True
        try:
            big_a, big_b = rand(rng, 256, 512), rand(rng, 512, 192)
            same(gpu, gpu.gemm(gpu.asarray(big_a), gpu.asarray(big_b)), big_a @ big_b, np.float32,
                 rtol=2e-2, atol=5e-2)  # TF32 keeps ~10 mantissa bits per product
        finally:
            gpu.use_tf32 = False


def to_tf32(x):
    """x rounded to TF32 (10 mantissa bits, nearest, ties away from zero), as float64."""
    bits = (np.ascontiguousarray(x, np.float32).view(np.uint32) + np.uint32(0x1000)) & np.uint32(0xFFFFE000)
    return bits.view(np.float32).astype(np.float64)


@pytest.mark.parametrize("m,n,k", GEMM_SHAPES)
@pytest.mark.parametrize("trans", [(False, False), (True, False), (False, True)])
def test_gemm_tf32_and_linear_epilogue(gpu, m, n, k, trans):
    if gpu.name == "cupy":
        pytest.skip("TF32 is a cuda-backend option")
    rng = np.random.default_rng(m + 7 * n + k)
    ta, tb = trans
    a = rand(rng, *((k, m) if ta else (m, k)))
    b = rand(rng, *((n, k) if tb else (k, n)))
    want = (to_tf32(a).T if ta else to_tf32(a)) @ (to_tf32(b).T if tb else to_tf32(b))
    gpu.use_tf32 = True
    try:
        got = gpu.to_numpy(gpu.gemm(gpu.asarray(a), gpu.asarray(b), ta, tb))
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        if not (ta or tb):
            bias = rand(rng, n)
            y = gpu.to_numpy(gpu.linear(gpu.asarray(a), gpu.asarray(b), gpu.asarray(bias), "tanh"))
            np.testing.assert_allclose(y, np.tanh(want + bias), rtol=1e-4, atol=1e-4)
    finally:
        gpu.use_tf32 = False


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["identity", "relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("batch,fan_in,fan_out", [(0, 3, 4), (1, 1, 1), (37, 19, 23), (130, 70, 140)])
def test_linear_forward_backward(gpu, dtype, activation, batch, fan_in, fan_out):
    rng = np.random.default_rng(batch + fan_in)
    x, w, b = rand(rng, batch, fan_in, dtype=dtype), rand(rng, fan_in, fan_out, dtype=dtype), rand(rng, fan_out, dtype=dtype)
    y, want = run_both(gpu, "linear", x, w, b, activation)
    same(gpu, y, want, dtype, atol=1e-4)
    gy = rand(rng, batch, fan_out, dtype=dtype)
    for has_bias, need_gx in ((True, True), (False, True), (True, False)):
        got, ref = run_both(gpu, "linear_backward", x, w, want, gy, activation, has_bias, need_gx)
        same(gpu, got, ref, dtype, atol=1e-4)


ACTIVATIONS = [
    ("sigmoid", (), lambda x, y, g: (y, g)), ("tanh", (), lambda x, y, g: (y, g)),
    ("relu", (), lambda x, y, g: (y, g)), ("leaky_relu", (0.2,), lambda x, y, g: (x, g, 0.2)),
    ("elu", (0.7,), lambda x, y, g: (x, g, 0.7)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,params,grad_args", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 5, 7), (1001,)])
def test_activations(gpu, dtype, name, params, grad_args, shape):
    rng = np.random.default_rng(1)
    x = rand(rng, *shape, dtype=dtype, scale=4.0)
    y, want = run_both(gpu, name, x, *params)
    same(gpu, y, want, dtype)
    gy = rand(rng, *shape, dtype=dtype)
    got, ref = run_both(gpu, name + "_backward", *grad_args(x, want, gy))
    same(gpu, got, ref, dtype)


# Every row plan (row_plan): 4/8/16/32 threads per row with 4 register elements, a warp with
# 8..32, a block with 4..32, global memory past that (k = 32769; 16385 for the two-row backward);
# k % 4 != 0 takes scalar accesses.
ROW_SHAPES = [(0, 5), (1, 1), (3, 7), (37, 33), (70, 64), (9, 128), (5, 1024), (4, 1025),
              (3, 5000), (2, 12000), (2, 16385), (2, 32768), (2, 32769), (2, 3, 9)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "sparsemax"])
def test_softmax_family(gpu, dtype, shape, op):
    rng = np.random.default_rng(shape[-1])
    x = rand(rng, *shape, dtype=dtype, scale=3.0)
    y, want = run_both(gpu, op, x)
    same(gpu, y, want, dtype)
    gy = rand(rng, *shape, dtype=dtype)
    got, ref = run_both(gpu, op + "_backward", want, gy)
    same(gpu, got, ref, dtype, atol=1e-4 if dtype == np.float32 else 1e-11)
    if len(shape) == 3:  # another axis: the reference path
        got, ref = run_both(gpu, op, x, axis=1)
        same(gpu, got, ref, dtype)


@pytest.mark.parametrize("k", [8, 1024, 4096])
def test_row_ops_on_unaligned_rows(gpu, k):
    """Rows starting 4 bytes past a 16-byte boundary take the scalar accesses."""
    rng = np.random.default_rng(k)
    x = rand(rng, 3, k, scale=3.0)
    labels = rng.integers(0, k, 3)
    dev = gpu.asarray(np.concatenate([[0.0], x.ravel()]).astype(np.float32))[1:].reshape(3, k)
    for op in ("softmax", "log_softmax", "sparsemax"):
        same(gpu, getattr(gpu, op)(dev), getattr(REF, op)(x), np.float32)
    same(gpu, gpu.cross_entropy(dev, gpu.asarray(labels)), REF.cross_entropy(x, labels), np.float32,
         atol=1e-4)
    same(gpu, gpu.sparsemax_loss(dev, gpu.asarray(labels)), REF.sparsemax_loss(x, labels), np.float32,
         atol=1e-4)


def test_sparsemax_loss_of_a_minus_inf_logit_off_the_target(gpu):
    # 0·(−∞) off the target: the loss is its finite limit (1/4, 1), with indices or 0/1 labels
    x = np.array([[0.0, 0.0, -np.inf], [0.0, 1.0, -np.inf]], np.float32)
    for target in (np.array([0, 0]), np.eye(3, dtype=np.float32)[[0, 0]]):
        loss, _ = gpu.sparsemax_loss(gpu.asarray(x), gpu.asarray(target))
        np.testing.assert_allclose(gpu.to_numpy(loss), [0.25, 1.0], rtol=1e-6)
        np.testing.assert_allclose(REF.sparsemax_loss(x, target)[0], [0.25, 1.0], rtol=1e-6)


def test_sparsemax_loss_of_a_plus_inf_logit_is_nan_as_the_reference(gpu):
    # Σ_S (z² − τ²) skipped the row's NaN p (it summed where p > 0): the loss was +inf
    x = np.array([[np.inf, 0.0, 0.0]], np.float32)
    for target in (np.array([1]), np.array([[0.0, 1.0, 0.0]], np.float32)):
        loss, _ = gpu.sparsemax_loss(gpu.asarray(x), gpu.asarray(target))
        with np.errstate(invalid="ignore"):  # the reference's own inf − inf
            want = REF.sparsemax_loss(x, target)[0]
        assert np.isnan(gpu.to_numpy(loss)).all() and np.isnan(want).all()


def test_gemm_into_an_out_of_another_shape_raises(gpu):
    a, b = gpu.asarray(np.ones((1, 3), np.float32)), gpu.asarray(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError):  # the (1, 4) product was broadcast into both rows of out
        gpu.gemm(a, b, out=gpu.asarray(np.zeros((2, 4), np.float32)))


def on_another_device(backend, array):
    """array as the backend's array on a device other than the current one (the emulation
    marks it so), or a skip where there is no second GPU."""
    if backend.name == "cuda-emulated":
        moved = backend.asarray(array)
        moved.device_id = 1
        return moved
    if backend.name != "cuda" or backend.xp.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs the cuda backend on two GPUs, or the emulation")
    with backend.xp.cuda.Device(1):
        return backend.xp.asarray(array)


class KernelsRefusing:
    """The emulated kernels, failing a call handed a pointer into any of `arrays`."""

    def __init__(self, kernels, arrays):
        self.kernels, self.pointers = kernels, {a.data.ptr for a in arrays}

    def __getattr__(self, name):
        kernel = getattr(self.kernels, name)

        def checked(*args, **kwargs):
            assert not self.pointers & {*args, *kwargs.values()}, f"{name} got an array on another device"
            return kernel(*args, **kwargs)

        return checked


def test_arrays_on_another_device_take_the_reference(gpu):
    # The kernels run on the current device: a pointer into another GPU's memory there is an
    # illegal address, which breaks the CUDA context. CuPy's reference checks the device (or
    # uses peer access). The emulation checks that no kernel sees the array.
    rng = np.random.default_rng(3)
    x, w, b = rand(rng, 4, 5), rand(rng, 5, 3), rand(rng, 3)
    target = np.array([0, 2, 1, 2])
    x_away, t_away = on_another_device(gpu, x), on_another_device(gpu, target)
    here = {name: gpu.asarray(a) for name, a in (("x", x), ("w", w), ("b", b), ("t", target))}
    if gpu.name == "cuda-emulated":
        gpu.kernels = KernelsRefusing(gpu.kernels, (x_away, t_away))
    calls = [("relu", (x_away,), (x,)), ("softmax", (x_away,), (x,)),
             ("gemm", (x_away, here["w"]), (x, w)), ("linear", (x_away, here["w"], here["b"], "relu"), (x, w, b, "relu")),
             ("cross_entropy", (x_away, here["t"]), (x, target)), ("cross_entropy", (here["x"], t_away), (x, target))]
    for method, args, ref_args in calls:
        try:
            got = getattr(gpu, method)(*args)
        except ValueError as exc:  # CuPy without peer access between the GPUs
            assert "device" in str(exc)
            continue
        same(gpu, got, getattr(REF, method)(*ref_args), np.float32)


def test_softmax_extremes(gpu):
    x = np.array([[-np.inf, 0.0, 1.0], [1e4, 1e4 - 1, -1e4], [5.0, 5.0, 5.0]], np.float32)
    for op in ("softmax", "log_softmax", "sparsemax"):
        got, want = run_both(gpu, op, x)
        same(gpu, got, want, np.float32)


@pytest.mark.parametrize("k", [3, 64, 5000])  # a few threads, a warp, a block per row
def test_non_finite_rows_are_nan_as_the_reference(gpu, k):
    # the sparsemax threshold skipped NaN (fmax) and its output clamp turned NaN into 0: a row
    # [nan, 1, 2] came out [0, 0, 1], rows of ±inf all zeros; relu(NaN) was 0
    rows = np.zeros((4, k), np.float32)
    rows[:, 1:] = np.linspace(-1, 1, k - 1)
    rows[0, 0], rows[1, 0], rows[2, :], rows[3, 0] = np.nan, np.inf, -np.inf, 1.0
    with np.errstate(invalid="ignore"):
        for op in ("softmax", "log_softmax", "sparsemax"):
            got, want = run_both(gpu, op, rows)
            np.testing.assert_array_equal(np.isnan(gpu.to_numpy(got)), np.isnan(want), err_msg=op)
        loss, _ = gpu.sparsemax_loss(gpu.asarray(rows), gpu.asarray(np.zeros(4, np.int64)))
        np.testing.assert_array_equal(np.isnan(gpu.to_numpy(loss)), np.isnan(REF.sparsemax_loss(rows, np.zeros(4, np.int64))[0]))
    x = np.array([np.nan, -1.0, 2.0, -0.0], np.float32)
    same(gpu, gpu.relu(gpu.asarray(x)), REF.relu(x), np.float32)
    y = gpu.linear(gpu.asarray(x[None, :2]), gpu.asarray(np.eye(2, dtype=np.float32)), None, "relu")
    same(gpu, y, REF.linear(x[None, :2], np.eye(2, dtype=np.float32), None, "relu"), np.float32)
    # relu's gradient at a NaN is the upstream one (PyTorch's x <= 0 ? 0 : g), as the reference
    gy = np.arange(1, 5, dtype=np.float32)
    y_ref = REF.relu(x)
    same(gpu, gpu.relu_backward(gpu.asarray(y_ref), gpu.asarray(gy)), REF.relu_backward(y_ref, gy), np.float32)
    args = (x[None, :], np.eye(4, dtype=np.float32), y_ref[None, :], gy[None, :], "relu")
    for got, want in zip(gpu.linear_backward(*(gpu.asarray(a) if isinstance(a, np.ndarray) else a for a in args)),
                         REF.linear_backward(*args)):
        same(gpu, got, want, np.float32)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows,k", [(0, 4), (1, 1), (9, 10), (33, 1000), (3, 3000)])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy(gpu, dtype, rows, k, smoothing):
    rng = np.random.default_rng(rows + k)
    logits = rand(rng, rows, k, dtype=dtype, scale=3.0)
    labels = rng.integers(0, k, rows)
    probs = rng.dirichlet(np.ones(k), rows).astype(dtype) if rows else np.zeros((0, k), dtype)
    unnormalised = rng.uniform(0, 3 / k, (rows, k)).astype(dtype)  # gradient w·p − t, w = Σt'
    for target in (labels, probs, unnormalised):
        got, want = run_both(gpu, "cross_entropy", logits, target, smoothing)
        same(gpu, got, want, dtype, atol=1e-4 if dtype == np.float32 else 1e-11)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rows,k", [(0, 4), (1, 1), (9, 10), (33, 700), (3, 3000)])
def test_sparsemax_loss(gpu, dtype, rows, k):
    rng = np.random.default_rng(rows * k)
    logits = rand(rng, rows, k, dtype=dtype, scale=2.0)
    labels = rng.integers(0, k, rows)
    multi = (rng.random((rows, k)) < 0.2).astype(dtype)
    for target in (labels, multi):
        got, want = run_both(gpu, "sparsemax_loss", logits, target)
        same(gpu, got, want, dtype, atol=1e-4 if dtype == np.float32 else 1e-10)


def test_bad_class_index_gives_nan_on_cuda(gpu):
    if gpu.name not in ("cuda", "cuda-emulated"):
        pytest.skip("the reference raises IndexError instead")
    logits = gpu.asarray(np.zeros((2, 3), np.float32))
    loss, grad = gpu.cross_entropy(logits, gpu.asarray(np.array([1, 7])))
    host = gpu.to_numpy(loss)
    assert np.isfinite(host[0]) and np.isnan(host[1]) and np.isnan(gpu.to_numpy(grad)[1]).all()


OPTIMIZERS = [
    ("sgd_update", 1, {"lr": 0.1}), ("sgd_update", 1, {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
    ("sgd_update", 1, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("adam_update", 2, {"lr": 0.01, "weight_decay": 0.1}),
    ("adam_update", 2, {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("adamax_update", 2, {"lr": 0.01, "weight_decay": 0.01}), ("rmsprop_update", 1, {"lr": 0.01}),
    ("rmsprop_update", 1, {"lr": 0.01, "momentum": 0.9, "centered": True, "weight_decay": 0.1}),
    ("adagrad_update", 1, {"lr": 0.1, "weight_decay": 0.01}),
]


@pytest.mark.parametrize("transposed_grad", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("method,n_state,hyper", OPTIMIZERS)
def test_optimizer_updates(gpu, dtype, method, n_state, hyper, transposed_grad):
    # A transposed (F-order) gradient is copied for the kernel; the copy used to be freed
    # before the launch (made inside the call's arguments), and the kernel read freed memory.
    rng = np.random.default_rng(7)
    host = [rand(rng, 37, 11, dtype=dtype) for _ in range(1 + n_state)]
    host[1:] = [np.abs(s) for s in host[1:]]  # second moments must start >= 0
    extra = {}
    if method == "rmsprop_update":
        extra = {"momentum_buffer": np.zeros_like(host[0]), "grad_avg": np.zeros_like(host[0])}
    dev = [gpu.asarray(a) for a in host]
    dev_extra = {k: gpu.asarray(v) for k, v in extra.items()}
    for step in range(1, 4):
        grad = rand(rng, 37, 11, dtype=dtype)
        kw = dict(hyper)
        if method.startswith("adam"):
            kw["step"] = step
        if method == "sgd_update":
            kw["first_step"] = step == 1
        getattr(REF, method)(host[0], grad, *(host[1:] or [None]), **kw, **extra)
        dev_grad = gpu.asarray(np.ascontiguousarray(grad.T)).T if transposed_grad else gpu.asarray(grad)
        getattr(gpu, method)(dev[0], dev_grad, *(dev[1:] or [None]), **kw, **dev_extra)
    for got, want in zip(dev, host, strict=True):
        same(gpu, got, want, dtype, rtol=1e-4 if dtype == np.float32 else 1e-10)


def test_dropout_mask_and_seeding(gpu):
    gpu.manual_seed(3)
    mask = gpu.to_numpy(gpu.dropout_mask((200, 300), 0.25, 4 / 3, np.float32))
    assert mask.dtype == np.float32 and set(np.unique(mask)) <= {0.0, np.float32(4 / 3)}
    assert abs((mask == 0).mean() - 0.25) < 0.01
    gpu.manual_seed(3)
    np.testing.assert_array_equal(gpu.to_numpy(gpu.dropout_mask((200, 300), 0.25, 4 / 3, np.float32)), mask)
    REF.manual_seed(3)  # the same counter-based draw as the host backends
    np.testing.assert_array_equal(REF.dropout_mask((200, 300), 0.25, 4 / 3, np.float32), mask)
    perm = gpu.to_numpy(gpu.permutation(50))
    assert sorted(perm.tolist()) == list(range(50))


def test_tensors_move_between_backends_with_gradients(gpu):
    if gpu.name == "cuda-emulated":
        pytest.skip("needs a real GPU backend")
    x = xg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, backend="numpy")
    y = x.to(gpu.name)
    assert y.backend == gpu.name and gpu.is_native(y.data)
    loss = (y.relu() * y).sum()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.arange(6.0).reshape(2, 3))
    back = y.to("numpy")
    assert back.backend == "numpy" and np.array_equal(back.numpy(), x.numpy())
    with pytest.raises(xg.BackendMismatchError):
        x + y


def test_dlpack_exchange(gpu):
    if gpu.name == "cuda-emulated":
        pytest.skip("needs a real GPU backend")
    cupy = gpu.xp
    t = xg.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4), backend=gpu.name)
    shared = cupy.from_dlpack(t)  # zero-copy view of the tensor's memory
    assert shared.data.ptr == t.data.data.ptr
    foreign = cupy.arange(5, dtype=cupy.float32)
    assert gpu.asarray(foreign).data.ptr == foreign.data.ptr
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    tt = torch.utils.dlpack.from_dlpack(t)
    assert tt.is_cuda and tt.sum().item() == 66.0
    back = gpu.asarray(torch.ones(4, device="cuda"))
    assert gpu.is_native(back) and float(back.sum()) == 4.0


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_mlp_training_matches_numpy(gpu, optimizer):
    """A few training steps of a small MLP (fused linear, relu, cross-entropy, optimizer
    kernels, through autograd) end with the same parameters as on the numpy backend."""
    import xpgrad.nn as nn
    import xpgrad.optim as optim

    rng = np.random.default_rng(5)
    x_host, y_host = rng.standard_normal((37, 20)).astype(np.float32), rng.integers(0, 5, 37)
    models = []
    for backend in (REF, gpu):
        xg.manual_seed(11)
        model = nn.Sequential(nn.Linear(20, 33), nn.ReLU(), nn.Linear(33, 5)).to(backend)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "SGD" else \
            optim.Adam(model.parameters(), lr=0.01)
        x, y = xg.tensor(x_host, backend=backend), xg.tensor(y_host, backend=backend)
        for _ in range(3):
            opt.zero_grad()
            nn.CrossEntropyLoss()(model(x), y).backward()
            opt.step()
        models.append([p.numpy() for p in model.parameters()])
    for got, want in zip(models[1], models[0], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_nan_state_and_targets_stay_nan(gpu, dtype):
    """Adamax's u = max(β₂u, |g| + ε) and the sparsemax loss's max(Σt, 1e-12) and clamp at 0
    keep a NaN as the reference's maximum does (fmax would drop it and heal the row)."""
    host = [np.ones(20, dtype), np.full(20, 0.5, dtype), np.zeros(20, dtype), np.ones(20, dtype)]
    host[3][[0, 9, 19]] = np.nan
    host[1][5] = np.nan
    dev = [gpu.asarray(a) for a in host]
    REF.adamax_update(*host, step=1, lr=0.1)
    gpu.adamax_update(*dev, step=1, lr=0.1)
    for got, want in zip(dev, host, strict=True):
        np.testing.assert_array_equal(np.isnan(gpu.to_numpy(got)), np.isnan(want))
    logits = rand(np.random.default_rng(1), 3, 6, dtype=dtype)
    multi = np.eye(3, 6, dtype=dtype)
    multi[1, 2] = np.nan
    got, want = run_both(gpu, "sparsemax_loss", logits, multi)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(np.isnan(gpu.to_numpy(g)), np.isnan(w))
        np.testing.assert_allclose(gpu.to_numpy(g)[~np.isnan(w)], w[~np.isnan(w)], **tol(dtype))


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_with_minus_inf_logits(gpu, smoothing):
    """A −∞ logit off an index target costs nothing (the target is gathered, no 0·(−∞)); one
    that carries smoothed target mass makes the loss +∞, as in the reference and PyTorch."""
    logits = np.array([[0.0, 1.0, -np.inf, 2.0], [0.5, -np.inf, -np.inf, 0.0]])
    probs = np.array([[0.7, 0.3, 0.0, 0.0], [0.5, 0.0, 0.0, 0.5]])
    for target in [np.array([1, 3])] + ([probs] if smoothing else []):
        got, want = run_both(gpu, "cross_entropy", logits, target, smoothing)
        for g, w in zip(got, want, strict=True):
            np.testing.assert_allclose(gpu.to_numpy(g), w, rtol=1e-12, atol=1e-15)


def test_centered_rmsprop_with_a_constant_gradient_stays_finite(gpu):
    """s − ḡ² rounds below 0 when the gradient does not vary; it is clamped at 0 (was NaN)."""
    g = np.random.default_rng(21).uniform(0.1, 3.0, 1000).astype(np.float32)
    param, square_avg, grad_avg = (gpu.asarray(np.zeros(1000, np.float32)) for _ in range(3))
    for _ in range(300):
        gpu.rmsprop_update(param, gpu.asarray(g), square_avg, lr=1e-6, alpha=0.5, eps=1e-8, centered=True,
                           grad_avg=grad_avg)
    assert np.isfinite(gpu.to_numpy(param)).all()
