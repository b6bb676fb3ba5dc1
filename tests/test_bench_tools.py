"""bench/ tools that are not benchmarks of their own (run from a source checkout)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import xpgrad


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
