"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_bool, check_non_negative


class SGD(Optimizer):
    """Stochastic gradient descent (PyTorch's algorithm).

    With gradient gₜ = ∇L(θₜ₋₁) + λθₜ₋₁ (weight decay λ), learning rate η, momentum μ and
    dampening τ::

        plain:     θₜ = θₜ₋₁ − η gₜ
        momentum:  bₜ = μ bₜ₋₁ + (1 − τ) gₜ   (b₁ = g₁),   θₜ = θₜ₋₁ − η bₜ
        Nesterov:  θₜ = θₜ₋₁ − η (gₜ + μ bₜ)

    Nesterov momentum needs μ > 0 and τ = 0. The positional order is the API's (lr, momentum,
    nesterov, weight_decay); ``dampening`` is keyword-only (PyTorch puts it, and weight_decay,
    before nesterov: a call in its order is refused by the bool check on nesterov).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        dampening: float = 0.0,
    ) -> None:
        super().__init__(
            params,
            {
                "lr": lr,
                "momentum": momentum,
                "dampening": dampening,
                "nesterov": nesterov,
                "weight_decay": weight_decay,
            },
        )

    def _validate_group(self, group: dict[str, Any]) -> None:
        check_non_negative(group, "lr", "momentum", "dampening", "weight_decay")
        check_bool(group, "nesterov", " (SGD's positional order is lr, momentum, nesterov, "
                   "weight_decay; dampening is keyword-only)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum > 0 and zero dampening")

    def _update(
        self, param: Tensor, grad: Any, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        momentum = group["momentum"]
        first_step = "momentum_buffer" not in state
        buffer = self._buffer(state, "momentum_buffer", param) if momentum else None
        param.backend_obj.sgd_update(
            param.data,
            grad,
            buffer,
            lr=group["lr"],
            momentum=momentum,
            dampening=group["dampening"],
            nesterov=group["nesterov"],
            weight_decay=group["weight_decay"],
            first_step=first_step,
        )
