"""CuPy arrays with the base class's implementations (cuBLAS, CuPy's elementwise kernels)."""

from __future__ import annotations

from .base import Backend
from .errors import BackendUnavailableError

# DLPack device types of memory a CUDA GPU can read in place (kDLCUDA, kDLCUDAManaged).
_DLPACK_CUDA_DEVICES = (2, 13)


def import_cupy():
    """Import CuPy and check that a GPU is visible, else BackendUnavailableError saying why."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailableError(
            f"CuPy is not installed ({exc}); install the wheel matching your CUDA driver "
            "(`pip install cupy-cuda12x` or `cupy-cuda13x`) on a machine with an NVIDIA GPU"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # noqa: BLE001 - CUDA driver missing or broken
        raise BackendUnavailableError(
            f"CuPy is installed but no CUDA device is usable ({exc}); this needs an NVIDIA GPU "
            "with a working driver"
        ) from None
    if count == 0:
        raise BackendUnavailableError("CuPy is installed but no GPU was found")
    return cupy


def _on_cuda_device(data) -> bool:
    """True for a foreign array (e.g. a torch CUDA tensor) whose memory lives on a GPU."""
    device = getattr(data, "__dlpack_device__", None)
    if device is None:
        return False
    try:
        return device()[0] in _DLPACK_CUDA_DEVICES
    except Exception:  # noqa: BLE001 - a broken protocol just means "not a GPU array"
        return False


class CupyBackend(Backend):
    name = "cupy"

    def __init__(self) -> None:
        self.xp = import_cupy()
        super().__init__()

    def to_numpy(self, array):
        return self.xp.asnumpy(array)

    def asarray(self, data, dtype=None):
        """Host data is copied to the GPU; GPU arrays of other libraries are taken by DLPack."""
        if not isinstance(data, self.xp.ndarray) and _on_cuda_device(data):
            data = self.xp.from_dlpack(data)
        return self.xp.asarray(data, dtype=dtype)

    def permutation(self, n: int):
        # CuPy's Generator has no permutation(); sorting i.i.d. uniform keys gives a uniformly
        # random one (ties have probability ~0 in float64).
        return self.xp.argsort(self._rng.random(n)).astype(self.xp.int64, copy=False)
