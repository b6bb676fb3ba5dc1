"""A CuPy stand-in made of host arrays, and a CudaBackend on it driving an emulated _cuda
module (see build.py): the whole path Python glue → binding → launcher → kernel runs on the
CPU, so tests/test_gpu_backends.py can check the kernels' results without a GPU."""

from __future__ import annotations

import importlib.util
import random
import types

import numpy as np


class HostArray(np.ndarray):
    """A host array posing as a device array: ``.data.ptr`` is its address, ``.device.id`` its
    device_id (0, the current device; a test may set another on an array)."""

    device_id = 0

    @property
    def data(self):
        return types.SimpleNamespace(ptr=self.ctypes.data)

    @property
    def device(self):
        return types.SimpleNamespace(id=self.device_id)


def _wrap(value):
    if isinstance(value, np.ndarray) and not isinstance(value, HostArray):
        return value.view(HostArray)
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    return value


class HostCupy:
    """numpy, with array results viewed as HostArray; asarray copies host data "to the GPU"."""

    ndarray = HostArray
    cuda = types.SimpleNamespace(get_current_stream=lambda: types.SimpleNamespace(ptr=0),
                                 runtime=types.SimpleNamespace(getDevice=lambda: 0))

    def __getattr__(self, name):
        attr = getattr(np, name)
        if callable(attr) and not isinstance(attr, type):
            return lambda *args, **kwargs: _wrap(attr(*args, **kwargs))
        return attr

    @staticmethod
    def asarray(data, dtype=None):
        if isinstance(data, HostArray):
            return data if dtype is None else _wrap(data.astype(dtype, copy=False))
        return _wrap(np.array(data, dtype=dtype, copy=True))

    @staticmethod
    def asnumpy(array):
        return np.array(array).view(np.ndarray)


def load_module(path: str):
    spec = importlib.util.spec_from_file_location("_cuda", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def emulated_backend(module_path: str):
    from xpgrad.backends.cuda import CudaBackend

    backend = CudaBackend.__new__(CudaBackend)  # skips the GPU checks of __init__
    backend.xp, backend.kernels, backend.use_tf32 = HostCupy(), load_module(module_path), False
    backend._rng = np.random.default_rng()
    backend._seeds = random.Random()  # as Backend.__init__
    backend.name = "cuda-emulated"
    return backend
