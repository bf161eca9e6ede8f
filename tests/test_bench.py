"""The benchmarks still run (at a tiny size: a smoke test, not a measurement)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow  # benchmark smoke tests


def test_matching_benchmark_runs_and_reports_ratios():
    done = subprocess.run(
        [sys.executable, "bench/matching.py", "--items", "300", "--runs", "1", "--samples"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "items/s" in done.stdout and "ratio to parse" in done.stdout
    cpu = subprocess.run(
        [sys.executable, "bench/matching_cpu.py", "--items", "200", "--rounds", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cpu.returncode == 0, cpu.stderr
    assert "general mix (samples):" in cpu.stdout


def test_quality_benchmark_runs_or_skips_cleanly():
    done = subprocess.run([sys.executable, "bench/quality.py"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "macro_f1=" in done.stdout or done.stdout.startswith("skipped")


def test_ingest_and_polling_benchmarks_run():
    ingest = subprocess.run(
        [sys.executable, "bench/ingest.py", "--items", "100", "--runs", "1", "--feeds", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ingest.returncode == 0, ingest.stderr
    assert "monitor ingest" in ingest.stdout and "poll round of 3 such feeds" in ingest.stdout
    polling = subprocess.run(
        [
            sys.executable,
            "bench/polling.py",
            "--feeds",
            "12",
            "--hosts",
            "3",
            "--sequential-sample",
            "3",
            "--items-per-feed=5",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert polling.returncode == 0, polling.stderr
    assert "faster than sequential" in polling.stdout and "(limit 2)" in polling.stdout


def test_scale_benchmark_runs_at_a_small_size():
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--sizes", "2000"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "2,000" in done.stdout and "rematch" in done.stdout


def test_unchanged_and_memory_benchmarks_run():
    unchanged = subprocess.run(
        [sys.executable, "unchanged.py", "--feeds", "10", "--hosts", "2"],
        cwd=REPO / "bench",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unchanged.returncode == 0, unchanged.stderr
    assert "none parsed" in unchanged.stdout
    memory = subprocess.run(
        [sys.executable, "memory.py", "--feeds", "10", "--hosts", "2", "--seconds", "4"],
        cwd=REPO / "bench",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert memory.returncode == 0, memory.stderr
    assert "peak resident" in memory.stdout


def test_growth_table_runs_each_benchmark_at_three_sizes():
    done = subprocess.run(
        [sys.executable, "growth.py", "--scale", "0.01", "--only", "matching", "ingest"],
        cwd=REPO / "bench",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith(("matching ", "ingest "))]
    assert [r[1] for r in rows if r[0] == "matching"] == ["10", "100", "1,000"]
    assert all(r[-2].endswith("x") for r in rows[1:3])  # growth figures between sizes


def test_load_benchmark_runs_at_a_small_size():
    load = subprocess.run(
        [sys.executable, "load.py", "--feeds", "50", "--hosts", "5", "--items", "5"],
        cwd=REPO / "bench",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert load.returncode == 0, load.stdout + load.stderr
    assert "225 of 225 items stored" in load.stdout and "peak resident memory" in load.stdout


def test_soak_benchmark_runs_for_a_few_seconds():
    soak = subprocess.run(
        [
            sys.executable,
            "soak.py",
            "--seconds",
            "6",
            "--feeds",
            "6",
            "--hosts",
            "2",
            "--interval",
            "1",
            "--change",
            "1",
        ],
        cwd=REPO / "bench",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert soak.returncode == 0, soak.stdout + soak.stderr
    assert "0 errors" in soak.stdout and "threads  first" in soak.stdout


def test_soak_growth_check_tells_a_leak_from_a_pool_filling_up():
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import soak
    finally:
        sys.path.remove(str(REPO / "bench"))
    one_thread_per_poll = [4 + n for n in range(30)]
    pool_filling_up = [3, 3, 5, 8, 11, 13, 13, 13, 13, 13, 13, 13]
    assert soak.grew(one_thread_per_poll, 0.0, 4, True)
    assert not soak.grew(pool_filling_up, 0.0, 4, True)
    assert soak.grew([50, 51, 52, 58, 63, 70], 0.25, 0.0, False)  # memory up 35%
    assert not soak.grew([50, 51, 52, 54, 55, 57], 0.25, 0.0, False)


def test_events_benchmark_runs_at_three_small_sizes():
    done = subprocess.run(
        [sys.executable, "bench/events.py", "--sizes", "100,200,400"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()[1:]] == ["100", "200", "400"]


@pytest.mark.parametrize(("overlap", "expected"), [("0", "60 items, 60 distinct"), ("0.5", "60 items, 40 distinct")])
def test_import_benchmark_runs(overlap, expected):
    """Also with captures that share half their items with the one before (the benchmark itself checks that
    exactly the distinct items are stored new)."""
    done = subprocess.run(
        [
            sys.executable,
            "bench/import.py",
            "--files",
            "3",
            "--items",
            "20",
            "--runs",
            "1",
            "--processes",
            "0",
            "--overlap",
            overlap,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout and "import / poll path" in done.stdout


def test_cleaning_benchmark_runs():
    done = subprocess.run(
        [sys.executable, "bench/cleaning.py", "--documents", "4", "--items", "20"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()[1:]] == ["20", "40", "80"]
