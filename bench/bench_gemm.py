"""GEMM throughput (GFLOP/s = 2·M·N·K / time) of xpgrad's C++ kernels vs NumPy (OpenBLAS) and
PyTorch (when installed, same thread count), float32.

MLP shapes M×K×N, each in the three layouts an MLP's training step uses:
  A·B   forward      y = x·W     x (M, K), W (K, N) row-major
  Aᵀ·B  weight grad  gW = xᵀ·g   x stored (K, M), g (K, N)
  A·Bᵀ  input grad   gx = g·Wᵀ   g (M, K), W stored (N, K)
plus square A·B products. Goals (issue 5): >= 1.2× NumPy as the geometric mean over the MLP
shapes × 3 layouts, >= 280 GFLOP/s at 100×1000×1000, >= 320 GFLOP/s at 2048³.

OpenBLAS picks its kernels for the CPU unless OPENBLAS_CORETYPE forces a set (the results name
the set that ran); with OPENBLAS_CORETYPE set, e.g. `OPENBLAS_CORETYPE=Haswell python
bench/bench_gemm.py` for its AVX2 kernels, the results are written as <name>_openblas_haswell.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics

import numpy as np

try:
    from .harness import median_time, try_import_torch, write_results
except ImportError:  # run as a script: python bench/bench_gemm.py
    from harness import median_time, try_import_torch, write_results

MLP_SHAPES = [(100, 784, 1000), (784, 100, 1000), (100, 1000, 784), (100, 1000, 1000), (32, 784, 512)]
SQUARES = [256, 512, 1024, 2048]
LAYOUTS = {"A·B": (False, False), "Aᵀ·B": (True, False), "A·Bᵀ": (False, True)}


def operands(m, k, n, trans_a, trans_b, dtype, rng):
    """Stored arrays a, b with op(a) (m×k) and op(b) (k×n), each C-contiguous as stored."""
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def measure(m, k, n, layout, dtype, rounds, repeat, kernels, torch):
    """Median GFLOP/s of each library and the median over rounds of the same-round ratios."""
    trans_a, trans_b = LAYOUTS[layout]
    a, b = operands(m, k, n, trans_a, trans_b, dtype, np.random.default_rng(0))
    op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
    out = np.empty((m, n), dtype)
    fns = {
        "xpgrad": lambda: kernels.gemm(a, b, trans_a, trans_b, out),
        "numpy": lambda: np.matmul(op_a, op_b, out=out),
    }
    if torch is not None:
        ta, tb, tout = torch.from_numpy(op_a), torch.from_numpy(op_b), torch.from_numpy(out)
        fns["torch"] = lambda: torch.mm(ta, tb, out=tout)
    flop = 2.0 * m * n * k
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(median_time(fn, repeat=repeat))
    row = {"M×K×N": f"{m}×{k}×{n}", "layout": layout}
    for name, ts in times.items():
        row[f"{name} GFLOP/s"] = flop / statistics.median(ts) / 1e9
    row["vs numpy"] = statistics.median(n_ / x for n_, x in zip(times["numpy"], times["xpgrad"]))
    if torch is not None:
        row["vs torch"] = statistics.median(t / x for t, x in zip(times["torch"], times["xpgrad"]))
    return row


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, squares up to 1024 (results as <name>_quick)")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args(argv)
    torch = try_import_torch()  # first: xpgrad's GOMP_SPINCOUNT default must not reach torch's libgomp
    from xpgrad import _C

    if torch is not None:
        torch.set_num_threads(_C.num_threads())
    dtype = np.dtype(args.dtype)
    rounds, repeat = (2, 3) if args.quick else (3, 5)
    rows = []
    for m, k, n in MLP_SHAPES:
        for layout in LAYOUTS:
            rows.append(measure(m, k, n, layout, dtype, rounds, repeat, _C, torch))
            print(rows[-1], flush=True)
    mlp_geomean = math.exp(statistics.fmean(math.log(r["vs numpy"]) for r in rows))
    for s in SQUARES if not args.quick else SQUARES[:-1]:
        rows.append(measure(s, s, s, "A·B", dtype, rounds, repeat, _C, torch))
        print(rows[-1], flush=True)
    columns = ["M×K×N", "layout", "xpgrad GFLOP/s", "numpy GFLOP/s"]
    columns += ["torch GFLOP/s"] if torch is not None else []
    columns += ["vs numpy"] + (["vs torch"] if torch is not None else [])
    notes = (f"{args.dtype}; {_C.num_threads()} threads, ISA {_C.isa()}. Geometric mean of the "
             f"same-round xpgrad/NumPy speed ratio over the MLP shapes × 3 layouts: "
             f"**{mlp_geomean:.2f}×**. GFLOP/s and ratios are medians over {rounds} rounds.")
    print(notes)
    suffix = ("" if args.dtype == "float32" else "_f64") + ("_quick" if args.quick else "")
    if os.environ.get("OPENBLAS_CORETYPE"):
        suffix += "_openblas_" + os.environ["OPENBLAS_CORETYPE"].lower()
    write_results("gemm" + suffix, f"GEMM ({args.dtype})", rows, columns, notes)


if __name__ == "__main__":
    main()
