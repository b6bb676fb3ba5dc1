"""``xpgrad.nn``: Module, Parameter, layers, losses and initialisers (PyTorch's names).

Everything is written against Tensor ops and the Backend interface, so models run on every
backend and move between them with ``model.to(name)``.
"""

from . import functional, init
from .activation import (
    ELU,
    Identity,
    LeakyReLU,
    LogSoftmax,
    PReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Sparsemax,
    Tanh,
)
from .container import Sequential
from .conv import Conv2d, Flatten, MaxPool2d
from .dropout import Dropout
from .linear import Linear, Maxout
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SparsemaxLoss,
)
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d

__all__ = [
    "ELU",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Maxout",
    "Module",
    "NLLLoss",
    "PReLU",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Sparsemax",
    "SparsemaxLoss",
    "Tanh",
    "functional",
    "init",
]
