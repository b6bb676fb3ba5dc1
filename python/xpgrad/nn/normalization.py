"""BatchNorm1d: per-feature normalisation with learnable scale and shift, and running statistics
for evaluation kept exactly as PyTorch keeps them."""

from __future__ import annotations

from ..creation import ones, zeros
from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter


class BatchNorm1d(Module):
    """y = γ ⊙ (x − μ)/√(σ² + ε) + β over inputs (N, C) or (N, C, L).

    Training uses the batch statistics and updates the buffers ``running_mean`` (initially 0)
    and ``running_var`` (initially 1) with x̂ ← (1 − momentum)·x̂ + momentum·x_batch, the
    variance being the unbiased one; evaluation uses the running statistics.
    """

    def __init__(
        self,
        num_features: int,
        momentum: float = 0.1,
        eps: float = 1e-5,
        affine: bool = True,
        dtype="float32",
        backend=None,
    ) -> None:
        super().__init__()
        if not (isinstance(momentum, (int, float)) and 0 <= momentum <= 1):
            raise ValueError(f"BatchNorm1d: momentum must be a number in [0, 1], got {momentum!r} "
                             "(PyTorch's momentum=None, a cumulative average, is not supported)")
        if not (isinstance(eps, (int, float)) and eps > 0):
            raise ValueError(f"BatchNorm1d: eps must be > 0, got {eps!r}")
        self.num_features = num_features
        self.momentum = momentum
        self.eps = eps
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, backend=backend))
            self.bias = Parameter(zeros(num_features, dtype=dtype, backend=backend))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.register_buffer("running_mean", zeros(num_features, dtype=dtype, backend=backend))
        self.register_buffer("running_var", ones(num_features, dtype=dtype, backend=backend))

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects input (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got {x.shape}"
            )
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training,
            momentum=self.momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
