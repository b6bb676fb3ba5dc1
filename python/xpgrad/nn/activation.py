"""Activation layers: thin Modules over ``nn.functional``."""

from __future__ import annotations

from ..counts import as_count
from ..creation import full
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


class Identity(Module):
    """y = x."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Sigmoid(Module):
    """y = σ(x) = 1/(1 + e⁻ˣ)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """y = tanh(x)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class ReLU(Module):
    """y = max(x, 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class LeakyReLU(Module):
    """y = x if x > 0 else s·x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """y = x if x > 0 else a·x with learnable slopes a: one shared (num_parameters=1) or one per
    channel (axis 1), initialised to ``init``."""

    def __init__(
        self, num_parameters: int = 1, init: float = 0.25, dtype="float32", backend=None
    ) -> None:
        super().__init__()
        num_parameters = as_count(num_parameters, "PReLU: num_parameters", minimum=1)
        self.weight = Parameter(full((num_parameters,), init, dtype=dtype, backend=backend))

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.weight.size}"


class ELU(Module):
    """y = x if x > 0 else α(eˣ − 1)."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class _AlongAxis(Module):
    """An activation that normalises along one axis."""

    def __init__(self, axis: int = -1) -> None:
        super().__init__()
        self.axis = axis

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class Softmax(_AlongAxis):
    """y = softmax(x) along ``axis``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.axis)


class LogSoftmax(_AlongAxis):
    """y = log softmax(x) along ``axis``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.axis)


class Sparsemax(_AlongAxis):
    """y = sparsemax(x) along ``axis``: the projection onto the simplex."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sparsemax(x, self.axis)
