"""``xpgrad.nn.functional`` (``F``): stateless activations, layers, losses and penalties.

Everything here works on any backend: it goes through Tensor ops and the autograd Functions
of ``xpgrad.functions``, which call the tensor's backend.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..autograd import check_tensor
from ..counts import is_real
from ..creation import DEFAULT_DTYPE
from ..functions import activation as _act
from ..functions.conv import conv2d, max_pool2d
from ..functions.dropout import dropout
from ..functions.linalg import Linear as _Linear
from ..functions.linalg import check_activation
from ..functions.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    l1_loss,
    mse_loss,
    nll_loss,
    sparsemax_loss,
)
from ..functions.normalization import batch_norm
from ..functions.reduce import normalize_axis
from ..ops import where
from ..tensor import Tensor

__all__ = [
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "elu",
    "hard_threshold",
    "identity",
    "l1_loss",
    "l1_penalty",
    "l2_penalty",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool2d",
    "maxout",
    "mse_loss",
    "nll_loss",
    "prelu",
    "relu",
    "sigmoid",
    "softmax",
    "sparsemax",
    "sparsemax_loss",
    "tanh",
]


# ---- activations ------------------------------------------------------------------------------
def identity(x: Tensor) -> Tensor:
    """f(x) = x."""
    return x


def sigmoid(x: Tensor) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ), evaluated without overflow;  σ' = σ(1 − σ)."""
    return _act.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ);  tanh' = 1 − tanh²."""
    return _act.Tanh.apply(x)


def relu(x: Tensor) -> Tensor:
    """max(x, 0);  derivative [x > 0]."""
    return _act.Relu.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else s·x."""
    _check_real(negative_slope, "leaky_relu", "negative_slope")
    return _act.LeakyRelu.apply(x, negative_slope=negative_slope)


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else a·x with a learnable slope a (He et al. 2015): one slope shared by all
    channels (a 0-d weight or one of size 1) or one per channel (a 1-D weight), channels on
    axis 1 as in PyTorch. ∂y/∂a = x where x ≤ 0."""
    check_tensor(x, "prelu")
    check_tensor(weight, "prelu", "weight")
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be a scalar or 1-D, got shape {weight.shape}")
    if weight.size != 1:
        if x.ndim < 2 or x.shape[1] != weight.size:
            raise ValueError(
                f"prelu: {weight.size} slopes need input with {weight.size} channels on axis 1, "
                f"got {x.shape}"
            )
        weight = weight.reshape((1, weight.size) + (1,) * (x.ndim - 2))
    elif weight.ndim:
        weight = weight.reshape(())
    return where(x.data > 0, x, x * weight)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else α(eˣ − 1) (Clevert et al. 2015)."""
    _check_real(alpha, "elu", "alpha")
    return _act.Elu.apply(x, alpha=alpha)


def _check_real(value, op: str, name: str) -> None:
    if not is_real(value):
        raise TypeError(f"{op}: {name} must be a real number, got {value!r}")


def _one_axis(x: Tensor, axis, op: str) -> int:
    """The axis of a softmax-like op: one integer, as PyTorch's ``dim`` (negatives count from
    the end; 0 or -1 for a 0-d x); a float, None or a tuple raises, on every backend alike."""
    check_tensor(x, op)
    try:
        ax = normalize_axis(axis, max(x.ndim, 1))
    except TypeError:
        raise TypeError(f"{op}: axis must be one integer, got {axis!r}") from None
    return ax if x.ndim else -1


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """softmax(x)ᵢ = e^(xᵢ − max x) / Σⱼ e^(xⱼ − max x) along ``axis``: the max shift keeps
    logits of any magnitude finite."""
    return _act.Softmax.apply(x, axis=_one_axis(x, axis, "softmax"))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x)ᵢ = xᵢ − max x − log Σⱼ e^(xⱼ − max x) along ``axis``."""
    return _act.LogSoftmax.apply(x, axis=_one_axis(x, axis, "log_softmax"))


