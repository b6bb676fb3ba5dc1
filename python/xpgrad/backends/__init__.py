"""Backends: array storage plus kernels, chosen at run time (see base.Backend)."""

from .base import Backend
from .errors import BackendMismatchError, BackendUnavailableError
from .registry import available_backends, backend_names, get_backend, set_backend, use_backend

__all__ = [
    "Backend", "BackendMismatchError", "BackendUnavailableError", "available_backends",
    "backend_names", "get_backend", "set_backend", "use_backend",
]
