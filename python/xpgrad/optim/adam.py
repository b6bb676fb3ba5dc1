"""Adam: bias-corrected first and second moment estimates of the gradient."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_betas, check_non_negative


class AdamFamily(Optimizer):
    """What Adam, AdamW and Adamax share: the hyper-parameters lr, betas = (β₁, β₂), eps and
    weight_decay, a step count, and two moment buffers per parameter updated by one fused
    backend call (``update_method``, with ``update_options``)."""

    counts_steps = True
    update_method: str
    buffers: tuple[str, str]
    update_options: dict[str, Any] = {}

    def __init__(self, params: ParamsT, lr: float, betas: tuple[float, float], eps: float,
                 weight_decay: float) -> None:
        super().__init__(
            params, {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay}
        )

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative(group, "lr", "eps", "weight_decay")
        check_betas(group)

    def state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", *self.buffers)

    def _update(
        self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        beta1, beta2 = group["betas"]
        step = self._next_step(state)
        getattr(param.backend_obj, self.update_method)(
            param.data,
            grad,
            *(self._buffer(state, name, param) for name in self.buffers),
            step=step,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            **self.update_options,
        )


class Adam(AdamFamily):
    """Adam (Kingma & Ba 2015; PyTorch's algorithm, weight decay added to the gradient).

    With gₜ = ∇L(θₜ₋₁) + λθₜ₋₁ and m₀ = v₀ = 0::

        mₜ = β₁ mₜ₋₁ + (1 − β₁) gₜ
        vₜ = β₂ vₜ₋₁ + (1 − β₂) gₜ ⊙ gₜ
        θₜ = θₜ₋₁ − η · m̂ₜ / (√v̂ₜ + ε),   m̂ₜ = mₜ / (1 − β₁ᵗ),  v̂ₜ = vₜ / (1 − β₂ᵗ)
    """

    update_method = "adam_update"
    buffers = ("exp_avg", "exp_avg_sq")
    update_options = {"decoupled_weight_decay": False}

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
