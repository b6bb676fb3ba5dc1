"""Tensor factories (``xg.tensor``, ``zeros``, ``randn``, ...) and ``manual_seed``.

Each takes ``dtype``, ``requires_grad`` and ``backend`` (default: the current one) keywords
and creates the array directly on that backend. ``dtype`` defaults to float32, except where
the values say otherwise: ``full`` takes its fill value's type, ``arange`` gives int64 for
integer arguments, ``zeros_like``/``ones_like`` the input's dtype.
"""

from __future__ import annotations

import operator

from .autograd import check_tensor
from .backends import registry
from .tensor import Tensor, numeric_dtype, resolve_dtype

DEFAULT_DTYPE = "float32"


def _shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _dtype(dtype):
    """``dtype``, or the default float32 for None."""
    return DEFAULT_DTYPE if dtype is None else dtype


def _make(array, backend, requires_grad):
    numeric_dtype(array.dtype)
    if requires_grad and array.dtype.kind != "f":
        raise TypeError(f"only floating-point tensors can require gradients, got dtype {array.dtype}")
    return Tensor._wrap(array, backend, bool(requires_grad))


def tensor(data, dtype=None, requires_grad=False, backend=None) -> Tensor:
    """A tensor with a copy of ``data`` (list, scalar, array or Tensor), as ``torch.tensor`` and
    ``np.array``: later changes to either side do not reach the other. Floats become float32
    unless ``dtype``."""
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend, copy=True)


def zeros(*shape, dtype=None, requires_grad=False, backend=None) -> Tensor:
    b = registry.get_backend(backend)
    return _make(b.xp.zeros(_shape(shape), dtype=_dtype(dtype)), b, requires_grad)


def ones(*shape, dtype=None, requires_grad=False, backend=None) -> Tensor:
    b = registry.get_backend(backend)
    return _make(b.xp.ones(_shape(shape), dtype=_dtype(dtype)), b, requires_grad)


def full(shape, fill_value, dtype=None, requires_grad=False, backend=None) -> Tensor:
    """``shape`` filled with ``fill_value``; the dtype by default that of ``xg.tensor(fill_value)``
    (float32 for a float, int64 for an int, bool for a bool; as PyTorch)."""
    b = registry.get_backend(backend)
    try:
        shape = (operator.index(shape),)
    except TypeError:  # not an integer: a sequence of them
        shape = tuple(shape)
    if dtype is None:
        natural = b.asarray(fill_value).dtype
        dtype = resolve_dtype(natural, None) or natural
    return _make(b.xp.full(shape, fill_value, dtype=dtype), b, requires_grad)


def empty(*shape, dtype=None, requires_grad=False, backend=None) -> Tensor:
    b = registry.get_backend(backend)
    return _make(b.xp.empty(_shape(shape), dtype=_dtype(dtype)), b, requires_grad)


def zeros_like(t: Tensor, dtype=None, requires_grad=False, backend=None) -> Tensor:
    check_tensor(t, "zeros_like")
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, backend=backend or t.backend)


def ones_like(t: Tensor, dtype=None, requires_grad=False, backend=None) -> Tensor:
    check_tensor(t, "ones_like")
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, backend=backend or t.backend)


def _is_floating(value) -> bool:
    """A Python float, or a NumPy scalar, array or Tensor of a floating dtype."""
    dtype = getattr(value, "dtype", None)
    return isinstance(value, float) or (dtype is not None and dtype.kind == "f")


def arange(start, stop=None, step=1, dtype=None, requires_grad=False, backend=None) -> Tensor:
    """Evenly spaced values in [start, stop): float32 when any argument is floating, int64 for
    integer arguments (as NumPy)."""
    b = registry.get_backend(backend)
    if stop is None:
        start, stop = 0, start
    if dtype is None and any(_is_floating(v) for v in (start, stop, step)):
        dtype = DEFAULT_DTYPE
    return _make(b.xp.arange(start, stop, step, dtype=dtype), b, requires_grad)


def eye(N, M=None, k=0, dtype=None, requires_grad=False, backend=None) -> Tensor:  # noqa: N803
    """N×M (M default N) with ones on diagonal ``k`` (above the main one for k > 0), as NumPy."""
    b = registry.get_backend(backend)
    return _make(b.xp.eye(N, M, k, dtype=_dtype(dtype)), b, requires_grad)


def rand(*shape, dtype=None, requires_grad=False, backend=None) -> Tensor:
    """Uniform samples on [0, 1)."""
    b = registry.get_backend(backend)
    return _make(b.rand(_shape(shape), _dtype(dtype)), b, requires_grad)


def randn(*shape, dtype=None, requires_grad=False, backend=None) -> Tensor:
    """Standard normal samples."""
    b = registry.get_backend(backend)
    return _make(b.randn(_shape(shape), _dtype(dtype)), b, requires_grad)


def manual_seed(seed: int) -> None:
    """Seed the generators of every backend (those created later too) for reproducible runs."""
    registry.manual_seed(seed)
