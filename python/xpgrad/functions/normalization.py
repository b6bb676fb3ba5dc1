"""Batch normalisation (Ioffe & Szegedy 2015), written with Tensor ops so that every gradient,
including those through the batch statistics, comes from autodiff."""

from __future__ import annotations

import math

from ..autograd import check_tensor, no_grad
from ..backends.errors import BackendMismatchError
from ..tensor import Tensor


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """y = γ ⊙ (x − μ)/√(σ² + ε) + β per channel (axis 1 of (N, C) or (N, C, L, …)).

    Training: μ, σ² are the batch mean and (biased) variance over every axis but the channel
    one, and the running estimates move as PyTorch's do, with the unbiased variance:
    μ̂ ← (1 − m)·μ̂ + m·μ,  σ̂² ← (1 − m)·σ̂² + m·σ²·n/(n − 1)  (n values per channel).
    Evaluation (``training=False``, the default as in PyTorch): μ̂, σ̂² are used and left as
    they are. Running statistics may be None only when training. Every argument is checked
    (type, backend, shape; floating-point running statistics) before the running statistics
    change.
    """
    check_tensor(x, "batch_norm")
    if x.ndim < 2:
        raise ValueError(f"batch_norm expects input of shape (N, C, ...), got {x.shape}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is None:
            continue
        check_tensor(t, "batch_norm", name)
        if t.backend_obj is not x.backend_obj:
            raise BackendMismatchError(
                f"batch_norm: {name} lives on {t.backend!r}, the input on {x.backend!r}; "
                "move it with .to(name)"
            )
        if name.startswith("running") and t.dtype.kind != "f":
            raise TypeError(f"batch_norm: {name} must be floating point, got {t.dtype}")
        if t.shape != (channels,):
            raise ValueError(
                f"batch_norm: {name} has shape {t.shape}, expected ({channels},) for input "
                f"{x.shape} with {channels} channels"
            )
    axes = (0, *range(2, x.ndim))
    channel_shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = math.prod(x.shape[ax] for ax in axes)  # values per channel
        if count == 1:
            raise ValueError(
                "batch_norm: expected more than 1 value per channel when training, "
                f"got input {x.shape}"
            )
        if count == 0:  # nothing to normalise: an empty result, running statistics kept (PyTorch)
            return _scale_shift(x.clone(), weight, bias, channel_shape)
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
    return _scale_shift((x - mean) / (var + eps).sqrt(), weight, bias, channel_shape)


def _scale_shift(y: Tensor, weight: Tensor | None, bias: Tensor | None, channel_shape) -> Tensor:
    """γ ⊙ y + β, either left out when None."""
    if weight is not None:
        y = y * weight.reshape(channel_shape)
    if bias is not None:
        y = y + bias.reshape(channel_shape)
    return y
