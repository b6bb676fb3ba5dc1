"""Small synthetic 2-D classification sets: XOR, interleaved spirals, two moons.

Each returns ``(X, y)`` as NumPy arrays: X float32 of shape (n, 2), y int64 class labels.
Noise is Gaussian, N(0, noise²) added to each coordinate; ``seed`` makes a set reproducible.
"""

from __future__ import annotations

import math

import numpy as np

from ..counts import as_count, check_seed, is_real


def _check(n: int, noise: float, seed: int | None) -> None:
    as_count(n, "n", minimum=1)
    if not (is_real(noise) and 0 <= noise < math.inf):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    check_seed(seed)


def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng) -> tuple[np.ndarray, np.ndarray]:
    X = X + noise * rng.standard_normal(X.shape)
    return X.astype(np.float32), y.astype(np.int64)


def make_xor(n: int = 200, noise: float = 0.1,
             seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: sample i sits at corner (a, b) ∈ {0, 1}², taken in the order
    (0,0), (0,1), (1,0), (1,1) cyclically, plus noise; its label is y = a ⊕ b. With
    ``noise=0`` and n = 4 this is the truth table, which no linear classifier separates.
    """
    _check(n, noise, seed)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    X = corners[np.arange(n) % 4]
    y = X[:, 0].astype(np.int64) ^ X[:, 1].astype(np.int64)
    return _finish(X, y, noise, np.random.default_rng(seed))


def make_spirals(n: int = 300, classes: int = 2, noise: float = 0.1,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` interleaved spiral arms around the origin, n points in all (split as evenly
    as possible, the first arms taking the remainder). On arm k, point t ∈ [0, 1] is at
    radius r = t and angle θ = 2π(1.5 t + k / classes): x = (r cos θ, r sin θ) + noise.
    """
    _check(n, noise, seed)
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"classes must be an integer >= 2, got {classes!r}")
    counts = [n // classes + (k < n % classes) for k in range(classes)]
    arms, labels = [], []
    for k, m in enumerate(counts):
        t = np.linspace(0.0, 1.0, m)
        theta = 2 * np.pi * (1.5 * t + k / classes)
        arms.append(np.stack([t * np.cos(theta), t * np.sin(theta)], axis=1))
        labels.append(np.full(m, k))
    return _finish(np.concatenate(arms), np.concatenate(labels), noise,
                   np.random.default_rng(seed))


def make_moons(n: int = 200, noise: float = 0.1,
               seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: class 0 at (cos θ, sin θ) and class 1 at
    (1 − cos θ, 1/2 − sin θ) for θ evenly spaced on [0, π] (⌈n/2⌉ and ⌊n/2⌋ points), plus noise.
    """
    _check(n, noise, seed)
    n0, n1 = n - n // 2, n // 2
    t0, t1 = np.linspace(0, np.pi, n0), np.linspace(0, np.pi, n1)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], axis=1),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)])
    y = np.concatenate([np.zeros(n0), np.ones(n1)])
    return _finish(X, y, noise, np.random.default_rng(seed))
