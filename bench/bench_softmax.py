"""Softmax family benchmark: softmax, log_softmax, cross-entropy (loss + gradient), sparsemax
and sparsemax loss (loss + gradient) at K = 10, 1000, 32000 classes, float32; xpgrad's cpu
kernels against the numpy backend (the reference) and PyTorch in the same run.

PyTorch has no sparsemax: its column is the sort-based formula in torch ops (as in the
entmax package). For cross-entropy it is the faster of F.cross_entropy + backward and the
same loss/gradient written with torch ops without autograd, and the faster of 1 and 2 threads.

    python bench/bench_softmax.py [--quick]
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

SIZES = [(16384, 10), (1024, 1000), (64, 32000)]
QUICK_SIZES = [(2048, 10), (128, 1000), (8, 32000)]
# PyTorch is timed with 2 threads and with 1 (its OpenMP team suffers most when the shared
# machine is busy); the faster is the one compared against.
TORCH_THREADS = (2, 1)


def torch_impls(torch, x, t):
    """PyTorch versions of each operation (None where it has none)."""
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    rows = torch.arange(x.shape[0])
    k = torch.arange(1, x.shape[1] + 1, dtype=xt.dtype)
    F = torch.nn.functional

    def ce_autograd():
        xr = xt.detach().requires_grad_()
        F.cross_entropy(xr, tt, reduction="none").backward(torch.ones(len(tt)))
        return xr.grad

    def ce_ops():
        log_p = torch.log_softmax(xt, 1)
        loss = -log_p[rows, tt]
        grad = log_p.exp_()
        grad[rows, tt] -= 1
        return loss, grad

    def sparsemax(z):
        z = z - z.max(-1, keepdim=True).values
        zs = torch.sort(z, -1, descending=True).values
        cs = zs.cumsum(-1) - 1
        kz = (zs * k > cs).sum(-1, keepdim=True)
        tau = cs.gather(-1, kz - 1) / kz
        return torch.clamp(z - tau, min=0), z, tau, (zs * k > cs)

    def sparsemax_loss():
        p, z, tau, _ = sparsemax(xt)
        support = p > 0
        loss = -z[rows, tt] + 0.5 * ((z * z - tau * tau) * support).sum(-1) + 0.5
        grad = p.clone()
        grad[rows, tt] -= 1
        return loss.clamp_(min=0), grad

    return {
        "softmax": [lambda: torch.softmax(xt, -1)],
        "log_softmax": [lambda: torch.log_softmax(xt, -1)],
        "cross_entropy": [ce_autograd, ce_ops],
        "sparsemax": [lambda: sparsemax(xt)[0]],
        "sparsemax_loss": [sparsemax_loss],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (results as <name>_quick)")
    args = parser.parse_args(argv)

    from xpgrad.backends.registry import get_backend

    cpu, ref = get_backend("cpu"), get_backend("numpy")
    torch = try_import_torch()
    rounds, repeat = (2, 3) if args.quick else (7, 7)
    rows = []
    for n, k in QUICK_SIZES if args.quick else SIZES:
        r = np.random.default_rng(0)
        x = (r.standard_normal((n, k)) * 2).astype(np.float32)
        t = r.integers(0, k, n)
        ops = {
            "softmax": lambda b, x=x: b.softmax(x),
            "log_softmax": lambda b, x=x: b.log_softmax(x),
            "cross_entropy": lambda b, x=x, t=t: b.cross_entropy(x, t),
            "sparsemax": lambda b, x=x: b.sparsemax(x),
            "sparsemax_loss": lambda b, x=x, t=t: b.sparsemax_loss(x, t),
        }
        theirs = torch_impls(torch, x, t) if torch else {}
        for op, call in ops.items():
            impls = {"xpgrad": lambda call=call: call(cpu), "numpy": lambda call=call: call(ref)}
            setup = {}
            for i, fn in enumerate(theirs.get(op, [])):
                for threads in TORCH_THREADS:
                    impls[f"torch{i}_{threads}t"] = fn
                    setup[f"torch{i}_{threads}t"] = lambda threads=threads: torch.set_num_threads(threads)
            res = compare(impls, "xpgrad", rounds=rounds, repeat=repeat, setup=setup)
            torch_keys = [key for key in res if key.startswith("torch")]
            best = min(torch_keys, key=lambda key: res[key]["us"]) if torch_keys else None
            row = {
                "op": op, "N": n, "K": k,
                "xpgrad_us": res["xpgrad"]["us"], "numpy_us": res["numpy"]["us"],
                "torch_us": res[best]["us"] if best else None,
                "vs_numpy": res["numpy"]["baseline_speedup"],
                "vs_torch": res[best]["baseline_speedup"] if best else None,
            }
            rows.append(row)
            print(", ".join(f"{key}={value:.3g}" if isinstance(value, float) else f"{key}={value}"
                            for key, value in row.items()), flush=True)
    if torch:
        torch.set_num_threads(TORCH_THREADS[0])
    path = write_results(
        "softmax" + ("_quick" if args.quick else ""), "Softmax family, cross-entropy and sparsemax (float32, cpu backend)", rows,
        ["op", "N", "K", "xpgrad_us", "numpy_us", "torch_us", "vs_numpy", "vs_torch"],
        notes="vs_numpy / vs_torch: median over interleaved rounds of t(other) / t(xpgrad) "
              "(> 1: xpgrad faster). cross_entropy and sparsemax_loss return the per-row loss "
              "and the gradient. torch sparsemax: sort-based formula in torch ops; torch "
              "cross_entropy: the faster of F.cross_entropy+backward and plain torch ops.")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
