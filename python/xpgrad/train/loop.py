"""fit / evaluate / predict: the training loop of the lectures, written against Tensor ops.

One epoch: for each mini-batch, zero the gradients, forward, loss (+ λ·R(θ) from the
regularizer), backward, optimizer step. Then validation, the scheduler, and the callbacks.
"""

from __future__ import annotations

import time

from ..autograd import no_grad
from ..counts import as_count
from ..creation import zeros
from ..nn.module import evaluation_mode, floating_dtype
from ..ops import concatenate
from .callbacks import FitState
from .history import History
from .metrics import metric_value, resolve_metrics


def as_loader(data, batch_size: int, shuffle: bool, seed=None, dtype=None):
    """A DataLoader as is; an (X, y) pair wrapped in one whose batches have the floating
    ``dtype`` (float32 when None)."""
    from ..data import DataLoader

    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        return DataLoader(data[0], data[1], batch_size=batch_size, shuffle=shuffle, seed=seed,
                          dtype=dtype)
    raise TypeError(f"expected a DataLoader or an (X, y) pair, got {type(data).__name__}")


def _labelled_loader(data, batch_size: int, shuffle: bool, what: str, seed=None, dtype=None):
    """``as_loader(data, ...)``, checked to have targets and at least one batch: ``what`` (e.g.
    "training data") names it in the ValueError otherwise."""
    loader = as_loader(data, batch_size, shuffle, seed, dtype)
    if loader.y is None:
        raise ValueError(f"{what} has no targets (y=None): give a DataLoader(X, y) or an (X, y) "
                         "pair (predict is the one that takes inputs alone)")
    if len(loader) == 0:
        raise ValueError(f"{what} gives no batches: {loader!r}")
    return loader


def _progress(iterable, enabled: bool, description: str, total: int):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=description, total=total, leave=False, unit="batch")


def _is_plateau(scheduler) -> bool:
    from ..optim.lr_scheduler import ReduceLROnPlateau

    return isinstance(scheduler, ReduceLROnPlateau)


def _check_scheduler(scheduler, optimizer) -> None:
    """A scheduler is anything with ``step()``; one that names its optimizer must drive this one
    (stepping another's would leave fit's learning rate as it is). fit steps ReduceLROnPlateau
    on a loss, so it must be in mode "min" (in "max" it cut the rate while the loss improved)."""
    if not callable(getattr(scheduler, "step", None)):
        raise TypeError(f"fit: scheduler must have a step() method, got {type(scheduler).__name__}")
    if _is_plateau(scheduler) and scheduler.mode != "min":
        raise ValueError(f"fit: ReduceLROnPlateau is stepped on val_loss (or loss without "
                         f"validation data), which should fall: build it with mode='min', not "
                         f"{scheduler.mode!r}")
    driven = getattr(scheduler, "optimizer", optimizer)
    if driven is not optimizer:
        raise ValueError("fit: scheduler drives another optimizer than fit's: build it on the "
                         "optimizer passed to fit")


