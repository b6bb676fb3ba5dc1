"""Batch normalisation (Ioffe & Szegedy 2015), written with Tensor ops so that every gradient,
including those through the batch statistics, comes from autodiff."""

from __future__ import annotations

from ..autograd import no_grad
from ..tensor import Tensor


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """y = γ ⊙ (x − μ)/√(σ² + ε) + β per channel (axis 1 of (N, C) or (N, C, L, …)).

    Training: μ, σ² are the batch mean and (biased) variance over every axis but the channel
    one, and the running estimates move as PyTorch's do, with the unbiased variance:
    μ̂ ← (1 − m)·μ̂ + m·μ,  σ̂² ← (1 − m)·σ̂² + m·σ²·n/(n − 1)  (n values per channel).
    Evaluation (``training=False``): μ̂, σ̂² are used instead.
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects input of shape (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    axes = (0, *range(2, x.ndim))
    channel_shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // channels
        if count < 2:
            raise ValueError(
                "batch_norm: expected more than 1 value per channel when training, "
                f"got input {x.shape}"
            )
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                running_mean.data *= 1 - momentum
                running_mean.data += momentum * mean.data.reshape(channels)
                running_var.data *= 1 - momentum
                running_var.data += (momentum * count / (count - 1)) * var.data.reshape(channels)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in evaluation mode needs running_mean and running_var")
        mean = running_mean.reshape(channel_shape)
        var = running_var.reshape(channel_shape)
    y = (x - mean) / (var + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(channel_shape)
    if bias is not None:
        y = y + bias.reshape(channel_shape)
    return y
