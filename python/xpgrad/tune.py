"""Hyper-parameter search: exhaustive grid search and random search.

``build_and_score(**params)`` trains a model with the given hyper-parameters and returns one
number, its score on validation data. With ``maximize=True`` (the default) higher is better
(accuracy); pass ``maximize=False`` for a loss or an error rate. Both searches return
``(trials, best_params)``: every trial as ``Trial(params, score)``, best first (ties keep the
order they were tried in; a NaN score, e.g. from a diverged run, ranks last).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np


class Trial(NamedTuple):
    """One evaluated point of the search space."""

    params: dict[str, Any]
    score: float


def _run(build_and_score: Callable[..., Any], candidates, maximize: bool):
    trials = []
    for params in candidates:
        score = float(build_and_score(**params))
        trials.append(Trial(params, score))
    if not trials:
        raise ValueError("the search space is empty")

    def rank(trial: Trial) -> tuple[bool, float]:
        if math.isnan(trial.score):
            return (True, 0.0)
        return (False, -trial.score if maximize else trial.score)

    trials.sort(key=rank)
    return trials, dict(trials[0].params)


def grid_search(build_and_score: Callable[..., Any], grid: Mapping[str, Sequence],
                maximize: bool = True) -> tuple[list[Trial], dict[str, Any]]:
    """Score every combination of the ``grid`` values (the Cartesian product ∏ₖ grid[k]),
    e.g. ``grid_search(f, {"lr": [0.1, 0.01], "hidden": [64, 128]})`` makes 4 calls
    ``f(lr=..., hidden=...)``. Returns ``(trials best first, best params)``.
    """
    names = list(grid)
    for name in names:
        if isinstance(grid[name], (str, bytes)) or len(grid[name]) == 0:
            raise ValueError(f"grid[{name!r}] must be a non-empty list of values")
    candidates = (dict(zip(names, values))
                  for values in itertools.product(*(grid[name] for name in names)))
    return _run(build_and_score, candidates, maximize)


def _sample(name: str, spec, rng: np.random.Generator):
    if callable(spec):
        return spec(rng)
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ValueError(f"space[{name!r}]: a tuple must be (low, high), got {spec!r}")
        low, high = spec
        return float(rng.uniform(low, high))
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"space[{name!r}] is an empty list")
        return spec[int(rng.integers(len(spec)))]
    raise TypeError(f"space[{name!r}] must be a list, a (low, high) tuple or a callable(rng), "
                    f"got {type(spec).__name__}")


def random_search(build_and_score: Callable[..., Any], space: Mapping[str, Any], n_trials: int,
                  seed: int | None = None,
                  maximize: bool = True) -> tuple[list[Trial], dict[str, Any]]:
    """Score ``n_trials`` points drawn independently from ``space``: a list value is a choice
    (each element equally likely), a ``(low, high)`` tuple is uniform on [low, high), and a
    callable is called with the ``numpy.random.Generator`` (e.g. log-uniform learning rates:
    ``lambda rng: 10 ** rng.uniform(-4, -1)``). The draws come from
    ``numpy.random.default_rng(seed)``, so a seed reproduces them.
    Returns ``(trials best first, best params)``.
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    rng = np.random.default_rng(seed)
    candidates = ({name: _sample(name, spec, rng) for name, spec in space.items()}
                  for _ in range(n_trials))
    return _run(build_and_score, candidates, maximize)
