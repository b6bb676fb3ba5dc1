"""Metrics computed per batch and averaged over an epoch (weighted by batch size)."""

from __future__ import annotations

from ..tensor import Tensor


def accuracy(output: Tensor, target: Tensor) -> float:
    """Fraction of correct predictions.

    Multi-class outputs (N, K): the predicted class is argmax over K; targets are class
    indices (N,) or (N, 1) (Keras's sparse labels), or one-hot / probability rows (N, K).
    Single-output models (N,) or (N, 1) are read as probabilities of the positive class,
    thresholded at 0.5.
    """
    if output.ndim == 2 and output.shape[1] > 1:
        predicted = output.argmax(axis=1)
        if target.ndim == 2 and target.shape[1] == 1:
            labels = target.reshape(-1)
        else:
            labels = target.argmax(axis=1) if target.ndim == 2 else target
    else:
        predicted = output.reshape(-1) >= 0.5
        labels = target.reshape(-1) >= 0.5
    if predicted.shape != labels.shape:
        raise ValueError(f"accuracy: predictions of shape {predicted.shape} vs targets of shape {labels.shape}")
    return (predicted == labels).sum().item() / max(labels.size, 1)


METRICS = {"accuracy": accuracy, "acc": accuracy}


RESERVED_LOG_NAMES = ("loss", "lr", "time")  # what fit logs besides the metrics


def resolve_metrics(metrics) -> dict:
    """Names (from METRICS) or callables(output, target) -> number, as a name -> function dict
    (one name or callable alone is taken as a list of one). A callable is logged under its
    ``__name__``: two of one name, or one named as what fit logs itself ("loss", "lr", "time",
    "val_…"), would overwrite each other's values, and are a ValueError."""
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    resolved = {}
    for metric in metrics or ():
        if callable(metric):
            name = getattr(metric, "__name__", "metric")
        elif metric in METRICS:
            name, metric = metric, METRICS[metric]
        else:
            raise ValueError(f"unknown metric {metric!r}; known: {sorted(METRICS)} or a callable")
        if name in resolved or name in RESERVED_LOG_NAMES or name.startswith("val_"):
            raise ValueError(f"metric name {name!r} is taken (by another metric, or by what fit logs: "
                             f"{', '.join(RESERVED_LOG_NAMES)}, val_*); give the function another __name__")
        resolved[name] = metric
    return resolved


def metric_value(fn, name: str, output, target) -> float:
    """fn(output, target) as a float (a 0-d Tensor or NumPy value is converted), or a TypeError
    naming the metric."""
    value = fn(output, target)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"metric {name!r} returned {type(value).__name__} {value!r:.80}, not a number") from None
