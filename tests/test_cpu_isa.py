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


def isa_in_subprocess(value):
    """(the ISA the kernels chose, the warnings the cpu backend gave) with XPGRAD_ISA=value."""
    code = ("import warnings; warnings.simplefilter('always')\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    import xpgrad as xg; backend = xg.get_backend('cpu')\n"
            "print(backend.kernels.isa()); print([str(w.message) for w in caught])")
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, XPGRAD_ISA=value),
                         capture_output=True, text=True, check=True).stdout.split("\n")
    return out[0], out[1]


def test_the_isa_request_ignores_case_and_a_typo_is_named():
    """XPGRAD_ISA=AVX2 (or any name but the exact lower-case ones) ran the best ISA, silently."""
    best = best_isa()
    chosen, warned = isa_in_subprocess("Portable")
    assert chosen == "portable" and warned == "[]"
    chosen, warned = isa_in_subprocess("avx-2")
    assert chosen == best
    assert f"XPGRAD_ISA='avx-2' is not one of portable, avx2, avx512: the kernels use {best}" in warned
    if best != "avx512":
        chosen, warned = isa_in_subprocess("AVX512")
        assert chosen == best and "asks for more than this CPU supports" in warned
