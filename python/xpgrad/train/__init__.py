"""Training workflow: ``fit``, ``evaluate``, ``predict``, callbacks and ``History``."""

from .callbacks import Callback, EarlyStopping, FitState, LambdaCallback, ModelCheckpoint
from .history import History
from .loop import evaluate, fit, predict
from .metrics import accuracy

__all__ = [
    "Callback", "EarlyStopping", "FitState", "History", "LambdaCallback", "ModelCheckpoint",
    "accuracy", "evaluate", "fit", "predict",
]
