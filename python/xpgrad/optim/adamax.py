"""Adamax: Adam with the infinity norm in place of the second moment."""

from __future__ import annotations

from .adam import AdamFamily
from .optimizer import ParamsT


class Adamax(AdamFamily):
    """Adamax (Kingma & Ba 2015, §7.1; PyTorch's algorithm).

    With gₜ = ∇L(θₜ₋₁) + λθₜ₋₁ and m₀ = u₀ = 0::

        mₜ = β₁ mₜ₋₁ + (1 − β₁) gₜ
        uₜ = max(β₂ uₜ₋₁, |gₜ| + ε)
        θₜ = θₜ₋₁ − η / (1 − β₁ᵗ) · mₜ / uₜ
    """

    update_method = "adamax_update"
    buffers = ("exp_avg", "exp_inf")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.002,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)
