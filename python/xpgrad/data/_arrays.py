"""Helpers shared by the data modules: Tensor-or-array inputs, and the dtypes batches get."""

from __future__ import annotations

import numpy as np


def is_tensor(obj) -> bool:
    """True for an xpgrad Tensor (duck-typed, so the data modules need not import tensor.py)."""
    return not isinstance(obj, np.ndarray) and hasattr(obj, "backend") and hasattr(obj, "numpy")


def to_host(obj) -> np.ndarray:
    """A NumPy array with the values of ``obj`` (a Tensor, an array or anything array-like)."""
    if is_tensor(obj):
        return obj.numpy()
    return np.asarray(obj)


def floating(requested=None) -> np.dtype:
    """The floating dtype to compute in: ``requested`` if given, else float32 (xpgrad's default)."""
    wanted = np.dtype(np.float32 if requested is None else requested)
    if wanted.kind != "f":
        raise ValueError(f"dtype must be a floating-point type, got {wanted}")
    return wanted
