"""Elementwise arithmetic and math functions with their derivatives.

Binary ops broadcast as NumPy does; their backward reduces each gradient back to its input's
shape (``sum_to``), since a broadcast input was used once per copy: ∂L/∂a = Σ_copies ∂L/∂y.
"""

from __future__ import annotations

from ..autograd import Function, constant, creating_graph, reads_inputs_when_creating_graph
from .shape import sum_to


class Add(Function):
    """y = a + b;  ∂y/∂a = ∂y/∂b = 1."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(gy, b.shape)


class Sub(Function):
    """y = a − b;  ∂y/∂a = 1, ∂y/∂b = −1."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a, b):
        return a - b

    def backward(self, gy):
        a, b = self.inputs
        return sum_to(gy, a.shape), sum_to(-gy, b.shape) if self.needs_grad(1) else None


class Mul(Function):
    """y = a·b;  ∂y/∂a = b, ∂y/∂b = a."""

    __slots__ = ()
    reads_inputs = ((1,), (0,))  # a is read by ∂L/∂b, b by ∂L/∂a

    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy * b, a.shape) if self.needs_grad(0) else None
        gb = sum_to(gy * a, b.shape) if self.needs_grad(1) else None
        return ga, gb


class Div(Function):
    """y = a / b;  ∂y/∂a = 1/b, ∂y/∂b = −a/b²."""

    __slots__ = ()
    reads_inputs = ((1,), (0, 1))  # a is read by ∂L/∂b, b by both

    def forward(self, a, b):
        return a / b

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy / b, a.shape) if self.needs_grad(0) else None
        gb = sum_to(-gy * a / (b * b), b.shape) if self.needs_grad(1) else None
        return ga, gb


