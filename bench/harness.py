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


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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
        + ", ".join(f"{k} {meta[k]}" for k in ("numpy", "torch", "xpgrad_isa") if k in meta)
        + ". Medians of repeated runs; ratios are from the same run.",
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
