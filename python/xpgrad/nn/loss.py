"""Loss modules: ``loss_fn(prediction, target)`` with the reduction (and options) fixed at
construction, each calling the function of the same name in ``nn.functional``."""

from __future__ import annotations

from ..functions.loss import check_reduction
from ..tensor import Tensor
from . import functional as F
from .module import Module


class _Loss(Module):
    """A loss with ``reduction`` ("mean", "sum" or "none") and fixed keyword ``options``, which a
    subclass takes as named arguments of its own ``__init__`` (an unknown keyword, such as
    PyTorch's ``weight``, fails at construction, not at the first call)."""

    function = None  # the nn.functional loss this module calls

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(reduction)
        self.reduction = reduction
        self.options = {}

    def forward(self, prediction: Tensor, target) -> Tensor:
        return type(self).function(prediction, target, reduction=self.reduction, **self.options)

    def extra_repr(self) -> str:
        return ", ".join(
            f"{k}={v!r}" for k, v in {"reduction": self.reduction, **self.options}.items()
        )


class MSELoss(_Loss):
    """Mean squared error (f − y)², or ½(f − y)² with ``half=True``."""

    function = F.mse_loss

    def __init__(self, reduction: str = "mean", half: bool = False) -> None:
        super().__init__(reduction)
        self.options = {"half": half}


class L1Loss(_Loss):
    """Mean absolute error |f − y|."""

    function = F.l1_loss


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy from logits, class-index or probability targets, label smoothing ε."""

    function = F.cross_entropy

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.options = {"label_smoothing": label_smoothing}


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices from log-probabilities."""

    function = F.nll_loss


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities."""

    function = F.binary_cross_entropy


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits, computed stably."""

    function = F.binary_cross_entropy_with_logits


class SparsemaxLoss(_Loss):
    """Sparsemax loss (class indices or multi-label 0/1 targets)."""

    function = F.sparsemax_loss
