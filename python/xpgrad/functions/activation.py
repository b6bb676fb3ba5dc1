"""Activation functions. The fused-kernel backward takes the saved output y; with
``create_graph`` the same derivative is rebuilt from Tensor ops so it can be differentiated."""

from __future__ import annotations

from .. import autograd, ops
from ..autograd import Function, creating_graph, reads_inputs_when_creating_graph
from .elementwise import relu_gradient


class Sigmoid(Function):
    """σ(a) = 1/(1 + e⁻ᵃ);  σ' = σ(1 − σ)."""

    __slots__ = ()
    reads_output = True
    reads_inputs = reads_inputs_when_creating_graph

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
    reads_output = True
    reads_inputs = reads_inputs_when_creating_graph

    def forward(self, a):
        y = self.backend.tanh(a)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            y = self.inputs[0].tanh()
            return (gy * ((1 - y) * (1 + y)),)
        return (self.backend.tanh_backward(self.saved, gy.data),)


class Relu(Function):
    """relu(a) = max(a, 0);  relu' = [not a ≤ 0] (0 at 0, 1 at NaN, as PyTorch)."""

    __slots__ = ()
    reads_output = True
    reads_inputs = reads_inputs_when_creating_graph

    def forward(self, a):
        y = self.backend.relu(a)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            return (relu_gradient(gy, self.inputs[0].data, self.backend.xp),)
        return (self.backend.relu_backward(self.saved, gy.data),)


class LeakyRelu(Function):
    """y = a if a > 0 else s·a;  y' = 1 if a > 0 else s (slope s = 0.01 by default)."""

    __slots__ = ("negative_slope",)

    def forward(self, a, *, negative_slope=0.01):
        self.negative_slope = negative_slope
        return self.backend.leaky_relu(a, negative_slope)

    def backward(self, gy):
        a = self.inputs[0].data
        if creating_graph():  # piecewise linear: the derivative is a constant mask
            slope = self.backend.xp.where(a > 0, 1, self.negative_slope).astype(a.dtype)
            return (gy * autograd.constant(slope, self.backend),)
        return (self.backend.leaky_relu_backward(a, gy.data, self.negative_slope),)


class Elu(Function):
    """y = a if a > 0 else α(eᵃ − 1);  y' = 1 if a > 0 else α·eᵃ (from a: as y + α it would
    lose eᵃ's digits to y's rounding)."""

    __slots__ = ("alpha",)

    def forward(self, a, *, alpha=1.0):
        self.alpha = alpha
        return self.backend.elu(a, alpha)

    def backward(self, gy):
        a = self.inputs[0]
        if creating_graph():
            negative_part = a.minimum(0.0).exp() * self.alpha
            return (gy * ops.where(a.data <= 0, negative_part, 1.0),)  # a NaN passes gy, as below
        return (self.backend.elu_backward(a.data, gy.data, self.alpha),)


class Softmax(Function):
    """yᵢ = e^(aᵢ − max a) / Σⱼ e^(aⱼ − max a) along ``axis``;  ∂L/∂a = y ⊙ (g − Σ g⊙y)."""

    __slots__ = ("axis",)
    reads_output = True
    reads_inputs = reads_inputs_when_creating_graph

    def forward(self, a, *, axis=-1):
        self.axis = axis
        y = self.backend.softmax(a, axis)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            y = Softmax.apply(self.inputs[0], axis=self.axis)
            return (y * (gy - (gy * y).sum(axis=self.axis, keepdims=True)),)
        return (self.backend.softmax_backward(self.saved, gy.data, self.axis),)


class LogSoftmax(Function):
    """yᵢ = aᵢ − max a − log Σⱼ e^(aⱼ − max a);  ∂L/∂a = g − softmax(a)·Σ g."""

    __slots__ = ("axis",)
    reads_output = True
    reads_inputs = reads_inputs_when_creating_graph

    def forward(self, a, *, axis=-1):
        self.axis = axis
        y = self.backend.log_softmax(a, axis)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            p = Softmax.apply(self.inputs[0], axis=self.axis)
            return (gy - p * gy.sum(axis=self.axis, keepdims=True),)
        return (self.backend.log_softmax_backward(self.saved, gy.data, self.axis),)


class Sparsemax(Function):
    """y = argmin_{p ∈ Δ} ‖p − a‖² = max(a − τ(a), 0) along ``axis`` (Martins & Astudillo 2016).

    The Jacobian is diag(s) − s·sᵀ/|S| with s the indicator of the support S = {y > 0}, so
    ∂L/∂a = s ⊙ (g − Σ_S g / |S|): constant in a, hence the same formula serves double backward.
    """

    __slots__ = ("axis",)
    reads_output = True
    reads_inputs = False  # both backward paths read the saved output only

    def forward(self, a, *, axis=-1):
        self.axis = axis
        y = self.backend.sparsemax(a, axis)
        self.saved = y
        return y

    def backward(self, gy):
        if creating_graph():
            support = (self.saved > 0).astype(self.saved.dtype)
            size = support.sum(axis=self.axis, keepdims=True)
            s = autograd.constant(support, self.backend)
            support_size = autograd.constant(size, self.backend)
            mean_on_support = (gy * s).sum(axis=self.axis, keepdims=True) / support_size
            return (s * (gy - mean_on_support),)
        return (self.backend.sparsemax_backward(self.saved, gy.data, self.axis),)
