"""Shared helpers of the C++ kernel tests: the two backends compared, random shapes, and
closeness "to float rounding" measured against the magnitude of the reference."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("xpgrad._C", reason="the C++ extension xpgrad._C is not built")

from xpgrad.backends.cpu import CpuBackend  # noqa: E402
from xpgrad.backends.numpy import NumpyBackend  # noqa: E402

cpu = CpuBackend()
ref = NumpyBackend()

DTYPES = [np.float32, np.float64]
# Row shapes for last-axis kernels: empty, single, odd, wider than a vector, multi-dim.
# Row lengths cover the CPU kernels' register rows (1 to 4 vectors of 4, 8 or 16 lanes, full
# and partial) and their strip loops.
ROW_SHAPES = [(0, 5), (1, 1), (3, 1), (5, 7), (6, 8), (4, 17), (3, 26), (2, 3, 33), (2, 64), (3, 1000), (2, 4099),
              (9,)]
FLAT_SIZES = [0, 1, 7, 16, 33, 1001, 300_007]  # the last is split over threads by every kernel


def rng(seed=0):
    return np.random.default_rng(seed)


def tol(dtype):
    return 2e-5 if np.dtype(dtype) == np.float32 else 1e-12


def assert_close(actual, expected, dtype, factor=1.0):
    """Equal to float rounding: relative to each value, plus an absolute term scaled by the
    largest finite reference magnitude (sums over rows round at that scale); infinities and
    NaNs must sit where the reference has them. The kernel must return ``dtype`` (the
    reference sometimes promotes float32 to float64)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape and actual.dtype == dtype
    t = tol(dtype) * factor
    scale = float(np.max(np.abs(expected[np.isfinite(expected)]), initial=1.0))
    np.testing.assert_allclose(actual, expected, rtol=t, atol=t * scale)


def non_contiguous(a):
    """A strided view with the same values as ``a``."""
    wide = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype) if a.ndim else np.empty(2, a.dtype)
    view = wide[..., ::2]
    view[...] = a
    assert a.size <= 1 or not view.flags.c_contiguous
    return view


def run_python(*snippets, **env_vars) -> subprocess.CompletedProcess:
    """Run the code ``snippets`` (each dedented, then joined) in a fresh interpreter that imports
    this checkout's xpgrad, with ``env_vars`` added to its environment; its output captured."""
    import xpgrad

    code = "\n".join(textwrap.dedent(snippet) for snippet in snippets)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(xpgrad.__file__)), **env_vars)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


# A run_python snippet: limit_address_space(extra) caps the process's address space at its size
# now (VmSize) plus ``extra`` bytes, so that a kernel's allocation fails; lift_address_space_limit()
# removes the cap.
ADDRESS_SPACE_LIMIT = """
    import resource

    def limit_address_space(extra):
        size = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) << 10
        resource.setrlimit(resource.RLIMIT_AS, (size + extra, resource.RLIM_INFINITY))

    def lift_address_space_limit():
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
"""
needs_address_space_limit = pytest.mark.skipif(sys.platform != "linux",
                                               reason="needs Linux rlimits and /proc/self/status")
