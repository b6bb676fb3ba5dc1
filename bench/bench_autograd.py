"""Per-op autograd overhead on tiny tensors: y = a·b + c on 10 elements, forward + backward.

Per op = (time of one forward+backward) / 2 ops. Goal: <= 10 µs per op on the numpy backend
(PyTorch CPU takes about 10.5 µs on the reference machine).
"""

from __future__ import annotations

import argparse

import numpy as np

try:
    from .harness import median_time, try_import_torch, write_results
except ImportError:  # run as a script: python bench/bench_autograd.py
    from harness import median_time, try_import_torch, write_results

OPS_PER_STEP = 2  # a*b and +c


def xpgrad_step(backend: str):
    import xpgrad as xg

    rng = np.random.default_rng(0)
    a, b, c = (xg.tensor(rng.standard_normal(10), requires_grad=True, backend=backend) for _ in range(3))
    seed = xg.ones(10, backend=backend)

    def step():
        a.grad = b.grad = c.grad = None
        (a * b + c).backward(seed)

    return step


def torch_step(torch):
    a, b, c = (torch.randn(10, requires_grad=True) for _ in range(3))
    seed = torch.ones(10)

    def step():
        a.grad = b.grad = c.grad = None
        (a * b + c).backward(seed)

    return step


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (results as <name>_quick)")
    args = parser.parse_args(argv)
    repeat = 5 if args.quick else 21
    import xpgrad as xg

    rows = []
    torch = try_import_torch()
    torch_us = None
    if torch is not None:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # tiny tensors: threads only add overhead
        torch_us = median_time(torch_step(torch), repeat=repeat) * 1e6 / OPS_PER_STEP
        torch.set_num_threads(threads)
    for backend in ("numpy", "cpu"):
        if backend not in xg.available_backends():
            continue
        us = median_time(xpgrad_step(backend), repeat=repeat) * 1e6 / OPS_PER_STEP
        rows.append({
            "case": "a*b+c, 10 elements, fwd+bwd", "backend": backend, "us_per_op": us,
            "torch_us_per_op": torch_us, "vs_torch": (us / torch_us) if torch_us else None,
            "goal_us_per_op": 10.0,
        })
    columns = ["case", "backend", "us_per_op", "torch_us_per_op", "vs_torch", "goal_us_per_op"]
    path = write_results("autograd_overhead" + ("_quick" if args.quick else ""), "Autograd per-op overhead (tiny tensors)", rows, columns,
                         notes="vs_torch < 1 means xpgrad is faster. PyTorch single-threaded.")
    for row in rows:
        print(f"{row['backend']:>6}: {row['us_per_op']:.2f} µs/op" +
              (f" (PyTorch {torch_us:.2f} µs/op)" if torch_us else ""))
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
