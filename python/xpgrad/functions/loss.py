"""Loss functions. Softmax cross-entropy and the sparsemax loss are one fused backend op each
(per-row loss and its gradient in one pass); the others are short Tensor-op formulas.

Every loss takes ``reduction``: "mean" (over the N rows / all elements), "sum" or "none".
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd import Function, check_tensor, creating_graph
from ..counts import is_flag, is_real
from ..creation import DEFAULT_DTYPE
from ..tensor import Tensor
from .activation import LogSoftmax, Softmax, Sparsemax

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction: str) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """Mean or sum of the elementwise losses, or the losses themselves for "none"."""
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def check_floating(x: Tensor, op: str, name: str) -> None:
    """TypeError unless ``x`` is floating point: logits and log-probabilities (PyTorch raises
    likewise; a probability target cast to their integer dtype would be truncated)."""
    if x.dtype.kind != "f":
        raise TypeError(f"{op}: {name} must be floating point, got dtype {x.dtype}")


def on_backend(target, like: Tensor) -> Tensor:
    """The target as a Tensor on ``like``'s backend (Tensors, arrays and lists accepted), a
    Tensor's graph kept."""
    if not isinstance(target, Tensor):
        array = like.backend_obj.asarray(target)
        if array.dtype.kind not in "biuf":  # None, strings: NumPy object arrays (NaN losses)
            raise TypeError(f"a loss target must hold numbers (a Tensor, array, list or scalar), "
                            f"got {type(target).__name__} {target!r:.60}")
        return Tensor._wrap(array, like.backend_obj, False)
    return target if target.backend_obj is like.backend_obj else target.to(like.backend_obj)


def as_target(target, like: Tensor) -> Tensor:
    """The target as a constant Tensor on ``like``'s backend; floating targets take ``like``'s
    (floating) dtype, integer targets (class indices) stay integers. A Tensor target is
    detached, not copied: the losses take it as an input of their op, so writing it between the
    op and backward raises (as in PyTorch), unless a conversion here (dtype, backend, layout)
    copied it."""
    if isinstance(target, Tensor):
        target = target.detach()
    target = on_backend(target, like)
    return target.astype(like.dtype, copy=False) if target.dtype.kind in "fb" else target


def value_target(target, like: Tensor) -> Tensor:
    """The target as a Tensor of ``like``'s (floating) dtype and backend, its graph kept (the
    loss is differentiable in it)."""
    return on_backend(target, like).astype(like.dtype, copy=False)


def value_operands(pred: Tensor, target) -> tuple[Tensor, Tensor]:
    """Prediction and target of a loss on values (regression, 0/1 labels) in one floating dtype:
    a floating prediction keeps its own (integer labels and other float widths are cast to it);
    an integer or boolean one is promoted with the target as NumPy does, to at least the
    default float, so that a float target is not truncated (PyTorch promotes too)."""
    target = on_backend(target, pred)
    if pred.dtype.kind != "f":
        pred = pred.astype(np.result_type(pred.dtype, target.dtype, DEFAULT_DTYPE))
    return pred, target.astype(pred.dtype, copy=False)


def row_loss_target(target, logits: Tensor) -> Tensor:
    """The target of a fused row loss: a floating Tensor (probabilities, multi-label rows) keeps
    its graph, as the loss is differentiable in it; anything else as ``as_target``."""
    if isinstance(target, Tensor) and target.dtype.kind == "f":
        return value_target(target, logits)
    return as_target(target, logits)


