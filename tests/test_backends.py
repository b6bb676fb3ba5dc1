"""Backend registry, availability errors, and the Backend contract's signatures."""

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import xpgrad as xg
from xpgrad.backends.base import Backend
from xpgrad.backends.registry import backend_names


def backend_classes():
    from xpgrad.backends.cpu import CpuBackend
    from xpgrad.backends.cuda import CudaBackend
    from xpgrad.backends.cupy import CupyBackend
    from xpgrad.backends.numpy import NumpyBackend

    return [NumpyBackend, CpuBackend, CupyBackend, CudaBackend]


@pytest.mark.parametrize("cls", backend_classes(), ids=lambda c: c.__name__)
def test_overrides_keep_base_signatures(cls):
    """A backend may override any method, but never change its parameters."""
    for name, member in vars(cls).items():
        base = getattr(Backend, name, None)
        if name.startswith("_") or not callable(base) or not callable(member):
            continue
        assert inspect.signature(member) == inspect.signature(base), f"{cls.__name__}.{name}"


def test_registry_lists_and_switches():
    assert backend_names() == ["numpy", "cpu", "cupy", "cuda"]
    available = xg.available_backends()
    assert "numpy" in available
    with xg.use_backend("numpy") as b:
        assert b.name == "numpy" and b.xp is np
        assert xg.get_backend().name == "numpy"
        assert xg.zeros(1).backend == "numpy"
    previous = xg.get_backend()
    xg.set_backend("numpy")
    try:
        assert xg.tensor([1.0]).backend == "numpy"
    finally:
        xg.set_backend(previous)


def test_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="unknown backend 'tpu'"):
        xg.set_backend("tpu")


@pytest.mark.parametrize("name", ["cupy", "cuda"])
def test_gpu_backend_unavailable_says_why(name):
    if name in xg.available_backends():
        pytest.skip(f"{name} is available here")
    with pytest.raises(xg.BackendUnavailableError, match=f"backend '{name}' is unavailable: .*(CuPy|GPU|CUDA)"):
        xg.set_backend(name)


def test_default_is_cpu_when_extension_built_and_env_overrides():
    code = "import xpgrad as xg; print(xg.get_backend().name)"
    env = {k: v for k, v in os.environ.items() if k != "XPGRAD_BACKEND"}
    default = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    expected = "cpu" if "cpu" in xg.available_backends() else "numpy"
    assert default.stdout.strip() == expected
    env["XPGRAD_BACKEND"] = "numpy"
    forced = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert forced.stdout.strip() == "numpy"


def test_cpu_backend_runs_compiled_kernels():
    if "cpu" not in xg.available_backends():
        pytest.skip("xpgrad._C is not built")
    from xpgrad import _C

    cpu = xg.get_backend("cpu")
    assert cpu.kernels is _C and _C.isa() in ("avx512", "avx2", "portable")
    x = np.array([-1.5, 0.0, 2.0], dtype=np.float32)
    np.testing.assert_array_equal(_C.relu_forward(x), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(_C.relu_backward(np.array([0.0, 0.0, 2.0], np.float32), np.ones(3, np.float32)), [0, 0, 1])
    with pytest.raises(ValueError, match="float32 or float64"):
        _C.relu_forward(np.array([1, 2], dtype=np.int32))
    with pytest.raises(ValueError, match=r"shape mismatch \(3,\) vs \(2,\)"):
        _C.relu_backward(np.ones(3, np.float32), np.ones(2, np.float32))


def test_sum_to_shape_undoes_broadcasting():
    b = xg.get_backend("numpy")
    g = np.ones((2, 3, 4))
    assert b.sum_to_shape(g, (3, 1)).tolist() == [[8.0]] * 3
    assert b.sum_to_shape(g, (4,)).tolist() == [6.0] * 4
    assert b.sum_to_shape(g, ()).item() == 24.0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_row_ops_keep_the_input_dtype(backend, dtype):
    """Forward and backward of the softmax family and the fused losses return the input dtype."""
    be = xg.get_backend(backend)
    x = be.asarray(np.array([[1.0, 2.0, 0.5, -1.0], [0.0, 0.1, 3.0, 0.2]], dtype=dtype))
    for name in ("softmax", "log_softmax", "sparsemax"):
        y = getattr(be, name)(x)
        assert y.dtype == dtype, name
        assert getattr(be, name + "_backward")(y, x).dtype == dtype, name + "_backward"
    target = be.asarray(np.array([1, 2]))
    for name in ("cross_entropy", "sparsemax_loss"):
        loss, grad = getattr(be, name)(x, target)
        assert loss.dtype == dtype and grad.dtype == dtype, name


@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 3)])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu"])
def test_elementwise_activations_keep_the_input_shape(backend, name, shape):
    """Forward and backward keep the shape, 0-d included (ascontiguousarray made it (1,))."""
    be, reference = xg.get_backend(backend), xg.get_backend("numpy")
    x = np.linspace(-1.5, 2.0, int(np.prod(shape))).reshape(shape).astype(np.float32)
    y = getattr(be, name)(be.asarray(x))
    assert y.shape == shape
    np.testing.assert_allclose(be.to_numpy(y), getattr(reference, name)(x), rtol=1e-6)
    gy = be.asarray(np.ones(shape, np.float32))
    saved = (be.asarray(x),) if name in ("leaky_relu", "elu") else (y,)
    assert getattr(be, name + "_backward")(*saved, gy).shape == shape


