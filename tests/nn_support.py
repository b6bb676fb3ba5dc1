"""Helpers shared by the tests of xpgrad.nn (the ``backend`` fixture is in conftest.py): float64
leaves, double-backward checks, and gradient checks of whole Modules."""

import numpy as np

import xpgrad as xg

BACKENDS = xg.available_backends()


def leaf(shape, backend, low=-2.0, high=2.0, seed=0):
    """A float64 tensor of uniform values that requires grad."""
    rng = np.random.default_rng(seed)
    return xg.tensor(
        rng.uniform(low, high, shape), dtype="float64", requires_grad=True, backend=backend
    )


def gradient_of(scalar_fn):
    """x ↦ ∂scalar_fn(x)/∂x built with create_graph=True, so gradcheck of it checks the double
    backward (gradcheck evaluates its fn under no_grad, hence enable_grad here)."""

    def gradient(x):
        with xg.enable_grad():
            x = x if x.requires_grad else x.detach().requires_grad_()
            return xg.grad(scalar_fn(x), [x], create_graph=True)[0]

    return gradient


def _set_parameter(module, dotted_name, value):
    *path, attr = dotted_name.split(".")
    for part in path:
        module = getattr(module, part)
    module._parameters[attr] = value


def gradcheck_module(module, x, **kwargs):
    """gradcheck of module(x) w.r.t. x and every parameter: gradcheck hands fresh float64 copies
    to the function, which installs them in the module before each forward."""
    named = list(module.named_parameters())

    def run(x, *params):
        for (name, _), value in zip(named, params):
            _set_parameter(module, name, value)
        return module(x)

    copies = [p.detach().astype("float64").requires_grad_() for _, p in named]
    try:
        return xg.gradcheck(run, [x, *copies], **kwargs)
    finally:
        for name, original in named:
            _set_parameter(module, name, original)
