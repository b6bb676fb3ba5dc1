"""Gradient checking: autodiff against central finite differences, in float64.

For a random projection v of the output, f(x) = Σ v ⊙ fn(x). The numeric derivative of each
input element is (f(x + ε) − f(x − ε)) / 2ε; it must match autodiff's ∂f/∂x within
atol + rtol·|numeric|.
"""

from __future__ import annotations

import numpy as np

from . import autograd
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Autodiff and finite differences disagree; the message names the worst element."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0) -> bool:
    """True when autodiff gradients of ``fn(*inputs)`` match finite differences.

    ``inputs``: a Tensor or a sequence; floating tensors with ``requires_grad`` are checked
    (copied to float64 on their backend). ``fn`` may return a Tensor or a tuple of Tensors.
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    args = [
        Tensor._wrap(t.data.astype("float64"), t.backend_obj, True)
        if isinstance(t, Tensor) and t.requires_grad else t
        for t in inputs
    ]
    checked = [i for i, t in enumerate(args) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")
    rng = np.random.default_rng(seed)
    outputs = _as_tuple(fn(*args))
    projections = [rng.standard_normal(o.shape) for o in outputs]

    def projected(*xs):
        return sum(float((o.to_numpy().astype(np.float64) * v).sum()) for o, v in zip(_as_tuple(fn(*xs)), projections))

    total = None
    for o, v in zip(outputs, projections):
        term = (o * Tensor._wrap(o.backend_obj.asarray(v), o.backend_obj, False)).sum()
        total = term if total is None else total + term
    analytic = autograd.grad(total, [args[i] for i in checked], allow_unused=True)

    worst = None
    for position, i in enumerate(checked):
        x = args[i]
        host = x.to_numpy().astype(np.float64)
        auto = np.zeros_like(host) if analytic[position] is None else analytic[position].to_numpy()
        numeric = np.zeros_like(host)
        for idx in np.ndindex(host.shape):
            saved = host[idx]
            values = []
            for delta in (eps, -eps):
                host[idx] = saved + delta
                shifted = list(args)
                # requires_grad stays on: fn may itself differentiate (double-backward checks)
                shifted[i] = Tensor._wrap(x.backend_obj.asarray(host.copy()), x.backend_obj, True)
                values.append(projected(*shifted))
            host[idx] = saved
            numeric[idx] = (values[0] - values[1]) / (2 * eps)
        # an array also for a 0-d input (NumPy's arithmetic gives a scalar, which the NaN
        # assignment below cannot write into)
        excess = np.asarray(np.abs(auto - numeric) - (atol + rtol * np.abs(numeric)))
        excess[np.isnan(excess)] = np.inf  # a NaN on either side is a failure, not a pass
        if excess.size and (worst is None or excess.max() > worst[0]):
            at = np.unravel_index(int(np.argmax(excess)), excess.shape)
            worst = (float(excess.max()), i, at, float(auto[at]), float(numeric[at]))
    if worst is not None and worst[0] > 0:
        if not raise_exception:
            return False
        _, i, at, a, n = worst
        raise GradcheckError(
            f"gradcheck failed for input {i} at index {tuple(int(k) for k in at)}: autodiff {a:.8g}, "
            f"finite difference {n:.8g} (|diff| {abs(a - n):.3g} > atol {atol} + rtol {rtol}·|fd|)"
        )
    return True


def _as_tuple(out):
    """fn's output(s) as a tuple of Tensors, or TypeError saying what fn returned."""
    outputs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for o in outputs:
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor or a tuple of Tensors, got {type(o).__name__}")
    return outputs
