"""One SGD training step of a 784-1000-1000-10 MLP (batch 100, ReLU, softmax cross-entropy,
lr 0.1), float32, written directly against the Backend API (linear with its fused epilogue,
cross_entropy, linear_backward, sgd_update): the `cpu` backend vs the `numpy` backend vs the
same step in PyTorch (torch.set_num_threads = xpgrad's kernel threads).

The first layer's input needs no gradient, so its backward skips the input-gradient GEMM
(need_gx=False; PyTorch skips that 100×1000×784 product too). Goal: cpu <= 0.75× PyTorch.

    python bench/bench_mlp_step.py [--quick] [--default-malloc]

The process keeps freed memory for reuse (xg.retain_freed_memory), for PyTorch and xpgrad alike,
as bench_conv; --default-malloc measures with glibc's defaults (results as <name>_default_malloc).
"""

from __future__ import annotations

import argparse
import itertools
import statistics

import numpy as np

try:
    from .harness import (
        add_malloc_option,
        median_time,
        set_up_malloc,
        try_import_torch,
        write_results,
    )
except ImportError:  # run as a script: python bench/bench_mlp_step.py
    from harness import (
        add_malloc_option,
        median_time,
        set_up_malloc,
        try_import_torch,
        write_results,
    )

SIZES = (784, 1000, 1000, 10)
BATCH = 100
LR = 0.1


def initial_parameters(seed=0):
    """Glorot-uniform weights (in, out) and zero biases, float32."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in itertools.pairwise(SIZES):
        t = np.sqrt(6.0 / (fan_in + fan_out))
        params += [rng.uniform(-t, t, (fan_in, fan_out)).astype(np.float32), np.zeros(fan_out, np.float32)]
    return params


def batch(seed=1):
    rng = np.random.default_rng(seed)
    return rng.random((BATCH, SIZES[0]), dtype=np.float32), rng.integers(0, SIZES[-1], BATCH)


def backend_step(backend_name):
    """A closure running one training step on the named backend, and its parameter list."""
    from xpgrad.backends.registry import get_backend

    be = get_backend(backend_name)
    w1, b1, w2, b2, w3, b3 = params = [be.asarray(p.copy()) for p in initial_parameters()]
    x, y = (be.asarray(v) for v in batch())

    def step():
        h1 = be.linear(x, w1, b1, "relu")
        h2 = be.linear(h1, w2, b2, "relu")
        logits = be.linear(h2, w3, b3)
        _, g = be.cross_entropy(logits, y)
        g *= 1.0 / BATCH  # mean over the batch
        g2, gw3, gb3 = be.linear_backward(h2, w3, logits, g, "identity", True)
        g1, gw2, gb2 = be.linear_backward(h1, w2, h2, g2, "relu", True)
        _, gw1, gb1 = be.linear_backward(x, w1, h1, g1, "relu", True, need_gx=False)
        for p, gp in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3)):
            be.sgd_update(p, gp, None, lr=LR)

    return step, params


def autograd_step(backend_name):
    """The same step as users write it: nn.Sequential (Linear+ReLU fused), CrossEntropyLoss,
    optim.SGD, backward through xpgrad's autograd, on the named backend."""
    import xpgrad as xg
    from xpgrad import nn, optim

    with xg.use_backend(backend_name):
        model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(),
                              nn.Linear(SIZES[1], SIZES[2]), nn.ReLU(),
                              nn.Linear(SIZES[2], SIZES[3]))
        params = initial_parameters()
        for layer, w, b in zip(model[::2], params[::2], params[1::2]):
            layer.weight.data[...] = w
            layer.bias.data[...] = b
        x, y = (xg.tensor(v) for v in batch())
    loss_fn, opt = nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step, [p.data for p in model.parameters()]


def torch_step(torch):
    w1, b1, w2, b2, w3, b3 = initial_parameters()
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[1], SIZES[2]), torch.nn.ReLU(),
        torch.nn.Linear(SIZES[2], SIZES[3]),
    )
    with torch.no_grad():
        for layer, w, b in zip(model[::2], (w1, w2, w3), (b1, b2, b3)):
            layer.weight.copy_(torch.from_numpy(w.T.copy()))
            layer.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    x, y = (torch.from_numpy(v) for v in batch())

    def step():
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    return step, model


def check_agreement(cpu_params, ref_params) -> float:
    """Largest parameter difference after the same number of steps (float32 rounding expected)."""
    return max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in zip(cpu_params, ref_params))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (results as <name>_quick)")
    add_malloc_option(parser)
    args = parser.parse_args(argv)
    torch = try_import_torch()  # first: xpgrad's GOMP_SPINCOUNT default must not reach torch's libgomp
    from xpgrad import _C

    malloc_note, malloc_suffix = set_up_malloc(args)

    if torch is not None:
        torch.set_num_threads(_C.num_threads())
    rounds, repeat = (2, 5) if args.quick else (5, 11)

    steps = {}
    steps["cpu"], cpu_params = backend_step("cpu")
    steps["numpy"], numpy_params = backend_step("numpy")
    steps["autograd"], autograd_params = autograd_step("cpu")
    for _ in range(3):  # same updates from the same start: all must agree
        steps["cpu"]()
        steps["numpy"]()
        steps["autograd"]()
    diff = max(check_agreement(cpu_params, numpy_params), check_agreement(autograd_params, numpy_params))
    print(f"max |cpu − numpy| parameter difference after 3 steps: {diff:.2e}")
    if torch is not None:
        steps["torch"], _ = torch_step(torch)

    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, fn in steps.items():
            times[name].append(median_time(fn, repeat=repeat, number=1))
    base = "torch" if torch is not None else "numpy"
    rows = []
    for name, ts in times.items():
        rows.append({
            "implementation": {"cpu": "xpgrad cpu backend", "numpy": "xpgrad numpy backend",
                               "autograd": "xpgrad nn + autograd + optim (cpu)",
                               "torch": "PyTorch"}[name],
            "ms / step": statistics.median(ts) * 1e3,
            f"time vs {base}": statistics.median(t / b for t, b in zip(ts, times[base])),
        })
        print(rows[-1], flush=True)
    notes = (f"784-1000-1000-10 MLP, batch {BATCH}, ReLU, softmax cross-entropy, SGD lr {LR}, float32; "
             f"{_C.num_threads()} threads, ISA {_C.isa()}. Ratios are medians of same-round ratios "
             f"over {rounds} rounds. the three xpgrad variants agree to {diff:.1e} after 3 steps. "
             f"{malloc_note}")
    write_results("mlp_step" + ("_quick" if args.quick else "") + malloc_suffix, "MLP training step", rows, ["implementation", "ms / step", f"time vs {base}"], notes)


if __name__ == "__main__":
    main()
