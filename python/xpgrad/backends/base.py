"""The Backend contract: every array operation xpgrad's functions need, each with a reference
implementation written against ``self.xp`` (numpy or cupy).

The ``numpy`` and ``cupy`` backends are this class with a different ``xp``; ``cpu`` and
``cuda`` override only the methods that have a compiled kernel. A test checks that every
override keeps the signature defined here. Arguments are raw arrays of this backend;
``axis`` follows NumPy. Activation backward passes take the saved output ``y`` where that
suffices (sigmoid, tanh, relu, softmax), so the input need not be kept alive.
"""

from __future__ import annotations

import math
import random
from typing import Any

# splitmix64 (Steele, Lea & Flood 2014): the counter-based draw of dropout masks, here and in the
# cpu and cuda kernels (csrc/cpu/dropout_impl.h, csrc/include/xpgrad/cuda_launch.h).
_GOLDEN_GAMMA, _MIX1, _MIX2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


class Backend:
    """Array storage plus kernels. Subclasses set ``name`` and ``xp``."""

    name: str = "base"
    xp: Any = None

    def __init__(self) -> None:
        self._rng = self.xp.random.default_rng()
        self._seeds = random.Random()  # host-side seeds of counter-based draws (dropout)

    def __repr__(self) -> str:
        return f"Backend({self.name!r})"

    # A backend is one object per process (it holds modules and an RNG): copies and pickles of
    # tensors and models refer to the registry's instance of the same name.
    def __reduce__(self):
        return (_registered_backend, (self.name,))

    def __deepcopy__(self, memo):
        return self

    # ---- arrays -----------------------------------------------------------------------------
    def asarray(self, data, dtype=None):
        """Convert ``data`` (array, list, scalar) to an array of this backend, no copy if possible."""
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        """A host ``numpy.ndarray`` with the same values."""
        return array

    def is_native(self, array) -> bool:
        """True when ``array`` is this backend's array type."""
        return isinstance(array, self.xp.ndarray)

    def sum_to_shape(self, grad, shape):
        """Undo broadcasting: sum ``grad`` over the axes that were broadcast to reach its shape."""
        if grad.shape == tuple(shape):
            return grad
        lead = grad.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
        )
        out = grad.sum(axis=axes, keepdims=True) if axes else grad
        return out.reshape(shape)

    # ---- randomness -------------------------------------------------------------------------
    def manual_seed(self, seed: int) -> None:
        """Reset this backend's generators so that the same calls give the same numbers."""
        self._rng = self.xp.random.default_rng(seed)
        self._seeds = random.Random(seed)

    def next_seed(self) -> int:
        """A fresh 64-bit seed for a counter-based draw, from the host (no device round trip)."""
        return self._seeds.getrandbits(64)

    def rand(self, shape, dtype):
        """Uniform samples on [0, 1) of a floating ``dtype`` (as NumPy and PyTorch)."""
        if self.xp.dtype(dtype).kind != "f":
            raise TypeError(f"rand needs a floating dtype, got dtype {self.xp.dtype(dtype)}")
        return self._rng.random(shape, dtype=self.xp.float64).astype(dtype, copy=False)

    def randn(self, shape, dtype):
        """Standard normal samples of a floating ``dtype`` (as NumPy and PyTorch)."""
        if self.xp.dtype(dtype).kind != "f":
            raise TypeError(f"randn needs a floating dtype, got dtype {self.xp.dtype(dtype)}")
        return self._rng.standard_normal(shape, dtype=self.xp.float64).astype(dtype, copy=False)

    def uniform(self, low, high, shape, dtype):
        """Uniform samples on [low, high)."""
        return (low + (high - low) * self._rng.random(shape)).astype(dtype, copy=False)

    def normal(self, mean, std, shape, dtype):
        """Normal samples N(mean, std²)."""
        return (mean + std * self._rng.standard_normal(shape)).astype(dtype, copy=False)

    def permutation(self, n: int):
        """A random permutation of range(n) (int64)."""
        return self._rng.permutation(n)

    def dropout_mask(self, shape, p: float, scale: float, dtype):
        """Mask of ``scale`` where a unit is kept (probability 1-p) and 0 where it is dropped:
        element i is kept when the top 53 bits of splitmix64(seed, i) reach ⌈p·2⁵³⌉, with a fresh
        seed per call (:meth:`next_seed`). The cpu and cuda kernels draw the same bits, so one
        ``xg.manual_seed`` gives the same masks on every backend."""
        xp = self.xp
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        u64 = xp.uint64
        z = xp.arange(1, math.prod(shape) + 1, dtype=u64) * u64(_GOLDEN_GAMMA) + u64(self.next_seed())
        z = (z ^ (z >> u64(30))) * u64(_MIX1)
        z = (z ^ (z >> u64(27))) * u64(_MIX2)
        z ^= z >> u64(31)
        keep = (z >> u64(11)) >= u64(math.ceil(p * 2.0**53))
        return (keep.astype(dtype) * xp.asarray(scale, dtype=dtype)).reshape(shape)

    # ---- linear algebra ---------------------------------------------------------------------
    def gemm(self, a, b, trans_a: bool = False, trans_b: bool = False, out=None):
        """C = op(A) · op(B) for 2-D arrays, op(X) = Xᵀ when asked; writes into ``out`` if given."""
        a = a.T if trans_a else a
        b = b.T if trans_b else b
        return self.xp.matmul(a, b, out=out)

    def matmul(self, a, b):
        """NumPy ``matmul`` semantics; 2-D products go through :meth:`gemm`."""
        if a.ndim == 2 and b.ndim == 2:
            return self.gemm(a, b)
        return self.xp.matmul(a, b)

    def linear(self, x, weight, bias=None, activation: str = "identity"):
        """y = act(x·W + b) for x (N, in), W (in, out), b (out,); act in ACTIVATIONS_FUSABLE."""
        y = self.gemm(x, weight)
        if bias is not None:
            y += bias
        return self._activate(y, activation)

    def linear_backward(self, x, weight, y, gy, activation: str = "identity", has_bias=True,
                        need_gx=True):
        """Gradients of y = act(x·W + b): g = gy ⊙ act'(y); returns (g·Wᵀ, xᵀ·g, Σₙ g).

        gx is None without need_gx (a first layer: its GEMM is skipped), gb None without has_bias.
        """
        g = self._activation_backward(y, gy, activation)
        gx = self.gemm(g, weight, trans_b=True) if need_gx else None
        gw = self.gemm(x, g, trans_a=True)
        gb = self.column_sum(g) if has_bias else None
        return gx, gw, gb

    def column_sum(self, g):
        """Σₙ g[n, :] (a bias gradient). NumPy adds the rows one at a time along axis 0 (its
        pairwise summation runs along the contiguous axis only), so a float32 sum is
        accumulated in float64: over 4M rows of 0.1 it was 3.9% off."""
        if g.dtype == self.xp.float32:
            return g.sum(axis=0, dtype=self.xp.float64).astype(g.dtype)
        return g.sum(axis=0)

    def _activate(self, y, activation):
        if activation == "identity":
            return y
        return getattr(self, activation)(y)

    def _activation_backward(self, y, gy, activation):
        if activation == "identity":
            return gy
        return getattr(self, activation + "_backward")(y, gy)

    def _floating(self, x):
        """``x`` if it is floating, else ``x`` as float32 (PyTorch's default): the input of the
        float-valued functions (sigmoid, tanh, elu, leaky_relu, the softmax family)."""
        return x if x.dtype.kind == "f" else x.astype(self.xp.float32)

    def _empty_along(self, x, axis) -> bool:
        """True when ``x`` has no elements: a softmax of nothing is nothing (as in PyTorch and
        the kernels), though the max shift has no identity. The axis is still checked, as a
        reduction along it would (AxisError)."""
        if x.size:
            return False
        x.sum(axis=axis)  # empty: free
        return True

    # ---- activations ------------------------------------------------------------------------
    def sigmoid(self, x):
        """σ(x) = 1 / (1 + e^(−x)), computed without overflow for large |x|."""
        xp = self.xp
        x = self._floating(x)
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)

    def sigmoid_backward(self, y, gy):
        """∂σ/∂x = σ(1 − σ), from the saved output y."""
        return gy * y * (1 - y)

    def tanh(self, x):
        """tanh(x)."""
        return self.xp.tanh(self._floating(x))

    def tanh_backward(self, y, gy):
        """∂tanh/∂x = 1 − tanh² = (1 − y)(1 + y), from the saved output y (factored: 1 − y is
        exact near |y| = 1, where 1 − y·y loses the digits that matter)."""
        return gy * ((1 - y) * (1 + y))

    def relu(self, x):
        """max(x, 0); NaN and −0 pass through, as in PyTorch (numpy.maximum(−0, 0) gives +0)."""
        return self.xp.where(x < 0, self.xp.zeros((), x.dtype), x)

    def relu_backward(self, y, gy):
        """0 where the output is ≤ 0, else gy (selected, not multiplied: an inf or NaN gy at
        y ≤ 0 gives 0); a NaN output passes gy, as PyTorch's threshold_backward and the kernels."""
        return self.xp.where(y <= 0, self.xp.zeros((), gy.dtype), gy)

    def leaky_relu(self, x, negative_slope: float = 0.01):
        """x if x > 0 else slope·x."""
        x = self._floating(x)
        return self.xp.where(x > 0, x, x * negative_slope)

    def leaky_relu_backward(self, x, gy, negative_slope: float = 0.01):
        """gy if x > 0 else slope·gy."""
        return self.xp.where(x > 0, gy, gy * negative_slope)

    def elu(self, x, alpha: float = 1.0):
        """x if x > 0 else α(eˣ − 1) (−0 stays −0, as in PyTorch)."""
        xp = self.xp
        x = self._floating(x)
        positive = x > 0
        negative_part = xp.where(positive, xp.zeros((), x.dtype), x)  # no overflow in expm1
        return xp.where(positive, x, alpha * xp.expm1(negative_part))

    def elu_backward(self, x, gy, alpha: float = 1.0):
        """gy·α·eˣ where x ≤ 0, else gy (a NaN passes gy, as in PyTorch). From the input, not
        as y + α from the output: once eˣ falls below the rounding of y ≈ −α (x < −17 in float32)
        that sum is 0, and above it keeps only y's last digits of eˣ."""
        xp = self.xp
        negative = x <= 0
        negative_part = xp.where(negative, x, xp.zeros((), x.dtype))  # no overflow in exp
        return xp.where(negative, gy * (alpha * xp.exp(negative_part)), gy)

    # ---- softmax family ---------------------------------------------------------------------
    def softmax(self, x, axis: int = -1):
        """softmax(x)ᵢ = e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x)."""
        x = self._floating(x)
        if self._empty_along(x, axis):
            return x.copy()
        e = self.xp.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def softmax_backward(self, y, gy, axis: int = -1):
        """J·gy = y ⊙ (gy − Σ gy⊙y)."""
        return y * (gy - (gy * y).sum(axis=axis, keepdims=True))

    def log_softmax(self, x, axis: int = -1):
        """xᵢ − max x − log Σⱼ e^(xⱼ − max x)."""
        x = self._floating(x)
        if self._empty_along(x, axis):
            return x.copy()
        shifted = x - x.max(axis=axis, keepdims=True)
        return shifted - self.xp.log(self.xp.exp(shifted).sum(axis=axis, keepdims=True))

    def log_softmax_backward(self, y, gy, axis: int = -1):
        """gy − e^y · Σ gy, from the saved output y = log_softmax(x)."""
        return gy - self.xp.exp(y) * gy.sum(axis=axis, keepdims=True)

    def sparsemax(self, x, axis: int = -1):
        """Euclidean projection onto the simplex: max(x − τ(x), 0) with Σ = 1 (Martins & Astudillo).

        Sort z descending, k(z) = max{k : 1 + k·z₍ₖ₎ > Σ_{j≤k} z₍ⱼ₎}, τ = (Σ_{j≤k(z)} z₍ⱼ₎ − 1)/k(z).
        """
        xp = self.xp
        x = self._floating(x)
        if self._empty_along(x, axis):
            return x.copy()
        z = xp.moveaxis(x, axis, -1)
        z = z - z.max(axis=-1, keepdims=True)  # shift-invariant; keeps huge logits finite
        z_sorted = -xp.sort(-z, axis=-1)
        k = xp.arange(1, z.shape[-1] + 1, dtype=z.dtype)
        cumsum = xp.cumsum(z_sorted, axis=-1)
        support = 1 + k * z_sorted > cumsum
        # The support is a prefix of the sorted order; counting only its leading run keeps a
        # cumsum rounded far down the row (float32, K in the thousands, one huge logit) from
        # adding spurious members.
        k_z = xp.cumprod(support, axis=-1).sum(axis=-1, keepdims=True)
        tau = (xp.take_along_axis(cumsum, k_z - 1, axis=-1) - 1) / k_z.astype(z.dtype)
        out = xp.maximum(z - tau, 0)
        return xp.moveaxis(out, -1, axis)

    def sparsemax_backward(self, y, gy, axis: int = -1):
        """On the support S = {y > 0}: gy − mean_S(gy); zero elsewhere (selected, so gy off
        the support, even inf or NaN, does not reach the result, as in the kernels)."""
        xp = self.xp
        if not y.size:  # an empty row's mean would be 0/0 (a warning for nothing)
            return gy.copy()
        support = y > 0
        zero = xp.zeros((), gy.dtype)
        g_sum = xp.where(support, gy, zero).sum(axis=axis, keepdims=True)
        size = support.sum(axis=axis, keepdims=True).astype(y.dtype)  # int count would promote
        return xp.where(support, gy - g_sum / size, zero)

    # ---- fused losses (per row loss and gradient in one pass) --------------------------------
    def cross_entropy(self, logits, target, label_smoothing: float = 0.0):
        """Softmax cross-entropy on 2-D logits (N, K).

        target: int class indices (N,) or probabilities (N, K), which need not sum to 1. With
        smoothing ε the target is (1−ε)·t + ε/K. Returns (loss (N,), grad (N, K)) with
        loss = −Σₖ tₖ log pₖ and grad = p·Σₖtₖ − t, the gradient of each row's loss w.r.t. its
        logits (p − t for a one-hot or normalised target).
        """
        xp = self.xp
        n, k = logits.shape
        log_p = self.log_softmax(logits, axis=1)
        eps = label_smoothing
        if target.ndim == 1:
            rows = xp.arange(n)
            t = xp.zeros_like(logits)
            t[rows, target] = 1
            loss = -log_p[rows, target]  # gathered: a −inf logit off the target adds no 0·(−∞)
            if eps:  # −Σ t' log p = (1−ε)·(−log p_target) − ε/K · Σ log p
                loss = (1 - eps) * loss - eps / k * log_p.sum(axis=1)
                t = (1 - eps) * t + eps / k
        else:
            t = target.astype(logits.dtype, copy=False)
            if eps:  # smoothed first, as PyTorch: every t' > 0, so a −inf logit gives inf, not
                t = (1 - eps) * t + eps / k  # (1−ε)·0·(−∞) = NaN
            loss = -(t * log_p).sum(axis=1)
        p = xp.exp(log_p)
        grad = (p if target.ndim == 1 else p * t.sum(axis=1, keepdims=True)) - t
        return loss, grad

    def sparsemax_loss(self, logits, target):
        """Sparsemax loss on 2-D logits (N, K) (Martins & Astudillo 2016, eq. 14 with q = t/Σt).

        L(z; q) = −qᵀz + ½ Σ_{j∈S(z)} (z_j² − τ²) + ½‖q‖². Target: class indices (N,) or a
        multi-label 0/1 matrix (N, K), normalised per row. Returns (loss (N,), grad = p − q).
        """
        xp = self.xp
        n, k = logits.shape
        z = logits - logits.max(axis=1, keepdims=True)  # loss and grad are shift-invariant
        if target.ndim == 1:
            rows = xp.arange(n)
            q = xp.zeros_like(logits)
            q[rows, target] = 1
            qz = z[rows, target]  # gathered: a −inf logit off the target adds no 0·(−∞)
        else:
            q = target.astype(logits.dtype, copy=False)
            q = q / xp.maximum(q.sum(axis=1, keepdims=True), 1e-12)
            # selected where q = 0: a −∞ logit off the labels adds 0, not 0·(−∞) = NaN
            qz = (q * xp.where(q != 0, z, xp.zeros((), z.dtype))).sum(axis=1)
        p = self.sparsemax(z, axis=1)
        support = p != 0  # p ≥ 0: the support, plus any NaN entry so that a NaN row stays NaN
        zero = xp.zeros((), z.dtype)
        # selected, not multiplied by the support: z = −∞ off the support must add 0, not NaN
        # (and a huge z off it is not squared)
        z_support = xp.where(support, z, zero)
        tau = (z_support.sum(axis=1) - 1) / support.sum(axis=1).astype(z.dtype)
        loss = (
            -qz
            + 0.5 * xp.where(support, z_support * z_support - tau[:, None] ** 2, zero).sum(axis=1)
            + 0.5 * (q * q).sum(axis=1)
        )
        return xp.maximum(loss, 0), p - q

    # ---- convolution and pooling (im2col) ---------------------------------------------------
    def im2col(self, x, kernel_size, stride, padding):
        """(N, C, H, W) → (N·OH·OW, C·kH·kW): each row one receptive field."""
        xp = self.xp
        kh, kw = kernel_size
        sh, sw = stride
        ph, pw = padding
        if ph or pw:
            x = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        n, c, h, w = x.shape
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
        s = x.strides
        windows = xp.lib.stride_tricks.as_strided(
            x, (n, oh, ow, c, kh, kw), (s[0], s[2] * sh, s[3] * sw, s[1], s[2], s[3])
        )
        return windows.reshape(n * oh * ow, c * kh * kw)

    def col2im(self, cols, x_shape, kernel_size, stride, padding):
        """Adjoint of :meth:`im2col`: scatter-add rows back into an (N, C, H, W) array."""
        xp = self.xp
        n, c, h, w = x_shape
        kh, kw = kernel_size
        sh, sw = stride
        ph, pw = padding
        hp, wp = h + 2 * ph, w + 2 * pw
        oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
        cols = cols.reshape(n, oh, ow, c, kh, kw)
        out = xp.zeros((n, c, hp, wp), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                out[:, :, i : i + sh * oh : sh, j : j + sw * ow : sw] += cols[:, :, :, :, i, j].transpose(
                    0, 3, 1, 2
                )
        return out[:, :, ph : ph + h, pw : pw + w]

    def max_pool2d(self, x, kernel_size, stride, padding):
        """(N, C, H, W) → (y, argmax), both (N, C, OH, OW): y the maximum of each −∞-padded
        window (an integer x: padded with its dtype's lowest value), argmax the flat H·W index of
        its first maximal element, as PyTorch; in a window with NaNs, the first NaN (PyTorch's CPU
        kernel takes the last: only which NaN gets the gradient differs). The padding is at most
        half the kernel (every window holds an element)."""
        xp = self.xp
        (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
        n, c, h, w = x.shape
        lowest = -xp.inf if x.dtype.kind == "f" else (False if x.dtype.kind == "b" else xp.iinfo(x.dtype).min)
        padded = xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=lowest)
        cols = self.im2col(padded.reshape(n * c, 1, h + 2 * ph, w + 2 * pw), kernel_size, stride, (0, 0))
        winners = xp.argmax(cols, axis=1)
        y = cols[xp.arange(cols.shape[0]), winners]
        oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
        i, j = winners.reshape(n * c, oh, ow) // kw, winners.reshape(n * c, oh, ow) % kw
        rows = xp.arange(oh).reshape(oh, 1) * sh - ph + i  # the winner's row and column in x
        columns = xp.arange(ow) * sw - pw + j
        if ph or pw:  # a window of −∞ only: its first element inside x, not the padding before it
            first_row = xp.maximum(xp.arange(oh).reshape(oh, 1) * sh - ph, 0)
            first_column = xp.maximum(xp.arange(ow) * sw - pw, 0)
            outside = (rows < 0) | (rows >= h) | (columns < 0) | (columns >= w)
            rows = xp.where(outside, first_row, rows)
            columns = xp.where(outside, first_column, columns)
        argmax = (rows * w + columns).astype(xp.int64)
        return y.reshape(n, c, oh, ow), argmax.reshape(n, c, oh, ow)

    def max_pool2d_backward(self, gy, argmax, x_shape, channels_last: bool = False):
        """∂L/∂x (x_shape) = zeros with ∂L/∂y added at argmax in each (n, c) plane (overlapping
        windows may pick one element twice). ``channels_last`` says that x lay in memory as
        (N, H, W, C) (see :func:`is_channels_last`): a backend may then return ∂L/∂x laid out so
        too, which spares a convolution's backward a transposition; the reference ignores it."""
        xp = self.xp
        n, c, h, w = x_shape
        planes = xp.arange(n * c, dtype=xp.int64).reshape(n, c, 1, 1) * (h * w)
        gx = xp.bincount((planes + argmax).ravel(), weights=gy.ravel(), minlength=n * c * h * w)
        return gx.astype(gy.dtype, copy=False).reshape(x_shape)

    # ---- optimizer updates (in place on param and state) -------------------------------------
    def sgd_update(self, param, grad, momentum_buffer, *, lr, momentum=0.0, dampening=0.0,
                   nesterov=False, weight_decay=0.0, first_step=False):
        """PyTorch SGD: g += λθ; b = g (first step) or μb + (1−τ)g; g = g + μb (Nesterov) or b;
        θ −= η·g. ``momentum_buffer`` may be None when μ = 0."""
        g = grad + weight_decay * param if weight_decay else grad
        if momentum:
            if first_step:
                momentum_buffer[...] = g
            else:
                momentum_buffer *= momentum
                momentum_buffer += (1 - dampening) * g
            g = g + momentum * momentum_buffer if nesterov else momentum_buffer
        param -= lr * g

    def adam_update(self, param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1=0.9, beta2=0.999,
                    eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
        """PyTorch Adam/AdamW: m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²;
        θ −= η/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε). Weight decay: g += λθ (Adam) or θ *= 1−ηλ (AdamW)."""
        if weight_decay and decoupled_weight_decay:
            param *= 1 - lr * weight_decay
            g = grad
        else:
            g = grad + weight_decay * param if weight_decay else grad
        exp_avg *= beta1
        exp_avg += (1 - beta1) * g
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        bias1 = 1 - beta1**step
        bias2_sqrt = math.sqrt(1 - beta2**step)
        param -= (lr / bias1) * exp_avg / (self.xp.sqrt(exp_avg_sq) / bias2_sqrt + eps)

    def adamax_update(self, param, grad, exp_avg, exp_inf, *, step, lr, beta1=0.9, beta2=0.999,
                      eps=1e-8, weight_decay=0.0):
        """PyTorch Adamax: m = β₁m + (1−β₁)g; u = max(β₂u, |g| + ε); θ −= η/(1−β₁ᵗ) · m/u."""
        g = grad + weight_decay * param if weight_decay else grad
        exp_avg *= beta1
        exp_avg += (1 - beta1) * g
        self.xp.maximum(exp_inf * beta2, self.xp.abs(g) + eps, out=exp_inf)
        param -= (lr / (1 - beta1**step)) * exp_avg / exp_inf

    def rmsprop_update(self, param, grad, square_avg, *, lr, alpha=0.99, eps=1e-8,
                       weight_decay=0.0, momentum=0.0, momentum_buffer=None, centered=False,
                       grad_avg=None):
        """PyTorch RMSprop: s = αs + (1−α)g²; d = √max(s − ḡ², 0) (centered) or √s, plus ε;
        θ −= η·g/d, or with momentum b = μb + g/d, θ −= η·b. The centered variance is clamped at
        0: exactly 0 for a constant gradient, rounding can leave it negative (PyTorch: NaN)."""
        xp = self.xp
        g = grad + weight_decay * param if weight_decay else grad
        square_avg *= alpha
        square_avg += (1 - alpha) * g * g
        if centered:
            grad_avg *= alpha
            grad_avg += (1 - alpha) * g
            denom = xp.sqrt(xp.maximum(square_avg - grad_avg * grad_avg, 0)) + eps
        else:
            denom = xp.sqrt(square_avg) + eps
        if momentum:
            momentum_buffer *= momentum
            momentum_buffer += g / denom
            param -= lr * momentum_buffer
        else:
            param -= lr * g / denom

    def adagrad_update(self, param, grad, sum_sq, *, lr, eps=1e-10, weight_decay=0.0):
        """PyTorch Adagrad (lr already decayed by the caller): G += g²; θ −= η·g/(√G + ε)."""
        g = grad + weight_decay * param if weight_decay else grad
        sum_sq += g * g
        param -= lr * g / (self.xp.sqrt(sum_sq) + eps)


ACTIVATIONS_FUSABLE = ("identity", "relu", "sigmoid", "tanh")


def is_channels_last(x) -> bool:
    """x, of shape (N, C, H, W), lies in memory as a C-contiguous (N, H, W, C) array, and not
    also as a C-contiguous (N, C, H, W) one: the layout of a convolution's output, the GEMM
    X̂·Ŵᵀ viewed as (N, C, OH, OW)."""
    return x.ndim == 4 and not x.flags.c_contiguous and x.transpose(0, 2, 3, 1).flags.c_contiguous


def _registered_backend(name: str) -> Backend:
    """The registry's backend ``name`` (unpickling target; imported lazily: registry imports us)."""
    from .registry import get_backend

    return get_backend(name)
