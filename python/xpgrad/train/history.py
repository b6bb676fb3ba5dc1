"""History: the per-epoch record of a ``fit`` run, and its learning-curve plot."""

from __future__ import annotations

from pathlib import Path

from ..serialization import atomic_file


class History:
    """``history`` maps each logged quantity ("loss", "val_loss", "accuracy", "lr", ...) to the
    list of its values, one per epoch; ``epoch`` lists the epoch numbers (from 1)."""

    def __init__(self) -> None:
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self.stopped_early = False

    def record(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"

    def plot(self, path) -> Path:
        """Write a PNG of the learning curves, loss (train and validation) and each metric, to
        ``path`` atomically (see :func:`xpgrad.serialization.atomic_file`). A History without
        epochs raises ValueError."""
        if not self.epoch:
            raise ValueError("History.plot: no epochs recorded, nothing to plot")
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("History.plot needs matplotlib: pip install 'xpgrad[plot]'") from None
        # Curves of the model's quality only: not the learning rate or the epoch's duration.
        names = [k for k in self.history if not k.startswith("val_") and k not in ("lr", "time")]
        fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), squeeze=False)
        for ax, name in zip(axes[0], names):
            ax.plot(self.epoch, self.history[name], "o-", label=f"train {name}")
            if f"val_{name}" in self.history:
                ax.plot(self.epoch, self.history[f"val_{name}"], "s-", label=f"validation {name}")
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            ax.legend()
        fig.tight_layout()
        try:
            with atomic_file(path) as f:
                fig.savefig(f, dpi=100, format="png")
        finally:
            plt.close(fig)
        return Path(path)
