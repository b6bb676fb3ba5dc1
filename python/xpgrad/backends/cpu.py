"""NumPy arrays, with the hot kernels from the compiled extension ``xpgrad._C``.

Each override hands the kernel C-contiguous float32/float64 arrays (elementwise kernels:
arrays in their memory order, whose layout the result keeps) and falls back to the NumPy
reference (the base class) for anything else: integer arrays, other dtypes, mixed dtypes or
shapes that the reference broadcasts. Softmax-family kernels work on the last
axis; another axis is moved last (one copy) and moved back.
"""

from __future__ import annotations

import itertools
import os
import warnings

import numpy

from .base import ACTIVATIONS_FUSABLE, Backend, is_channels_last
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
    _warn_about_isa_request(_C.isa())
    return _C


def _warn_about_isa_request(chosen: str) -> None:
    """XPGRAD_ISA (portable, avx2 or avx512, any case) caps the kernels' instruction set; say so
    when it names none of them, or more than this CPU has, instead of silently running another."""
    asked = os.environ.get("XPGRAD_ISA")
    if not asked or asked.lower() == chosen:
        return
    if asked.lower() not in ("portable", "avx2", "avx512"):
        warnings.warn(f"XPGRAD_ISA={asked!r} is not one of portable, avx2, avx512: the kernels use "
                      f"{chosen}", RuntimeWarning, stacklevel=3)
    else:
        warnings.warn(f"XPGRAD_ISA={asked!r} asks for more than this CPU supports: the kernels use "
                      f"{chosen}", RuntimeWarning, stacklevel=3)


def _is_float(a) -> bool:
    return a.dtype == numpy.float32 or a.dtype == numpy.float64


def _like(a, *others) -> bool:
    """a is float and every other array has its dtype and shape (the kernels' precondition)."""
    return _is_float(a) and all(o.dtype == a.dtype and o.shape == a.shape for o in others)


def _c(a, dtype=None):
    """``a`` as a C-contiguous array, copied only when needed. Unlike
    ``numpy.ascontiguousarray`` it keeps a 0-d array 0-d, so results keep the input's shape."""
    return numpy.asarray(a, dtype=dtype, order="C")


def _elementwise(kernel, arrays, *args):
    """kernel(*arrays, *args) for an elementwise kernel over arrays of one shape. Arrays laid out
    alike, as a permutation of a C-contiguous array (a convolution's channels-last output, a
    transpose), are handed over in memory order and the result gets their layout, as NumPy's
    ufuncs keep it; anything else is copied C-contiguous."""
    first = arrays[0]
    if first.ndim > 1 and not first.flags.c_contiguous:
        order = numpy.argsort([-stride for stride in first.strides], kind="stable")
        in_memory_order = [a.transpose(order) for a in arrays]
        if all(a.flags.c_contiguous for a in in_memory_order):
            return kernel(*in_memory_order, *args).transpose(numpy.argsort(order))
    return kernel(*(_c(a) for a in arrays), *args)


