"""NumPy arrays, with the hot kernels from the compiled extension ``xpgrad._C``.

Each override hands the kernel contiguous float32/float64 arrays and falls back to the
NumPy reference for anything else (integer arrays, other dtypes).
"""

import numpy

from .base import Backend
from .errors import BackendUnavailableError


def import_cpu_extension():
    """Import ``xpgrad._C`` or raise BackendUnavailableError saying how to build it."""
    try:
        from .. import _C
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the C++ extension xpgrad._C is not built ({exc}); install xpgrad with "
            "`pip install .` from a source checkout (needs a C++17 compiler and CMake), "
            "or use the 'numpy' backend"
        ) from None
    return _C


def _is_float(a) -> bool:
    return a.dtype == numpy.float32 or a.dtype == numpy.float64


class CpuBackend(Backend):
    name = "cpu"
    xp = numpy

    def __init__(self) -> None:
        self.kernels = import_cpu_extension()
        super().__init__()

    def relu(self, x):
        if not _is_float(x):
            return super().relu(x)
        return self.kernels.relu_forward(numpy.ascontiguousarray(x))

    def relu_backward(self, y, gy):
        if not (_is_float(y) and y.dtype == gy.dtype and y.shape == gy.shape):
            return super().relu_backward(y, gy)
        return self.kernels.relu_backward(numpy.ascontiguousarray(y), numpy.ascontiguousarray(gy))
