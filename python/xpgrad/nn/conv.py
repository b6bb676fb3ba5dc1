"""Convolution and pooling layers on (N, C, H, W) inputs, plus Flatten to feed dense layers."""

from __future__ import annotations

from ..creation import empty, zeros
from ..functions.conv import pair
from ..tensor import Tensor
from . import functional as F
from .init import initializer
from .module import Module, Parameter


class Conv2d(Module):
    """y = conv2d(x, W) + b with W (out_channels, in_channels, kH, kW) as in PyTorch, initialised by
    ``init`` with PyTorch's fans (fan_in = in·kH·kW), b zeros. ``activation`` in forward fuses
    relu/sigmoid/tanh into the same kernel (Sequential does this for a Conv2d followed directly by
    one of those layers)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        bias: bool = True,
        init: str = "glorot_uniform",
        dtype="float32",
        backend=None,
    ) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = pair(padding, "padding")
        self.weight = Parameter(
            empty(out_channels, in_channels, *self.kernel_size, dtype=dtype, backend=backend)
        )
        initializer(init)(self.weight)
        if bias:
            self.bias = Parameter(zeros(out_channels, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor, activation: str = "identity") -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, activation=activation)

    def extra_repr(self) -> str:
        out_channels, in_channels = self.weight.shape[:2]
        return (
            f"{in_channels}, {out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}"
        )


class MaxPool2d(Module):
    """Maximum over kH×kW windows (stride defaults to the kernel size)."""

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "padding")

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class Flatten(Module):
    """Merge axes start_dim..end_dim (default: all but the batch one): (N, C, H, W) → (N, C·H·W)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)
