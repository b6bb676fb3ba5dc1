"""Adam: bias-corrected first and second moment estimates of the gradient."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_betas, check_non_negative


class AdamFamily(Optimizer):
    """The hyper-parameters Adam, AdamW and Adamax share: lr, betas = (β₁, β₂), eps, weight_decay."""

    def __init__(self, params: ParamsT, lr: float, betas: tuple[float, float], eps: float,
                 weight_decay: float) -> None:
        super().__init__(
            params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        )

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative(group, "lr", "eps", "weight_decay")
        check_betas(group)


class Adam(AdamFamily):
    """Adam (Kingma & Ba 2015; PyTorch's algorithm, weight decay added to the gradient).

    With gₜ = ∇L(θₜ₋₁) + λθₜ₋₁ and m₀ = v₀ = 0::

        mₜ = β₁ mₜ₋₁ + (1 − β₁) gₜ
        vₜ = β₂ vₜ₋₁ + (1 − β₂) gₜ ⊙ gₜ
        θₜ = θₜ₋₁ − η · m̂ₜ / (√v̂ₜ + ε),   m̂ₜ = mₜ / (1 − β₁ᵗ),  v̂ₜ = vₜ / (1 − β₂ᵗ)
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)

    def _update(
        self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        beta1, beta2 = group["betas"]
        param.backend_obj.adam_update(
            param.data,
            grad,
            self._buffer(state, "exp_avg", param),
            self._buffer(state, "exp_avg_sq", param),
            step=self._count_step(state),
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled_weight_decay=self.decoupled_weight_decay,
        )