class CpuBackend(Backend):
    name = "cpu"
    xp = numpy

    def __init__(self) -> None:
        self.kernels = import_cpu_extension()
        super().__init__()

    # ---- activations ------------------------------------------------------------------------
    def sigmoid(self, x):
        if not _is_float(x):
            return super().sigmoid(x)
        return _elementwise(self.kernels.sigmoid_forward, (x,))

    def sigmoid_backward(self, y, gy):
        if not _like(y, gy):
            return super().sigmoid_backward(y, gy)
        return _elementwise(self.kernels.sigmoid_backward, (y, gy))

    def tanh(self, x):
        if not _is_float(x):
            return super().tanh(x)
        return _elementwise(self.kernels.tanh_forward, (x,))

    def tanh_backward(self, y, gy):
        if not _like(y, gy):
            return super().tanh_backward(y, gy)
        return _elementwise(self.kernels.tanh_backward, (y, gy))

    def relu(self, x):
        if not _is_float(x):
            return super().relu(x)
        return _elementwise(self.kernels.relu_forward, (x,))

    def relu_backward(self, y, gy):
        if not _like(y, gy):
            return super().relu_backward(y, gy)
        return _elementwise(self.kernels.relu_backward, (y, gy))

    def leaky_relu(self, x, negative_slope: float = 0.01):
        if not _is_float(x):
            return super().leaky_relu(x, negative_slope)
        return _elementwise(self.kernels.leaky_relu_forward, (x,), negative_slope)

    def leaky_relu_backward(self, x, gy, negative_slope: float = 0.01):
        if not _like(x, gy):
            return super().leaky_relu_backward(x, gy, negative_slope)
        return _elementwise(self.kernels.leaky_relu_backward, (x, gy), negative_slope)

    def elu(self, x, alpha: float = 1.0):
        if not _is_float(x):
            return super().elu(x, alpha)
        return _elementwise(self.kernels.elu_forward, (x,), alpha)

    def elu_backward(self, x, gy, alpha: float = 1.0):
        if not _like(x, gy):
            return super().elu_backward(x, gy, alpha)
        return _elementwise(self.kernels.elu_backward, (x, gy), alpha)

    # ---- softmax family (kernels work on the last axis) --------------------------------------
    def _on_last_axis(self, kernel, axis, x, *more):
        nd = x.ndim
        if nd == 0 or not (-nd <= axis < nd):
            return None
        if axis % nd == nd - 1:
            return kernel(_c(x), *(_c(a) for a in more))
        moved = [_c(numpy.moveaxis(a, axis, -1)) for a in (x, *more)]
        return numpy.moveaxis(kernel(*moved), -1, axis)

    def softmax(self, x, axis: int = -1):
        out = self._on_last_axis(self.kernels.softmax_forward, axis, x) if _is_float(x) else None
        return super().softmax(x, axis) if out is None else out

    def softmax_backward(self, y, gy, axis: int = -1):
        out = self._on_last_axis(self.kernels.softmax_backward, axis, y, gy) if _like(y, gy) else None
        return super().softmax_backward(y, gy, axis) if out is None else out

    def log_softmax(self, x, axis: int = -1):
        out = self._on_last_axis(self.kernels.log_softmax_forward, axis, x) if _is_float(x) else None
        return super().log_softmax(x, axis) if out is None else out

    def log_softmax_backward(self, y, gy, axis: int = -1):
        out = self._on_last_axis(self.kernels.log_softmax_backward, axis, y, gy) if _like(y, gy) else None
        return super().log_softmax_backward(y, gy, axis) if out is None else out

    # ---- fused losses -----------------------------------------------------------------------
    def _loss_target(self, logits, target):
        """target as the kernels take it (int64 indices or a logits-like matrix), or None."""
        if not (_is_float(logits) and logits.ndim == 2):
            return None
        if target.ndim == 1 and target.dtype.kind in "iu":
            return _c(target, dtype=numpy.int64)
        if target.ndim == 2 and target.shape == logits.shape:
            return _c(target, dtype=logits.dtype)
        return None

    def cross_entropy(self, logits, target, label_smoothing: float = 0.0):
        t = self._loss_target(logits, target)
        if t is None:
            return super().cross_entropy(logits, target, label_smoothing)
        return self.kernels.cross_entropy(_c(logits), t, label_smoothing)

    def sparsemax_loss(self, logits, target):
        t = self._loss_target(logits, target)
        if t is None:
            return super().sparsemax_loss(logits, target)
        return self.kernels.sparsemax_loss(_c(logits), t)

    # ---- sparsemax (last axis) --------------------------------------------------------------
    def sparsemax(self, x, axis: int = -1):
        out = self._on_last_axis(self.kernels.sparsemax_forward, axis, x) if _is_float(x) else None
        return super().sparsemax(x, axis) if out is None else out

    def sparsemax_backward(self, y, gy, axis: int = -1):
        out = self._on_last_axis(self.kernels.sparsemax_backward, axis, y, gy) if _like(y, gy) else None
        return super().sparsemax_backward(y, gy, axis) if out is None else out

    # ---- convolution and pooling (im2col) ---------------------------------------------------
    def im2col(self, x, kernel_size, stride, padding):
        if not (_is_float(x) and x.ndim == 4):
            return super().im2col(x, kernel_size, stride, padding)
        return self.kernels.im2col(_c(x), tuple(kernel_size), tuple(stride), tuple(padding))

    def col2im(self, cols, x_shape, kernel_size, stride, padding):
        if not (_is_float(cols) and cols.ndim == 2):
            return super().col2im(cols, x_shape, kernel_size, stride, padding)
        return self.kernels.col2im(_c(cols), tuple(x_shape), tuple(kernel_size), tuple(stride), tuple(padding))

    # A channels-last x (a convolution's output) is pooled as it lies, and its gradient laid
    # out so: copying it to (N, C, H, W) and the gradient back took longer than the pooling.
    def max_pool2d(self, x, kernel_size, stride, padding):
        if not (_is_float(x) and x.ndim == 4):
            return super().max_pool2d(x, kernel_size, stride, padding)
        geometry = tuple(kernel_size), tuple(stride), tuple(padding)
        if is_channels_last(x):
            return self.kernels.max_pool2d(x.transpose(0, 2, 3, 1), *geometry, channels_last=True)
        return self.kernels.max_pool2d(_c(x), *geometry)

    def max_pool2d_backward(self, gy, argmax, x_shape, channels_last: bool = False):
        if not (_is_float(gy) and gy.ndim == 4 and argmax.dtype == numpy.int64):
            return super().max_pool2d_backward(gy, argmax, x_shape, channels_last)
        gx = self.kernels.max_pool2d_backward(_c(gy), _c(argmax), tuple(x_shape), channels_last=channels_last)
        return gx.transpose(0, 3, 1, 2) if channels_last else gx

    # ---- randomness -------------------------------------------------------------------------
    def dropout_mask(self, shape, p: float, scale: float, dtype):
        dtype = numpy.dtype(dtype)
        if dtype not in (numpy.float32, numpy.float64):
            return super().dropout_mask(shape, p, scale, dtype)
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        return self.kernels.dropout_mask(shape, p, scale, dtype, self.next_seed())

    # ---- fused optimizer updates (in place; the kernels need C-contiguous arrays) -----------
    @staticmethod
    def _inplace_ok(param, *others) -> bool:
        """The kernel takes the arrays: one dtype and shape, C-contiguous, a writable param, no
        two sharing memory (the kernel reads and writes each once; the reference computes
        aliased updates, e.g. a parameter that is its own gradient, as written)."""
        arrays = (param, *(o for o in others if o is not None))
        return (_like(param, *arrays) and all(a.flags.c_contiguous for a in arrays) and param.flags.writeable
                and not any(numpy.may_share_memory(a, b) for a, b in itertools.combinations(arrays, 2)))

    def sgd_update(self, param, grad, momentum_buffer, *, lr, momentum=0.0, dampening=0.0,
                   nesterov=False, weight_decay=0.0, first_step=False):
        if not self._inplace_ok(param, grad, momentum_buffer if momentum else None):
            return super().sgd_update(param, grad, momentum_buffer, lr=lr, momentum=momentum,
                                      dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay, first_step=first_step)
        self.kernels.sgd_update(param, grad, momentum_buffer if momentum else None, lr, momentum,
                                dampening, nesterov, weight_decay, first_step)

    def adam_update(self, param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1=0.9, beta2=0.999,
                    eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
        if not self._inplace_ok(param, grad, exp_avg, exp_avg_sq):
            return super().adam_update(param, grad, exp_avg, exp_avg_sq, step=step, lr=lr,
                                       beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                                       decoupled_weight_decay=decoupled_weight_decay)
        self.kernels.adam_update(param, grad, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps,
                                 weight_decay, decoupled_weight_decay)

    def adamax_update(self, param, grad, exp_avg, exp_inf, *, step, lr, beta1=0.9, beta2=0.999,
                      eps=1e-8, weight_decay=0.0):
        if not self._inplace_ok(param, grad, exp_avg, exp_inf):
            return super().adamax_update(param, grad, exp_avg, exp_inf, step=step, lr=lr,
                                         beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)
        self.kernels.adamax_update(param, grad, exp_avg, exp_inf, step, lr, beta1, beta2, eps,
                                   weight_decay)

    def rmsprop_update(self, param, grad, square_avg, *, lr, alpha=0.99, eps=1e-8,
                       weight_decay=0.0, momentum=0.0, momentum_buffer=None, centered=False,
                       grad_avg=None):
        buf = momentum_buffer if momentum else None
        avg = grad_avg if centered else None
        if not self._inplace_ok(param, grad, square_avg, buf, avg):
            return super().rmsprop_update(param, grad, square_avg, lr=lr, alpha=alpha, eps=eps,
                                          weight_decay=weight_decay, momentum=momentum,
                                          momentum_buffer=momentum_buffer, centered=centered,
                                          grad_avg=grad_avg)
        self.kernels.rmsprop_update(param, grad, square_avg, lr, alpha, eps, weight_decay, momentum,
                                    buf, centered, avg)

    def adagrad_update(self, param, grad, sum_sq, *, lr, eps=1e-10, weight_decay=0.0):
        if not self._inplace_ok(param, grad, sum_sq):
            return super().adagrad_update(param, grad, sum_sq, lr=lr, eps=eps,
                                          weight_decay=weight_decay)
        self.kernels.adagrad_update(param, grad, sum_sq, lr, eps, weight_decay)

    # ---- linear algebra ---------------------------------------------------------------------
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
            bias = _c(bias)
        return self.kernels.linear(x, weight, bias, activation)

    def linear_backward(self, x, weight, y, gy, activation: str = "identity", has_bias=True,
                        need_gx=True):
        if not (self._gemm_operands(x, weight) and gy.dtype == x.dtype and activation in ACTIVATIONS_FUSABLE
                and (activation == "identity" or y.dtype == x.dtype)):
            return super().linear_backward(x, weight, y, gy, activation, has_bias, need_gx)
        y = None if activation == "identity" else _c(y)
        return self.kernels.linear_backward(
            x, weight, y, _c(gy), activation, bool(has_bias), bool(need_gx)
        )

    @staticmethod
    def _gemm_operands(a, b) -> bool:
        """Two 2-D float arrays of one dtype with whole-element strides (what the kernels take)."""
        return (
            isinstance(a, numpy.ndarray) and isinstance(b, numpy.ndarray)
            and a.ndim == 2 and b.ndim == 2 and _is_float(a) and a.dtype == b.dtype
            and all(s % a.itemsize == 0 for s in a.strides + b.strides)
        )
