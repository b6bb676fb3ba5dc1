"""The 8×8 UCI handwritten digits, shipped inside the package so they load offline."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

N_SAMPLES, N_FEATURES = 1797, 64


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The UCI optical handwritten digits (Alpaydin & Kaynak 1998, CC BY 4.0; see
    ``datasets/data/README.md``): 1797 images of 8×8 block counts.

    Returns ``(X, y)`` as NumPy arrays: X uint8 of shape (1797, 64), each row an 8×8 image in
    row-major order with values 0..16 (``X.reshape(-1, 8, 8)`` for images, divide by 16 for
    [0, 1]); y int64 digits 0..9 (about 180 of each).
    """
    source = resources.files(__package__) / "data" / "digits.csv.gz"
    with source.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    if table.shape != (N_SAMPLES, N_FEATURES + 1):
        raise ValueError(f"shipped digits.csv.gz has shape {table.shape}, expected "
                         f"{(N_SAMPLES, N_FEATURES + 1)}: the installation is damaged")
    return table[:, :N_FEATURES].astype(np.uint8), table[:, N_FEATURES]