def test_scalar_tensor_activation_keeps_its_shape(backend):
    x = xg.tensor(0.5, requires_grad=True)
    y = x.sigmoid() + x.tanh() + x.relu()
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()
    s = 1 / (1 + np.exp(-0.5))
    np.testing.assert_allclose(x.grad.item(), s * (1 - s) + 1 - np.tanh(0.5) ** 2 + 1, rtol=1e-6)


def _create_at_once(monkeypatch, make):
    """Call ``make()`` in 8 threads at once on an empty registry whose backends take a while to
    build; return the results and how many backends were built."""
    import threading
    import time

    from xpgrad.backends import registry
    from xpgrad.backends.numpy import NumpyBackend

    built = []

    def slow():
        time.sleep(0.05)
        built.append(NumpyBackend())
        return built[-1]

    monkeypatch.setattr(registry, "_instances", {})
    monkeypatch.setattr(registry, "_default", [])
    monkeypatch.setattr(registry, "_FACTORIES", dict.fromkeys(registry._FACTORIES, slow))
    barrier, out = threading.Barrier(8), [None] * 8

    def work(i):
        barrier.wait()
        out[i] = make()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out, len(built)


def test_threads_creating_a_backend_at_once_get_the_same_one(monkeypatch):
    out, built = _create_at_once(monkeypatch, lambda: xg.get_backend("numpy"))
    assert built == 1 and all(b is xg.get_backend("numpy") for b in out)


def test_threads_creating_the_default_backend_at_once_get_the_registrys(monkeypatch):
    monkeypatch.delenv("XPGRAD_BACKEND", raising=False)
    out, built = _create_at_once(monkeypatch, xg.get_backend)
    assert built == 1 and all(b is xg.get_backend("cpu") for b in out)


def test_manual_seed_takes_torchs_range_and_refuses_the_rest_leaving_the_seed(monkeypatch):
    from xpgrad.backends import registry

    monkeypatch.setattr(registry, "_seed", [])
    xg.manual_seed(2**64 - 1)
    top = xg.randn(3, backend="numpy").tolist()
    xg.manual_seed(-1)  # modulo 2**64, as PyTorch
    assert xg.randn(3, backend="numpy").tolist() == top
    for bad, error in [(True, TypeError), (1.5, TypeError), ("1", TypeError), (2**64, ValueError),
                       (-(2**63) - 1, ValueError)]:
        with pytest.raises(error, match="seed"):
            xg.manual_seed(bad)
    monkeypatch.setattr(registry, "_instances", {})  # a backend created now takes the valid seed
    assert xg.randn(3, backend="numpy").tolist() == top