class FusedRowLoss(Function):
    """Base of the fused row losses on logits Z (N, K) and a target (class indices (N,) or
    (N, K)), its two inputs: the backend returns the row losses ℓₙ and G = ∂ℓₙ/∂Zₙ together;
    backward is G scaled by ∂L/∂ℓₙ (1/N for "mean", 1 for "sum").

    With ``create_graph`` the gradient G = w·p(Z) − T is rebuilt from Tensor ops
    (``probabilities``) so that it can be differentiated again; w (N, 1) is the target's mass
    per row (``target_mass``: 1 unless the target is unnormalised). A probability target that
    requires grad gets ∂ℓₙ/∂tₙ (``target_gradient``, Tensor ops), as in PyTorch (distillation
    from a trained teacher).
    """

    __slots__ = ("reduction",)

    @property
    def reads_inputs(self):
        """The plain backward scales the G saved in forward and reads no logit (PyTorch keeps
        log_softmax's result likewise); a create_graph backward rebuilds G from the logits and
        the target. The target counts as read by ∂L/∂Z, as PyTorch saves it; ∂L/∂T reads both."""
        if creating_graph():
            return True
        return ((1,), (0, 1))

    def forward(self, logits, target, *, reduction, **options):
        self.reduction = reduction
        losses, grad = self.kernel(logits, target, **options)
        self.saved = (grad, options)  # options only for a create_graph backward (w)
        if reduction == "mean":
            return losses.mean()
        if reduction == "sum":
            return losses.sum()
        return losses

    def backward(self, gy):
        grad, options = self.saved
        logits, target = self.inputs
        if creating_graph() and self.needs_grad(1):
            grad = self.soft_target_gradient(logits, target, **options)  # a graph through T too
        elif creating_graph():
            p = self.probabilities(logits)
            mass = self.target_mass(target.data, **options)
            if mass is not None:
                p = p * mass
            constant = p.data - grad  # T = w·p − G: the (smoothed / normalised) target
            grad = p - constant
        else:
            gy = gy.data
        n = logits.shape[0]
        if self.reduction == "none":
            gy = gy.reshape(n, 1)
        elif self.reduction == "mean":
            gy = gy / n
        if not self.needs_grad(1):
            return (grad * gy,)
        return grad * gy, self.target_gradient(logits, target, **options) * gy

    def kernel(self, logits, target, **options):
        """(row losses (N,), gradient (N, K)) from the backend's fused op."""
        raise NotImplementedError

    def probabilities(self, logits: Tensor) -> Tensor:
        """p(Z) with Tensor ops, for the differentiable gradient w·p − T."""
        raise NotImplementedError

    def target_mass(self, target, **options):
        """w = Σₖ tₙₖ per row as an (N, 1) array, or None where it is 1 for every row."""
        return None

    @staticmethod
    def check_target(rows: Tensor, shape: tuple) -> None:
        """Validate a target given like the logits, as rows (N·d₁·…, K) (``shape``: the user's,
        for the message); any is accepted unless the loss says otherwise."""

    def target_gradient(self, logits: Tensor, target: Tensor, **options) -> Tensor:
        """∂ℓₙ/∂tₙ (N, K) for a probability target, with Tensor ops."""
        raise NotImplementedError

    def soft_target_gradient(self, logits: Tensor, target: Tensor, **options) -> Tensor:
        """G = ∂ℓₙ/∂zₙ for a probability target, with Tensor ops in Z and T both (a create_graph
        backward where the target requires grad too)."""
        raise NotImplementedError


class CrossEntropy(FusedRowLoss):
    """ℓₙ = −Σₖ tₙₖ log softmax(zₙ)ₖ with t one-hot (class indices) or probabilities (not
    necessarily summing to 1), smoothed as (1−ε)·t + ε/K;  ∂ℓₙ/∂zₙ = softmax(zₙ)·Σₖtₙₖ − tₙ."""

    __slots__ = ()

    def kernel(self, logits, target, label_smoothing=0.0):
        return self.backend.cross_entropy(logits, target, label_smoothing)

    def probabilities(self, logits):
        return Softmax.apply(logits, axis=1)

    def target_mass(self, target, label_smoothing=0.0):
        if target.ndim == 1:  # class indices
            return None
        return (1 - label_smoothing) * target.sum(axis=1, keepdims=True) + label_smoothing

    def target_gradient(self, logits, target, label_smoothing=0.0):
        """∂ℓₙ/∂tₙ = −(1−ε)·log softmax(zₙ)."""
        return LogSoftmax.apply(logits, axis=1) * -(1 - label_smoothing)

    def soft_target_gradient(self, logits, target, label_smoothing=0.0):
        """G = softmax(z)·Σₖt′ₖ − t′ with t′ = (1−ε)·t + ε/K."""
        smoothed = target * (1 - label_smoothing) + label_smoothing / logits.shape[1]
        return Softmax.apply(logits, axis=1) * smoothed.sum(axis=1, keepdims=True) - smoothed


