"""xg.tune: grid_search and random_search."""

import math

import numpy as np
import pytest

from xpgrad.tune import Trial, grid_search, random_search


def test_grid_search_tries_every_combination_best_first():
    calls = []

    def score(lr, hidden):
        calls.append((lr, hidden))
        return -abs(lr - 0.01) * 100 + hidden / 1000

    trials, best = grid_search(score, {"lr": [0.1, 0.01, 0.001], "hidden": [64, 128]})
    assert sorted(calls) == sorted((lr, h) for lr in (0.1, 0.01, 0.001) for h in (64, 128))
    assert best == {"lr": 0.01, "hidden": 128}
    assert trials[0] == Trial({"lr": 0.01, "hidden": 128}, pytest.approx(0.128))
    scores = [t.score for t in trials]
    assert scores == sorted(scores, reverse=True)


def test_grid_search_minimize_and_nan_last():
    def loss(x):
        return float("nan") if x == 3 else (x - 1) ** 2

    trials, best = grid_search(loss, {"x": [0, 1, 2, 3]}, maximize=False)
    assert best == {"x": 1}
    assert [t.params["x"] for t in trials][:1] == [1] and math.isnan(trials[-1].score)
    trials, best = grid_search(loss, {"x": [0, 1, 2, 3]}, maximize=True)
    assert best in ({"x": 0}, {"x": 2}) and math.isnan(trials[-1].score)


def test_grid_search_ties_keep_grid_order_and_empty_grid_runs_once():
    trials, best = grid_search(lambda a: 1.0, {"a": ["x", "y", "z"]})
    assert [t.params["a"] for t in trials] == ["x", "y", "z"] and best == {"a": "x"}
    trials, best = grid_search(lambda: 0.5, {})
    assert trials == [Trial({}, 0.5)] and best == {}


@pytest.mark.parametrize("grid", [{"a": []}, {"a": "abc"}])
def test_grid_search_rejects_bad_grids(grid):
    with pytest.raises(ValueError):
        grid_search(lambda a: 0.0, grid)


def test_random_search_samples_the_space_reproducibly():
    seen = []

    def score(lr, layers, width, act):
        seen.append((lr, layers, width, act))
        return -lr

    space = {"lr": (1e-4, 1e-1), "layers": [1, 2, 3],
             "width": lambda rng: int(2 ** rng.integers(4, 8)), "act": ["relu", "tanh"]}
    trials, best = random_search(score, space, n_trials=30, seed=0)
    assert len(trials) == 30 and best["lr"] == min(s[0] for s in seen)
    for lr, layers, width, act in seen:
        assert 1e-4 <= lr < 1e-1 and layers in (1, 2, 3) and width in (16, 32, 64, 128)
        assert act in ("relu", "tanh")
    assert len({s[1] for s in seen}) == 3  # every choice turns up in 30 draws
    first = list(seen)
    seen.clear()
    random_search(score, space, n_trials=30, seed=0)
    assert seen == first
    seen.clear()
    random_search(score, space, n_trials=30, seed=1)
    assert seen != first


def test_random_search_minimize():
    trials, best = random_search(lambda x: (x - 0.3) ** 2, {"x": (0.0, 1.0)}, 50, seed=2,
                                 maximize=False)
    assert abs(best["x"] - 0.3) < 0.05 and trials[0].score <= trials[-1].score


def test_random_search_callables_get_the_generator():
    def draw(rng):
        assert isinstance(rng, np.random.Generator)
        return 10 ** rng.uniform(-4, -1)

    _, best = random_search(lambda lr: lr, {"lr": draw}, 5, seed=0)
    assert 1e-4 <= best["lr"] <= 1e-1


@pytest.mark.parametrize("space,n,error", [({"a": (1, 2, 3)}, 2, ValueError),
                                           ({"a": []}, 2, ValueError),
                                           ({"a": {1, 2}}, 2, TypeError),
                                           ({"a": [1]}, 0, ValueError)])
def test_random_search_validation(space, n, error):
    with pytest.raises(error):
        random_search(lambda a: 0.0, space, n)


def test_search_spaces_take_any_ordered_sequence_and_explain_the_rest():
    grid = {"a": (v for v in range(3)), "b": np.arange(2)}
    trials, _ = grid_search(lambda a, b: a + b, grid)
    assert len(trials) == 6
    _, best = random_search(lambda n, m: n * m, {"n": range(5), "m": np.array([1, 2])}, 20, seed=0)
    assert best == {"n": 4, "m": 2}
    with pytest.raises(TypeError, match=r"grid\['a'\] must be a list of values .*got 0.1"):
        grid_search(lambda a: a, {"a": 0.1})
    with pytest.raises(ValueError, match="a tuple is a range .*a choice between values is a list"):
        random_search(lambda act: 0.0, {"act": ("relu", "tanh")}, 2)


@pytest.mark.parametrize("call, error, match", [
    (lambda: grid_search(lambda **k: 1.0, [("a", [1])]), TypeError, "grid must be a dict"),
    (lambda: random_search(lambda **k: 1.0, [("lr", [1])], 2), TypeError, "space must be a dict"),
    (lambda: grid_search(lambda **k: 1.0, {1: [1]}), TypeError, "parameter names must be strings"),
    (lambda: random_search(lambda **k: 1.0, {"lr": (1.0, 0.1)}, 2), ValueError, r"space\['lr'\]: the range"),
    (lambda: random_search(lambda **k: 1.0, {"lr": (0, math.inf)}, 2), ValueError, "must be finite"),
    (lambda: random_search(lambda **k: 1.0, {"lr": (math.nan, 1)}, 2), ValueError, "must be finite"),
    (lambda: grid_search(lambda **k: None, {"a": [1]}), TypeError, r"the score for \{'a': 1\} must be a number"),
    (lambda: grid_search(lambda **k: 1.0, {"a": [1]}, maximize="no"), TypeError, "maximize must be True or False"),
])
def test_bad_searches_are_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
