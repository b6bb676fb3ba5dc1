"""Matrix products: ``matmul`` and the fused ``linear`` layer op."""

from __future__ import annotations

from ..autograd import Function, creating_graph
from ..backends.base import ACTIVATIONS_FUSABLE
from .elementwise import relu_gradient
from .shape import sum_to


def check_activation(activation, op: str) -> None:
    """ValueError unless ``activation`` is one that the fused linear op applies."""
    if not (isinstance(activation, str) and activation in ACTIVATIONS_FUSABLE):
        raise ValueError(f"{op}: activation must be one of {', '.join(ACTIVATIONS_FUSABLE)}; got {activation!r}")


class MatMul(Function):
    """Y = A·B (NumPy matmul for ≥2-D operands, batch dims broadcast);
    ∂L/∂A = ∂L/∂Y · Bᵀ,  ∂L/∂B = Aᵀ · ∂L/∂Y."""

    __slots__ = ()
    reads_inputs = ((1,), (0,))  # A is read by ∂L/∂B, B by ∂L/∂A

    def forward(self, a, b):
        return self.backend.matmul(a, b)

    def backward(self, gy):
        a, b = self.inputs
        ga = sum_to(gy @ b.swapaxes(-1, -2), a.shape) if self.needs_grad(0) else None
        gb = sum_to(a.swapaxes(-1, -2) @ gy, b.shape) if self.needs_grad(1) else None
        return ga, gb


class Linear(Function):
    """Y = act(X·W + b) in one fused kernel, X (N, in), W (in, out), b (out,).

    With G = ∂L/∂Y ⊙ act'(X·W + b):  ∂L/∂X = G·Wᵀ,  ∂L/∂W = Xᵀ·G,  ∂L/∂b = Σₙ G.
    act ∈ {identity, relu, sigmoid, tanh}, whose derivative is a function of the output Y.
    """

    __slots__ = ("activation",)

    @property
    def reads_output(self) -> bool:
        """act' is a function of Y, except for the identity (act' = 1)."""
        return self.activation != "identity"

    @property
    def reads_inputs(self):
        """X is read by ∂L/∂W, W by ∂L/∂X, b by neither; but every input by a create_graph
        backward through an activation, which recomputes act'(X·W + b) from them."""
        if self.activation != "identity" and creating_graph():
            return True
        return ((1,), (0,), ())

    def forward(self, x, weight, bias=None, *, activation="identity"):
        self.activation = activation
        y = self.backend.linear(x, weight, bias, activation)
        self.saved = y
        return y

    def backward(self, gy):
        x, weight = self.inputs[0], self.inputs[1]
        has_bias = len(self.inputs) == 3
        if creating_graph():
            g = _activation_grad(self.inputs, gy, self.activation)
            gx = g @ weight.T if self.needs_grad(0) else None
            gw = x.T @ g if self.needs_grad(1) else None
            gb = g.sum(axis=0) if has_bias and self.needs_grad(2) else None
        else:
            gx, gw, gb = self.backend.linear_backward(
                x.data, weight.data, self.saved, gy.data, self.activation, has_bias,
                need_gx=self.needs_grad(0),
            )
        return (gx, gw, gb) if has_bias else (gx, gw)


def _activation_grad(inputs, gy, activation):
    """∂L/∂(X·W + b) recomputed with Tensor ops, so that it is differentiable again."""
    pre = inputs[0] @ inputs[1]
    if len(inputs) == 3:
        pre = pre + inputs[2]
    if activation == "identity":
        return gy
    if activation == "relu":
        return relu_gradient(gy, pre.data, pre.backend_obj.xp)
    y = pre.sigmoid() if activation == "sigmoid" else pre.tanh()
    return gy * y * (1 - y) if activation == "sigmoid" else gy * ((1 - y) * (1 + y))
