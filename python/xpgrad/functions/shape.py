"""Shape and indexing ops. Their derivatives move gradient values without changing them:
each backward is the adjoint rearrangement (reshape back, inverse permutation, scatter-add)."""

from __future__ import annotations

from ..autograd import Function


def sum_to(t, shape):
    """Sum ``t`` down to ``shape`` (undoing NumPy broadcasting); returns ``t`` if already there."""
    if t.shape == shape:
        return t
    return SumTo.apply(t, shape=shape)


def broadcast_to(t, shape):
    """``t`` broadcast to ``shape`` (a read-only view in forward)."""
    if t.shape == shape:
        return t
    return BroadcastTo.apply(t, shape=shape)


class SumTo(Function):
    """y = Σ over broadcast axes of a;  ∂L/∂a = broadcast(∂L/∂y)."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a, shape):
        return self.backend.sum_to_shape(a, shape)

    def backward(self, gy):
        return (broadcast_to(gy, self.inputs[0].shape),)


class BroadcastTo(Function):
    """y = a repeated along broadcast axes;  ∂L/∂a = Σ_copies ∂L/∂y."""

    __slots__ = ()
    reads_inputs = False
    may_view = True

    def forward(self, a, shape):
        return self.backend.xp.broadcast_to(a, shape)

    def backward(self, gy):
        return (sum_to(gy, self.inputs[0].shape),)


class Reshape(Function):
    """Same values, new shape;  ∂L/∂a = reshape(∂L/∂y, a.shape)."""

    __slots__ = ()
    reads_inputs = False
    may_view = True

    def forward(self, a, shape):
        return a.reshape(shape)

    def backward(self, gy):
        return (gy.reshape(self.inputs[0].shape),)


class Transpose(Function):
    """Axes permuted by ``axes``;  ∂L/∂a = ∂L/∂y permuted by the inverse permutation."""

    __slots__ = ()
    reads_inputs = False
    may_view = True

    def forward(self, a, axes):
        self.saved = axes
        return a.transpose(axes)

    def backward(self, gy):
        axes = self.saved
        if axes is None:
            return (gy.transpose(),)
        inverse = [0] * len(axes)
        for i, ax in enumerate(axes):
            inverse[ax] = i
        return (gy.transpose(*inverse),)


class GetItem(Function):
    """y = a[index] (basic or integer-array indexing);  ∂L/∂a = scatter-add of ∂L/∂y.

    Inputs: a, then the index Tensors whose arrays ``index`` holds (read by backward, hence
    checked for writes); the same for IndexAdd.
    """

    __slots__ = ()
    reads_inputs = ((),)  # only the index Tensors
    may_view = True

    def forward(self, a, *indices, index):
        self.saved = index
        return a[index]

    def backward(self, gy):
        shape = self.inputs[0].shape
        return (IndexAdd.apply(gy, *self.inputs[1:], index=self.saved, shape=shape),)


class IndexAdd(Function):
    """y = zeros(shape) with g added at ``index`` (repeated indices accumulate): GetItem's adjoint."""

    __slots__ = ()
    reads_inputs = ((),)  # only the index Tensors

    def forward(self, g, *indices, index, shape):
        self.saved = index
        xp = self.backend.xp
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g
        else:
            xp.add.at(out, index, g)
        return out

    def backward(self, gy):
        return (GetItem.apply(gy, *self.inputs[1:], index=self.saved),)


def _is_basic(index) -> bool:
    """True for indices made of ints, slices, None and Ellipsis only (no repeated elements)."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in items)


class Concatenate(Function):
    """y = [a₁, a₂, …] joined along ``axis``;  each ∂L/∂aᵢ is its slice of ∂L/∂y."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, *arrays, axis):
        self.saved = axis
        return self.backend.xp.concatenate(arrays, axis=axis)

    def backward(self, gy):
        axis = self.saved
        grads, start = [], 0
        for t in self.inputs:
            stop = start + t.shape[axis]
            index = [slice(None)] * gy.ndim
            index[axis] = slice(start, stop)
            grads.append(gy[tuple(index)] if t.requires_grad else None)
            start = stop
        return tuple(grads)


class Stack(Function):
    """y = [a₁, a₂, …] stacked along a new ``axis``;  ∂L/∂aᵢ = ∂L/∂y taken at i on that axis."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, *arrays, axis):
        self.saved = axis
        return self.backend.xp.stack(arrays, axis=axis)

    def backward(self, gy):
        axis = self.saved % gy.ndim
        index = [slice(None)] * gy.ndim
        grads = []
        for i, t in enumerate(self.inputs):
            index[axis] = i
            grads.append(gy[tuple(index)] if t.requires_grad else None)
        return tuple(grads)


class Pad(Function):
    """Constant padding;  ∂L/∂a = ∂L/∂y with the padding cut off."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a, pad_width, value):
        self.saved = pad_width
        return self.backend.xp.pad(a, pad_width, mode="constant", constant_values=value)

    def backward(self, gy):
        index = tuple(slice(before, gy.shape[i] - after) for i, (before, after) in enumerate(self.saved))
        return (gy[index],)
