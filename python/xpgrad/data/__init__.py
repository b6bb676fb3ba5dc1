"""Data handling for training: mini-batch loading, splits, feature scaling, one-hot encoding.

Everything here accepts NumPy arrays or Tensors. Only :class:`DataLoader` creates tensors
(on the current backend); the rest is preprocessing that returns what it was given.
"""

from .encoding import one_hot
from .loader import DataLoader
from .scalers import MinMaxScaler, StandardScaler
from .split import train_val_test_split

__all__ = ["DataLoader", "MinMaxScaler", "StandardScaler", "one_hot", "train_val_test_split"]
