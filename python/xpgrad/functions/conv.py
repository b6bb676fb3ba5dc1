"""2-D convolution through im2col, and max pooling.

im2col turns every receptive field of x (N, C, H, W) into one row of a matrix X̂
(N·OH·OW, C·kH·kW); a convolution is then one GEMM with the flattened kernels. The adjoint of
im2col is col2im (scatter-add of the rows back into the image), so ∂L/∂x = col2im(∂L/∂X̂) —
and col2im's adjoint is im2col again, which makes both differentiable to any order. Max
pooling is a backend op of its own (the window maxima and their indices in x, no im2col).
"""

from __future__ import annotations

import operator

from ..autograd import Function, check_tensor
from ..backends.base import is_channels_last
from ..tensor import Tensor
from .linalg import Linear, check_activation

# The smallest value each geometry argument may take.
_MINIMUM = {"kernel_size": 1, "stride": 1, "padding": 0}


def pair(value, name: str) -> tuple[int, int]:
    """An int or a pair of ints (NumPy's included) as (height, width); ``name`` ("kernel_size",
    "stride" or "padding") fixes the smallest value allowed (1, 1 and 0)."""
    try:
        value = (operator.index(value),) * 2
    except TypeError:
        try:
            value = tuple(operator.index(v) for v in value)
        except TypeError:
            raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}") from None
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    if min(value) < _MINIMUM[name]:
        raise ValueError(f"{name} must be at least {_MINIMUM[name]}, got {value!r}")
    return value


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """⌊(size + 2·padding − kernel) / stride⌋ + 1."""
    return (size + 2 * padding - kernel) // stride + 1


class Im2Col(Function):
    """X̂ = im2col(x): (N, C, H, W) → (N·OH·OW, C·kH·kW);  ∂L/∂x = col2im(∂L/∂X̂)."""

    __slots__ = ("geometry",)

    def forward(self, x, *, kernel_size, stride, padding):
        self.geometry = (x.shape, kernel_size, stride, padding)
        return self.backend.im2col(x, kernel_size, stride, padding)

    def backward(self, gy):
        x_shape, kernel_size, stride, padding = self.geometry
        return (
            Col2Im.apply(
                gy, x_shape=x_shape, kernel_size=kernel_size, stride=stride, padding=padding
            ),
        )


class Col2Im(Function):
    """x = col2im(X̂), the scatter-add adjoint of im2col;  ∂L/∂X̂ = im2col(∂L/∂x)."""

    __slots__ = ("geometry",)

    def forward(self, cols, *, x_shape, kernel_size, stride, padding):
        self.geometry = (kernel_size, stride, padding)
        return self.backend.col2im(cols, x_shape, kernel_size, stride, padding)

    def backward(self, gy):
        kernel_size, stride, padding = self.geometry
        return (Im2Col.apply(gy, kernel_size=kernel_size, stride=stride, padding=padding),)


