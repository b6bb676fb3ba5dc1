"""A/B of builds of xpgrad._C on the GEMM: which change made the kernels faster, and by how much.

A process holds one xpgrad._C, so each build runs in its own worker processes, and the parent
asks them in turn, round after round, for the time of one product (float32, the layouts of
bench_gemm). On a shared machine:
- the workers are pinned to one core (--cpu; both cores of a VM need not run at the same speed);
- each build runs in --processes workers (the physical pages a process gets change its cache
  behaviour; a difference seen by only one process is luck);
- code placement alone moved results by up to 18% between builds here, so compare builds made
  with the loops aligned: cmake ... -DCMAKE_CXX_FLAGS=-falign-loops=64.
Ratios are medians over rounds of the same-round time ratio against the first build.

usage: python bench/bench_gemm_builds.py before=/tmp/before/python after=/tmp/after/python
(each directory holds an xpgrad package with its _C; 'numpy' may be given as a build too)
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

try:
    from .bench_gemm import LAYOUTS, MLP_SHAPES
    from .harness import write_results
except ImportError:  # run as a script
    from bench_gemm import LAYOUTS, MLP_SHAPES
    from harness import write_results

WORKER = r"""
import sys, time
import numpy as np
name, path, bench_dir = sys.argv[1:4]
sys.path.insert(0, bench_dir)
from bench_gemm import operands
if name != "numpy":
    sys.path.insert(0, path)
    from xpgrad import _C
calls = {}
for line in sys.stdin:
    m, k, n, trans_a, trans_b, number = map(int, line.split())
    key = (m, k, n, trans_a, trans_b)
    if key not in calls:
        a, b = operands(m, k, n, trans_a, trans_b, np.float32, np.random.default_rng(0))
        op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
        out = np.empty((m, n), np.float32)
        if name == "numpy":
            calls[key] = lambda: np.matmul(op_a, op_b, out=out)
        else:
            calls[key] = lambda: _C.gemm(a, b, bool(trans_a), bool(trans_b), out)
        calls[key]()
    fn = calls[key]
    start = time.perf_counter()
    for _ in range(number):
        fn()
    print((time.perf_counter() - start) / number, flush=True)
"""


def geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builds", nargs="+", help="NAME=DIR (DIR holds the xpgrad package), or numpy")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2, help="worker processes per build")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cpu", type=int, default=1, help="core the workers are pinned to (single thread)")
    args = parser.parse_args()
    builds = dict(b.split("=", 1) if "=" in b else (b, "") for b in args.builds)
    env = dict(os.environ, XPGRAD_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    pin = ["taskset", "-c", str(args.cpu)] if args.threads == 1 and shutil.which("taskset") else []
    workers = [(name, subprocess.Popen(pin + [sys.executable, "-c", WORKER, name, path, bench_dir], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, env=env))
               for name, path in builds.items() for _ in range(args.processes)]

    def timed(worker, request):
        time.sleep(0.03)  # let the previous worker's threads go idle
        worker.stdin.write(request)
        worker.stdin.flush()
        return float(worker.stdout.readline())

    base = next(iter(builds))
    rows = []
    for m, k, n in MLP_SHAPES:
        for layout, (trans_a, trans_b) in LAYOUTS.items():
            flop = 2.0 * m * n * k
            request = f"{m} {k} {n} {int(trans_a)} {int(trans_b)} {max(1, int(0.03 * 50e9 / flop))}\n"
            times = {name: [] for name in builds}
            for _ in range(args.rounds):
                for name, worker in workers:  # one time per worker and round
                    times[name].append(timed(worker, request))
            row = {"M×K×N": f"{m}×{k}×{n}", "layout": layout}
            for name, ts in times.items():
                row[f"{name} GFLOP/s"] = flop / statistics.median(ts) / 1e9
                if name != base:
                    row[f"{name} vs {base}"] = statistics.median(t0 / t for t0, t in zip(times[base], ts))
            rows.append(row)
            print(row, flush=True)
    for _, worker in workers:
        worker.stdin.close()
        worker.wait()
    columns = ["M×K×N", "layout"] + [f"{name} GFLOP/s" for name in builds] + [f"{name} vs {base}" for name in builds
                                                                             if name != base]
    notes = (f"float32; {args.threads} thread(s){', pinned to core ' + str(args.cpu) if pin else ''}; "
             f"{args.processes} worker processes per build, {args.rounds} interleaved rounds. "
             f"'X vs {base}': median over rounds of the same-round speed ratio. Builds: "
             + ", ".join(f"{name} = {path or 'NumPy'}" for name, path in builds.items()) + ". Geometric means: "
             + ", ".join(f"{name} vs {base} **{geomean([r[f'{name} vs {base}'] for r in rows]):.2f}×**"
                         for name in builds if name != base) + ".")
    print(write_results("gemm_builds", "GEMM: builds compared (float32)", rows, columns, notes))


if __name__ == "__main__":
    main()
