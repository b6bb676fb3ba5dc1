"""Random train / validation / test splits."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._arrays import to_host


def split_counts(n: int, sizes: Sequence[float | int]) -> list[int]:
    """How many of ``n`` samples each part gets.

    ``sizes`` are either all counts (ints, summing to at most n) or all fractions in [0, 1]
    (summing to at most 1). Fractions give ⌊fᵢ·n⌋ samples each; when they sum to 1 the few
    samples lost to rounding go to the first part, so nothing is dropped.
    """
    if isinstance(sizes, str) or not isinstance(sizes, (Sequence, np.ndarray)):
        raise TypeError(f"sizes must be a sequence of fractions or counts, e.g. (0.8, 0.2), got "
                        f"{type(sizes).__name__}")
    if len(sizes) == 0:
        raise ValueError("sizes must name at least one part")
    if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in sizes):
        counts = [int(s) for s in sizes]
        if min(counts) < 0 or sum(counts) > n:
            raise ValueError(f"sizes {list(sizes)} must be >= 0 and sum to at most {n} samples")
        return counts
    fractions = [float(s) for s in sizes]
    total = math.fsum(fractions)
    if not all(0 <= f <= 1 for f in fractions) or total > 1 + 1e-9:  # NaN fails too
        raise ValueError(f"fractions {fractions} must be >= 0 and sum to at most 1")
    counts = [math.floor(f * n + 1e-9) for f in fractions]
    if math.isclose(total, 1.0, abs_tol=1e-9):
        counts[0] += n - sum(counts)
    return counts


def train_val_test_split(X, y=None, sizes: Sequence[float | int] = (0.8, 0.1, 0.1),
                         seed: int | None = None) -> list:
    """Shuffle the samples once and cut them into parts of the given ``sizes``.

    Returns one ``(X_part, y_part)`` pair per entry of ``sizes`` (or ``X_part`` alone when
    ``y`` is None), as NumPy arrays (Tensors are copied to the host), e.g.
    ``(Xtr, ytr), (Xva, yva), (Xte, yte) = train_val_test_split(X, y, (0.8, 0.1, 0.1), seed=0)``.
    The permutation is ``numpy.random.default_rng(seed).permutation(n)``, so a seed makes the
    split reproducible. Fit scalers on the training part only, then apply them to the others.
    """
    X = to_host(X)
    if X.ndim == 0:
        raise ValueError("X needs a sample axis, got a 0-d value")
    n = X.shape[0]
    if y is not None:
        y = to_host(y)
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(f"X and y have different numbers of samples: X has shape {X.shape}, "
                             f"y has shape {y.shape}")
    counts = split_counts(n, sizes)
    order = np.random.default_rng(seed).permutation(n)
    parts, start = [], 0
    for count in counts:
        index = order[start:start + count]
        start += count
        parts.append(X[index] if y is None else (X[index], y[index]))
    return parts
