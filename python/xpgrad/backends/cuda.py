"""CuPy arrays, with the hot kernels from the compiled extension ``xpgrad._cuda``.

Each override hands the kernel C-contiguous float32/float64 arrays on the current device (by
pointer, with the current CuPy stream) and falls back to the CuPy reference for anything else:
other dtypes, other axes, mixed dtypes, arrays on another GPU, non-contiguous in-place targets.
Nothing is copied to the host.
TF32 tensor cores for float32 GEMMs are opt-in: ``backend.use_tf32 = True`` or the environment
variable ``XPGRAD_CUDA_TF32=1`` (about 10 mantissa bits per product; accumulation stays fp32).
"""

from __future__ import annotations

import os

from .base import ACTIVATIONS_FUSABLE
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
        if self.kernels.device_count() == 0:
            version = self.kernels.runtime_version()
            raise BackendUnavailableError(
                f"CuPy sees a GPU but xpgrad._cuda (CUDA runtime {version // 1000}.{version % 1000 // 10}) "
                "does not: the NVIDIA driver is probably too old for that runtime; update the "
                "driver, rebuild xpgrad with an older CUDA toolkit, or use the 'cupy' backend"
            )
        problem = self.kernels.kernel_image_problem()
        if problem:
            raise BackendUnavailableError(
                f"xpgrad._cuda cannot run on this GPU ({problem}); rebuild it for this GPU with "
                "CUDAARCHS=native pip install . (or use the 'cupy' backend)"
            )
        self.use_tf32 = os.environ.get("XPGRAD_CUDA_TF32") == "1"

    # ---- plumbing ------------------------------------------------------------------------
    def _stream(self) -> int:
        return self.xp.cuda.get_current_stream().ptr

    def _contiguous(self, a):
        """a itself when C-contiguous (0-d included: ascontiguousarray would make it 1-d)."""
        return a if a.flags.c_contiguous else self.xp.ascontiguousarray(a)

    @staticmethod
    def _ptr(a) -> int:
        return 0 if a is None else a.data.ptr

    def _on_current_device(self, *arrays) -> bool:
        """All on the current device, where the kernels run: a pointer into another GPU's memory
        is an illegal address there, which breaks the process's CUDA context (CuPy's reference
        checks the device itself, and uses peer access where the GPUs have it)."""
        device = self.xp.cuda.runtime.getDevice()
        return all(a.device.id == device for a in arrays)

    def _kernel_can_take(self, *arrays) -> bool:
        """All float32 or all float64 (the dtypes the kernels take), on the current device."""
        dtype = arrays[0].dtype
        return (dtype.name in ("float32", "float64") and all(a.dtype == dtype for a in arrays)
                and self._on_current_device(*arrays))

    def _operand(self, a, trans: bool, other_trans: bool):
        """(C-contiguous array, trans) for a GEMM operand: a transposed view of a contiguous
        array is passed as that array with the flag flipped, instead of being copied."""
        if a.flags.c_contiguous:
            return a, trans
        if a.flags.f_contiguous and not (not trans and other_trans):
            return a.T, not trans
        return self._contiguous(a), trans

    # ---- linear algebra ------------------------------------------------------------------
    def gemm(self, a, b, trans_a: bool = False, trans_b: bool = False, out=None):
        if a.ndim != 2 or b.ndim != 2 or not self._kernel_can_take(a, b) or (trans_a and trans_b):
            return super().gemm(a, b, trans_a, trans_b, out)
        m, k = a.shape[::-1] if trans_a else a.shape
        k_b, n = b.shape[::-1] if trans_b else b.shape
        if k != k_b:
            return super().gemm(a, b, trans_a, trans_b, out)  # NumPy's own shape error
        if out is not None and out.shape != (m, n):  # out[...] = c below would broadcast into it
            raise ValueError(f"gemm: out has shape {out.shape}, the product has shape {(m, n)}")
        a, trans_a = self._operand(a, trans_a, trans_b)
        b, trans_b = self._operand(b, trans_b, trans_a)
        xp = self.xp
        direct = (out is not None and out.shape == (m, n) and self._kernel_can_take(a, out)
                  and out.flags.c_contiguous and not xp.may_share_memory(out, a)
                  and not xp.may_share_memory(out, b))
        c = out if direct else xp.empty((m, n), dtype=a.dtype)
        self.kernels.gemm(trans_a, trans_b, m, n, k, a.data.ptr, max(1, a.shape[1]), b.data.ptr,
                          max(1, b.shape[1]), c.data.ptr, a.dtype.name, self._stream(),
                          tf32=self.use_tf32)
        if out is not None and not direct:
            out[...] = c
            return out
        return c

    def linear(self, x, weight, bias=None, activation: str = "identity"):
        arrays = (x, weight) if bias is None else (x, weight, bias)
        if (x.ndim != 2 or weight.ndim != 2 or x.shape[1] != weight.shape[0] or not self._kernel_can_take(*arrays)
                or activation not in ACTIVATIONS_FUSABLE
                or (bias is not None and bias.shape != (weight.shape[1],))):
            return super().linear(x, weight, bias, activation)
        x, weight = self._contiguous(x), self._contiguous(weight)
        bias = None if bias is None else self._contiguous(bias)
        (n, k), m = x.shape, weight.shape[1]
        y = self.xp.empty((n, m), dtype=x.dtype)
        self.kernels.gemm(False, False, n, m, k, x.data.ptr, max(1, k), weight.data.ptr, max(1, m),
                          y.data.ptr, x.dtype.name, self._stream(), bias=self._ptr(bias),
                          activation=activation, tf32=self.use_tf32)
        return y

    def linear_backward(self, x, weight, y, gy, activation: str = "identity", has_bias=True,
                        need_gx=True):
        if (x.ndim != 2 or weight.ndim != 2 or not self._kernel_can_take(x, weight, y, gy)
                or activation not in ACTIVATIONS_FUSABLE or x.shape[1] != weight.shape[0]
                or y.shape != (x.shape[0], weight.shape[1]) or gy.shape != y.shape):
            return super().linear_backward(x, weight, y, gy, activation, has_bias, need_gx)
        xp = self.xp
        x, weight, y, gy = (self._contiguous(a) for a in (x, weight, y, gy))
        (n, k), m = x.shape, weight.shape[1]
        g = None if activation == "identity" else xp.empty_like(gy)
        gx = xp.empty_like(x) if need_gx else None
        gw = xp.empty_like(weight)
        gb = xp.empty((m,), dtype=x.dtype) if has_bias else None
        self.kernels.linear_backward(x.data.ptr, weight.data.ptr, y.data.ptr, gy.data.ptr,
                                     self._ptr(g), self._ptr(gx), gw.data.ptr, self._ptr(gb), n, k, m,
                                     activation, x.dtype.name, self._stream(), tf32=self.use_tf32)
        return gx, gw, gb

    # ---- activations ---------------------------------------------------------------------
    def _act_forward(self, kind, x, param=0.0):
        x = self._contiguous(x)
        y = self.xp.empty_like(x)
        self.kernels.activation_forward(kind, x.data.ptr, y.data.ptr, x.size, x.dtype.name,
                                        self._stream(), param)
        return y

    def _act_backward(self, kind, x, y, gy, param=0.0):
        x, y, gy = (None if a is None else self._contiguous(a) for a in (x, y, gy))
        gx = self.xp.empty_like(gy)
        self.kernels.activation_backward(kind, self._ptr(x), self._ptr(y), gy.data.ptr, gx.data.ptr,
                                         gy.size, gy.dtype.name, self._stream(), param)
        return gx

    def _same(self, *arrays) -> bool:
        return self._kernel_can_take(*arrays) and all(a.shape == arrays[0].shape for a in arrays)

    def sigmoid(self, x):
        return self._act_forward("sigmoid", x) if self._kernel_can_take(x) else super().sigmoid(x)

    def sigmoid_backward(self, y, gy):
        if not self._same(y, gy):
            return super().sigmoid_backward(y, gy)
        return self._act_backward("sigmoid", None, y, gy)

    def tanh(self, x):
        return self._act_forward("tanh", x) if self._kernel_can_take(x) else super().tanh(x)

    def tanh_backward(self, y, gy):
        if not self._same(y, gy):
            return super().tanh_backward(y, gy)
        return self._act_backward("tanh", None, y, gy)

    def relu(self, x):
        return self._act_forward("relu", x) if self._kernel_can_take(x) else super().relu(x)

    def relu_backward(self, y, gy):
        if not self._same(y, gy):
            return super().relu_backward(y, gy)
        return self._act_backward("relu", None, y, gy)

    def leaky_relu(self, x, negative_slope: float = 0.01):
        if not self._kernel_can_take(x):
            return super().leaky_relu(x, negative_slope)
        return self._act_forward("leaky_relu", x, negative_slope)

    def leaky_relu_backward(self, x, gy, negative_slope: float = 0.01):
        if not self._same(x, gy):
            return super().leaky_relu_backward(x, gy, negative_slope)
        return self._act_backward("leaky_relu", x, None, gy, negative_slope)

    def elu(self, x, alpha: float = 1.0):
        return self._act_forward("elu", x, alpha) if self._kernel_can_take(x) else super().elu(x, alpha)

    def elu_backward(self, x, gy, alpha: float = 1.0):
        if not self._same(x, gy):
            return super().elu_backward(x, gy, alpha)
        return self._act_backward("elu", x, None, gy, alpha)

    # ---- softmax family (last axis only; other axes use the reference) -------------------
    @staticmethod
    def _last_axis(x, axis) -> bool:
        return x.ndim >= 1 and axis in (-1, x.ndim - 1)

    def _row_op(self, entry, out_like, *inputs, **kwargs):
        """Run a row kernel over inputs viewed as (rows, k); the output has out_like's shape."""
        inputs = [self._contiguous(a) for a in inputs]
        out = self.xp.empty_like(inputs[0]) if out_like is None else out_like
        k = out.shape[-1]
        rows = out.size // k if k else 0
        entry(*(a.data.ptr for a in inputs), out.data.ptr, rows, k, dtype=out.dtype.name,
              stream=self._stream(), **kwargs)
        return out

    def softmax(self, x, axis: int = -1):
        if not (self._kernel_can_take(x) and self._last_axis(x, axis)):
            return super().softmax(x, axis)
        return self._row_op(self.kernels.softmax_forward, None, x, log=False)

    def softmax_backward(self, y, gy, axis: int = -1):
        if not (self._same(y, gy) and self._last_axis(y, axis)):
            return super().softmax_backward(y, gy, axis)
        return self._row_op(self.kernels.softmax_backward, None, y, gy, log=False)

    def log_softmax(self, x, axis: int = -1):
        if not (self._kernel_can_take(x) and self._last_axis(x, axis)):
            return super().log_softmax(x, axis)
        return self._row_op(self.kernels.softmax_forward, None, x, log=True)

    def log_softmax_backward(self, y, gy, axis: int = -1):
        if not (self._same(y, gy) and self._last_axis(y, axis)):
            return super().log_softmax_backward(y, gy, axis)
        return self._row_op(self.kernels.softmax_backward, None, y, gy, log=True)

    def sparsemax(self, x, axis: int = -1):
        if not (self._kernel_can_take(x) and self._last_axis(x, axis)):
            return super().sparsemax(x, axis)
        return self._row_op(self.kernels.sparsemax_forward, None, x)

    def sparsemax_backward(self, y, gy, axis: int = -1):
        if not (self._same(y, gy) and self._last_axis(y, axis)):
            return super().sparsemax_backward(y, gy, axis)
        return self._row_op(self.kernels.sparsemax_backward, None, y, gy)

    # ---- fused losses ----------------------------------------------------------------------
    def _loss_target(self, logits, target):
        """(target ready for the kernel, is_index), or None when the reference should run."""
        if (logits.ndim != 2 or not self._kernel_can_take(logits) or logits.shape[1] == 0
                or not self._on_current_device(target)):
            return None
        if target.ndim == 1 and target.shape[0] == logits.shape[0] and target.dtype.kind in "iu":
            return self._contiguous(target.astype(self.xp.int64, copy=False)), True
        if target.shape == logits.shape:
            return self._contiguous(target.astype(logits.dtype, copy=False)), False
        return None

    def _fused_loss(self, entry, logits, target, is_index, **kwargs):
        logits = self._contiguous(logits)
        n, k = logits.shape
        loss = self.xp.empty((n,), dtype=logits.dtype)
        grad = self.xp.empty_like(logits)
        entry(logits.data.ptr, target.data.ptr, is_index, loss.data.ptr, grad.data.ptr, n, k,
              dtype=logits.dtype.name, stream=self._stream(), **kwargs)
        return loss, grad

    def cross_entropy(self, logits, target, label_smoothing: float = 0.0):
        prepared = self._loss_target(logits, target)
        if prepared is None:
            return super().cross_entropy(logits, target, label_smoothing)
        return self._fused_loss(self.kernels.cross_entropy, logits, *prepared,
                                label_smoothing=float(label_smoothing))

    def sparsemax_loss(self, logits, target):
        prepared = self._loss_target(logits, target)
        if prepared is None:
            return super().sparsemax_loss(logits, target)
        return self._fused_loss(self.kernels.sparsemax_loss, logits, *prepared)

    # ---- randomness --------------------------------------------------------------------
    def dropout_mask(self, shape, p: float, scale: float, dtype):
        dtype = self.xp.dtype(dtype)
        if dtype.name not in ("float32", "float64"):
            return super().dropout_mask(shape, p, scale, dtype)
        mask = self.xp.empty(shape, dtype=dtype)
        self.kernels.dropout_mask(mask.data.ptr, mask.size, float(p), float(scale), self.next_seed(),
                                  dtype.name, self._stream())
        return mask

    # ---- optimizer updates (in place: param and state must be contiguous) -----------------
    def _kernel_grad(self, param, grad, *state):
        """``grad`` as the update kernels take it, C-contiguous and held by the caller until the
        launch (a copy made inside the call's arguments was freed before the kernel read it),
        or None where the reference must run (mixed dtypes, non-contiguous param or state)."""
        if not (self._same(param, grad, *state) and all(a.flags.c_contiguous for a in (param, *state))):
            return None
        return self._contiguous(grad)

    def sgd_update(self, param, grad, momentum_buffer, *, lr, momentum=0.0, dampening=0.0,
                   nesterov=False, weight_decay=0.0, first_step=False):
        state = (momentum_buffer,) if momentum else ()
        kernel_grad = self._kernel_grad(param, grad, *state)
        if kernel_grad is None:
            return super().sgd_update(param, grad, momentum_buffer, lr=lr, momentum=momentum,
                                      dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay, first_step=first_step)
        self.kernels.sgd_update(param.data.ptr, kernel_grad.data.ptr,
                                self._ptr(momentum_buffer if momentum else None), param.size,
                                param.dtype.name, self._stream(), lr=lr, momentum=momentum,
                                dampening=dampening, nesterov=nesterov, weight_decay=weight_decay,
                                first_step=first_step)

    def adam_update(self, param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1=0.9, beta2=0.999,
                    eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
        kernel_grad = self._kernel_grad(param, grad, exp_avg, exp_avg_sq)
        if kernel_grad is None:
            return super().adam_update(param, grad, exp_avg, exp_avg_sq, step=step, lr=lr,
                                       beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
                                       decoupled_weight_decay=decoupled_weight_decay)
        self.kernels.adam_update(param.data.ptr, kernel_grad.data.ptr, exp_avg.data.ptr,
                                 exp_avg_sq.data.ptr, param.size, param.dtype.name, self._stream(),
                                 step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                 weight_decay=weight_decay,
                                 decoupled_weight_decay=decoupled_weight_decay)

    def adamax_update(self, param, grad, exp_avg, exp_inf, *, step, lr, beta1=0.9, beta2=0.999,
                      eps=1e-8, weight_decay=0.0):
        kernel_grad = self._kernel_grad(param, grad, exp_avg, exp_inf)
        if kernel_grad is None:
            return super().adamax_update(param, grad, exp_avg, exp_inf, step=step, lr=lr,
                                         beta1=beta1, beta2=beta2, eps=eps,
                                         weight_decay=weight_decay)
        self.kernels.adamax_update(param.data.ptr, kernel_grad.data.ptr,
                                   exp_avg.data.ptr, exp_inf.data.ptr, param.size, param.dtype.name,
                                   self._stream(), step=step, lr=lr, beta1=beta1, beta2=beta2,
                                   eps=eps, weight_decay=weight_decay)

    def rmsprop_update(self, param, grad, square_avg, *, lr, alpha=0.99, eps=1e-8,
                       weight_decay=0.0, momentum=0.0, momentum_buffer=None, centered=False,
                       grad_avg=None):
        state = (square_avg,) + ((momentum_buffer,) if momentum else ()) + ((grad_avg,) if centered else ())
        kernel_grad = self._kernel_grad(param, grad, *state)
        if kernel_grad is None:
            return super().rmsprop_update(param, grad, square_avg, lr=lr, alpha=alpha, eps=eps,
                                          weight_decay=weight_decay, momentum=momentum,
                                          momentum_buffer=momentum_buffer, centered=centered,
                                          grad_avg=grad_avg)
        self.kernels.rmsprop_update(param.data.ptr, kernel_grad.data.ptr,
                                    square_avg.data.ptr, param.size, param.dtype.name,
                                    self._stream(), lr=lr, alpha=alpha, eps=eps,
                                    weight_decay=weight_decay, momentum=momentum,
                                    momentum_buffer=self._ptr(momentum_buffer if momentum else None),
                                    centered=centered, grad_avg=self._ptr(grad_avg if centered else None))

    def adagrad_update(self, param, grad, sum_sq, *, lr, eps=1e-10, weight_decay=0.0):
        kernel_grad = self._kernel_grad(param, grad, sum_sq)
        if kernel_grad is None:
            return super().adagrad_update(param, grad, sum_sq, lr=lr, eps=eps,
                                          weight_decay=weight_decay)
        self.kernels.adagrad_update(param.data.ptr, kernel_grad.data.ptr,
                                    sum_sq.data.ptr, param.size, param.dtype.name, self._stream(),
                                    lr=lr, eps=eps, weight_decay=weight_decay)