def sparsemax(x: Tensor, axis: int = -1) -> Tensor:
    """The Euclidean projection of x onto the probability simplex, max(x − τ, 0) with τ chosen so
    that the result sums to 1 (Martins & Astudillo 2016): like softmax, but exactly sparse.
    A 0-d x is one element: its sparsemax is 1, as its softmax."""
    axis = _one_axis(x, axis, "sparsemax")
    if x.ndim == 0:  # the backends sort along an axis, which a 0-d array lacks
        return _act.Sparsemax.apply(x.reshape(1), axis=0).reshape(())
    return _act.Sparsemax.apply(x, axis=axis)


def maxout(x: Tensor, pieces: int, axis: int = -1) -> Tensor:
    """Maxout (Goodfellow et al. 2013): axis of size m·k split into m groups of k consecutive
    pieces, y_j = max_{i<k} x_{j·k+i}. The gradient goes to each group's maximum."""
    check_tensor(x, "maxout")
    if x.ndim == 0:
        raise ValueError(f"maxout: input of shape {x.shape} has no axis to split into pieces")
    axis = _one_axis(x, axis, "maxout")
    size = x.shape[axis]
    if pieces < 1 or size % pieces:
        raise ValueError(
            f"maxout: axis {axis} of size {size} does not split into groups of {pieces} pieces"
        )
    grouped = x.reshape(x.shape[:axis] + (size // pieces, pieces) + x.shape[axis + 1 :])
    return grouped.max(axis=axis + 1)


def hard_threshold(x: Tensor, threshold: float = 0.0) -> Tensor:
    """The McCulloch–Pitts unit: +1 where x ≥ θ, −1 elsewhere (a sign unit; (y + 1)/2 is the 0/1
    step). Its derivative is 0 almost everywhere, so the result carries no gradient. It has the
    input's dtype, except bool and unsigned inputs, which cannot hold −1: they give float32, as
    the float-valued activations do for non-float inputs."""
    check_tensor(x, "hard_threshold")
    dtype = DEFAULT_DTYPE if x.dtype.kind in "bu" else x.dtype
    fired = x.backend_obj.xp.where(x.data >= threshold, 1, -1).astype(dtype)
    return Tensor._wrap(fired, x.backend_obj, False)


# ---- layers ---------------------------------------------------------------------------------
def linear(
    x: Tensor, weight: Tensor, bias: Tensor | None = None, activation: str = "identity"
) -> Tensor:
    """y = act(x·W + b), x (…, in), W (in, out), b (out,), in one fused backend op; ``activation``
    one of "identity", "relu", "sigmoid", "tanh" (fused into the GEMM's epilogue)."""
    check_tensor(x, "linear")
    check_tensor(weight, "linear", "weight")
    check_activation(activation, "linear")
    if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[0]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not match weight of shape {weight.shape}: "
            "expected input (..., in) and weight (in, out)"
        )
    if bias is not None and bias.shape != (weight.shape[1],):
        raise ValueError(
            f"linear: bias has shape {bias.shape}, expected ({weight.shape[1]},) for weight of "
            f"shape {weight.shape}"
        )
    if x.ndim != 2:
        leading = x.shape[:-1]
        rows = math.prod(leading)  # not -1: it is ambiguous for a (…, 0) input
        return linear(x.reshape(rows, x.shape[-1]), weight, bias, activation).reshape(
            *leading, weight.shape[1]
        )
    if bias is None:
        return _Linear.apply(x, weight, activation=activation)
    return _Linear.apply(x, weight, bias, activation=activation)


# ---- penalties ------------------------------------------------------------------------------
def l1_penalty(params: Iterable[Tensor]) -> Tensor:
    """Σ_w |w| over all given tensors (lasso; its gradient sign(w) drives weights to exactly 0)."""
    return _sum_over(params, lambda w: w.abs().sum())


def l2_penalty(params: Iterable[Tensor]) -> Tensor:
    """Σ_w w² over all given tensors (ridge / weight decay; gradient 2w)."""
    return _sum_over(params, lambda w: (w * w).sum())


def _sum_over(params, term):
    total = None
    for w in params:
        total = term(w) if total is None else total + term(w)
    if total is None:
        raise ValueError("penalty of an empty parameter list")
    return total