class SparsemaxLoss(FusedRowLoss):
    """ℓₙ = −qᵀz + ½ Σ_{j∈S(z)} (z_j² − τ²) + ½‖q‖² (Martins & Astudillo 2016, eq. 14) with
    q = t/Σt (one-hot for class indices, normalised 0/1 rows for multi-label);
    ∂ℓₙ/∂zₙ = sparsemax(zₙ) − q."""

    __slots__ = ()

    def kernel(self, logits, target):
        return self.backend.sparsemax_loss(logits, target)

    def probabilities(self, logits):
        return Sparsemax.apply(logits, axis=1)

    @staticmethod
    def check_target(rows, shape):
        """Every row must be nonnegative and name at least one label: otherwise q = t/Σt leaves
        the simplex or does not exist, and the backends report a loss clamped to 0 with a
        nonzero gradient. A row holding NaN is neither: its loss and gradient stay NaN."""
        t = rows.data
        negative = int((t < 0).sum())
        if negative:
            raise ValueError(
                f"sparsemax_loss: target entries must be nonnegative (0/1 labels or "
                f"probabilities), got {negative} negative in the target of shape {shape}"
            )
        unlabelled = t.sum(axis=1) == 0
        if bool(unlabelled.any()):
            raise ValueError(
                f"sparsemax_loss: every row of a multi-label target must name at least one label; "
                f"{int(unlabelled.sum())} of the target of shape {shape} name none"
            )

    def target_gradient(self, logits, target):
        """With q = t/s, s = Σt: ∂ℓ/∂q = q − z, so ∂ℓ/∂tⱼ = (gⱼ − Σᵢ gᵢqᵢ)/s for g = q − z."""
        mass = target.sum(axis=1, keepdims=True)
        q = target / mass
        g = q - logits
        return (g - (g * q).sum(axis=1, keepdims=True)) / mass

    def soft_target_gradient(self, logits, target):
        """G = sparsemax(z) − t/Σt."""
        return Sparsemax.apply(logits, axis=1) - target / target.sum(axis=1, keepdims=True)


class BinaryCrossEntropy(Function):
    """ℓ = −[t·log p + (1 − t)·log(1 − p)] for inputs (p, t), each log clamped at −100 as PyTorch
    does so that p ∈ {0, 1} gives a finite loss;  ∂ℓ/∂p = (p − t) / max(p(1 − p), 10⁻¹²),
    ∂ℓ/∂t = log(1 − p) − log p (the clamped logs)."""

    __slots__ = ()

    def forward(self, p, target):
        return -(target * self._clamped_log(p) + (1 - target) * self._clamped_log1m(p))

    def _clamped_log(self, a):
        """max(log a, −100), without taking log 0: a is floored at the dtype's smallest
        subnormal, whose log (−103.3 in float32) the clamp then lifts to −100. (A floor of e⁻¹⁰⁰
        rounds to the float32 subnormal 3.78e-44, whose log is −99.983, not −100.)"""
        xp = self.backend.xp
        tiny = xp.asarray(xp.finfo(a.dtype).smallest_subnormal, dtype=a.dtype)
        return xp.maximum(xp.log(xp.maximum(a, tiny)), -100)

    def _clamped_log1m(self, p):
        """max(log(1 − p), −100) as log1p(−p): exact for small p, where 1 − p rounds to 1 (a
        float32 p below 3e-8 lost its whole loss); p = 1 gives −∞, clamped, without a warning."""
        xp = self.backend.xp
        with np.errstate(divide="ignore"):
            return xp.maximum(xp.log1p(-p), -100)

    def backward(self, gy):
        p, target = self.inputs
        grad_p = gy * (p - target) / (p * (1 - p)).maximum(1e-12)
        if not self.needs_grad(1):
            return (grad_p,)
        tiny = float(self.backend.xp.finfo(p.dtype).smallest_subnormal)
        log_p, log_q = (a.maximum(tiny).log().maximum(-100) for a in (p, 1 - p))
        return grad_p, gy * (log_q - log_p)


class BinaryCrossEntropyWithLogits(Function):
    """ℓ = −[t·log σ(x) + (1 − t)·log(1 − σ(x))] = (1 − t)·x if x ≥ 0 else −t·x, plus
    log(1 + e^(−|x|)), for inputs (x, t): it never overflows, and at x = ±∞ it is ∞ where the
    loss is, not max(x, 0) − x·t = ∞ − ∞ (0·∞ at t = 1, x = +∞ or t = 0, x = −∞ stays NaN, as
    in PyTorch);  ∂ℓ/∂x = σ(x) − t, ∂ℓ/∂t = −x."""

    __slots__ = ()

    def forward(self, x, target):
        xp = self.backend.xp
        return xp.where(x >= 0, (1 - target) * x, -target * x) + xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, gy):
        x, target = self.inputs
        grad_x = gy * (x.sigmoid() - target)
        return (grad_x, -gy * x) if self.needs_grad(1) else (grad_x,)


