"""DataLoader: mini-batches of (X, y) as tensors, in a new random order every epoch."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from ..backends.registry import get_backend
from ..counts import check_seed, is_flag
from ._arrays import floating, is_tensor


def _length(data) -> int:
    if len(data.shape) == 0:
        raise ValueError("DataLoader needs arrays with a sample axis, got a 0-d value")
    return data.shape[0]


class DataLoader:
    """Iterate over ``X`` (and ``y``) in mini-batches of ``batch_size`` samples.

    One pass over the loader is one epoch. With ``shuffle`` every epoch draws a fresh
    permutation π of the n samples and batch k holds samples π[k·B : (k+1)·B]. With ``seed``,
    epoch e's order comes from ``numpy.random.default_rng([seed, e])``: two loaders with the
    same seed give the same sequence of epochs, and setting ``epoch`` (what ``fit``'s
    ``initial_epoch`` does) replays the order of a resumed run exactly. Without a seed the order
    comes from the current backend's generator (so ``xg.manual_seed`` makes it reproducible). ``drop_last`` drops a final batch smaller than B,
    so there are ⌊n/B⌋ batches instead of ⌈n/B⌉.

    Batches are Tensors on the backend current when iteration starts. ``X`` may be a NumPy
    array, anything array-like, or a Tensor; its batches are floating point: float32, or
    ``dtype`` when given (e.g. ``"float64"``), whatever the stored dtype (uint8 images are
    converted a batch at a time, not all at once). Integer labels ``y`` stay integers (int64);
    floating or boolean targets get the same floating dtype as X. With ``y=None`` the loader
    yields ``xb`` alone, otherwise ``(xb, yb)``.
    """

    def __init__(self, X, y=None, batch_size: int = 32, shuffle: bool = True,
                 drop_last: bool = False, seed: int | None = None, dtype=None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for option, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not is_flag(flag):
                raise TypeError(f"{option} must be a bool, got {flag!r}")
        check_seed(seed)
        if X is None or isinstance(X, Iterator):  # a generator has no length to batch or shuffle by
            raise TypeError(f"DataLoader needs arrays (or lists, Tensors) of samples, got {type(X).__name__}")
        self.X = X if is_tensor(X) else np.asarray(X)
        self.y = None if y is None else (y if is_tensor(y) else np.asarray(y))
        self.num_samples = _length(self.X)
        if self.y is not None and _length(self.y) != self.num_samples:
            raise ValueError(
                f"X and y have different numbers of samples: {self.num_samples} and {_length(self.y)}"
            )
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.seed = seed
        self._x_dtype = self._batch_dtype(self.X.dtype, dtype, "X")
        self._y_dtype = None if self.y is None else self._batch_dtype(self.y.dtype, dtype, "y")
        if self.y is not None and self.y.dtype == np.uint64 and self.y.size and int(self.y.max()) >= 2**63:
            raise ValueError(f"y holds labels up to {int(self.y.max())}, beyond the int64 class indices")
        self.epoch = 0  # epochs started so far; the next epoch's shuffle depends on it
        self._cache: tuple = (None, None, None)

    @staticmethod
    def _batch_dtype(stored, requested, what: str) -> np.dtype:
        kind = np.dtype(stored).kind
        if what == "y" and kind in "iu":
            return np.dtype(np.int64)
        if kind in "biuf":
            return floating(requested)
        raise ValueError(f"{what} must hold numbers, got dtype {stored}")

    def __len__(self) -> int:
        """Number of batches per epoch: ⌊n/B⌋ with drop_last, else ⌈n/B⌉."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def _arrays_on(self, backend):
        """X and y as raw arrays of ``backend``, converted once and kept until it changes."""
        if self._cache[0] != backend.name:
            self._cache = (backend.name, _raw(self.X, backend),
                           None if self.y is None else _raw(self.y, backend))
        return self._cache[1], self._cache[2]

    def _order(self, backend):
        if not self.shuffle:
            return None
        if self.seed is not None:
            rng = np.random.default_rng([self.seed, self.epoch])
            return backend.asarray(rng.permutation(self.num_samples))
        return backend.permutation(self.num_samples)

    def __iter__(self) -> Iterator:
        from ..tensor import Tensor

        backend = get_backend()
        X, y = self._arrays_on(backend)
        order = self._order(backend)
        self.epoch += 1
        B = self.batch_size
        for k in range(len(self)):
            index = slice(k * B, (k + 1) * B) if order is None else order[k * B:(k + 1) * B]
            xb = Tensor(X[index], dtype=self._x_dtype, backend=backend)
            if y is None:
                yield xb
            else:
                yield xb, Tensor(y[index], dtype=self._y_dtype, backend=backend)

    def __repr__(self) -> str:
        return (f"DataLoader(num_samples={self.num_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed})")


def _raw(data, backend):
    """``data`` (array or Tensor) as an array of ``backend``, without copying when possible."""
    if is_tensor(data):
        if data.backend == backend.name:
            return data.data
        data = data.numpy()
    return backend.asarray(data)
