"""bench/ tools that are not benchmarks of their own (run from a source checkout)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import xpgrad


def test_gemm_builds_comparison_runs_each_build_in_its_own_workers(tmp_path):
    """bench/bench_gemm_builds.py against NumPy with one round: a row per MLP shape and layout."""
    script = Path(__file__).resolve().parents[1] / "bench" / "bench_gemm_builds.py"
    package_root = os.path.dirname(os.path.dirname(xpgrad.__file__))
    env = dict(os.environ, XPGRAD_BENCH_RESULTS=str(tmp_path))
    done = subprocess.run([sys.executable, str(script), f"this={package_root}", "numpy", "--rounds", "1",
                           "--processes", "1", "--cpu", "0"], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "gemm_builds.json").read_text())["rows"]
    assert len(rows) == 15
    assert all(row["this GFLOP/s"] > 0 and row["numpy vs this"] > 0 for row in rows)
