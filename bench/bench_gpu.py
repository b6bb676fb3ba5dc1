"""GPU benchmarks: the cuda backend's kernels against CuPy (cuBLAS) and PyTorch CUDA.

- GEMM 4096² fp32 (and the opt-in TF32 path): GFLOP/s as a fraction of cuBLAS. Goal >= 70%.
- softmax / cross-entropy / sparsemax: achieved GB/s (bytes each kernel must move, over its
  time) as a fraction of the measured device-to-device copy bandwidth. Goal >= 80%.
- One MLP training step 784-1000-1000-10, batch 1024, SGD with momentum: xpgrad on the cuda
  backend against PyTorch CUDA eager. Goal: no slower (ratio <= 1).

Times are medians of CUDA-event timings of back-to-back calls. Without a GPU (or without
CuPy or xpgrad._cuda) the script says why and exits cleanly, writing nothing.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

try:
    from .harness import try_import_torch, write_results
except ImportError:  # run as a script: python bench/bench_gpu.py
    from harness import try_import_torch, write_results


def device_ms(cupy, fn, *, repeat: int, number: int) -> float:
    """Median milliseconds per call of fn over `repeat` batches of `number` calls, CUDA events."""
    fn()
    cupy.cuda.get_current_stream().synchronize()
    samples = []
    for _ in range(repeat):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        for _ in range(number):
            fn()
        stop.record()
        stop.synchronize()
        samples.append(cupy.cuda.get_elapsed_time(start, stop) / number)
    return statistics.median(samples)


def torch_cuda(torch):
    return torch if torch is not None and torch.cuda.is_available() else None


def bench_copy(cupy, timing) -> float:
    """Device-to-device copy bandwidth in GB/s (read + write of 256 MiB)."""
    src = cupy.ones(64 * 2**20, dtype=cupy.float32)
    dst = cupy.empty_like(src)
    ms = device_ms(cupy, lambda: dst.__setitem__(slice(None), src), **timing)
    return 2 * src.nbytes / ms / 1e6


def bench_gemm(cupy, cuda, torch, n, timing) -> list[dict]:
    rng = np.random.default_rng(0)
    a = cupy.asarray(rng.standard_normal((n, n), dtype=np.float32))
    b = cupy.asarray(rng.standard_normal((n, n), dtype=np.float32))
    gflop = 2 * n**3 / 1e9
    case = f"gemm {n}x{n}x{n} fp32"
    ref_ms = device_ms(cupy, lambda: cupy.matmul(a, b), **timing)
    rows = [{"case": case, "impl": "cupy/cuBLAS", "time_ms": ref_ms, "throughput": gflop / ref_ms * 1e3,
             "unit": "GFLOP/s", "ratio": 1.0, "goal": None}]
    for tf32 in (False, True):
        cuda.use_tf32 = tf32
        ms = device_ms(cupy, lambda: cuda.gemm(a, b), **timing)
        rows.append({"case": case, "impl": "xpgrad cuda" + (" (TF32)" if tf32 else ""), "time_ms": ms,
                     "throughput": gflop / ms * 1e3, "unit": "GFLOP/s", "ratio": ref_ms / ms,
                     "goal": None if tf32 else 0.7})
    cuda.use_tf32 = False
    if torch:
        ta, tb = torch.from_dlpack(a), torch.from_dlpack(b)
        for tf32 in (False, True):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            ms = device_ms(cupy, lambda: ta @ tb, **timing)
            rows.append({"case": case, "impl": "torch" + (" (TF32)" if tf32 else ""), "time_ms": ms,
                         "throughput": gflop / ms * 1e3, "unit": "GFLOP/s", "ratio": ref_ms / ms, "goal": None})
        torch.backends.cuda.matmul.allow_tf32 = False
    return rows


ROW_SHAPES = [(2**20, 32), (32768, 1024), (1024, 32768)]  # warp-per-row and block-per-row


def row_ops(cuda, cupy_backend, torch, x, labels) -> dict:
    """{op: (bytes the op must move, {impl: fn})} for logits x (n, k) and class labels (n,)."""
    n = x.shape[0]
    ops = {
        "softmax": (2 * x.nbytes, {"xpgrad cuda": lambda: cuda.softmax(x),
                                   "cupy reference": lambda: cupy_backend.softmax(x)}),
        "cross_entropy (loss+grad)": (2 * x.nbytes + labels.nbytes + n * x.itemsize,
                                      {"xpgrad cuda": lambda: cuda.cross_entropy(x, labels),
                                       "cupy reference": lambda: cupy_backend.cross_entropy(x, labels)}),
        "sparsemax": (2 * x.nbytes, {"xpgrad cuda": lambda: cuda.sparsemax(x),
                                     "cupy reference": lambda: cupy_backend.sparsemax(x)}),
    }
    if torch:
        tx = torch.from_dlpack(x)
        ops["softmax"][1]["torch"] = lambda: torch.softmax(tx, dim=-1)
    return ops


def bench_rows(cupy, cuda, cupy_backend, torch, copy_gbs, timing, shapes) -> list[dict]:
    """Row kernels: GB/s = bytes the op must move / time, as a fraction of copy bandwidth."""
    rng = np.random.default_rng(1)
    rows = []
    for n, k in shapes:
        x = cupy.asarray(rng.standard_normal((n, k), dtype=np.float32))
        labels = cupy.asarray(rng.integers(0, k, n))
        for op, (nbytes, impls) in row_ops(cuda, cupy_backend, torch, x, labels).items():
            for impl, fn in impls.items():
                ms = device_ms(cupy, fn, **timing)
                gbs = nbytes / ms / 1e6
                rows.append({"case": f"{op} {n}x{k} fp32", "impl": impl, "time_ms": ms, "throughput": gbs,
                             "unit": "GB/s", "ratio": gbs / copy_gbs,
                             "goal": 0.8 if impl == "xpgrad cuda" else None})
    return rows


def mlp_step(model, opt, loss_fn, x, y):
    def step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    return step


def bench_mlp(cupy, torch, timing) -> list[dict]:
    import xpgrad as xg
    import xpgrad.nn as nn
    import xpgrad.optim as optim

    sizes, batch = (784, 1000, 1000, 10), 1024
    rng = np.random.default_rng(2)
    x_host = rng.standard_normal((batch, sizes[0]), dtype=np.float32)
    y_host = rng.integers(0, sizes[-1], batch)
    case = "MLP step 784-1000-1000-10, batch 1024, SGD momentum"
    rows = []
    for backend in ("cuda", "cupy"):
        xg.manual_seed(0)
        model = nn.Sequential(nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 1000), nn.ReLU(),
                              nn.Linear(1000, 10)).to(backend)
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, y = xg.tensor(x_host, backend=backend), xg.tensor(y_host, backend=backend)
        step = mlp_step(model, opt, nn.CrossEntropyLoss(), x, y)
        rows.append({"case": case, "impl": f"xpgrad {backend}", "time_ms": device_ms(cupy, step, **timing),
                     "unit": "ms/step", "goal": 1.0 if backend == "cuda" else None})
    if torch:
        tmodel = torch.nn.Sequential(torch.nn.Linear(784, 1000), torch.nn.ReLU(), torch.nn.Linear(1000, 1000),
                                     torch.nn.ReLU(), torch.nn.Linear(1000, 10)).cuda()
        topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
        tx, ty = torch.from_numpy(x_host).cuda(), torch.from_numpy(y_host).cuda()

        def torch_step():
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tmodel(tx), ty).backward()
            topt.step()

        torch_ms = device_ms(cupy, torch_step, **timing)
        for row in rows:
            row["ratio"] = row["time_ms"] / torch_ms  # <= 1: no slower than PyTorch
        rows.append({"case": case, "impl": "torch eager", "time_ms": torch_ms, "unit": "ms/step", "ratio": 1.0})
    return rows


def gpu_or_reason():
    """(cupy, cuda backend, cupy backend, GPU name), or a string saying why not."""
    from xpgrad.backends.registry import get_backend, unavailable_reason

    reason = unavailable_reason("cuda")
    if reason is not None:
        return f"the cuda backend is unavailable: {reason}"
    cuda = get_backend("cuda")
    cupy = cuda.xp
    name = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)["name"].decode()
    return cupy, cuda, get_backend("cupy"), name


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and shapes (results as <name>_quick)")
    args = parser.parse_args(argv)
    found = gpu_or_reason()
    if isinstance(found, str):
        print(f"bench_gpu: skipped, no GPU to measure on ({found})")
        return []
    cupy, cuda, cupy_backend, gpu_name = found
    timing = {"repeat": 3, "number": 3} if args.quick else {"repeat": 11, "number": 10}
    torch = torch_cuda(try_import_torch())

    copy_gbs = bench_copy(cupy, timing)
    rows = [{"case": "copy 256 MiB", "impl": "cupy", "throughput": copy_gbs, "unit": "GB/s", "ratio": 1.0}]
    rows += bench_gemm(cupy, cuda, torch, 4096, timing)
    rows += bench_rows(cupy, cuda, cupy_backend, torch, copy_gbs, timing, ROW_SHAPES[1:2] if args.quick else ROW_SHAPES)
    rows += bench_mlp(cupy, torch, timing)
    columns = ["case", "impl", "time_ms", "throughput", "unit", "ratio", "goal"]
    notes = (f"GPU: {gpu_name}. ratio: GEMM = cuBLAS time / time (fraction of cuBLAS); row ops = "
             "achieved GB/s / copy GB/s; MLP = xpgrad time / torch time (<= 1 is no slower).")
    path = write_results("gpu" + ("_quick" if args.quick else ""), f"GPU kernels on {gpu_name}", rows, columns, notes=notes)
    for row in rows:
        ratio = f"  ratio {row['ratio']:.2f}" if row.get("ratio") is not None else ""
        value = f"{row['throughput']:.0f} {row['unit']}" if "throughput" in row else f"{row['time_ms']:.3f} ms"
        print(f"{row['case']:<45} {row['impl']:<18} {value}{ratio}")
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
