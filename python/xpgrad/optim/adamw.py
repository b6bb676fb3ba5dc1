"""AdamW: Adam with decoupled weight decay."""

from __future__ import annotations

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019; PyTorch's algorithm).

    The decay shrinks the weights directly instead of entering the moments (m₀ = v₀ = 0)::

        θ′ = θₜ₋₁ (1 − ηλ)
        mₜ = β₁ mₜ₋₁ + (1 − β₁) gₜ,   vₜ = β₂ vₜ₋₁ + (1 − β₂) gₜ ⊙ gₜ,   gₜ = ∇L(θₜ₋₁)
        θₜ = θ′ − η · m̂ₜ / (√v̂ₜ + ε),   m̂ₜ = mₜ / (1 − β₁ᵗ),  v̂ₜ = vₜ / (1 − β₂ᵗ)
    """

    update_options = {"decoupled_weight_decay": True}

    def __init__(
        self,
        params: ParamsT,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
