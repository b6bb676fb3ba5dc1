"""Callbacks: code run at points of ``fit``; they read the epoch's logs and may stop training.

Each hook receives the ``FitState`` (model, optimizer, history, ``stop`` flag).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from ..counts import as_count


@dataclass
class FitState:
    model: object
    optimizer: object
    history: object
    epoch: int = 0
    stop: bool = False
    extra: dict = field(default_factory=dict)


class Callback:
    """Base class: override the hooks you need."""

    def on_train_begin(self, state: FitState) -> None: ...

    def on_epoch_end(self, state: FitState, logs: dict) -> None: ...

    def on_batch_end(self, state: FitState, batch: int, logs: dict) -> None: ...

    def on_train_end(self, state: FitState) -> None: ...


def _mode_for(monitor: str) -> str:
    """Losses and errors improve downwards; accuracies and other scores upwards."""
    return "max" if "acc" in monitor else "min"


class _Monitor:
    """Tracks the best value of one logged quantity."""

    def __init__(self, monitor: str, min_delta: float, mode: str | None) -> None:
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or None (from the monitored name), got {mode!r}")
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.mode = mode or _mode_for(monitor)
        self.best = math.inf if self.mode == "min" else -math.inf

    def value(self, logs: dict) -> float:
        if self.monitor not in logs:
            raise ValueError(
                f"callback monitors {self.monitor!r} but the epoch logged only {sorted(logs)}"
                " (val_* quantities need validation data)"
            )
        return logs[self.monitor]

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs.

    The lecture's rule: keep a checkpoint (an in-memory copy of the weights) at every new
    validation minimum, stop after ``patience`` epochs without one, and, with
    ``restore_best``, put the best weights back when training ends.
    """

    def __init__(self, monitor="val_loss", patience=3, min_delta=0.0, restore_best=True, mode=None):
        self.tracker = _Monitor(monitor, min_delta, mode)
        self.patience = as_count(patience, "EarlyStopping: patience")
        self.restore_best = restore_best
        self.wait = 0
        self.best_epoch = None
        self.best_state = None
        self.stopped_epoch = None

    def on_train_begin(self, state):
        self.tracker.best = math.inf if self.tracker.mode == "min" else -math.inf
        self.wait, self.best_epoch, self.best_state, self.stopped_epoch = 0, None, None, None

    def on_epoch_end(self, state, logs):
        value = self.tracker.value(logs)
        if self.tracker.improved(value):
            self.tracker.best = value
            self.best_epoch = state.epoch
            self.wait = 0
            if self.restore_best:
                self.best_state = {k: v.clone().detach() for k, v in state.model.state_dict().items()}
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = state.epoch
                state.stop = True

    def on_train_end(self, state):
        if self.restore_best and self.best_state is not None:
            state.model.load_state_dict(self.best_state)


class ModelCheckpoint(Callback):
    """Save the model's state dict to ``path`` (``{epoch}`` and ``{monitor}`` placeholders allowed)
    after each epoch, or only when ``monitor`` improves if ``save_best_only``."""

    def __init__(self, path, monitor="val_loss", save_best_only=True, mode=None):
        self.path = str(path)
        try:  # a bad placeholder fails now, not after the first epoch's training
            self.path.format(epoch=1, monitor=0.5)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"ModelCheckpoint: path {self.path!r} may use only the placeholders {{epoch}} "
                             f"and {{monitor}} ({type(exc).__name__}: {exc})") from None
        self.tracker = _Monitor(monitor, 0.0, mode)
        self.save_best_only = save_best_only
        self.saved_paths: list[str] = []

    def on_train_begin(self, state):
        directory = os.path.dirname(os.path.abspath(self.path))
        if "{" not in directory and not os.path.isdir(directory):
            raise FileNotFoundError(f"ModelCheckpoint: directory {directory} does not exist "
                                    "(checked before training, not after the first epoch)")

    def on_epoch_end(self, state, logs):
        from ..serialization import save

        value = self.tracker.value(logs) if (self.save_best_only or "{monitor" in self.path) else None
        if self.save_best_only:
            if not self.tracker.improved(value):
                return
            self.tracker.best = value
        target = self.path.format(epoch=state.epoch, monitor=value)
        save(state.model.state_dict(), target)
        self.saved_paths.append(target)


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda state, logs: ...)``."""

    def __init__(self, on_train_begin=None, on_epoch_end=None, on_batch_end=None, on_train_end=None):
        self._hooks = {
            "on_train_begin": on_train_begin, "on_epoch_end": on_epoch_end,
            "on_batch_end": on_batch_end, "on_train_end": on_train_end,
        }

    def on_train_begin(self, state):
        if self._hooks["on_train_begin"]:
            self._hooks["on_train_begin"](state)

    def on_epoch_end(self, state, logs):
        if self._hooks["on_epoch_end"]:
            self._hooks["on_epoch_end"](state, logs)

    def on_batch_end(self, state, batch, logs):
        if self._hooks["on_batch_end"]:
            self._hooks["on_batch_end"](state, batch, logs)

    def on_train_end(self, state):
        if self._hooks["on_train_end"]:
            self._hooks["on_train_end"](state)
