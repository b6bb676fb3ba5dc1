"""Shared fixtures: every test that takes ``backend`` runs once per backend xpgrad knows,
skipping (with the reason) those that cannot run on this machine."""

import os
from pathlib import Path

import pytest

import xpgrad as xg
from xpgrad.backends.registry import backend_names, unavailable_reason

# The real MNIST / Fashion-MNIST copies beside the checkout (../shared/data), when present.
_shared_data = Path(__file__).resolve().parents[2] / "shared" / "data"
if "XPGRAD_DATA" not in os.environ and _shared_data.is_dir():
    os.environ["XPGRAD_DATA"] = str(_shared_data)


@pytest.fixture(params=backend_names())
def backend(request):
    """The name of a backend usable here (tests on the others are skipped, saying why)."""
    reason = unavailable_reason(request.param)
    if reason is not None:
        pytest.skip(f"backend {request.param!r} unavailable: {reason}")
    with xg.use_backend(request.param):
        yield request.param


def pytest_terminal_summary(terminalreporter):
    """One line per distinct skip reason with its count (instead of one line per test)."""
    counts = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        counts[reason] = counts.get(reason, 0) + 1
    if counts:
        terminalreporter.section("skipped, by reason")
        for reason, n in sorted(counts.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{n:5d}  {reason}")
