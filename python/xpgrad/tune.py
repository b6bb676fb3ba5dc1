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
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from .counts import as_count, is_flag


class Trial(NamedTuple):
    """One evaluated point of the search space."""

    params: dict[str, Any]
    score: float


def _run(build_and_score: Callable[..., Any], candidates, maximize: bool):
    if not is_flag(maximize):
        raise TypeError(f"maximize must be True or False, got {maximize!r}")
    trials = []
    for params in candidates:
        result = build_and_score(**params)
        try:
            score = float(result)
        except (TypeError, ValueError):
            raise TypeError(f"the score for {params} must be a number, got {type(result).__name__} "
                            f"{result!r:.80}") from None
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
    _check_space(grid, "grid")
    names = list(grid)
    values = [_choices(f"grid[{name!r}]", grid[name]) for name in names]
    candidates = (dict(zip(names, combination)) for combination in itertools.product(*values))
    return _run(build_and_score, candidates, maximize)


def _check_space(space, what: str) -> None:
    """A mapping of parameter names (as given to build_and_score) to their values."""
    if not isinstance(space, Mapping):
        raise TypeError(f"{what} must be a dict of parameter name -> values, got {type(space).__name__}")
    bad = [name for name in space if not isinstance(name, str)]
    if bad:
        raise TypeError(f"{what}: parameter names must be strings, got {bad!r}")


def _choices(where: str, values) -> list:
    """``values`` (a list, range, array or other ordered iterable) as a non-empty list."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"{where} must be a list of values, got the string {values!r}")
    if not isinstance(values, Iterable) or isinstance(values, (set, frozenset, Mapping)):
        raise TypeError(f"{where} must be a list of values (in an order, so that a seed repeats the "
                        f"search), got {values!r}")
    values = list(values)
    if not values:
        raise ValueError(f"{where} must be a non-empty list of values")
    return values


def _space_entry(name: str, spec):
    """A callable(rng), a (low, high) range of numbers, or the list of choices ``spec`` names."""
    if callable(spec):
        return spec
    if isinstance(spec, tuple):
        if len(spec) != 2 or not all(isinstance(v, numbers.Real) for v in spec):
            raise ValueError(f"space[{name!r}]: a tuple is a range (low, high) of numbers, got {spec!r} "
                             "(a choice between values is a list)")
        if not all(math.isfinite(v) for v in spec) or spec[0] > spec[1]:
            raise ValueError(f"space[{name!r}]: the range {spec!r} must be finite with low <= high")
        return spec
    return _choices(f"space[{name!r}] (a list, a (low, high) tuple or a callable(rng))", spec)


def _sample(spec, rng: np.random.Generator):
    if callable(spec):
        return spec(rng)
    if isinstance(spec, tuple):
        return float(rng.uniform(*spec))
    return spec[int(rng.integers(len(spec)))]


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
    n_trials = as_count(n_trials, "n_trials", 1)
    _check_space(space, "space")
    rng = np.random.default_rng(seed)
    space = {name: _space_entry(name, spec) for name, spec in space.items()}
    candidates = ({name: _sample(spec, rng) for name, spec in space.items()}
                  for _ in range(n_trials))
    return _run(build_and_score, candidates, maximize)
