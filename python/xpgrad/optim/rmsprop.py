"""RMSprop: gradients scaled by a running root mean square."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_bool, check_non_negative


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e; PyTorch's algorithm, Keras's defaults α = 0.9, ε = 1e-7).

    With gₜ = ∇L(θₜ₋₁) + λθₜ₋₁::

        sₜ = α sₜ₋₁ + (1 − α) gₜ ⊙ gₜ                   (s₀ = 0)
        dₜ = √sₜ + ε,  or centered: √max(sₜ − ḡₜ ⊙ ḡₜ, 0) + ε  with ḡₜ = α ḡₜ₋₁ + (1 − α) gₜ
        θₜ = θₜ₋₁ − η gₜ / dₜ,  or with momentum μ: bₜ = μ bₜ₋₁ + gₜ / dₜ,  θₜ = θₜ₋₁ − η bₜ

    The centered variance is clamped at 0, where PyTorch's can round below 0 and give NaN
    (a gradient that stays constant makes it exactly 0).
    """

    counts_steps = True  # in the state, as PyTorch's (no update reads it)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.001,
        alpha: float = 0.9,
        eps: float = 1e-7,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(
            params,
            {
                "lr": lr,
                "alpha": alpha,
                "eps": eps,
                "weight_decay": weight_decay,
                "momentum": momentum,
                "centered": centered,
            },
        )

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative(group, "lr", "alpha", "eps", "weight_decay", "momentum")
        check_bool(group, "centered")

    def state_keys(self, group: dict[str, Any]) -> tuple[str, ...]:
        return (("step", "square_avg") + (("momentum_buffer",) if group["momentum"] else ())
                + (("grad_avg",) if group["centered"] else ()))

    def _update(
        self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        momentum, centered = group["momentum"], group["centered"]
        param.backend_obj.rmsprop_update(
            param.data,
            grad,
            self._buffer(state, "square_avg", param),
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=momentum,
            momentum_buffer=self._buffer(state, "momentum_buffer", param) if momentum else None,
            centered=centered,
            grad_avg=self._buffer(state, "grad_avg", param) if centered else None,
        )