def fit(model, loss_fn, optimizer, train, val=None, epochs=1, metrics=("accuracy",), callbacks=(),
        scheduler=None, regularizer=None, progress=True, batch_size=32, seed=None,
        initial_epoch=None) -> History:
    """Train ``model`` for ``epochs`` epochs and return its History.

    ``train``/``val``: DataLoaders or (X, y) pairs (pairs are batched with ``batch_size``, the
    validation pair with max(batch_size, 256), in the model's floating dtype: its first floating
    parameter's, float32 without one).
    ``regularizer(model) -> Tensor`` is added to every batch loss (e.g. λ·Σw²).
    ``scheduler`` is stepped once per epoch (ReduceLROnPlateau on val_loss, or on the training
    loss without validation data); CyclicLR, whose step sizes count batches, after every
    optimizer step, as in PyTorch. Logged per epoch: loss, each metric, their val_ versions,
    the learning rate ("lr") and the epoch's wall time ("time"). A scheduler without ``step()``
    is a TypeError, one built on another optimizer or a ReduceLROnPlateau in mode "max" a
    ValueError, all before any training.
    ``initial_epoch`` resumes a run: epochs initial_epoch+1 … epochs are trained, and a seeded
    DataLoader replays the shuffles the uninterrupted run would have used. Without it a
    DataLoader keeps its own epoch count, so consecutive ``fit`` calls see new shuffles.
    Training or validation data without targets (y=None) or batches is a ValueError.
    A callback stops training by setting ``state.stop``: in ``on_epoch_end`` after that epoch;
    in ``on_batch_end`` after that batch, as Keras 3: the cut epoch still ends as any other
    (validation, scheduler, History, ``on_epoch_end``), its training logs averaged over the
    batches it ran.
    """
    epochs = as_count(epochs, "fit: epochs")
    initial_epoch = None if initial_epoch is None else as_count(initial_epoch, "fit: initial_epoch")
    dtype = floating_dtype(model)
    train_loader = _labelled_loader(train, batch_size, True, "training data", seed, dtype)
    if initial_epoch is None:
        initial_epoch = 0
    else:
        train_loader.epoch = initial_epoch
    val_loader = None if val is None else _labelled_loader(val, max(batch_size, 256), False,
                                                           "validation data", dtype=dtype)
    metric_fns = resolve_metrics(metrics)
    if scheduler is not None:
        _check_scheduler(scheduler, optimizer)
    per_batch = getattr(scheduler, "per_batch", False)
    history = History()
    state = FitState(model=model, optimizer=optimizer, history=history)
    for cb in callbacks:
        cb.on_train_begin(state)
    for epoch in range(initial_epoch + 1, epochs + 1):
        state.epoch = epoch
        start = time.perf_counter()
        model.train()
        totals, count = {}, 0
        batches = _progress(train_loader, progress, f"epoch {epoch}/{epochs}", len(train_loader))
        for index, (xb, yb) in enumerate(batches):
            optimizer.zero_grad()
            output = model(xb)
            loss = loss_fn(output, yb)
            if regularizer is not None:
                loss = loss + regularizer(model)
            loss.backward()
            optimizer.step()
            if per_batch:
                scheduler.step()
            n = xb.shape[0]
            batch_logs = {"loss": loss.item()}
            for name, fn in metric_fns.items():
                batch_logs[name] = metric_value(fn, name, output.detach(), yb)
            for key, value in batch_logs.items():
                totals[key] = totals.get(key, 0.0) + value * n
            count += n
            if progress:
                batches.set_postfix(loss=f"{batch_logs['loss']:.4f}", refresh=False)  # tqdm throttles
            for cb in callbacks:
                cb.on_batch_end(state, index, batch_logs)
            if state.stop:
                break
        if progress:
            batches.close()  # a loop cut short by a stop leaves tqdm's bar open
        logs = {key: total / count for key, total in totals.items()}
        if val_loader is not None:
            logs.update({f"val_{k}": v for k, v in evaluate(model, val_loader, loss_fn, metric_fns).items()})
        logs["lr"] = optimizer.param_groups[0]["lr"]
        logs["time"] = time.perf_counter() - start
        if scheduler is not None and not per_batch:
            if _is_plateau(scheduler):
                scheduler.step(logs.get("val_loss", logs["loss"]))
            else:
                scheduler.step()
        history.record(epoch, logs)
        for cb in callbacks:
            cb.on_epoch_end(state, logs)
        if progress:
            shown = " - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if k not in ("lr", "time"))
            print(f"Epoch {epoch}/{epochs} - {logs['time']:.1f}s - {shown}", flush=True)
        if state.stop:
            history.stopped_early = True
            break
    for cb in callbacks:
        cb.on_train_end(state)
    return history


def evaluate(model, data, loss_fn=None, metrics=("accuracy",), batch_size=256) -> dict:
    """Mean loss and metrics of ``model`` over ``data`` (a DataLoader or (X, y), batched in the
    model's floating dtype), in eval mode.

    Data without targets (y=None) or batches raises ValueError (a mean over no samples is
    undefined; Keras's ``evaluate`` refuses empty data too).
    """
    loader = _labelled_loader(data, batch_size, False, "evaluation data",
                              dtype=floating_dtype(model))
    metric_fns = metrics if isinstance(metrics, dict) else resolve_metrics(metrics)
    totals, count = {}, 0
    with evaluation_mode(model), no_grad():
        for xb, yb in loader:
            output = model(xb)
            n = xb.shape[0]
            values = {name: metric_value(fn, name, output, yb) for name, fn in metric_fns.items()}
            if loss_fn is not None:
                values["loss"] = loss_fn(output, yb).item()
            for key, value in values.items():
                totals[key] = totals.get(key, 0.0) + value * n
            count += n
    ordered = {"loss": totals["loss"] / count} if "loss" in totals else {}
    ordered.update({k: v / count for k, v in totals.items() if k != "loss"})
    return ordered


def predict(model, X, batch_size=256):
    """Model outputs for every row of ``X`` (array or Tensor), batched in the model's floating
    dtype, in eval mode.

    An ``X`` without rows gives an empty output of the model's shape, e.g. (0, out_features).
    """
    from ..data import DataLoader

    if isinstance(X, (DataLoader, tuple)):
        raise TypeError(f"predict takes the inputs X (an array or Tensor), got a {type(X).__name__}: "
                        "pass its X (evaluate takes DataLoaders and (X, y) pairs)")
    dtype = floating_dtype(model)
    loader = DataLoader(X, None, batch_size=batch_size, shuffle=False, dtype=dtype)
    with evaluation_mode(model), no_grad():
        outputs = [model(xb) for xb in loader]
        if not outputs:  # the model on an empty batch gives the output's shape
            outputs = [model(zeros((0, *loader.X.shape[1:]), dtype=dtype))]
    return concatenate(outputs, axis=0)
