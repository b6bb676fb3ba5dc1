"""Shape and indexing ops. Their derivatives move gradient values without changing them:
each backward is the adjoint rearrangement (reshape back, inverse permutation, scatter-add)."""

from __future__ import annotations

import math

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


class SetItem(Function):
    """y = a with y[index] = v (v broadcast to a[index]'s shape);  ∂L/∂a = ∂L/∂y with zeros at
    ``index``, ∂L/∂v = ∂L/∂y[index] summed to v's shape. Where an integer-array index repeats an
    element, only the write that stayed gets its gradient: NumPy keeps the last, and CuPy any
    one, so the values are written from the record of which stayed.

    Inputs: a, v, then the index Tensors, as for GetItem. With ``in_place`` the forward writes
    a's memory (``t[index] = v``); the backward's copies never do.
    """

    __slots__ = ()
    reads_inputs = ((), ())  # only the index Tensors

    def forward(self, a, v, *indices, index, in_place=False):
        out = a if in_place else a.copy()
        if _is_basic(index):  # each element written once
            self.saved = (index, None)
            out[index] = v
            return out
        xp = self.backend.xp
        shape = a[index].shape
        numbers = xp.arange(math.prod(shape)).reshape(shape)
        source = xp.full(a.shape, -1, dtype=numbers.dtype)
        source[index] = numbers  # which entry of v (broadcast to a[index]) each element keeps
        self.saved = (index, source[index] == numbers)
        written = source >= 0
        given = v.shape
        while v.ndim > len(shape) and v.shape[0] == 1:  # NumPy lets v carry extra leading 1s
            v = v[0]
        try:
            v = xp.broadcast_to(v, shape)
        except ValueError:
            raise ValueError(f"could not broadcast a value of shape {given} into the {shape} "
                             "elements the index selects") from None
        out[written] = v.reshape(-1)[source[written]]
        return out

    def backward(self, gy):
        a, v, *indices = self.inputs
        index, stayed = self.saved
        ga = gv = None
        if a.requires_grad:
            zero = gy.backend_obj.xp.zeros((), gy.dtype)
            ga = SetItem.apply(gy, type(gy)._wrap(zero, gy.backend_obj, False), *indices, index=index)
        if v.requires_grad:
            gv = GetItem.apply(gy, *indices, index=index)
            if stayed is not None and not bool(stayed.all()):
                gv = gv * type(gy)._wrap(stayed.astype(gy.dtype), gy.backend_obj, False)
            if gv.ndim < v.ndim:  # NumPy lets v carry extra leading 1s
                gv = Reshape.apply(gv, shape=v.shape[: v.ndim - gv.ndim] + gv.shape)
            gv = sum_to(gv, v.shape)
        return ga, gv


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
