"""Sequential: layers applied one after the other."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from .activation import ReLU, Sigmoid, Tanh
from .conv import Conv2d
from .linear import Linear
from .module import Module

# Layers that Sequential fuses into a preceding Linear or Conv2d: exactly these classes, not
# subclasses, whose forward may do something else.
_FUSABLE = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}


def _takes_activation(layer: Module, x) -> bool:
    """layer(x, activation=...) applies the activation in its kernel: a Linear on a batch of
    rows, or a Conv2d (exactly those classes)."""
    return (type(layer) is Linear and x.ndim == 2) or type(layer) is Conv2d


class Sequential(Module):
    """``Sequential(l1, l2, ...)`` or ``Sequential(OrderedDict(name=layer, ...))``: y = lₙ(…l₁(x)).

    A Linear or Conv2d layer directly followed by ReLU, Sigmoid or Tanh (those classes exactly,
    not subclasses) runs as one fused kernel (act(x·W + b) in the GEMM's epilogue); the result
    is the same, with one graph node less.
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            for name, layer in layers[0].items():
                self.add_module(name, layer)
        else:
            for index, layer in enumerate(layers):
                self.add_module(str(index), layer)

    def append(self, layer: Module) -> Sequential:
        """Add ``layer`` at the end, named by the first free index from len(self) (a slice keeps
        its layers' names, so len(self) may be taken: PyTorch then replaces that layer)."""
        index = len(self._modules)
        while str(index) in self._modules:
            index += 1
        self.add_module(str(index), layer)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Module:
        """The layer at ``index``, or a Sequential of a slice of them under their names."""
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def forward(self, x):
        layers = list(self._modules.values())
        i = 0
        while i < len(layers):
            layer = layers[i]
            following = layers[i + 1] if i + 1 < len(layers) else None
            activation = _FUSABLE.get(type(following))
            if activation is not None and _takes_activation(layer, x):
                x = layer(x, activation=activation)
                object.__setattr__(
                    following, "last_output_shape", x.shape
                )  # it ran inside the kernel
                i += 2
            else:
                x = layer(x)
                i += 1
        return x