class Neg(Function):
    """y = −a."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a):
        return -a

    def backward(self, gy):
        return (-gy,)


class PowScalar(Function):
    """y = aᵖ for a constant p;  ∂y/∂a = p·aᵖ⁻¹ (0 for p = 0, also at a = 0, as in PyTorch)."""

    __slots__ = ("p",)

    def forward(self, a, p):
        self.p = p
        return a**p

    def backward(self, gy):
        (a,) = self.inputs
        p = self.p
        if p == 0:
            return (gy * 0,)
        if p == 2:
            return (gy * a * 2,)
        return (gy * p * a ** (p - 1),)


class Pow(Function):
    """y = aᵇ;  ∂y/∂a = b·aᵇ⁻¹ (0 where b = 0, even for a NaN or infinite a),  ∂y/∂b = aᵇ·ln a
    (0 where a = 0 and b ≥ 0).

    The exceptions are PyTorch's: the formulas give 0·∞ or 0·NaN = NaN there, though aᵇ is flat
    in that direction. They are computed with the base set to 1 at those points (ln 1 = 0,
    1ᵇ⁻¹ = 1).
    """

    __slots__ = ()

    def forward(self, a, b):
        return a**b

    def backward(self, gy):
        a, b = self.inputs
        ga = gb = None
        if self.needs_grad(0):
            safe = _one_where(a, b.data == 0)
            ga = sum_to(gy * b * safe ** (b - 1), a.shape)
        if self.needs_grad(1):
            safe = _one_where(a, (a.data == 0) & (b.data >= 0))
            gb = sum_to(gy * a**b * safe.log(), b.shape)
        return ga, gb


def _one_where(a, mask):
    """``a`` with its entries at ``mask`` replaced by 1, as a differentiable op (broadcast to
    the mask's shape)."""
    backend = a.backend_obj
    one = constant(backend.xp.ones((), a.data.dtype), backend)
    return Where.apply(one, a, constant(mask, backend))


class Exp(Function):
    """y = eᵃ;  ∂y/∂a = eᵃ = y."""

    __slots__ = ()
    reads_output = True
    reads_inputs = reads_inputs_when_creating_graph

    def forward(self, a):
        y = self.backend.xp.exp(a)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            return (gy * self.inputs[0].exp(),)
        return (gy.data * self.saved,)


class Log(Function):
    """y = ln a;  ∂y/∂a = 1/a."""

    __slots__ = ()

    def forward(self, a):
        return self.backend.xp.log(a)

    def backward(self, gy):
        return (gy / self.inputs[0],)


class Sqrt(Function):
    """y = √a;  ∂y/∂a = 1/(2√a)."""

    __slots__ = ()
    reads_output = True
    reads_inputs = reads_inputs_when_creating_graph

    def forward(self, a):
        y = self.backend.xp.sqrt(a)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            return (gy / (self.inputs[0].sqrt() * 2),)
        return (gy.data / (2 * self.saved),)


class Sin(Function):
    """y = sin a;  ∂y/∂a = cos a."""

    __slots__ = ()

    def forward(self, a):
        return self.backend.xp.sin(a)

    def backward(self, gy):
        return (gy * self.inputs[0].cos(),)


class Cos(Function):
    """y = cos a;  ∂y/∂a = −sin a."""

    __slots__ = ()

    def forward(self, a):
        return self.backend.xp.cos(a)

    def backward(self, gy):
        return (-gy * self.inputs[0].sin(),)


class Abs(Function):
    """y = |a|;  ∂y/∂a = sign(a) (0 at 0 and at NaN, as PyTorch's sgn), a constant for a
    second derivative (sign' = 0)."""

    __slots__ = ()

    def forward(self, a):
        return self.backend.xp.abs(a)

    def backward(self, gy):
        (a,) = self.inputs
        sign = (a.data > 0).astype(gy.data.dtype)
        sign -= a.data < 0
        return (gy * sign,)


def select_gradient(gy, share, xp):
    """∂L/∂y ⊙ share (a mask, or the fractions of tied inputs) with exact zeros where the share
    is 0: an input not selected gets no gradient even from an infinite or NaN ∂L/∂y (∞·0 would
    be NaN: where(x > 0, x, 0).sqrt() at x < 0), as in PyTorch. Only entries whose derivative
    with respect to ∂L/∂y is 0 change, so a graph built for a double backward stays right. A
    finite product needs no mask (a scattered mask costs 20x the product at 1e6 elements)."""
    g = gy * share
    if not xp.isfinite(g.data).all():
        xp.copyto(g.data, 0, where=share == 0)
    return g


def relu_gradient(gy, x, xp):
    """∂L/∂y ⊙ relu'(x) with relu' = [not x ≤ 0]: 0 at 0, and a NaN x passes ∂L/∂y, as PyTorch's
    threshold_backward and the backends' relu_backward (this is the differentiable form)."""
    return select_gradient(gy, ~(x <= 0), xp)


class Maximum(Function):
    """y = max(a, b);  ∂y/∂a = 1 where a > b, ½ where a = b, 0 where a < b;  ∂y/∂b the same
    with a and b exchanged. Ties split the gradient evenly and where either is NaN (unordered)
    both get all of it, as in PyTorch (which zeroes each input's gradient only where it lost)."""

    __slots__ = ()

    def forward(self, a, b):
        return self.backend.xp.maximum(a, b)

    @staticmethod
    def chosen(a, b):
        """Where a alone is selected."""
        return a > b

    def backward(self, gy):
        # The shares are formed here from the inputs (as PyTorch does), not in forward: a
        # forward without grad or whose result is never differentiated pays only for max(a, b).
        a, b = self.inputs
        xp = self.backend.xp
        # Few arrays of the input's size (page faults of fresh allocations made ∂max 8x slower
        # at 1e5 elements with five of them). Each share is an array of its own: a's may be held
        # by ∂L/∂a's graph (create_graph).
        kept = (a.data == b.data).astype(gy.data.dtype)
        kept *= -0.5
        kept += 1  # ½ on ties, else 1: an input loses its gradient only where the other is chosen
        ga = gb = None
        if self.needs_grad(0):
            share_a = kept - self.chosen(b.data, a.data)
            ga = select_gradient(gy, share_a, xp)
        if self.needs_grad(1):
            kept -= self.chosen(a.data, b.data)  # in place: a's share, if any, is its own array
            share_b = kept
            gb = select_gradient(gy, share_b, xp)
        return (sum_to(ga, a.shape) if ga is not None else None,
                sum_to(gb, b.shape) if gb is not None else None)


class Minimum(Maximum):
    """y = min(a, b);  ∂y/∂a = 1 where a < b, ½ where a = b, 0 where a > b (1 with a NaN);
    ∂y/∂b the same with a and b exchanged."""

    __slots__ = ()

    def forward(self, a, b):
        return self.backend.xp.minimum(a, b)

    @staticmethod
    def chosen(a, b):
        return a < b


class Clip(Function):
    """y = min(max(a, lo), hi);  ∂y/∂a = 1 inside [lo, hi], 0 outside."""

    __slots__ = ()
    reads_inputs = False

    def forward(self, a, lo, hi):
        xp = self.backend.xp
        inside = xp.ones(a.shape, dtype=bool)
        if lo is not None:
            inside &= a >= lo
        if hi is not None:
            inside &= a <= hi
        self.saved = inside
        return xp.clip(a, lo, hi)

    def backward(self, gy):
        return (select_gradient(gy, self.saved, self.backend.xp),)


class Where(Function):
    """y = a where cond else b, for inputs (a, b, cond) with cond a constant boolean tensor;
    ∂L/∂a = ∂L/∂y ⊙ cond,  ∂L/∂b = ∂L/∂y ⊙ ¬cond."""

    __slots__ = ()
    reads_inputs = ((), ())  # only cond, input 2

    def forward(self, a, b, cond):
        return self.backend.xp.where(cond, a, b)

    def backward(self, gy):
        a, b, cond = self.inputs
        cond = cond.data
        xp = self.backend.xp
        ga = sum_to(select_gradient(gy, cond, xp), a.shape) if self.needs_grad(0) else None
        gb = sum_to(select_gradient(gy, ~cond, xp), b.shape) if self.needs_grad(1) else None
        return ga, gb
