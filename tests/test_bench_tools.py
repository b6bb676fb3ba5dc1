"""bench/ tools that are not benchmarks of their own (run from a source checkout)."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import xpgrad
from xpgrad import cli


def run_gemm_builds(tmp_path, *options):
    script = Path(__file__).resolve().parents[1] / "bench" / "bench_gemm_builds.py"
    package_root = os.path.dirname(os.path.dirname(xpgrad.__file__))
    env = dict(os.environ, XPGRAD_BENCH_RESULTS=str(tmp_path))
    done = subprocess.run([sys.executable, str(script), f"this={package_root}", "numpy", "--rounds", "1",
                           "--processes", "1", *options], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads((tmp_path / "gemm_builds.json").read_text())["rows"]


def test_gemm_builds_comparison_runs_each_build_in_its_own_workers(tmp_path):
    """bench/bench_gemm_builds.py against NumPy with one round: a row per MLP shape and layout."""
    rows = run_gemm_builds(tmp_path, "--cpu", "0")
    assert len(rows) == 15
    assert all(row["this GFLOP/s"] > 0 and row["numpy vs this"] > 0 for row in rows)


def test_gemm_builds_more_adds_squares_and_fused_layers(tmp_path):
    """--more: the square products and the fused linear + ReLU layers follow the 15 MLP cells
    (two threads: the workers' warm-up batch runs too)."""
    rows = run_gemm_builds(tmp_path, "--more", "--threads", "2")
    assert [row["layout"] for row in rows[15:]] == ["A·B"] * 4 + ["linear + ReLU"] * 3
    assert [row["M×K×N"] for row in rows[15:19]] == ["256×256×256", "512×512×512", "1024×1024×1024", "2048×2048×2048"]
    assert all(row["this GFLOP/s"] > 0 and row["numpy vs this"] > 0 for row in rows)


def bench_harness():
    _, package = cli._bench_package()
    return importlib.import_module(f"{package}.harness")


def test_results_name_the_cpu_by_family_and_model(tmp_path):
    """Two virtual machines both called "AMD EPYC" (an AVX2 Zen 3, an AVX-512 Zen 5) are told
    apart in the results by their family and model numbers."""
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\n"
                       "model name\t: AMD EPYC\nprocessor\t: 1\ncpu family\t: 26\nmodel\t\t: 2\n")
    assert bench_harness().cpu_model(cpuinfo) == "AMD EPYC (family 26, model 2)"
    cpuinfo.write_text("model name\t: Some CPU\n")
    assert bench_harness().cpu_model(cpuinfo) == "Some CPU"


def test_results_name_the_kernels_openblas_chose():
    """OpenBLAS picks its kernels for the CPU unless OPENBLAS_CORETYPE forces a set (a machine
    here sets Haswell's AVX2 kernels on an AVX-512 CPU): the results say which ran."""
    harness = bench_harness()
    if harness.openblas_core() is None:
        pytest.skip("NumPy is not linked to an OpenBLAS that names its kernels")
    assert harness.machine()["numpy_openblas_core"] == harness.openblas_core()
    code = f"import sys; sys.path[:0] = {sys.path!r}; from {harness.__name__} import openblas_core; print(openblas_core())"
    done = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, OPENBLAS_CORETYPE="Haswell"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Haswell"
