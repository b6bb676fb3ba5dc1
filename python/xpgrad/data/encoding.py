"""One-hot encoding of class labels."""

from __future__ import annotations

import numpy as np

from ._arrays import floating, is_tensor, to_host


def one_hot(y, num_classes: int | None = None, dtype=None):
    """The one-hot matrix of integer labels: out[..., k] = 1 if y[...] = k else 0.

    ``y`` holds class indices in [0, num_classes) (any shape; the output has one more axis of
    length ``num_classes``). ``num_classes`` defaults to max(y) + 1. The result is float32 (or
    ``dtype``), ready as a probability target, and of the kind given: a NumPy array, or a
    Tensor on the same backend as ``y``. Raises ValueError for non-integer labels or labels
    out of range.
    """
    labels = to_host(y)
    if labels.dtype.kind not in "iu":
        if labels.dtype.kind != "f" or not np.all(np.mod(labels, 1) == 0):
            raise ValueError(f"one_hot needs integer class labels, got dtype {labels.dtype}")
        if labels.size and np.abs(labels).max() >= 2**62:  # beyond int64 (1e20 wrapped negative)
            raise ValueError(f"one_hot: labels up to {np.abs(labels).max()} are too large to be classes")
        labels = labels.astype(np.int64)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), "
                         f"got values in [{labels.min()}, {labels.max()}]")
    out = np.zeros(labels.shape + (int(num_classes),), dtype=floating(dtype))
    np.put_along_axis(out, labels[..., None].astype(np.intp), 1, axis=-1)
    if is_tensor(y):
        from ..tensor import Tensor

        return Tensor(out, dtype=out.dtype, backend=y.backend)
    return out
