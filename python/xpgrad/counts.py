"""Count arguments (epochs, step sizes, trials), flags, seeds and real-valued hyper-parameters,
checked the same way everywhere."""

from __future__ import annotations

import numbers
import operator


def as_count(value, name: str, minimum: int = 0) -> int:
    """``value`` as an int >= ``minimum`` (NumPy integers too, as search spaces yield them; not a
    float or a bool), else ValueError naming ``name`` and the value."""
    try:
        count = None if isinstance(value, bool) else operator.index(value)
    except TypeError:
        count = None
    if count is None or count < minimum:
        wanted = "a positive integer" if minimum == 1 else f"an int >= {minimum}"
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return count


def is_flag(value) -> bool:
    """True or False, a NumPy bool included; not a number or a string ("no" would read as true)."""
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def is_real(value) -> bool:
    """A real number (NumPy scalars included), not a bool, as PyTorch takes for slopes, momentum
    and eps."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_seed(seed) -> None:
    """ValueError unless ``seed`` is None or an integer >= 0 (a NumPy one too, not a bool), what
    NumPy's default_rng takes."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be None or an integer >= 0, got {seed!r}")
