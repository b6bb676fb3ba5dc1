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


def resolve_metrics(metrics) -> dict:
    """Names (from METRICS) or callables(output, target) -> float, as a name -> function dict."""
    resolved = {}
    for metric in metrics or ():
        if callable(metric):
            resolved[getattr(metric, "__name__", "metric")] = metric
        elif metric in METRICS:
            resolved[metric] = METRICS[metric]
        else:
            raise ValueError(f"unknown metric {metric!r}; known: {sorted(METRICS)} or a callable")
    return resolved
