"""Batch normalisation layers: per-channel normalisation with learnable scale and shift, and
running statistics for evaluation kept exactly as PyTorch keeps them."""

from __future__ import annotations

from ..counts import as_count, is_real
from ..creation import ones, tensor, zeros
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


class _BatchNorm(Module):
    """y = γ ⊙ (x − μ)/√(σ² + ε) + β per channel (axis 1); subclasses name the input ranks.

    Training uses the batch statistics and, with ``track_running_stats``, updates the buffers
    ``running_mean`` (initially 0) and ``running_var`` (initially 1) with
    x̂ ← (1 − m)·x̂ + m·x_batch, the variance being the unbiased one, and counts the batches in
    ``num_batches_tracked``; m is ``momentum``, or 1/num_batches_tracked when momentum is None
    (the cumulative average of every batch seen). Evaluation uses the running statistics, or the
    batch's own without ``track_running_stats``.
    """

    _absent_from_old_checkpoints = ("num_batches_tracked",)  # not saved before 2026-12
    input_ranks: tuple[int, ...]
    input_layout: str

    def __init__(
        self,
        num_features: int,
        momentum: float | None = 0.1,
        eps: float = 1e-5,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype="float32",
        backend=None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        if momentum is not None and not (is_real(momentum) and 0 <= momentum <= 1):
            raise ValueError(f"{name}: momentum must be a number in [0, 1] or None (a cumulative "
                             f"average), got {momentum!r}")
        if not (is_real(eps) and eps > 0):
            raise ValueError(f"{name}: eps must be a number > 0, got {eps!r}")
        self.num_features = as_count(num_features, f"{name}: num_features")
        self.momentum = momentum
        self.eps = eps
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, backend=backend))
            self.bias = Parameter(zeros(num_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, backend=backend))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, backend=backend))
            self.register_buffer("num_batches_tracked", tensor(0, dtype="int64", backend=backend))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self.input_ranks or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input "
                f"{self.input_layout.format(C=self.num_features)}, got {x.shape}"
            )
        counting = self.training and self.track_running_stats
        momentum = self.momentum
        if counting and momentum is None:  # (read only then: on a GPU, item() waits for it)
            momentum = 1.0 / (int(self.num_batches_tracked.item()) + 1)
        y = F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or not self.track_running_stats,
            momentum=momentum,
            eps=self.eps,
        )
        if counting:  # after batch_norm, which checks the input before any statistic changes
            self.num_batches_tracked.data += 1
        return y

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of inputs (N, C) or (N, C, L), statistics over N (and L)."""

    input_ranks = (2, 3)
    input_layout = "(N, {C}) or (N, {C}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), statistics over N, H and W per channel."""

    input_ranks = (4,)
    input_layout = "(N, {C}, H, W)"
