"""xpgrad: tensors with reverse-mode autodiff on swappable NumPy / C++ / CuPy / CUDA backends."""

from .backends import (
    Backend,
    BackendMismatchError,
    BackendUnavailableError,
    available_backends,
    get_backend,
    set_backend,
    use_backend,
)

__version__ = "0.1.0"
