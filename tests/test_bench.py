"""The benchmarks still run (at a tiny size: a smoke test, not a measurement)."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO


def test_matching_benchmark_runs_and_reports_ratios():
    done = subprocess.run([sys.executable, "bench/matching.py", "--items", "300", "--runs", "1", "--samples"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "items/s" in done.stdout and "ratio to parse" in done.stdout


def test_quality_benchmark_runs_or_skips_cleanly():
    done = subprocess.run([sys.executable, "bench/quality.py"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert "macro_f1=" in done.stdout or done.stdout.startswith("skipped")
