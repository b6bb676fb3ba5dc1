"""Convolution benchmark: one forward+backward step of a small MNIST-style CNN (batch 64,
float32: Conv2d(1, 32, 3, p=1), ReLU, MaxPool2d(2), Conv2d(32, 64, 3, p=1), ReLU, MaxPool2d(2),
Flatten, Linear(3136, 10), cross-entropy) through nn + autograd on the `cpu` backend vs the
`numpy` backend vs the same step in PyTorch; then im2col / col2im alone at the convolutions'
shapes (cpu vs numpy backend, and torch's unfold / fold, the same data movement in
(N, C·kH·kW, L) layout), and max pooling forward / backward at the pools' shapes (vs torch's
max_pool2d with indices and its backward).

    python bench/bench_conv.py [--quick] [--default-malloc]

The process keeps freed memory for reuse (xg.retain_freed_memory), for PyTorch and xpgrad alike,
as a training script that allocates the same big arrays every step should; --default-malloc
measures with glibc's defaults instead (results as <name>_default_malloc).
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

try:  # as part of the bench package (xpgrad bench) or as a script
    from .compare import compare
    from .harness import (
        add_malloc_option,
        median_time,
        set_up_malloc,
        try_import_torch,
        write_results,
    )
except ImportError:
    from compare import compare
    from harness import (
        add_malloc_option,
        median_time,
        set_up_malloc,
        try_import_torch,
        write_results,
    )

BATCH = 64
# The step's convolutions (xpgrad_step's model): (name, input shape, output channels, kernel,
# stride, padding).
CONVOLUTIONS = [
    ("conv1", (BATCH, 1, 28, 28), 32, 3, 1, 1),
    ("conv2", (BATCH, 32, 14, 14), 64, 3, 1, 1),
]
# Their im2col geometries: (name, input shape, kernel, stride, padding).
GEOMETRIES = [(name, shape, k, s, p) for name, shape, _, k, s, p in CONVOLUTIONS]


def gemm_products():
    """The step's GEMMs as (M, K, N, layout): for each convolution the forward X̂·Ŵᵀ, the weight
    gradient X̂ᵀ·∂Y, and the input gradient ∂Y·Ŵ where the input needs one (not the image's)."""
    products = []
    for i, (_, (n, c, h, w), out, k, s, p) in enumerate(CONVOLUTIONS):
        rows = n * ((h + 2 * p - k) // s + 1) * ((w + 2 * p - k) // s + 1)
        products += [(rows, c * k * k, out, "A·Bᵀ"), (c * k * k, rows, out, "Aᵀ·B")]
        if i > 0:
            products.append((rows, out, c * k * k, "A·B"))
    return products


# The step's 2×2 max pools (stride 2): (name, input shape); timed on (N, C, H, W) memory and
# channels-last (a convolution's output, what the step's pools get).
POOLS = [("pool1", (BATCH, 32, 28, 28)), ("pool2", (BATCH, 64, 14, 14))]


def batch(seed=1):
    r = np.random.default_rng(seed)
    return r.random((BATCH, 1, 28, 28), dtype=np.float32), r.integers(0, 10, BATCH)


def xpgrad_step(backend_name):
    """A closure running forward+backward on the named backend, and the model."""
    import xpgrad as xg
    from xpgrad import nn

    xg.manual_seed(0)
    with xg.use_backend(backend_name):
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
        x, y = (xg.tensor(v) for v in batch())
    loss_fn = nn.CrossEntropyLoss()

    def step():
        model.zero_grad()
        loss_fn(model(x), y).backward()

    return step, model


def torch_step(torch, model):
    """The same step in PyTorch, from the xpgrad model's parameters (Linear's weight transposed)."""
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                             torch.nn.Flatten(), torch.nn.Linear(64 * 7 * 7, 10))
    with torch.no_grad():
        for p, q in zip(tm.parameters(), model.parameters()):
            v = np.asarray(q.data)
            p.copy_(torch.from_numpy(np.ascontiguousarray(v.T if v.shape != tuple(p.shape) else v)))
    x, y = (torch.from_numpy(v) for v in batch())

    def step():
        tm.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(tm(x), y).backward()

    return step


def grad_difference(a, b) -> float:
    return max(float(np.abs(np.asarray(p.grad.data) - np.asarray(q.grad.data)).max())
               for p, q in zip(a.parameters(), b.parameters()))


def step_rows(torch, rounds, repeat):
    steps, models = {}, {}
    steps["cpu"], models["cpu"] = xpgrad_step("cpu")
    steps["numpy"], models["numpy"] = xpgrad_step("numpy")
    steps["cpu"]()
    steps["numpy"]()
    diff = grad_difference(models["cpu"], models["numpy"])
    if torch is not None:
        steps["torch"] = torch_step(torch, models["cpu"])
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, fn in steps.items():
            times[name].append(median_time(fn, repeat=repeat, number=1))
    base = "torch" if torch is not None else "numpy"
    names = {"cpu": "xpgrad cpu backend", "numpy": "xpgrad numpy backend", "torch": "PyTorch"}
    rows = [{"case": f"CNN step: {names[name]}", "ms": statistics.median(ts) * 1e3,
             f"time vs {base}": statistics.median(t / b for t, b in zip(ts, times[base]))}
            for name, ts in times.items()]
    return rows, diff, base


def kernel_impls(op, cpu, ref, torch, x, cols, geometry):
    """name → callable running ``op`` ("im2col" or "col2im") at one geometry."""
    (k, _), (s, _), (p, _) = geometry
    if op == "im2col":
        impls = {"cpu": lambda: cpu.im2col(x, *geometry), "numpy": lambda: ref.im2col(x, *geometry)}
        if torch is not None:
            xt = torch.from_numpy(x)
            impls["torch"] = lambda: torch.nn.functional.unfold(xt, k, padding=p, stride=s)
        return impls
    impls = {"cpu": lambda: cpu.col2im(cols, x.shape, *geometry),
             "numpy": lambda: ref.col2im(cols, x.shape, *geometry)}
    if torch is not None:  # fold takes (N, C·kH·kW, L)
        ct = torch.from_numpy(np.ascontiguousarray(cols.reshape(x.shape[0], -1, cols.shape[1]).transpose(0, 2, 1)))
        impls["torch"] = lambda: torch.nn.functional.fold(ct, x.shape[2:], k, padding=p, stride=s)
    return impls


def pool_impls(op, cpu, ref, torch, x, gy, argmax, channels_last):
    """name → callable running max pooling's forward or backward (2×2, stride 2) on x, which is
    laid out channels-last (as a convolution's output) or not; the backward asks for ∂L/∂x in
    x's layout. torch gets x in its memory format of the same layout."""
    geometry = (2, 2), (2, 2), (0, 0)
    xt = torch.from_numpy(x) if torch is not None else None
    if op == "max_pool2d":
        impls = {"cpu": lambda: cpu.max_pool2d(x, *geometry), "numpy": lambda: ref.max_pool2d(x, *geometry)}
        if torch is not None:
            impls["torch"] = lambda: torch.nn.functional.max_pool2d(xt, 2, return_indices=True)
        return impls
    impls = {"cpu": lambda: cpu.max_pool2d_backward(gy, argmax, x.shape, channels_last),
             "numpy": lambda: ref.max_pool2d_backward(gy, argmax, x.shape, channels_last)}
    if torch is not None:
        gyt, it = torch.from_numpy(gy), torch.from_numpy(argmax)
        backward = torch.ops.aten.max_pool2d_with_indices_backward
        impls["torch"] = lambda: backward(gyt, xt, [2, 2], [2, 2], [0, 0], [1, 1], False, it)
    return impls


def timed_row(case, impls, rounds, repeat):
    res = compare(impls, "cpu", rounds=rounds, repeat=repeat)
    row = {"case": case, "ms": res["cpu"]["us"] / 1e3,
           "numpy ms": res["numpy"]["us"] / 1e3, "vs numpy": res["numpy"]["baseline_speedup"]}
    if "torch" in res:
        row["torch ms"] = res["torch"]["us"] / 1e3
        row["vs torch"] = res["torch"]["baseline_speedup"]
    print(row, flush=True)
    return row


def kernel_rows(torch, rounds, repeat):
    from xpgrad.backends.registry import get_backend

    cpu, ref = get_backend("cpu"), get_backend("numpy")
    r = np.random.default_rng(0)
    rows = []
    for name, shape, k, s, p in GEOMETRIES:
        x = r.standard_normal(shape, dtype=np.float32)
        geometry = (k, k), (s, s), (p, p)
        cols = r.standard_normal(ref.im2col(x, *geometry).shape, dtype=np.float32)
        for op in ("im2col", "col2im"):
            impls = kernel_impls(op, cpu, ref, torch, x, cols, geometry)
            rows.append(timed_row(f"{op} {name} {shape} k{k} s{s} p{p}", impls, rounds, repeat))
    for name, shape in POOLS:
        planar = r.standard_normal(shape, dtype=np.float32)
        y, argmax = ref.max_pool2d(planar, (2, 2), (2, 2), (0, 0))
        gy = r.standard_normal(y.shape, dtype=np.float32)
        channels_last = np.ascontiguousarray(planar.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
        for x, layout in ((planar, ""), (channels_last, " channels-last")):
            for op in ("max_pool2d", "max_pool2d_backward"):
                impls = pool_impls(op, cpu, ref, torch, x, gy, argmax, bool(layout))
                rows.append(timed_row(f"{op} {name} {shape}{layout} k2 s2", impls, rounds, repeat))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (results as <name>_quick)")
    add_malloc_option(parser)
    args = parser.parse_args(argv)
    torch = try_import_torch()  # first, as in bench_mlp_step: before xpgrad sets up its threads
    from xpgrad import _C

    malloc_note, malloc_suffix = set_up_malloc(args)

    if torch is not None:
        torch.set_num_threads(_C.num_threads())
    rounds, repeat = (2, 3) if args.quick else (5, 9)
    rows, diff, base = step_rows(torch, rounds, repeat)
    for row in rows:
        print(row, flush=True)
    rows += kernel_rows(torch, rounds, repeat)
    notes = (f"CNN step: forward+backward (no optimizer) through nn + autograd, batch {BATCH}, float32, "
             f"{_C.num_threads()} threads, ISA {_C.isa()}; cpu and numpy gradients agree to {diff:.1e}. "
             f"'time vs {base}' and 'vs numpy' / 'vs torch' (t(other) / t(cpu), > 1: cpu faster) are medians "
             f"of same-round ratios over {rounds} rounds. torch rows of im2col / col2im: F.unfold / F.fold "
             f"(the same copies and adds; fold's input transposed to its layout beforehand, not timed); of "
             f"max pooling: F.max_pool2d with return_indices and aten.max_pool2d_with_indices_backward, on a tensor "
             f"of the same memory layout (torch.channels_last for the channels-last rows). "
             f"{malloc_note}")
    suffix = ("_quick" if args.quick else "") + malloc_suffix
    path = write_results("conv" + suffix, "Small CNN step, im2col / col2im and max pooling (cpu backend)",
                         rows, ["case", "ms", f"time vs {base}", "numpy ms", "vs numpy", "torch ms", "vs torch"], notes)
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
