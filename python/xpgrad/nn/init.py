"""Parameter initialisation, in place, from the tensor's backend RNG (``xg.manual_seed`` makes
it reproducible).

Fans follow the layers' weight layouts: a Linear weight is (in, out), so fan_in = shape[0] and
fan_out = shape[1]; a convolution weight (out, in, kH, kW) has, as in PyTorch,
fan_in = in·kH·kW and fan_out = out·kH·kW.
"""

from __future__ import annotations

import math

from ..autograd import mark_modified, no_grad
from ..tensor import Tensor

__all__ = [
    "INITIALIZERS",
    "calculate_fans",
    "constant_",
    "glorot_normal_",
    "glorot_uniform_",
    "he_normal_",
    "he_uniform_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


def calculate_fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out): (in, out) for a 2-D (in, out) weight; (in·k, out·k) for an
    (out, in, *kernel) weight with k the kernel size; (n, n) for a vector."""
    shape = tensor.shape
    if len(shape) == 0:
        raise ValueError("cannot compute fans of a 0-d tensor")
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fill(tensor: Tensor, values) -> Tensor:
    with no_grad():
        tensor.data[...] = values
    mark_modified(tensor)
    return tensor


def zeros_(tensor: Tensor) -> Tensor:
    """t ← 0."""
    return _fill(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """t ← 1."""
    return _fill(tensor, 1)


def constant_(tensor: Tensor, value: float) -> Tensor:
    """t ← value."""
    return _fill(tensor, value)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """t ~ U[a, b)."""
    if not a <= b:
        raise ValueError(f"uniform_: expects a <= b, got a={a}, b={b}")
    return _fill(tensor, tensor.backend_obj.uniform(a, b, tensor.shape, tensor.dtype))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """t ~ N(mean, std²)."""
    if not std >= 0:
        raise ValueError(f"normal_: expects std >= 0, got {std}")
    return _fill(tensor, tensor.backend_obj.normal(mean, std, tensor.shape, tensor.dtype))


def _scale(numerator: float, fan: int) -> float:
    """√(numerator/fan); 0 for a fan of 0, which only a zero-element tensor has (nothing to
    draw: the initialiser leaves it as it is, as PyTorch)."""
    return math.sqrt(numerator / fan) if fan else 0.0


def glorot_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio (2010): t ~ U[−r, r], r = gain·√(6/(fan_in + fan_out)), so that
    Var(t) = 2/(fan_in + fan_out) keeps activations and gradients at the same scale."""
    fan_in, fan_out = calculate_fans(tensor)
    bound = gain * _scale(6.0, fan_in + fan_out)
    return uniform_(tensor, -bound, bound)


def glorot_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """t ~ N(0, σ²), σ = gain·√(2/(fan_in + fan_out))."""
    fan_in, fan_out = calculate_fans(tensor)
    return normal_(tensor, 0.0, gain * _scale(2.0, fan_in + fan_out))


def he_uniform_(tensor: Tensor) -> Tensor:
    """He et al. (2015) for ReLU layers: t ~ U[−r, r], r = √(6/fan_in) (variance 2/fan_in)."""
    fan_in, _ = calculate_fans(tensor)
    bound = _scale(6.0, fan_in)
    return uniform_(tensor, -bound, bound)


def he_normal_(tensor: Tensor) -> Tensor:
    """t ~ N(0, σ²), σ = √(2/fan_in)."""
    fan_in, _ = calculate_fans(tensor)
    return normal_(tensor, 0.0, _scale(2.0, fan_in))


# PyTorch's names for the same initialisers.
xavier_uniform_ = glorot_uniform_
xavier_normal_ = glorot_normal_
kaiming_uniform_ = he_uniform_
kaiming_normal_ = he_normal_

INITIALIZERS = {
    "glorot_uniform": glorot_uniform_,
    "glorot_normal": glorot_normal_,
    "he_uniform": he_uniform_,
    "he_normal": he_normal_,
    "zeros": zeros_,
}


def initializer(name: str):
    """The initialiser called ``name`` (a key of INITIALIZERS), with a clear error otherwise."""
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise ValueError(f"unknown init {name!r}; choose one of {sorted(INITIALIZERS)}") from None
