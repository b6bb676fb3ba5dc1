"""CuPy arrays with the base class's implementations (cuBLAS, CuPy's elementwise kernels)."""

from .base import Backend
from .errors import BackendUnavailableError


def import_cupy():
    """Import CuPy and check that a GPU is visible, else BackendUnavailableError saying why."""
    try:
        import cupy
    except ImportError as exc:
        raise BackendUnavailableError(
            f"CuPy is not installed ({exc}); install it with `pip install cupy-cuda12x` "
            "(or the wheel matching your CUDA version) on a machine with an NVIDIA GPU"
        ) from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDA driver missing or broken
        raise BackendUnavailableError(f"CuPy is installed but no CUDA device is usable: {exc}") from None
    if count == 0:
        raise BackendUnavailableError("CuPy is installed but no GPU was found")
    return cupy


class CupyBackend(Backend):
    name = "cupy"

    def __init__(self) -> None:
        self.xp = import_cupy()
        super().__init__()

    def to_numpy(self, array):
        return self.xp.asnumpy(array)

    def asarray(self, data, dtype=None):
        return self.xp.asarray(data, dtype=dtype)
