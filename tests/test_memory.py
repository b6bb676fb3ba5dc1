"""xg.retain_freed_memory: big arrays freed and allocated again every step stop page-faulting."""

import platform
import subprocess
import sys

import pytest

import xpgrad as xg

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# One "step": arrays of a CNN step's sizes (im2col matrices and activations), 48 MB in all,
# allocated, written and freed; prints the minor page faults per step after a warm-up.
STEP_FAULTS = """
import resource, sys
import numpy as np
import xpgrad as xg
if sys.argv[1] == "retain":
    assert xg.retain_freed_memory(1 << 30)
def step():
    arrays = [np.ones(int(size) // 4, np.float32) for size in (14.4e6, 14.4e6, 6.4e6, 6.4e6, 6.4e6)]
    del arrays
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def faults_per_step(mode):
    out = subprocess.run([sys.executable, "-c", STEP_FAULTS, mode], capture_output=True, text=True, check=True)
    return float(out.stdout)


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_retained_memory_is_reused_without_page_faults():
    pages_per_step = 48e6 / 4096
    default, retained = faults_per_step("default"), faults_per_step("retain")
    # glibc's default gives the freed top of the heap back each step and faults it in again.
    assert default > 0.1 * pages_per_step, (default, retained)
    assert retained < 0.01 * pages_per_step, (default, retained)


@pytest.mark.skipif(GLIBC, reason="other C libraries than glibc")
def test_other_c_libraries_are_left_alone():
    assert xg.retain_freed_memory() is False


def test_bad_sizes_raise():
    with pytest.raises(TypeError, match="max_bytes must be an integer, got float"):
        xg.retain_freed_memory(1e9)
    with pytest.raises(ValueError, match="max_bytes must be >= 0, got -1"):
        xg.retain_freed_memory(-1)
