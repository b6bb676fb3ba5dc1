"""Optimizer benchmark: one fused update of ~1M float32 parameters (a 1000×1000 weight and a
1000 bias) for SGD (momentum, Nesterov), Adam, AdamW, Adamax, RMSprop (plain, momentum) and
Adagrad; xpgrad's cpu kernels against the numpy reference (Backend.*_update) and
torch.optim's step (foreach, and fused where PyTorch has it; the fastest of those and of 1
and 2 threads) in the same run.

    python bench/bench_optim.py [--quick]
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

# name: (backend method, its hyper-parameters, state names, torch class name, torch kwargs)
CASES = {
    "sgd_momentum": ("sgd_update", dict(lr=0.01, momentum=0.9), ["momentum_buffer"], "SGD",
                     dict(lr=0.01, momentum=0.9)),
    "sgd_nesterov": ("sgd_update", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
                     ["momentum_buffer"], "SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)),
    "adam": ("adam_update", dict(lr=1e-3), ["exp_avg", "exp_avg_sq"], "Adam", dict(lr=1e-3)),
    "adamw": ("adam_update", dict(lr=1e-3, weight_decay=0.01, decoupled_weight_decay=True),
              ["exp_avg", "exp_avg_sq"], "AdamW", dict(lr=1e-3, weight_decay=0.01)),
    "adamax": ("adamax_update", dict(lr=2e-3), ["exp_avg", "exp_inf"], "Adamax", dict(lr=2e-3)),
    "rmsprop": ("rmsprop_update", dict(lr=1e-3, alpha=0.9), ["square_avg"], "RMSprop", dict(lr=1e-3, alpha=0.9)),
    "rmsprop_momentum": ("rmsprop_update", dict(lr=1e-3, alpha=0.9, momentum=0.9), ["square_avg"], "RMSprop",
                         dict(lr=1e-3, alpha=0.9, momentum=0.9)),
    "adagrad": ("adagrad_update", dict(lr=1e-2), ["sum_sq"], "Adagrad", dict(lr=1e-2)),
}


def backend_step(backend, method, hyper, state_names, params, grads):
    """A closure doing one update of every parameter tensor with ``backend``."""
    states = [{name: np.zeros_like(p) for name in state_names} for p in params]
    for state, p in zip(states, params):
        if hyper.get("momentum") and method == "rmsprop_update":
            state["momentum_buffer"] = np.zeros_like(p)

    def step():
        for p, g, s in zip(params, grads, states):
            if method == "sgd_update":
                backend.sgd_update(p, g, s["momentum_buffer"], **hyper)
            elif method in ("adam_update", "adamax_update"):
                getattr(backend, method)(p, g, *(s[n] for n in state_names), step=10, **hyper)
            elif method == "rmsprop_update":
                backend.rmsprop_update(p, g, s["square_avg"], momentum_buffer=s.get("momentum_buffer"), **hyper)
            else:
                getattr(backend, method)(p, g, *(s[n] for n in state_names), **hyper)
    return step


def torch_steps(torch, cls_name, kwargs, params, grads):
    """{variant: step closure} for the torch implementations this optimizer has."""
    out = {}
    for variant in ("foreach", "fused"):
        tp = [torch.nn.Parameter(torch.from_numpy(p.copy())) for p in params]
        for t, g in zip(tp, grads):
            t.grad = torch.from_numpy(g.copy())
        try:
            opt = getattr(torch.optim, cls_name)(tp, **kwargs, **{variant: True})
            opt.step()
        except (RuntimeError, TypeError, ValueError):
            continue  # this optimizer has no such implementation on CPU
        out[variant] = opt.step
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100K parameters, few rounds (results as <name>_quick)")
    args = parser.parse_args(argv)

    from xpgrad.backends.registry import get_backend

    cpu, ref = get_backend("cpu"), get_backend("numpy")
    torch = try_import_torch()
    side = 316 if args.quick else 1000
    rounds, repeat = (2, 3) if args.quick else (7, 7)
    r = np.random.default_rng(0)
    shapes = [(side, side), (side,)]
    rows = []
    for name, (method, hyper, state_names, cls_name, torch_kwargs) in CASES.items():
        params = {b: [r.standard_normal(s).astype(np.float32) for s in shapes] for b in ("cpu", "numpy")}
        grads = [r.standard_normal(s).astype(np.float32) * 1e-2 for s in shapes]
        impls = {
            "xpgrad": backend_step(cpu, method, hyper, state_names, params["cpu"], grads),
            "numpy": backend_step(ref, method, hyper, state_names, params["numpy"], grads),
        }
        setup = {}
        if torch:
            for variant, step in torch_steps(torch, cls_name, torch_kwargs, params["cpu"], grads).items():
                for threads in TORCH_THREADS:
                    impls[f"torch_{variant}_{threads}t"] = step
                    setup[f"torch_{variant}_{threads}t"] = lambda threads=threads: torch.set_num_threads(threads)
        res = compare(impls, "xpgrad", rounds=rounds, repeat=repeat, setup=setup)
        best = min((k for k in res if k.startswith("torch")), key=lambda k: res[k]["us"], default=None)
        row = {
            "optimizer": name, "params": sum(int(np.prod(s)) for s in shapes),
            "xpgrad_us": res["xpgrad"]["us"], "numpy_us": res["numpy"]["us"],
            "torch_us": res[best]["us"] if best else None, "torch_variant": best,
            "vs_numpy": res["numpy"]["baseline_speedup"],
            "vs_torch": res[best]["baseline_speedup"] if best else None,
        }
        rows.append(row)
        print(", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    if torch:
        torch.set_num_threads(TORCH_THREADS[0])
    path = write_results(
        "optim" + ("_quick" if args.quick else ""), "Fused optimizer updates on ~1M float32 parameters (cpu backend)", rows,
        ["optimizer", "params", "xpgrad_us", "numpy_us", "torch_us", "torch_variant", "vs_numpy", "vs_torch"],
        notes="One step over a 1000×1000 weight and a 1000 bias. vs_numpy / vs_torch: median over interleaved "
              "rounds of t(other) / t(xpgrad) (> 1: xpgrad faster). torch: torch.optim step with foreach=True "
              "or fused=True (where available), the fastest variant and thread count.")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
