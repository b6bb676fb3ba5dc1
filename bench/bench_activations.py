"""Activation benchmark: sigmoid, tanh, relu, leaky_relu and elu, forward and backward, on 1M
float32 elements; xpgrad's cpu kernels against the numpy backend and PyTorch (its ATen
forward and *_backward ops, the faster of 1 and 2 threads) in the same run.

    python bench/bench_activations.py [--quick]
"""

from __future__ import annotations

import argparse

import numpy as np

try:  # as part of the bench package (xpgrad bench) or as a script
    from .compare import compare
    from .harness import try_import_torch, write_results
except ImportError:
    from compare import compare
    from harness import try_import_torch, write_results

TORCH_THREADS = (2, 1)


def cases(b, x, y, gy):
    """(name, callable) pairs of one backend: forward and backward of each activation."""
    return {
        "sigmoid": lambda: b.sigmoid(x),
        "sigmoid_backward": lambda: b.sigmoid_backward(y["sigmoid"], gy),
        "tanh": lambda: b.tanh(x),
        "tanh_backward": lambda: b.tanh_backward(y["tanh"], gy),
        "relu": lambda: b.relu(x),
        "relu_backward": lambda: b.relu_backward(y["relu"], gy),
        "leaky_relu": lambda: b.leaky_relu(x, 0.01),
        "leaky_relu_backward": lambda: b.leaky_relu_backward(x, gy, 0.01),
        "elu": lambda: b.elu(x, 1.0),
        "elu_backward": lambda: b.elu_backward(x, gy, 1.0),
    }


def torch_cases(torch, x, y, gy):
    t = {name: torch.from_numpy(v) for name, v in y.items()}
    xt, gt = torch.from_numpy(x), torch.from_numpy(gy)
    aten, F = torch.ops.aten, torch.nn.functional
    return {
        "sigmoid": lambda: torch.sigmoid(xt),
        "sigmoid_backward": lambda: aten.sigmoid_backward(gt, t["sigmoid"]),
        "tanh": lambda: torch.tanh(xt),
        "tanh_backward": lambda: aten.tanh_backward(gt, t["tanh"]),
        "relu": lambda: torch.relu(xt),
        "relu_backward": lambda: aten.threshold_backward(gt, t["relu"], 0),
        "leaky_relu": lambda: F.leaky_relu(xt, 0.01),
        "leaky_relu_backward": lambda: aten.leaky_relu_backward(gt, xt, 0.01, False),
        "elu": lambda: F.elu(xt, 1.0),
        "elu_backward": lambda: aten.elu_backward(gt, 1.0, 1, 1, False, xt),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100K elements, few rounds (results as <name>_quick)")
    args = parser.parse_args(argv)

    from xpgrad.backends.registry import get_backend

    cpu, ref = get_backend("cpu"), get_backend("numpy")
    torch = try_import_torch()
    n = 100_000 if args.quick else 1_000_000
    rounds, repeat = (2, 3) if args.quick else (7, 7)
    r = np.random.default_rng(0)
    x = (r.standard_normal(n) * 3).astype(np.float32)
    gy = r.standard_normal(n).astype(np.float32)
    y = {name: getattr(ref, name)(x) for name in ("sigmoid", "tanh", "relu", "elu")}
    ours, reference = cases(cpu, x, y, gy), cases(ref, x, y, gy)
    theirs = torch_cases(torch, x, y, gy) if torch else {}
    rows = []
    for op in ours:
        impls, setup = {"xpgrad": ours[op], "numpy": reference[op]}, {}
        if op in theirs:
            for threads in TORCH_THREADS:
                impls[f"torch_{threads}t"] = theirs[op]
                setup[f"torch_{threads}t"] = lambda threads=threads: torch.set_num_threads(threads)
        res = compare(impls, "xpgrad", rounds=rounds, repeat=repeat, setup=setup)
        best = min((k for k in res if k.startswith("torch")), key=lambda k: res[k]["us"], default=None)
        row = {
            "op": op, "n": n, "xpgrad_us": res["xpgrad"]["us"], "numpy_us": res["numpy"]["us"],
            "torch_us": res[best]["us"] if best else None,
            "vs_numpy": res["numpy"]["baseline_speedup"],
            "vs_torch": res[best]["baseline_speedup"] if best else None,
        }
        rows.append(row)
        print(", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    if torch:
        torch.set_num_threads(TORCH_THREADS[0])
    path = write_results(
        "activations" + ("_quick" if args.quick else ""), "Activations forward and backward on 1M float32 elements (cpu backend)", rows,
        ["op", "n", "xpgrad_us", "numpy_us", "torch_us", "vs_numpy", "vs_torch"],
        notes="vs_numpy / vs_torch: median over interleaved rounds of t(other) / t(xpgrad) (> 1: xpgrad "
              "faster). Each call allocates its output, as the backend API does. torch: ATen forward and "
              "*_backward ops, the faster of 1 and 2 threads.")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
