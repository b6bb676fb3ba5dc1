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
(each directory holds an xpgrad package with its _C; 'numpy' may be given as a build too).
--more adds the square products and the MLP's fused forward layers (linear with bias + ReLU;
NumPy: matmul, + bias, maximum), --conv the products of bench_conv's CNN step (CONV_CASES); the
geometric mean (over the MLP GEMM cells) leaves them out; --no-mlp runs only those. --out names
the results file.
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
    from .bench_conv import gemm_products
    from .bench_gemm import LAYOUTS, MLP_SHAPES, SQUARES
    from .harness import SETTLE_SECONDS, write_results
except ImportError:  # run as a script
    from bench_conv import gemm_products
    from bench_gemm import LAYOUTS, MLP_SHAPES, SQUARES
    from harness import SETTLE_SECONDS, write_results

# The GEMMs of bench_conv's CNN step, as M, K, N, layout.
CONV_CASES = gemm_products()

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
    m, k, n, trans_a, trans_b, linear, warm_up, number = map(int, line.split())
    key = (m, k, n, trans_a, trans_b, linear)
    if key not in calls:
        a, b = operands(m, k, n, trans_a, trans_b, np.float32, np.random.default_rng(0))
        op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
        out = np.empty((m, n), np.float32)
        bias = np.linspace(-1, 1, n, dtype=np.float32)
        if name == "numpy" and linear:
            calls[key] = lambda: np.maximum(np.add(np.matmul(a, b, out=out), bias, out=out), 0, out=out)
        elif name == "numpy":
            calls[key] = lambda: np.matmul(op_a, op_b, out=out)
        elif linear:
            calls[key] = lambda: _C.linear(a, b, bias, "relu")
        else:
            calls[key] = lambda: _C.gemm(a, b, bool(trans_a), bool(trans_b), out)
        calls[key]()
    fn = calls[key]
    for _ in range(warm_up):
        fn()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    print((time.perf_counter() - start) / number, flush=True)
"""


def geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("builds", nargs="+", help="NAME=DIR (DIR holds the xpgrad package), or numpy")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--processes", type=int, default=2, help="worker processes per build")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cpu", type=int, default=1, help="core the workers are pinned to (single thread)")
    parser.add_argument("--more", action="store_true", help="also the squares and the fused forward layers")
    parser.add_argument("--conv", action="store_true", help="also the CNN step's products (CONV_CASES)")
    parser.add_argument("--no-mlp", action="store_true", help="leave out the MLP cells (and their geometric mean)")
    parser.add_argument("--out", default="gemm_builds", help="results name in bench/results")
    args = parser.parse_args()
    builds = dict(b.split("=", 1) if "=" in b else (b, "") for b in args.builds)
    env = dict(os.environ, XPGRAD_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads))
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    pin = ["taskset", "-c", str(args.cpu)] if args.threads == 1 and shutil.which("taskset") else []
    workers = [(name, subprocess.Popen(pin + [sys.executable, "-c", WORKER, name, path, bench_dir], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, env=env))
               for name, path in builds.items() for _ in range(args.processes)]

    # Before each time, the previous worker's idle threads must have stopped spinning (OpenBLAS
    # spins ~0.1 s after a call and would take the second core from a two-thread worker). After
    # that pause a woken worker thread may share its core with the caller for the next ~10-20 ms
    # (seen with perf sched here: the idle vCPU counts as preempted), so with threads a warm-up
    # batch precedes the timed one.
    settle = 0.03 if args.threads == 1 else SETTLE_SECONDS
    warm_up = args.threads > 1

    def timed(worker, request):
        time.sleep(settle)
        worker.stdin.write(request)
        worker.stdin.flush()
        return float(worker.stdout.readline())

    base = next(iter(builds))
    cases = [] if args.no_mlp else [(m, k, n, layout, False) for m, k, n in MLP_SHAPES for layout in LAYOUTS]
    if args.more:
        cases += [(s, s, s, "A·B", False) for s in SQUARES]
        cases += [(m, k, n, "A·B", True) for m, k, n in MLP_SHAPES[::2]]
    if args.conv:
        cases += [(m, k, n, layout, False) for m, k, n, layout in CONV_CASES]
    rows = []
    for m, k, n, layout, linear in cases:
        trans_a, trans_b = LAYOUTS[layout]
        flop = 2.0 * m * n * k
        number = max(1, int(0.03 * 50e9 / flop))
        request = f"{m} {k} {n} {int(trans_a)} {int(trans_b)} {int(linear)} {number * warm_up} {number}\n"
        times = {name: [] for name in builds}
        for _ in range(args.rounds):
            for name, worker in workers:  # one time per worker and round
                times[name].append(timed(worker, request))
        row = {"M×K×N": f"{m}×{k}×{n}", "layout": "linear + ReLU" if linear else layout}
        for name, ts in times.items():
            row[f"{name} GFLOP/s"] = flop / statistics.median(ts) / 1e9
            if name != base:
                row[f"{name} vs {base}"] = statistics.median(t0 / t for t0, t in zip(times[base], ts))
        rows.append(row)
        print(row, flush=True)
    for _, worker in workers:
        worker.stdin.close()
        worker.wait()
    mlp_cells = 0 if args.no_mlp else len(MLP_SHAPES) * len(LAYOUTS)  # the geometric mean's cells (issue 5)
    columns = ["M×K×N", "layout"] + [f"{name} GFLOP/s" for name in builds] + [f"{name} vs {base}" for name in builds
                                                                             if name != base]
    notes = (f"float32; {args.threads} thread(s){', pinned to core ' + str(args.cpu) if pin else ''}; "
             f"{args.processes} worker processes per build, {args.rounds} interleaved rounds. "
             f"'X vs {base}': median over rounds of the same-round speed ratio. Builds: "
             + ", ".join(f"{name} = {path or 'NumPy'}" for name, path in builds.items()) + ".")
    if mlp_cells:
        notes += (" Geometric means: "
                  + ", ".join(f"{name} vs {base} **{geomean([r[f'{name} vs {base}'] for r in rows[:mlp_cells]]):.2f}×**"
                              for name in builds if name != base) + " (over the MLP GEMM cells).")
    print(write_results(args.out, "GEMM: builds compared (float32)", rows, columns, notes))


if __name__ == "__main__":
    main()
