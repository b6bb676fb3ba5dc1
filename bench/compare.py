"""Same-run comparison of several implementations of one operation.

The machine is shared and noisy, so implementations are timed in interleaved rounds and each
round yields a ratio against the baseline; the reported speed-up is the median of those
same-run ratios, the reported times the median over rounds.
"""

from __future__ import annotations

import statistics

try:
    from .harness import median_time
except ImportError:
    from harness import median_time


def compare(impls: dict, baseline: str, rounds: int = 5, repeat: int = 5, min_time: float = 0.01,
            setup: dict | None = None) -> dict:
    """Times ``impls`` (name → zero-argument callable) in interleaved rounds; ``setup[name]()``
    runs before each timing of ``name`` (e.g. to set a library's thread count).

    Returns {name: {"us": median µs per call, "speedup": median over rounds of
    time(name) / time(baseline)}} — "speedup" of an implementation *against* the baseline
    is then 1 / that ratio, reported as ``baseline_speedup``: how many times faster the
    baseline is than it.
    """
    times = {name: [] for name in impls}
    for _ in range(rounds):
        for name, fn in impls.items():
            if setup and name in setup:
                setup[name]()
            times[name].append(median_time(fn, repeat=repeat, min_time=min_time))
    out = {}
    for name in impls:
        ratios = [t / b for t, b in zip(times[name], times[baseline])]
        out[name] = {"us": statistics.median(times[name]) * 1e6, "baseline_speedup": statistics.median(ratios)}
    return out