def _batched(x: Tensor, name: str) -> tuple[Tensor, bool]:
    """x as (N, C, H, W): an unbatched (C, H, W) input becomes a batch of one (as PyTorch);
    returns it and whether it was unbatched (the caller then drops the batch axis again).
    H or W of 0 raises, as in PyTorch: only N and C may be empty (the windows would hold
    padding alone)."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{name} expects input of shape (N, C, H, W) or (C, H, W), got {x.shape}")
    if 0 in x.shape[-2:]:
        raise ValueError(f"{name}: input of shape {x.shape} has an empty spatial dimension")
    if x.ndim == 3:
        return x.reshape(1, *x.shape), True
    return x, False


def _output_hw(x: Tensor, kernel_size, stride, padding, name: str) -> tuple[int, int]:
    """(OH, OW) of x (N, C, H, W) under the geometry; ValueError when the kernel does not fit."""
    oh = output_size(x.shape[2], kernel_size[0], stride[0], padding[0])
    ow = output_size(x.shape[3], kernel_size[1], stride[1], padding[1])
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{name}: kernel {kernel_size} is larger than the padded input {x.shape[2:]}"
        )
    return oh, ow


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, *,
           activation: str = "identity") -> Tensor:
    """Cross-correlation as in PyTorch (x zero-padded):
    y[n, o, i, j] = act(b[o] + Σ_{c,u,v} W[o, c, u, v]·x[n, c, s·i+u, s·j+v]),
    computed as Y = act(X̂·Ŵᵀ + b) with X̂ = im2col(x) and Ŵ = W reshaped to (O, C·kH·kW), one
    fused linear op (bias and activation applied in the GEMM's write-back, the bias gradient
    summed in the backward's pass). x is (N, C, H, W), or (C, H, W) for one unbatched image;
    ``activation`` one of "identity", "relu", "sigmoid", "tanh".

    y is Y viewed as (N, O, OH, OW): channels-last in memory, as PyTorch's channels_last format
    (ops that need (N, C, H, W) memory copy it; max pooling and the activations take it as it is).

    Gradients: ∂L/∂Ŵ = Gᵀ·X̂, ∂L/∂X̂ = G·Ŵ → col2im, ∂L/∂b = Σ G, with G = ∂L/∂Y ⊙ act'.
    """
    check_tensor(x, "conv2d")
    check_tensor(weight, "conv2d", "weight")
    check_activation(activation, "conv2d")
    if weight.ndim != 4:
        raise ValueError(
            "conv2d: weight must have shape (out_channels, in_channels, kH, kW), "
            f"got {weight.shape}"
        )
    out_channels, in_channels, kh, kw = weight.shape
    x, unbatched = _batched(x, "conv2d")
    if x.shape[1] != in_channels:
        raise ValueError(f"conv2d: input has {x.shape[1]} channels, weight expects {in_channels}")
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"conv2d: bias has shape {bias.shape}, expected ({out_channels},) for weight of shape "
                         f"{weight.shape}")
    stride, padding = pair(stride, "stride"), pair(padding, "padding")
    oh, ow = _output_hw(x, (kh, kw), stride, padding, "conv2d")
    cols = Im2Col.apply(x, kernel_size=(kh, kw), stride=stride, padding=padding)
    flat_weight = weight.reshape(out_channels, in_channels * kh * kw).T
    bias_args = () if bias is None else (bias,)
    y = Linear.apply(cols, flat_weight, *bias_args, activation=activation)
    y = y.reshape(x.shape[0], oh, ow, out_channels).transpose(0, 3, 1, 2)
    return y.reshape(y.shape[1:]) if unbatched else y


class MaxPool2d(Function):
    """y, argmax = backend.max_pool2d(x): the window maxima and where they are;
    ∂L/∂x = ∂L/∂y added at argmax (MaxPool2dBackward)."""

    __slots__ = ()
    reads_inputs = False  # backward reads the saved argmax only

    def forward(self, x, *, kernel_size, stride, padding):
        y, argmax = self.backend.max_pool2d(x, kernel_size, stride, padding)
        self.saved = argmax, x.shape, is_channels_last(x)
        return y

    def backward(self, gy):
        argmax, x_shape, channels_last = self.saved
        return (MaxPool2dBackward.apply(gy, argmax=argmax, x_shape=x_shape, channels_last=channels_last),)


class MaxPool2dBackward(Function):
    """gx = zeros(x_shape) with gy added at argmax in each (n, c) plane (laid out as x was, where
    the backend can); its adjoint gathers: ∂L/∂gy[n, c, i, j] = ∂L/∂gx[n, c, argmax[n, c, i, j]]
    (the double backward)."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, gy, *, argmax, x_shape, channels_last):
        self.saved = argmax, x_shape
        return self.backend.max_pool2d_backward(gy, argmax, x_shape, channels_last)

    def backward(self, ggx):
        argmax, (n, c, h, w) = self.saved
        oh, ow = argmax.shape[2:]  # not -1: it is ambiguous when N·C = 0
        xp = self.backend.xp
        planes = xp.arange(n * c).reshape(n * c, 1)
        picked = ggx.reshape(n * c, h * w)[planes, argmax.reshape(n * c, oh * ow)]
        return (picked.reshape(argmax.shape),)


def max_pool2d(x: Tensor, kernel_size, stride=None, padding=0) -> Tensor:
    """y[n, c, i, j] = max over the kH×kW window at (s·i, s·j) (stride defaults to the kernel size).

    x is (N, C, H, W), or (C, H, W) for one unbatched image. The padding (with −∞) may be at
    most half the kernel, as in PyTorch, so that every window holds an input element.
    The gradient goes to the first maximal element of each window (as PyTorch), or to the first
    NaN of a window holding NaNs (its max; PyTorch's CPU kernel takes the last), added at its
    index in x:
    ∂L/∂x[n, c, argmax[n, c, i, j]] += ∂L/∂y[n, c, i, j].
    """
    check_tensor(x, "max_pool2d")
    kernel_size = pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None else pair(stride, "stride")
    padding = pair(padding, "padding")
    if padding[0] > kernel_size[0] // 2 or padding[1] > kernel_size[1] // 2:
        raise ValueError(
            f"max_pool2d: padding {padding} should be at most half of kernel_size {kernel_size}"
        )
    x, unbatched = _batched(x, "max_pool2d")
    _output_hw(x, kernel_size, stride, padding, "max_pool2d")
    y = MaxPool2d.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)
    return y.reshape(y.shape[1:]) if unbatched else y
