"""Tensor-level functions (``xg.exp(t)``, ``xg.sum(t, axis)``, ...), also bound as Tensor methods.

Each validates its arguments and hands the work to a differentiable Function in functions/.
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

from . import autograd
from .functions import activation as act
from .functions import elementwise as ew
from .functions import linalg, reduce
from .functions import shape as shape_fn

Tensor = None  # set by tensor.py once the class exists


def lift(x, like):
    """``x`` as a Tensor on ``like``'s backend: Tensors pass through, raw arrays are wrapped,
    Python scalars become 0-d arrays of the dtype NumPy 2 gives ``like`` combined with the bare
    scalar (NEP 50): float32 stays float32, int8 + 100 stays int8 (a value out of range is
    NumPy's OverflowError), an integer tensor with a float scalar becomes float64."""
    if isinstance(x, Tensor):
        return x
    try:
        backend = like.backend_obj
    except AttributeError:  # (checked only here, off the path of every scalar operand)
        raise TypeError(f"expected at least one xpgrad Tensor operand, got {type(x).__name__} and "
                        f"{type(like).__name__} (wrap arrays with xg.tensor(...))") from None
    if isinstance(x, (bool, numbers.Number)) and not isinstance(x, complex):
        dtype = like.data.dtype if like.data.dtype.kind == "f" else np.result_type(like.data.dtype, x)
        return Tensor._wrap(backend.xp.asarray(x, dtype=dtype), backend, False)
    if backend.is_native(x):
        return Tensor._wrap(x, backend, False)
    return Tensor._wrap(backend.asarray(x), backend, False)


# ---- arithmetic ----------------------------------------------------------------------------
def add(a, b):
    return ew.Add.apply(a, lift(b, a)) if isinstance(a, Tensor) else ew.Add.apply(lift(a, b), b)


def sub(a, b):
    return ew.Sub.apply(a, lift(b, a)) if isinstance(a, Tensor) else ew.Sub.apply(lift(a, b), b)


def mul(a, b):
    return ew.Mul.apply(a, lift(b, a)) if isinstance(a, Tensor) else ew.Mul.apply(lift(a, b), b)


def div(a, b):
    return ew.Div.apply(a, lift(b, a)) if isinstance(a, Tensor) else ew.Div.apply(lift(a, b), b)


def neg(a):
    return ew.Neg.apply(a)


def power(a, b):
    """aᵇ; a constant Python exponent uses the cheaper PowScalar. A NumPy scalar exponent of a
    floating tensor keeps its dtype, as lift makes it for the other operators (float32 ** 2.0
    and float32 * np.float64(2) are float32; float32 ** np.float64(2) was float64)."""
    if isinstance(a, Tensor) and isinstance(b, numbers.Real) and not isinstance(b, bool):
        if isinstance(b, np.generic) and a.data.dtype.kind == "f":
            b = b.item()
        return ew.PowScalar.apply(a, p=b)
    return ew.Pow.apply(a, lift(b, a)) if isinstance(a, Tensor) else ew.Pow.apply(lift(a, b), b)


def matmul(a, b):
    """NumPy ``matmul``: 1-D operands are promoted to matrices and the extra axis removed."""
    a = a if isinstance(a, Tensor) else lift(a, b)
    b = lift(b, a)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got shapes {a.shape} and {b.shape}")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned ({k_a} != {k_b} in the "
            "contracted dimension)"
        )
    if a.ndim > 1 and b.ndim > 1:
        return linalg.MatMul.apply(a, b)
    # Promote a 1-D a to a row and a 1-D b to a column, then drop those axes from the result.
    row = a.reshape(1, k_a) if a.ndim == 1 else a
    col = b.reshape(k_b, 1) if b.ndim == 1 else b
    out = linalg.MatMul.apply(row, col)
    kept_rows = out.shape[-2:-1] if a.ndim > 1 else ()
    kept_cols = out.shape[-1:] if b.ndim > 1 else ()
    return out.reshape(out.shape[:-2] + kept_rows + kept_cols)


# ---- elementwise math ----------------------------------------------------------------------
def exp(t):
    return ew.Exp.apply(t)


def log(t):
    return ew.Log.apply(t)


def sqrt(t):
    return ew.Sqrt.apply(t)


def sin(t):
    return ew.Sin.apply(t)


def cos(t):
    return ew.Cos.apply(t)


def abs(t):  # noqa: A001 - the NumPy name
    return ew.Abs.apply(t)


def tanh(t):
    return act.Tanh.apply(t)


def sigmoid(t):
    return act.Sigmoid.apply(t)


def relu(t):
    return act.Relu.apply(t)


def sign(t):
    """sign(t) ∈ {−1, 0, 1}, no gradient."""
    return Tensor._wrap(t.backend_obj.xp.sign(t.data), t.backend_obj, False)


