"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_non_negative


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011; PyTorch's algorithm).

    With gₜ = ∇L(θₜ₋₁) + λθₜ₋₁ and Gₜ the running sum of squares (G₀ = initial_accumulator_value)::

        ηₜ = η / (1 + (t − 1)·lr_decay)
        Gₜ = Gₜ₋₁ + gₜ ⊙ gₜ
        θₜ = θₜ₋₁ − ηₜ · gₜ / (√Gₜ + ε)

    The positional order is the API's (lr, eps); PyTorch's lr_decay, weight_decay and
    initial_accumulator_value, which it puts between them, are keyword-only.
    """

    counts_steps = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.01,
        eps: float = 1e-10,
        *,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
    ) -> None:
        super().__init__(
            params,
            {
                "lr": lr,
                "lr_decay": lr_decay,
                "weight_decay": weight_decay,
                "initial_accumulator_value": initial_accumulator_value,
                "eps": eps,
            },
        )

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative(
            group, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"
        )

    def state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "sum")

    def _update(
        self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        sum_sq = self._buffer(state, "sum", param, fill=group["initial_accumulator_value"])
        step = self._next_step(state)
        lr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        param.backend_obj.adagrad_update(
            param.data, grad, sum_sq, lr=lr, eps=group["eps"], weight_decay=group["weight_decay"]
        )
