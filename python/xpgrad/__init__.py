"""xpgrad: tensors with reverse-mode autodiff on swappable NumPy / C++ / CuPy / CUDA backends.

    import xpgrad as xg
    x = xg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()      # x.grad == [2, 4]
    xg.set_backend("numpy")       # or "cpu", "cupy", "cuda"
"""

import os as _os

# The C++ kernels' OpenMP threads (libgomp) wait for the next parallel region by spinning.
# libgomp's default (300k PAUSEs: ~11 ms of a core after every kernel, measured) starves other
# processes on a shared machine and makes kernels wait for threads that lost their core;
# ~100 µs still covers the gap between consecutive kernels. Set before xpgrad._C loads
# libgomp; a value the user set wins.
_os.environ.setdefault("GOMP_SPINCOUNT", "3000")

from . import data, datasets, nn, optim, train, tune
from .autograd import enable_grad, grad, is_grad_enabled, no_grad
from .backends import (
    Backend,
    BackendMismatchError,
    BackendUnavailableError,
    available_backends,
    get_backend,
    set_backend,
    use_backend,
)
from .creation import (
    arange,
    empty,
    eye,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    tensor,
    zeros,
    zeros_like,
)
from .functions.reduce import AxisError
from .gradcheck import GradcheckError, gradcheck
from .memory import retain_freed_memory
from .ops import (
    T,
    abs,
    argmax,
    argmin,
    clip,
    concatenate,
    cos,
    exp,
    expand_dims,
    flatten,
    log,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    pad,
    relu,
    reshape,
    sigmoid,
    sin,
    split,
    sqrt,
    squeeze,
    stack,
    sum,
    swapaxes,
    tanh,
    transpose,
    var,
    where,
)
from .serialization import load, save
from .tensor import Tensor
from .viz import to_dot

float32 = "float32"
float64 = "float64"
int64 = "int64"

__version__ = "0.1.0"