def maximum(a, b):
    a = a if isinstance(a, Tensor) else lift(a, b)
    return ew.Maximum.apply(a, lift(b, a))


def minimum(a, b):
    a = a if isinstance(a, Tensor) else lift(a, b)
    return ew.Minimum.apply(a, lift(b, a))


def clip(t, min=None, max=None):  # noqa: A002 - NumPy/PyTorch names
    """min(max(t, min), max). Bounds that are tensors or arrays broadcast against t and get
    gradients as in PyTorch's clamp: ∂/∂t where min ≤ t ≤ max, ∂/∂min where t < min, ∂/∂max
    where the result would exceed max (max wins where min > max, as NumPy). A NaN in the input
    or a bound gives NaN with no gradient to any of them, as np.clip and torch.clamp (and the
    scalar-bound path)."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if all(bound is None or isinstance(bound, numbers.Real) for bound in (min, max)):
        return ew.Clip.apply(t, lo=min, hi=max)
    xp = t.backend_obj.xp
    out, unordered = t, xp.isnan(t.data)
    if min is not None:
        low = lift(min, t)
        out = where(out < low, low, out)
        unordered = unordered | xp.isnan(low.data)
    if max is not None:
        high = lift(max, t)
        out = where(out > high, high, out)
        unordered = unordered | xp.isnan(high.data)
    if out.dtype.kind != "f":
        return out
    # a comparison with NaN is False, so the wheres above passed the input (or bound) through
    return where(unordered, math.nan, out)


def where(condition, a, b):
    """Elementwise ``a if condition else b``; the gradient flows to the chosen side. A boolean
    Tensor condition is an input of the op: writing it between the op and backward raises, as
    in PyTorch."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        # two scalars or arrays: a made as xg.tensor makes it (float32 for a float), on the
        # condition's backend; b follows a below
        a = Tensor(a, backend=condition.backend_obj if isinstance(condition, Tensor) else None)
    a = a if isinstance(a, Tensor) else lift(a, b)
    b = lift(b, a)
    cond = lift(condition, a)
    if cond.backend_obj is not a.backend_obj:
        raise autograd.backend_mismatch("where", cond.backend_obj, a.backend_obj)
    if cond.data.dtype != bool:
        cond = Tensor._wrap(cond.data.astype(bool), a.backend_obj, False)
    return ew.Where.apply(a, b, cond)


# ---- reductions ----------------------------------------------------------------------------
def sum(t, axis=None, keepdims=False):  # noqa: A001
    return reduce.Sum.apply(t, axis=axis, keepdims=keepdims)


def _reciprocal_count(t, axes, ddof=0):
    """1 / (n − ddof) for the n elements over ``axes``; ∞ when n − ddof ≤ 0, so that an empty
    mean is 0·∞ = NaN and a variance with ddof ≥ n is NaN or ∞, as in NumPy and PyTorch."""
    count = 1
    for ax in axes:
        count *= t.shape[ax]
    return 1.0 / (count - ddof) if count > ddof else math.inf


def mean(t, axis=None, keepdims=False):
    """Σt / n over ``axis``."""
    axes = reduce.normalize_axes(axis, t.ndim)
    return sum(t, axes, keepdims) * _reciprocal_count(t, axes)


def var(t, axis=None, keepdims=False, ddof=0):
    """Σ(t − mean)² / (n − ddof) (population variance by default, as NumPy)."""
    axes = reduce.normalize_axes(axis, t.ndim)
    centered = t - mean(t, axes, keepdims=True)
    return sum(centered * centered, axes, keepdims) * _reciprocal_count(t, axes, ddof)


def max(t, axis=None, keepdims=False):  # noqa: A001
    return reduce.Max.apply(t, axis=axis, keepdims=keepdims, use_min=False)


def min(t, axis=None, keepdims=False):  # noqa: A001
    return reduce.Max.apply(t, axis=axis, keepdims=keepdims, use_min=True)


def argmax(t, axis=None, keepdims=False):
    autograd.check_tensor(t, "argmax")
    return Tensor._wrap(t.backend_obj.xp.argmax(t.data, axis=axis, keepdims=keepdims), t.backend_obj, False)


def argmin(t, axis=None, keepdims=False):
    autograd.check_tensor(t, "argmin")
    return Tensor._wrap(t.backend_obj.xp.argmin(t.data, axis=axis, keepdims=keepdims), t.backend_obj, False)