def check_class_indices(target: Tensor, k: int) -> None:
    """ValueError unless every class index of ``target`` lies in [0, k)."""
    indices = target.data
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= k):
        raise ValueError(
            f"class indices must lie in [0, {k}), "
            f"got values in [{int(indices.min())}, {int(indices.max())}]"
        )


def classes_last(x):
    """(N, K, d₁, …) → (N·d₁·…, K): every position one row, its classes last (Tensor or array);
    one sample (K,) is one row (1, K); a 2-D x is returned as it is (no graph ops)."""
    if x.ndim == 1:
        return x.reshape(1, x.shape[0])
    if x.ndim == 2:
        return x
    axes = (0, *range(2, x.ndim), 1)
    rows = x.shape[0] * math.prod(x.shape[2:])  # not -1: it is ambiguous when K = 0
    return x.transpose(*axes).reshape(rows, x.shape[1])


def fused_row_loss(function, op: str, logits: Tensor, target, reduction: str, **options) -> Tensor:
    """Apply a FusedRowLoss on logits (N, K) or (N, K, d₁, …) (classes on axis 1, as PyTorch),
    or on one unbatched sample (K,).

    ``target``: class indices (N, d₁, …), or a distribution / 0-1 matrix shaped like the logits
    (for one sample: a 0-d class index or a (K,) row). "none" gives the losses in the shape of
    the class indices.
    """
    check_tensor(logits, op, "logits")
    check_reduction(reduction)
    check_floating(logits, op, "logits")
    if logits.ndim == 0:
        raise ValueError(f"{op}: logits must have shape (K,), (N, K) or (N, K, d1, ...), got ()")
    if logits.shape[1 if logits.ndim > 1 else 0] == 0:  # as the cpu kernels say, on every backend
        raise ValueError(f"{op}: logits {logits.shape} has no classes")
    target = row_loss_target(target, logits)
    index_shape = logits.shape[:1] + logits.shape[2:] if logits.ndim > 1 else ()
    rows = classes_last(logits)  # every position one row
    if target.shape == logits.shape:
        target_rows = classes_last(target.astype(logits.dtype, copy=False))
        function.check_target(target_rows, target.shape)
    elif target.shape != index_shape:
        raise ValueError(
            f"{op}: target of shape {target.shape} does not match logits of shape "
            f"{logits.shape} (expected class indices of shape {index_shape} or a target of shape "
            f"{logits.shape})"
        )
    elif target.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: a target of shape {target.shape} for logits {logits.shape} "
            "must hold integer class indices"
        )
    else:
        target_rows = target if target.ndim == 1 else target.reshape(-1)  # (N,): no Reshape op
        check_class_indices(target_rows, rows.shape[1])
    loss = function.apply(rows, target_rows, reduction=reduction, **options)
    if reduction == "none" and loss.shape != index_shape:
        loss = loss.reshape(index_shape)  # not (-1, d₁, …): ambiguous when a dᵢ is 0
    return loss


def cross_entropy(
    logits: Tensor, target, label_smoothing: float = 0.0, reduction: str = "mean"
) -> Tensor:
    """Softmax cross-entropy from logits: −Σₖ tₖ log softmax(z)ₖ with t one-hot (class indices)
    or probabilities, smoothed to (1−ε)·t + ε/K; one fused backend op (loss and its gradient)."""
    if not (is_real(label_smoothing) and 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"label_smoothing must be a number in [0, 1], got {label_smoothing!r}")
    return fused_row_loss(CrossEntropy, "cross_entropy", logits, target, reduction,
                          label_smoothing=label_smoothing)


