"""Shared benchmark plumbing: median timing, machine description, JSON + Markdown results.

Every benchmark script builds a list of rows (dicts) and calls :func:`write_results`, which
writes ``bench/results/<name>.json`` and ``bench/results/<name>.md`` naming the machine and
the date. The machine is shared and noisy: report medians and same-run ratios only.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path


def results_dir() -> Path:
    """bench/results in a checkout; `xpgrad bench --out DIR` redirects it through the variable
    XPGRAD_BENCH_RESULTS, read on every write (not once at import: `xpgrad bench` called twice
    in one process with two --out directories must write into each)."""
    return Path(os.environ.get("XPGRAD_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")


# Seconds to wait before timing: the worker threads of whatever library ran before spin-wait
# for work after each call (OpenBLAS ~2^28 cycles ≈ 0.1 s, OpenMP runtimes for their spin count)
# and would take the cores from the code being timed on a small machine.
SETTLE_SECONDS = 0.15


def median_time(fn, *, repeat: int = 15, number: int | None = None, min_time: float = 0.02) -> float:
    """Median seconds per call of ``fn()`` over ``repeat`` batches of ``number`` calls.

    ``number`` defaults to enough calls for one batch to last about ``min_time`` seconds.
    Timing starts once other libraries' threads have gone idle (SETTLE_SECONDS).
    """
    time.sleep(SETTLE_SECONDS)
    fn()  # warm-up: first-touch allocation, lazy initialisation
    if number is None:
        number, elapsed = 1, 0.0
        while True:
            start = time.perf_counter()
            for _ in range(number):
                fn()
            elapsed = time.perf_counter() - start
            if elapsed >= min_time or number >= 1 << 20:
                break
            number *= 2
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name with its family and model numbers, which tell apart machines that a
    virtual machine names alike ("AMD EPYC" is a Zen 3 with AVX2 or a Zen 5 with AVX-512)."""
    fields = {}
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    if "model name" not in fields:
        return platform.processor() or platform.machine()
    if "cpu family" in fields and "model" in fields:
        return f"{fields['model name']} (family {fields['cpu family']}, model {fields['model']})"
    return fields["model name"]


def openblas_core() -> str | None:
    """The kernel set NumPy's OpenBLAS runs ("Haswell", "SkylakeX", ...), or None when NumPy is
    not linked to an OpenBLAS that says: its own pick for the CPU, unless the environment forces
    one with OPENBLAS_CORETYPE (a machine that sets OPENBLAS_CORETYPE=Haswell runs the AVX2
    kernels on an AVX-512 CPU)."""
    import ctypes
    import glob

    import numpy

    libs = Path(numpy.__file__).resolve().parent.parent / "numpy.libs"
    for lib_path in sorted(glob.glob(str(libs / "*openblas*"))):
        try:
            lib = ctypes.CDLL(lib_path)
        except OSError:
            continue
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename"):
            corename = getattr(lib, symbol, None)
            if corename is not None:
                corename.restype = ctypes.c_char_p
                return corename().decode()
    return None


def machine() -> dict:
    """What the numbers were measured on."""
    info = {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    try:
        import numpy
        info["numpy"] = numpy.__version__
        info["numpy_openblas_core"] = openblas_core()
    except ImportError:
        pass
    try:
        import torch
        info["torch"] = torch.__version__
    except ImportError:
        pass
    try:
        from xpgrad import _C
        info["xpgrad_isa"] = _C.isa()
        info["xpgrad_threads"] = _C.num_threads()
    except ImportError:
        pass
    return info


def try_import_torch():
    """PyTorch if installed (benchmarks compare against it when present), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def add_malloc_option(parser) -> None:
    """--default-malloc: see :func:`set_up_malloc`."""
    parser.add_argument("--default-malloc", action="store_true",
                        help="leave glibc's malloc settings alone (results as <name>_default_malloc)")


def set_up_malloc(args) -> tuple[str, str]:
    """Keep freed memory for reuse in the whole process (xg.retain_freed_memory: PyTorch's
    allocations too), as a training script that allocates the same big arrays every step should,
    unless --default-malloc. Returns a sentence for the notes and the results-name suffix."""
    import xpgrad as xg

    if not args.default_malloc and xg.retain_freed_memory():
        return "Freed memory kept for reuse (xg.retain_freed_memory), for PyTorch and xpgrad alike.", ""
    return "Freed memory under the C library's defaults.", "_default_malloc" if args.default_malloc else ""


def write_results(name: str, title: str, rows: list[dict], columns: list[str], notes: str = "") -> Path:
    """Write rows as ``results/<name>.json`` and a Markdown table ``results/<name>.md``."""
    out = results_dir()
    out.mkdir(parents=True, exist_ok=True)
    meta = machine()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    payload = {"benchmark": name, "title": title, "date": date, "machine": meta, "rows": rows, "notes": notes}
    json_path = out / f"{name}.json"
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp, json_path)

    def fmt(value):
        if isinstance(value, float):
            return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
        return "" if value is None else str(value)

    lines = [
        f"# {title}",
        "",
        f"Measured {date} on {meta['cpu']} ({meta['cores']} cores), Python {meta['python']}, "
        + ", ".join(f"{k} {meta[k]}" for k in ("numpy", "numpy_openblas_core", "torch", "xpgrad_isa")
                    if meta.get(k) is not None)
        + f". Medians of repeated runs; ratios are from the same run. Load average at the end (other "
        f"processes on the machine): {os.getloadavg()[0]:.1f}.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    if notes:
        lines += ["", notes]
    md_path = out / f"{name}.md"
    md_path.write_text("\n".join(lines) + "\n")
    return md_path
