"""CuPy arrays, with the hot kernels from the compiled extension ``xpgrad._cuda``.

Kernels receive device pointers and the current CuPy stream; nothing is copied to the host.
"""

from .cupy import CupyBackend
from .errors import BackendUnavailableError


def import_cuda_extension():
    """Import ``xpgrad._cuda`` or raise BackendUnavailableError saying why it is missing."""
    try:
        from .. import _cuda
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the CUDA extension xpgrad._cuda is not built ({exc}); reinstall xpgrad with the "
            "CUDA toolkit (nvcc) on PATH, or use the 'cupy' backend"
        ) from None
    return _cuda


class CudaBackend(CupyBackend):
    name = "cuda"

    def __init__(self) -> None:
        self.kernels = import_cuda_extension()
        super().__init__()  # checks CuPy and the GPU

    def _launch_args(self, x):
        return x.data.ptr, self.xp.cuda.get_current_stream().ptr

    def relu(self, x):
        if x.dtype.name not in ("float32", "float64"):
            return super().relu(x)
        x = self.xp.ascontiguousarray(x)
        y = self.xp.empty_like(x)
        self.kernels.relu_forward(x.data.ptr, y.data.ptr, x.size, x.dtype.name,
                                  self.xp.cuda.get_current_stream().ptr)
        return y
