"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .adam import AdamFamily
from .optimizer import ParamsT


class Adamax(AdamFamily):
    """Adamax (Kingma & Ba 2015, §7.1; PyTorch's algorithm).

    With gₜ = ∇L(θₜ₋₁) + λθₜ₋₁ and m₀ = u₀ = 0::

        mₜ = β₁ mₜ₋₁ + (1 − β₁) gₜ
        uₜ = max(β₂ uₜ₋₁, |gₜ| + ε)
        θₜ = θₜ₋₁ − η / (1 − β₁ᵗ) · mₜ / uₜ
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.002,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(
        self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        beta1, beta2 = group["betas"]
        param.backend_obj.adamax_update(
            param.data,
            grad,
            self._buffer(state, "exp_avg", param),
            self._buffer(state, "exp_inf", param),
            step=self._count_step(state),
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
        )
