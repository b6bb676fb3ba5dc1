"""Every dispatch path (portable, AVX2, AVX-512) runs the whole kernel test suite: a
subprocess per ISA with XPGRAD_ISA set, skipped where the CPU lacks the instructions. The
portable run also uses a single thread (XPGRAD_NUM_THREADS=1), covering the serial path."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("xpgrad._C", reason="the C++ extension xpgrad._C is not built")

HERE = Path(__file__).resolve().parent
KERNEL_TESTS = sorted(str(p) for p in HERE.glob("test_cpu_*.py") if p.name != Path(__file__).name)
ORDER = ["portable", "avx2", "avx512"]


def best_isa() -> str:
    env = {k: v for k, v in os.environ.items() if k != "XPGRAD_ISA"}
    out = subprocess.run([sys.executable, "-c", "from xpgrad import _C; print(_C.isa())"],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize("isa", ORDER)
def test_kernel_suite_on_each_isa(isa):
    if os.environ.get("XPGRAD_ISA"):
        pytest.skip("already running under a forced ISA")
    if ORDER.index(isa) > ORDER.index(best_isa()):
        pytest.skip(f"this CPU has no {isa}")
    env = dict(os.environ, XPGRAD_ISA=isa)
    if isa == "portable":
        env["XPGRAD_NUM_THREADS"] = "1"
    check = subprocess.run([sys.executable, "-c", "from xpgrad import _C; print(_C.isa())"],
                           env=env, capture_output=True, text=True, check=True)
    assert check.stdout.strip() == isa
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *KERNEL_TESTS],
                         env=env, capture_output=True, text=True, cwd=HERE.parent)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
