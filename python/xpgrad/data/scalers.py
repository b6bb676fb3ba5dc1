"""Feature scaling fitted on the training split: StandardScaler and MinMaxScaler.

Both are affine maps per feature, x' = (x − a) / s − c, with statistics a, s taken over the
sample axis (axis 0) of the data given to ``fit``; every other axis is a feature axis (an
image batch (N, 28, 28) gets per-pixel statistics). NaNs (missing values) are left out of the
statistics and stay NaN in ``transform``, as in scikit-learn. Fit on the training split only and apply
the same map to validation and test data, so no information leaks from them.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._arrays import is_tensor, to_host


class _AffineScaler:
    """x' = (x − offset_) / scale_ − shift; subclasses choose offset_ and scale_ in ``fit``."""

    shift: float = 0.0

    def __init__(self) -> None:
        self.offset_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def _statistics(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fit(self, X):
        """Learn the per-feature statistics from ``X`` (samples along axis 0); returns self."""
        X = to_host(X)
        if X.ndim == 0 or X.shape[0] == 0:
            raise ValueError(f"fit needs at least one sample, got shape {X.shape}")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"fit needs numbers, got dtype {X.dtype}")
        with warnings.catch_warnings():  # a feature with no value at all: statistics NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            offset, scale = self._statistics(X.astype(np.float64))
        # A constant feature has scale 0: leave it unscaled instead of dividing by zero.
        self.offset_, self.scale_ = offset, np.where(scale > 0, scale, 1.0)
        return self

    def _apply(self, X, forward: bool):
        if self.offset_ is None:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(train) first")
        if not is_tensor(X):
            X = np.asarray(X)
        if tuple(X.shape[1:]) != self.offset_.shape:
            raise ValueError(f"expected samples of shape {self.offset_.shape} (as in fit), "
                             f"got data of shape {tuple(X.shape)}")
        if is_tensor(X):
            from ..backends.registry import get_backend
            from ..tensor import Tensor

            backend = get_backend(X.backend)
            dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)
            out = self._affine(backend.asarray(X.data, dtype), backend.xp, dtype, forward)
            return Tensor(out, dtype=dtype, backend=backend)
        dtype = X.dtype if X.dtype.kind == "f" else np.dtype(np.float32)
        return self._affine(X.astype(dtype, copy=False), np, dtype, forward)

    def _affine(self, x, xp, dtype, forward: bool):
        offset = xp.asarray(self.offset_, dtype=dtype)
        scale = xp.asarray(self.scale_, dtype=dtype)
        if forward:
            return (x - offset) / scale - dtype.type(self.shift)
        return (x + dtype.type(self.shift)) * scale + offset

    def transform(self, X):
        """x' = (x − offset_) / scale_ − shift. Returns a Tensor (on the same backend) for a
        Tensor, else a NumPy array (lists and other array-likes included); floating inputs keep
        their dtype, others become float32."""
        return self._apply(X, forward=True)

    def inverse_transform(self, X):
        """x = (x' + shift) · scale_ + offset_, undoing :meth:`transform`."""
        return self._apply(X, forward=False)

    def fit_transform(self, X):
        """``fit(X)`` then ``transform(X)``: use on the training split only."""
        return self.fit(X).transform(X)


class StandardScaler(_AffineScaler):
    """Standardisation z = (x − μ) / σ per feature, with μ and σ (population standard
    deviation, ddof = 0) over the n training samples; a σ that is 0 up to the rounding of μ
    (σ ≤ n·ε·|μ|, ε the float64 epsilon, the bound scikit-learn uses) is replaced by 1, so a
    constant feature maps to 0.
    After ``fit``: ``mean_`` (= offset_), ``std_`` (σ as computed) and ``scale_`` (σ with
    those replaced by 1)."""

    def _statistics(self, X):
        self.mean_, self.std_ = np.nanmean(X, axis=0), np.nanstd(X, axis=0)
        # Summing n values rounds μ by up to n·ε·|μ|, so a constant feature keeps a σ of that
        # size (0.1 repeated: 1.4e-17), which would blow it up to ±1 instead of 0.
        count = (~np.isnan(X)).sum(axis=0)
        constant = self.std_ <= count * np.finfo(np.float64).eps * np.abs(self.mean_)
        return self.mean_, np.where(constant, 0.0, self.std_)


class MinMaxScaler(_AffineScaler):
    """Min–max scaling x' = (x − min) / (max − min) − shift per feature, with min and max over
    the training samples: training data lands in [−shift, 1 − shift] (``shift=0.5`` centres it
    on 0). A constant feature (max = min, exactly: no rounding enters max − min) maps to
    −shift. After ``fit``: ``min_`` (= offset_),
    ``max_`` and ``scale_`` = max − min."""

    def __init__(self, shift: float = 0.0) -> None:
        super().__init__()
        self.shift = float(shift)

    def _statistics(self, X):
        self.min_, self.max_ = np.nanmin(X, axis=0), np.nanmax(X, axis=0)
        return self.min_, self.max_ - self.min_