# ---- shape ---------------------------------------------------------------------------------
def reshape(t, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return shape_fn.Reshape.apply(t, shape=shape)


def transpose(t, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        return shape_fn.Transpose.apply(t, axes=None)
    normalized = tuple(reduce.normalize_axis(a, t.ndim) for a in axes)
    if sorted(normalized) != list(range(t.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the {t.ndim} axes of shape {t.shape}")
    return shape_fn.Transpose.apply(t, axes=normalized)


def T(t):  # noqa: N802 - the API's name, as Tensor.T
    """``t.T``: the axes reversed (API.md lists it with the functions that are also ``xg.<name>``)."""
    return transpose(t)


def swapaxes(t, axis1, axis2):
    axis1, axis2 = reduce.normalize_axis(axis1, t.ndim), reduce.normalize_axis(axis2, t.ndim)
    axes = list(range(t.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return transpose(t, *axes)


def expand_dims(t, axis):
    """New size-1 axes at ``axis`` (an integer or a tuple, positions in the result, as NumPy)."""
    count = 1 if isinstance(axis, numbers.Integral) else len(tuple(axis))
    new_axes = reduce.normalize_axes(axis, t.ndim + count)
    sizes = iter(t.shape)
    return reshape(t, tuple(1 if i in new_axes else next(sizes) for i in range(t.ndim + count)))


def squeeze(t, axis=None):
    if axis is None:
        return reshape(t, tuple(n for n in t.shape if n != 1))
    axes = reduce.normalize_axes(axis, t.ndim)
    for ax in axes:
        if t.shape[ax] != 1:
            raise ValueError(f"squeeze: axis {ax} of shape {t.shape} has size {t.shape[ax]}, not 1")
    return reshape(t, tuple(n for i, n in enumerate(t.shape) if i not in axes))


def flatten(t, start_dim=0, end_dim=-1):
    """Merge dimensions start_dim..end_dim into one (all of them by default, as NumPy)."""
    if t.ndim == 0:
        return reshape(t, (1,))
    start, end = reduce.normalize_axis(start_dim, t.ndim), reduce.normalize_axis(end_dim, t.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {t.shape}")
    merged = 1
    for n in t.shape[start : end + 1]:
        merged *= n
    return reshape(t, t.shape[:start] + (merged,) + t.shape[end + 1 :])


def _as_tensors(tensors, name):
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name}: need at least one tensor")
    first = next((t for t in tensors if isinstance(t, Tensor)), None)
    if first is None:
        raise TypeError(f"{name}: expected Tensors")
    return [lift(t, first) for t in tensors]


def concatenate(tensors, axis=0):
    """NumPy ``concatenate``: along ``axis``, or of the flattened tensors when axis is None."""
    tensors = _as_tensors(tensors, "concatenate")
    if axis is None:
        tensors, axis = [t.reshape(-1) for t in tensors], 0
    ref = tensors[0].shape
    axis = reduce.normalize_axis(axis, len(ref))
    for t in tensors[1:]:
        if t.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(t.shape, ref)) if i != axis):
            raise ValueError(f"concatenate: shapes {ref} and {t.shape} differ outside axis {axis}")
    return shape_fn.Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    tensors = _as_tensors(tensors, "stack")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors must have the same shape, got {tensors[0].shape} and {t.shape}")
    return shape_fn.Stack.apply(*tensors, axis=axis)


def split(t, indices_or_sections, axis=0):
    """NumPy ``split``: into equal sections, or at the given indices; each part keeps its grad."""
    axis = reduce.normalize_axis(axis, t.ndim)
    n = t.shape[axis]
    try:
        sections = operator.index(indices_or_sections)
    except TypeError:
        bounds = [0, *(operator.index(i) for i in indices_or_sections), n]
    else:
        if sections <= 0 or n % sections:
            raise ValueError(f"split: axis {axis} of shape {t.shape} does not divide into {sections} equal parts")
        bounds = [i * (n // sections) for i in range(sections + 1)]  # n = 0: empty parts
    parts = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        index = [slice(None)] * t.ndim
        index[axis] = slice(start, stop)
        parts.append(t[tuple(index)])
    return parts


def pad(t, pad_width, mode="constant", value=0.0, *, constant_values=None):
    """Constant padding with ``value`` (PyTorch's name; ``constant_values``, NumPy's, is taken
    too). ``mode`` sits second as in ``np.pad`` and ``F.pad``; only "constant" is implemented.
    ``pad_width`` broadcasts to one (before, after) pair per axis as in ``np.pad``:
    ``n``, ``(n,)``, ``(before, after)``, ``((before, after),)``, or a pair (or ``(n,)``) for
    every axis; a 0-d tensor has no axis to pad and comes back as a copy. A Tensor value is
    refused, as in PyTorch's F.pad: it would be a constant of the op, and no gradient would
    reach it."""
    if not (isinstance(mode, str) and mode == "constant"):
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    if isinstance(value, Tensor) or isinstance(constant_values, Tensor):
        raise TypeError("pad: the padding value must be a number, not a Tensor (no gradient would "
                        "reach it); pass value=v.item() for a constant")
    if constant_values is not None:
        if value != 0.0:
            raise ValueError("pad: give the padding value as value or as constant_values, not both")
        value = constant_values
    widths = _pad_pairs(pad_width, t.ndim)
    if widths is None:
        raise ValueError(f"pad: pad_width {pad_width} does not fit a tensor of shape {t.shape}")
    if not widths:  # np.pad refuses an empty pad_width
        return t.clone()
    return shape_fn.Pad.apply(t, pad_width=widths, value=value)


def _pad_pairs(pad_width, ndim):
    """``pad_width`` broadcast from shape (1 or ndim, 1 or 2) to ndim (before, after) pairs of
    non-negative integers; None when it does not broadcast."""
    try:
        rows = [(operator.index(pad_width),)]
    except TypeError:
        rows = list(pad_width)
        try:
            rows = [tuple(operator.index(p) for p in rows)]  # one row: (n,) or (before, after)
        except TypeError:
            rows = [tuple(operator.index(p) for p in row) for row in rows]
    if len(rows) == 1:
        rows = rows * ndim
    pairs = tuple(row * 2 if len(row) == 1 else row for row in rows)
    if len(pairs) != ndim or any(len(pair) != 2 or pair[0] < 0 or pair[1] < 0 for pair in pairs):
        return None
    return pairs


def _index_operands(t, index):
    """(the Tensors among ``index``, ``index`` with their arrays): Tensor indices are used by
    value and are inputs of the op too, so writing one between the op and backward raises, as
    in PyTorch."""
    if isinstance(index, Tensor):
        return [index], index.data
    if isinstance(index, tuple):
        indices = [i for i in index if isinstance(i, Tensor)]
        if indices:
            return indices, tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, list):
        index = t.backend_obj.asarray(index)
        if index.size == 0:  # [] selects nothing, as in NumPy (asarray made it float64)
            index = index.astype(np.intp)
    return [], index


def getitem(t, index):
    """Basic and integer-array indexing."""
    indices, index = _index_operands(t, index)
    return shape_fn.GetItem.apply(t, *indices, index=index)


def setitem(t, index, value):
    """``t[index] = value`` recorded in the graph (t or value requires grad), in place as
    PyTorch's index_put_: t's memory is written and t takes the SetItem node, whose input is
    t's previous self. Refused, with the way out, where the graph could not follow the write:
    a leaf that requires grad, a t whose memory another tensor shares (a view of it or one it
    views, made with or without grad: that tensor would change behind the graph), a tensor an
    op of the graph has already used (that op's gradient would flow into the new values), and
    an integer or boolean t (no gradient). ``t[i] = t`` reads t's previous values, as NumPy."""
    what = f"t[...] = value with t of shape {t.shape} and dtype {t.dtype}"
    if t.data.dtype.kind != "f":
        raise RuntimeError(f"{what}: a value that requires grad would lose its gradient in a "
                           "non-floating tensor; assign value.detach()")
    if t.requires_grad and t._node is None:
        raise RuntimeError(f"{what}: t is a leaf that requires grad, and the write would cut it "
                           "from the graph; write it under `with xg.no_grad():`")
    if t._version is not None and t._version.shared:
        raise RuntimeError(f"{what}: t shares its memory with another tensor (a view of it or one it "
                           "views, made with or without grad, detach(), Tensor(t)), which would change "
                           "behind the graph; assign into a copy (t = t.clone()) or build the result "
                           "out of place (xg.where, xg.concatenate)")
    if t._used_by_graph:
        raise RuntimeError(f"{what}: an op of the graph has used t already, and its gradient would "
                           "flow into the new values; assign before using t, or into a copy (t.clone())")
    node = t._node
    previous = Tensor._wrap(t.data, t.backend_obj, t.requires_grad)
    previous._node = node
    # t's counter, made while t is still node's output: an op whose backward reads its output
    # (exp, softmax, ...) then sees the write and raises instead of reading the new values.
    previous._version = autograd.version_counter(t)
    value = previous if value is t else lift(value, t)  # Tensor.__setitem__ checked its backend
    given, used = value, value._used_by_graph
    if value.dtype != t.dtype and value.data.dtype.kind == "f":
        value = value.astype(t.dtype)  # differentiable: value's gradient comes back in its dtype
    indices, index = _index_operands(t, index)
    try:
        written = shape_fn.SetItem.apply(previous, value, *indices, index=index, in_place=True)
    except (IndexError, TypeError, ValueError):
        given._used_by_graph = used  # not by the cast's node, which nothing reaches now
        raise
    t._node, t.requires_grad = written._node, True
    if node is not None and node.retained is not None:  # t.retain_grad(): ∂L/∂ the new t
        t._node.retained, node.retained = node.retained, None
    autograd.mark_modified(t)

