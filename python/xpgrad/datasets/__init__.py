"""Data sets: MNIST and Fashion-MNIST (IDX files, downloaded and verified), the 8×8 digits
shipped with the package, and synthetic 2-D sets. All loaders return NumPy arrays."""

from .digits import load_digits
from .idx import read_idx
from .mnist import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist
from .synthetic import make_moons, make_spirals, make_xor

__all__ = ["FASHION_MNIST_CLASSES", "load_digits", "load_fashion_mnist", "load_mnist",
           "make_moons", "make_spirals", "make_xor", "read_idx"]
