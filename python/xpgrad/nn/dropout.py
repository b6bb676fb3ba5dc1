"""The Dropout layer: active in training mode only (see ``F.dropout`` for the two variants)."""

from __future__ import annotations

from ..functions.dropout import check_probability
from ..tensor import Tensor
from . import functional as F
from .module import Module


class Dropout(Module):
    """Drop each unit with probability p while training. Inverted (default): scale the kept ones
    by 1/(1 − p) so evaluation is the identity; classic: no scaling in training, ×(1 − p) in
    evaluation."""

    def __init__(self, p: float = 0.5, inverted: bool = True) -> None:
        super().__init__()
        check_probability(p)
        self.p = p
        self.inverted = inverted

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inverted)

    def extra_repr(self) -> str:
        return f"p={self.p}, inverted={self.inverted}"
