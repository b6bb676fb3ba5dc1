"""NumPy arrays, with the hot kernels from the compiled extension ``xpgrad._C``.

Each override hands the kernel contiguous float32/float64 arrays and falls back to the
NumPy reference for anything else (integer arrays, other dtypes).
"""

from __future__ import annotations

import numpy

from .base import ACTIVATIONS_FUSABLE, Backend
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

    # ---- linear algebra
    # The kernels take any strides (transposes and slices need no copy); other layouts
    # (byte strides that are not whole elements), non-float or mixed dtypes, and an `out` that
    # is not a C-contiguous array of the result dtype go to the NumPy reference.
    def gemm(self, a, b, trans_a: bool = False, trans_b: bool = False, out=None):
        if not self._gemm_operands(a, b):
            return super().gemm(a, b, trans_a, trans_b, out)
        if out is None:
            return self.kernels.gemm(a, b, trans_a, trans_b)
        if not (isinstance(out, numpy.ndarray) and out.dtype == a.dtype and out.flags.c_contiguous
                and out.flags.writeable):
            return super().gemm(a, b, trans_a, trans_b, out)
        if numpy.may_share_memory(out, a) or numpy.may_share_memory(out, b):
            out[...] = self.kernels.gemm(a, b, trans_a, trans_b)  # matmul semantics on aliasing
            return out
        return self.kernels.gemm(a, b, trans_a, trans_b, out)

    def linear(self, x, weight, bias=None, activation: str = "identity"):
        if not (self._gemm_operands(x, weight) and (bias is None or bias.dtype == x.dtype)
                and activation in ACTIVATIONS_FUSABLE):
            return super().linear(x, weight, bias, activation)
        if bias is not None:
            bias = numpy.ascontiguousarray(bias)
        return self.kernels.linear(x, weight, bias, activation)

    def linear_backward(self, x, weight, y, gy, activation: str = "identity", has_bias=True):
        if not (self._gemm_operands(x, weight) and gy.dtype == x.dtype and activation in ACTIVATIONS_FUSABLE
                and (activation == "identity" or y.dtype == x.dtype)):
            return super().linear_backward(x, weight, y, gy, activation, has_bias)
        y = None if activation == "identity" else numpy.ascontiguousarray(y)
        return self.kernels.linear_backward(
            x, weight, y, numpy.ascontiguousarray(gy), activation, bool(has_bias)
        )

    @staticmethod
    def _gemm_operands(a, b) -> bool:
        """Two 2-D float arrays of one dtype with whole-element strides (what the kernels take)."""
        return (
            isinstance(a, numpy.ndarray) and isinstance(b, numpy.ndarray)
            and a.ndim == 2 and b.ndim == 2 and _is_float(a) and a.dtype == b.dtype
            and all(s % a.itemsize == 0 for s in a.strides + b.strides)
        )
