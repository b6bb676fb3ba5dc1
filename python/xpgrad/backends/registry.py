"""Which backends exist, which can run here, and which one new tensors are created on.

The current backend lives in a ContextVar, so ``use_backend`` is safe across threads and
asyncio tasks. Backend objects are created once, on first use, under a lock: threads that ask
for one at once get the same object.
"""

from __future__ import annotations

import contextlib
import contextvars
import numbers
import os
import threading

from .base import Backend
from .errors import BackendUnavailableError


def _numpy():
    from .numpy import NumpyBackend
    return NumpyBackend()


def _cpu():
    from .cpu import CpuBackend
    return CpuBackend()


def _cupy():
    from .cupy import CupyBackend
    return CupyBackend()


def _cuda():
    from .cuda import CudaBackend
    return CudaBackend()


_FACTORIES = {"numpy": _numpy, "cpu": _cpu, "cupy": _cupy, "cuda": _cuda}
_instances: dict[str, Backend] = {}
_unavailable: dict[str, str] = {}
_lock = threading.RLock()  # held while a backend (or the default) is created or seeded


def backend_names() -> list[str]:
    """Every backend xpgrad knows, available here or not."""
    return list(_FACTORIES)


def get_backend(name: str | Backend | None = None) -> Backend:
    """The Backend called ``name`` (or the current one when None); raises if it cannot run."""
    if name is None:
        return _current.get() or _default_backend()
    if isinstance(name, Backend):
        return name
    backend = _instances.get(name)  # stored only once built and seeded, so safe without the lock
    if backend is not None:
        return backend
    if name not in _FACTORIES:
        raise ValueError(f"unknown backend {name!r}; choose one of {backend_names()}")
    with _lock:
        return _instances.get(name) or _create(name)


def _create(name: str) -> Backend:
    if name in _unavailable:
        raise BackendUnavailableError(f"backend {name!r} is unavailable: {_unavailable[name]}")
    try:
        backend = _FACTORIES[name]()
    except BackendUnavailableError as exc:
        _unavailable[name] = str(exc)
        raise BackendUnavailableError(f"backend {name!r} is unavailable: {exc}") from None
    if _seed:
        backend.manual_seed(_seed[0])
    _instances[name] = backend
    return backend


_seed: list[int] = []


def manual_seed(seed: int) -> None:
    """Seed every backend created so far, and those created later, with ``seed``: an integer in
    [-2**63, 2**64), a negative one taken modulo 2**64 (as PyTorch)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer, got {type(seed).__name__} {seed!r}")
    if not -(2**63) <= seed < 2**64:
        raise ValueError(f"seed must be in [-2**63, 2**64), got {seed}")
    seed = int(seed) % 2**64
    with _lock:
        _seed[:] = [seed]
        for backend in _instances.values():
            backend.manual_seed(seed)


def unavailable_reason(name: str) -> str | None:
    """Why backend ``name`` cannot run here, or None if it can."""
    try:
        get_backend(name)
    except BackendUnavailableError:
        return _unavailable[name]
    return None


def available_backends() -> list[str]:
    """Names of the backends usable on this machine right now."""
    return [name for name in _FACTORIES if unavailable_reason(name) is None]


_current: contextvars.ContextVar[Backend | None] = contextvars.ContextVar("xpgrad_backend", default=None)
_default: list[Backend] = []


def _default_backend() -> Backend:
    if _default:  # appended once, under the lock
        return _default[0]
    with _lock:
        if not _default:
            wanted = os.environ.get("XPGRAD_BACKEND")
            if wanted:
                try:
                    _default.append(get_backend(wanted))
                except (ValueError, BackendUnavailableError) as exc:
                    raise type(exc)(f"XPGRAD_BACKEND={wanted}: {exc}") from None
            else:
                _default.append(get_backend("cpu" if unavailable_reason("cpu") is None else "numpy"))
    return _default[0]


def set_backend(name: str | Backend) -> Backend:
    """Make ``name`` the backend new tensors are created on (in this context)."""
    backend = get_backend(name)
    _current.set(backend)
    return backend


@contextlib.contextmanager
def use_backend(name: str | Backend):
    """``with use_backend("numpy"): ...`` creates new tensors on that backend inside the block."""
    token = _current.set(get_backend(name))
    try:
        yield _current.get()
    finally:
        _current.reset(token)
