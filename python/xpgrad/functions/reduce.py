"""Reductions. Each backward broadcasts ∂L/∂y back over the reduced axes."""

from __future__ import annotations

import operator

from ..autograd import Function
from .shape import broadcast_to


class AxisError(ValueError, IndexError):
    """An axis outside an array's dimensions (NumPy's ``AxisError`` is also both)."""


def normalize_axis(axis, ndim: int) -> int:
    """One axis (any integer type, negatives counted from the end) as an index in [0, ndim)."""
    try:
        ax = operator.index(axis)
    except TypeError:
        raise TypeError(f"axis must be an integer, got {axis!r}") from None
    if not -ndim <= ax < ndim:
        raise AxisError(f"axis {ax} is out of bounds for an array of dimension {ndim}")
    return ax % ndim


def normalize_axes(axis, ndim: int):
    """``axis`` (None, an integer or a sequence of them) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    try:
        axes = (operator.index(axis),)
    except TypeError:
        try:
            axes = tuple(axis)
        except TypeError:
            raise TypeError(f"axis must be None, an integer or a tuple of integers, got {axis!r}") from None
    normalized = [normalize_axis(ax, max(ndim, 1)) for ax in axes]
    if len(set(normalized)) < len(normalized):
        raise ValueError(f"repeated axis in {tuple(axes)} for an array of dimension {ndim}")
    # NumPy and PyTorch take axis 0 / -1 of a 0-d array as "reduce over nothing".
    return tuple(sorted(normalized)) if ndim else ()


def _expand_reduced(gy, in_shape, axes, keepdims):
    """Reinsert the reduced axes as size-1 dimensions so ``gy`` broadcasts against the input."""
    if keepdims or not axes:
        return gy
    shape = list(in_shape)
    for ax in axes:
        shape[ax] = 1
    return gy.reshape(tuple(shape))


class Sum(Function):
    """y = Σ_axes a;  ∂L/∂a = ∂L/∂y broadcast to a's shape."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a, axis, keepdims):
        axes = normalize_axes(axis, a.ndim)
        self.saved = (axes, keepdims)
        return a.sum(axis=axes, keepdims=keepdims)

    def backward(self, gy):
        (a,) = self.inputs
        axes, keepdims = self.saved
        return (broadcast_to(_expand_reduced(gy, a.shape, axes, keepdims), a.shape),)


class Max(Function):
    """y = max_axes a;  the gradient goes to the maximal elements, split evenly between ties.
    Where the maximum is NaN (a NaN was reduced), it goes to the NaN elements, as in PyTorch."""

    __slots__ = ()
    reads_output = True

    def forward(self, a, axis, keepdims, use_min):
        xp = self.backend.xp
        axes = normalize_axes(axis, a.ndim)
        if any(a.shape[ax] == 0 for ax in axes):
            raise ValueError(f"{'min' if use_min else 'max'} over an empty axis of shape {a.shape}")
        y = a.min(axis=axes, keepdims=True) if use_min else a.max(axis=axes, keepdims=True)
        self.saved = (axes, keepdims, y)
        return y if keepdims else xp.squeeze(y, axis=axes)

    def backward(self, gy):
        a = self.inputs[0].data
        axes, keepdims, y = self.saved
        # max/min propagate NaN, so a group holds a NaN exactly when its y is NaN: the NaN
        # elements are chosen there without testing y (no device sync on a GPU).
        chosen = ((a == y) | (a != a)).astype(a.dtype)
        share = chosen / chosen.sum(axis=axes, keepdims=True)
        return (_expand_reduced(gy, a.shape, axes, keepdims) * share,)