def sparsemax_loss(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """Sparsemax loss (Martins & Astudillo 2016): −qᵀz + ½ Σ_{j∈S(z)} (z_j² − τ²) + ½‖q‖², with
    class indices or a multi-label 0/1 matrix (or soft targets) normalised to q = t/Σt; gradient
    sparsemax(z) − q.

    Every target row must be nonnegative and name at least one label (an all-zero row has no
    q); a row holding NaN gives a NaN loss and gradient, as on every backend.
    """
    return fused_row_loss(SparsemaxLoss, "sparsemax_loss", logits, target, reduction)


def nll_loss(log_probs: Tensor, target, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices, ℓ = −log p_t, from log-probabilities with the
    classes on axis 1 as PyTorch: (N, K) with targets (N,), (N, K, d₁, …) with (N, d₁, …), or
    one sample (K,) with a 0-d target. "none" gives the losses in the target's shape."""
    check_tensor(log_probs, "nll_loss", "log_probs")
    check_reduction(reduction)
    check_floating(log_probs, "nll_loss", "log_probs")
    target = as_target(target, log_probs)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"nll_loss: target must hold integer class indices, got dtype {target.dtype}"
        )
    if log_probs.ndim == 0:
        raise ValueError("nll_loss: log_probs must have shape (K,), (N, K) or (N, K, d1, ...), "
                         "got ()")
    expected = () if log_probs.ndim == 1 else log_probs.shape[:1] + log_probs.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"nll_loss: target of shape {target.shape} does not match log_probs of shape "
            f"{log_probs.shape} (expected target shape {expected})"
        )
    rows = classes_last(log_probs)
    flat = target.reshape(-1)
    check_class_indices(flat, rows.shape[1])
    losses = -rows[rows.backend_obj.xp.arange(flat.shape[0]), flat]
    if losses.shape != expected:
        losses = losses.reshape(expected)
    return reduce_loss(losses, reduction)


def mse_loss(pred: Tensor, target, half: bool = False, reduction: str = "mean") -> Tensor:
    """Squared error (f − y)², or ½(f − y)² with ``half`` (½‖f − y‖², whose gradient is f − y)."""
    check_tensor(pred, "mse_loss")
    if not is_flag(half):
        raise TypeError(f"mse_loss: half must be True or False, got {half!r}")
    pred, target = _broadcast_operands(pred, target)
    diff = pred - target
    squared = diff * diff
    return reduce_loss(squared * 0.5 if half else squared, reduction)


def l1_loss(pred: Tensor, target, reduction: str = "mean") -> Tensor:
    """Absolute error |f − y| (gradient sign(f − y), 0 at 0)."""
    check_tensor(pred, "l1_loss")
    pred, target = _broadcast_operands(pred, target)
    return reduce_loss((pred - target).abs(), reduction)


def binary_cross_entropy(probs: Tensor, target, reduction: str = "mean") -> Tensor:
    """−[t·log p + (1 − t)·log(1 − p)] on probabilities, logs clamped at −100 (as PyTorch).

    Every p must lie in [0, 1] (otherwise a log's argument is negative and the loss can be too).
    """
    check_tensor(probs, "binary_cross_entropy")
    check_reduction(reduction)
    p = probs.data
    if not bool(((p >= 0) & (p <= 1)).all()):  # written so that NaN fails too
        raise ValueError(
            f"binary_cross_entropy: all elements of input should be between 0 and 1, got values "
            f"in [{float(p.min())}, {float(p.max())}]"
        )
    probs, target = _same_shape(*value_operands(probs, target))
    return reduce_loss(BinaryCrossEntropy.apply(probs, target), reduction)


def binary_cross_entropy_with_logits(logits: Tensor, target, reduction: str = "mean") -> Tensor:
    """BCE of σ(x) from the logits x without overflow: max(x, 0) − x·t + log(1 + e^(−|x|))."""
    check_tensor(logits, "binary_cross_entropy_with_logits", "logits")
    check_reduction(reduction)
    logits, target = _same_shape(*value_operands(logits, target))
    return reduce_loss(BinaryCrossEntropyWithLogits.apply(logits, target), reduction)


def _broadcast_operands(pred: Tensor, target) -> tuple[Tensor, Tensor]:
    """``value_operands``; a target shape other than the prediction's is broadcast, with
    PyTorch's UserWarning (a (N, 1) prediction against a (N,) target silently gives (N, N)
    errors)."""
    pred, target = value_operands(pred, target)
    if target.shape != pred.shape:
        warnings.warn(
            f"Using a target size {target.shape} that is different to the input size "
            f"{pred.shape}. This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    return pred, target


def _same_shape(pred: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    if target.shape != pred.shape:
        raise ValueError(
            f"target of shape {target.shape} does not match input of shape {pred.shape}"
        )
    return pred, target
