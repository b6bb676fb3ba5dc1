"""Helpers shared by the example scripts: argument parsing and result recording."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(description: str, epochs: int, *, loads_idx_files: bool = True) -> argparse.Namespace:
    """--epochs, --backend, --seed, --quiet (no progress bars) and, for the scripts that read
    MNIST or Fashion-MNIST, --data-root."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--backend", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    if loads_idx_files:
        parser.add_argument("--data-root", default=None, help="IDX files directory (default $XPGRAD_DATA)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser.parse_args()


def record(name: str, **values) -> None:
    """Write this run's results to examples/results/<name>.json (replacing the previous run's)
    and print them."""
    RESULTS.mkdir(exist_ok=True)
    values["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(values, indent=2) + "\n")
    print(json.dumps(values, indent=2))


def flatten_images(X):
    """(N, 28, 28) uint8 images as (N, 784) float32 rows in [0, 1]."""
    return X.reshape(len(X), -1).astype("float32") / 255.0
