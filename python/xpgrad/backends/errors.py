"""Errors raised when choosing or mixing backends."""


class BackendUnavailableError(RuntimeError):
    """The asked-for backend cannot run here; the message says why and how to get it."""


class BackendMismatchError(ValueError):
    """An op received tensors that live on two different backends."""
