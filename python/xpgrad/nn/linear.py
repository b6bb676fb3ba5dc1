"""Fully connected layers: Linear (y = x·W + b, W of shape (in, out)) and Maxout."""

from __future__ import annotations

from ..counts import as_count
from ..creation import empty, zeros
from ..tensor import Tensor
from . import functional as F
from .init import initializer
from .module import Module, Parameter


class Linear(Module):
    """y = x·W + b with W (in_features, out_features) initialised by ``init`` (Glorot uniform by
    default) and b zeros. ``activation`` in forward fuses relu/sigmoid/tanh into the same kernel
    (Sequential does this for a Linear followed directly by one of those layers)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        init: str = "glorot_uniform",
        dtype="float32",
        backend=None,
    ) -> None:
        super().__init__()
        self.in_features = as_count(in_features, "Linear: in_features")
        self.out_features = as_count(out_features, "Linear: out_features")
        self.weight = Parameter(empty(in_features, out_features, dtype=dtype, backend=backend))
        initializer(init)(self.weight)
        if bias:
            self.bias = Parameter(zeros(out_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Tensor, activation: str = "identity") -> Tensor:
        return F.linear(x, self.weight, self.bias, activation)

    def extra_repr(self) -> str:
        has_bias = self.bias is not None
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={has_bias}"


class Maxout(Module):
    """Maxout unit layer (Goodfellow et al. 2013): yⱼ = max_{i<k} (x·W + b)_{j·k+i}, i.e. a Linear
    layer to out_features·pieces units followed by the max over each group of ``pieces``."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        pieces: int,
        init: str = "glorot_uniform",
        dtype="float32",
        backend=None,
    ) -> None:
        super().__init__()
        self.pieces = as_count(pieces, "Maxout: pieces", minimum=1)
        self.linear = Linear(
            in_features, out_features * pieces, init=init, dtype=dtype, backend=backend
        )

    def forward(self, x: Tensor) -> Tensor:
        return F.maxout(self.linear(x), self.pieces)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"
