"""Elementwise arithmetic and math functions with their derivatives.

Binary ops broadcast as NumPy does; their backward reduces each gradient back to its input's
shape (``sum_to``), since a broadcast input was used once per copy: ∂L/∂a = Σ_copies ∂L/∂y.
"""

from __future__ import annotations

from ..autograd import Function, creating_graph, reads_inputs_when_creating_graph
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
    """y = aᵇ;  ∂y/∂a = b·aᵇ⁻¹ (0 where b = 0),  ∂y/∂b = aᵇ·ln a (0 where a = 0 and b ≥ 0).

    The exceptions are PyTorch's: the formulas give 0·∞ = NaN there, though aᵇ is flat in that
    direction. They are computed with the base set to 1 at those points (ln 1 = 0, 1ᵇ⁻¹ = 1).
    """

    __slots__ = ()

    def forward(self, a, b):
        return a**b

    def backward(self, gy):
        a, b = self.inputs
        zero_base = a.data == 0
        ga = gb = None
        if self.needs_grad(0):
            safe = _one_where(a, zero_base & (b.data == 0))
            ga = sum_to(gy * b * safe ** (b - 1), a.shape)
        if self.needs_grad(1):
            safe = _one_where(a, zero_base & (b.data >= 0))
            gb = sum_to(gy * a**b * safe.log(), b.shape)
        return ga, gb


def _one_where(a, mask):
    """``a`` with its zeros at ``mask`` replaced by 1 (a + mask, as a differentiable op)."""
    return a + mask.astype(a.dtype)


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
    """y = |a|;  ∂y/∂a = sign(a) (0 at 0)."""

    __slots__ = ()

    def forward(self, a):
        return self.backend.xp.abs(a)

    def backward(self, gy):
        (a,) = self.inputs
        return (gy * a.sign(),)


class Maximum(Function):
    """y = max(a, b);  ∂y/∂a = 1 where a > b, ½ where a = b, else 0;  ∂y/∂b = 1 − ∂y/∂a.
    Ties split the gradient evenly, as in PyTorch."""

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
        # Built in place, one array of the input's size per gradient (page faults of fresh
        # allocations made ∂max 8x slower at 1e5 elements with five of them). b's share is an
        # array of its own: a's may be held by ∂L/∂a's graph (create_graph).
        share = (a.data == b.data).astype(gy.data.dtype)
        share *= 0.5
        share += self.chosen(a.data, b.data)  # ½ on ties, 1 where a alone is chosen
        ga = gb = None
        if self.needs_grad(0):
            ga = self._masked(gy * share, share, xp)
        if self.needs_grad(1):
            share_b = xp.subtract(1, share)
            gb = self._masked(gy * share_b, share_b, xp)
        return (sum_to(ga, a.shape) if ga is not None else None,
                sum_to(gb, b.shape) if gb is not None else None)

    @staticmethod
    def _masked(g, share, xp):
        """g = ∂L/∂y·share with exact zeros where the share is 0: an input not chosen gets no
        gradient even from an infinite or NaN ∂L/∂y (∞·0 would be NaN), as in PyTorch. Only
        entries whose derivative with respect to ∂L/∂y is 0 change, so a graph built for a
        double backward stays right. A finite product needs no mask (a scattered mask costs
        20x the product at 1e6 elements)."""
        if not xp.isfinite(g.data).all():
            xp.copyto(g.data, 0, where=share == 0)
        return g


class Minimum(Maximum):
    """y = min(a, b);  ∂y/∂a = 1 where a < b, ½ where a = b, else 0;  ∂y/∂b = 1 − ∂y/∂a."""

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
        return (gy * self.saved,)


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
        ga = sum_to(gy * cond, a.shape) if self.needs_grad(0) else None
        gb = sum_to(gy * ~cond, b.shape) if self.needs_grad(1) else None
        return ga, gb
