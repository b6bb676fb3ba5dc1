"""Activation functions. The fused-kernel backward takes the saved output y; with
``create_graph`` the same derivative is rebuilt from Tensor ops so it can be differentiated."""

from __future__ import annotations

from ..autograd import Function, creating_graph


class Sigmoid(Function):
    """σ(a) = 1/(1 + e⁻ᵃ);  σ' = σ(1 − σ)."""

    __slots__ = ()

    def forward(self, a):
        y = self.backend.sigmoid(a)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            y = self.inputs[0].sigmoid()
            return (gy * y * (1 - y),)
        return (self.backend.sigmoid_backward(self.saved, gy.data),)


class Tanh(Function):
    """tanh(a);  tanh' = 1 − tanh²."""

    __slots__ = ()

    def forward(self, a):
        y = self.backend.tanh(a)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            y = self.inputs[0].tanh()
            return (gy * (1 - y * y),)
        return (self.backend.tanh_backward(self.saved, gy.data),)


class Relu(Function):
    """relu(a) = max(a, 0);  relu' = [a > 0] (0 at 0, as PyTorch)."""

    __slots__ = ()

    def forward(self, a):
        y = self.backend.relu(a)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            return (gy * (self.inputs[0].data > 0),)
        return (self.backend.relu_backward(self.saved, gy.data),)
