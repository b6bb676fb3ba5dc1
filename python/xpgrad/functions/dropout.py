"""Dropout (Srivastava et al. 2014): each unit is kept with probability 1 − p during training."""

from __future__ import annotations

from ..autograd import check_tensor
from ..counts import is_real
from ..tensor import Tensor


def check_probability(p) -> None:
    """ValueError unless p is a real number in [0, 1] (a string gave a bare comparison error)."""
    if not (is_real(p) and 0.0 <= p <= 1.0):
        raise ValueError(f"dropout probability must be a number in [0, 1], got {p!r}")


def dropout(x: Tensor, p: float = 0.5, training: bool = True, inverted: bool = True) -> Tensor:
    """Multiply by a random mask m with mᵢ ~ Bernoulli(1 − p).

    Inverted (default): y = x ⊙ m / (1 − p) in training, y = x at test time, so E[y] = x in both.
    Classic: y = x ⊙ m in training, y = (1 − p)·x at test time (the expected training output).
    The mask comes from ``backend.dropout_mask``; ∂y/∂x is the same mask. Floating-point x
    only (an integer x cannot hold x/(1 − p)).
    """
    check_tensor(x, "dropout")
    if x.dtype.kind != "f":
        raise TypeError(f"dropout: input must be floating point, got {x.dtype}")
    check_probability(p)
    if not training:
        return x if inverted else x * (1.0 - p)
    if p == 0.0:
        return x
    scale = 1.0 / (1.0 - p) if inverted and p < 1.0 else 1.0
    return x * x.backend_obj.dropout_mask(x.shape, p, scale, x.dtype)
