"""Growth: every benchmark at three sizes, to show how cost grows with the work. What should be linear
must keep its cost per unit (per item, per feed) flat from size to size; a cost per unit that rises with
size means a query per item in a loop or a scan per poll somewhere.

    python bench/growth.py [--scale 0.1] [--only NAME ...]

`--scale` multiplies every size (CI runs it tiny, as a smoke test). The default sizes take about 15
minutes on 2 cores, most of it the 1M-item database of scale.py.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    unit: str  # what one unit of size is
    sizes: tuple[int, ...]
    command: Callable[[int], list[str]]
    figures: Callable[[str], dict[str, float]]  # measure -> figure, read from the script's output


def _found(pattern: str, output: str) -> float:
    found = re.search(pattern, output)
    if not found:
        raise SystemExit(f"no figure matching {pattern!r} in:\n{output}")
    return float(found.group(1).replace(",", ""))


def _scale_figures(output: str) -> dict[str, float]:
    columns = output.strip().splitlines()[-1].split()
    size = int(columns[0].replace(",", ""))
    return {
        "search median ms": float(columns[2]),
        "digest s": float(columns[4]),
        "rematch µs/item": float(columns[5]) * 1e6 / size,
    }


BENCHMARKS = (
    Benchmark(
        "matching",
        "items",
        (1_000, 10_000, 100_000),
        lambda n: ["matching.py", "--items", str(n), "--runs", "1", "--samples"],
        lambda out: {"µs/item": 1e6 / _found(r"matching \(warm\):\s+([\d,]+) items/s", out)},
    ),
    # Up to 2,000: past that, a document's further entries are not read (parse.MAX_ITEMS).
    Benchmark(
        "ingest",
        "items/document",
        (20, 200, 2_000),
        lambda n: ["ingest.py", "--items", str(n), "--runs", "2", "--samples"],
        lambda out: {
            "µs/item": 1e6 / _found(r"monitor ingest \(parse\+match\+store\):\s+([\d,]+) items/s", out),
            "x feedparser": _found(r"ratio ([\d.]+) to defaults", out),
        },
    ),
    Benchmark(
        "polling",
        "feeds",
        (100, 300, 1_000),
        lambda n: ["polling.py", "--feeds", str(n), "--sequential-sample", "20"],
        lambda out: {
            "ms/feed": _found(r"concurrent, \d+ parse process\(es\):\s+([\d.]+) ms/feed", out),
            "304 ms/feed": _found(r"304 round:\s+([\d.]+) ms/feed", out),
        },
    ),
    Benchmark(
        "unchanged",
        "feeds",
        (100, 300, 1_000),
        lambda n: ["unchanged.py", "--feeds", str(n)],
        lambda out: {"ms/feed": _found(r"unchanged round:\s+([\d.]+) ms/feed", out)},
    ),
    Benchmark(
        "memory",
        "feeds",
        (100, 300, 1_000),
        lambda n: ["memory.py", "--feeds", str(n), "--seconds", "30"],
        lambda out: {"peak MB": _found(r"peak resident:\s+([\d.]+) MB", out)},
    ),
    Benchmark(
        "scale", "stored items", (10_000, 100_000, 1_000_000), lambda n: ["scale.py", "--sizes", str(n)], _scale_figures
    ),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.1: a quick look)")
    parser.add_argument("--only", nargs="*", help="names of the benchmarks to run")
    args = parser.parse_args()
    print(
        "Cost per unit should stay flat from size to size (growth 1.00x per 10x size = linear);\n"
        "totals (memory, search, digest) may grow, but far slower than the size.\n"
    )
    print(f"{'benchmark':<10} {'size':>10} {'unit':<15} {'measure':<17} {'figure':>9} {'per 10x size':>12}  seconds")
    for bench in BENCHMARKS:
        if args.only and bench.name not in args.only:
            continue
        previous: tuple[int, dict[str, float]] | None = None
        for full_size in bench.sizes:
            size = max(10, int(full_size * args.scale))
            started = time.monotonic()
            done = subprocess.run(
                [sys.executable, *bench.command(size)], cwd=HERE, capture_output=True, text=True, timeout=3600
            )
            if done.returncode:
                raise SystemExit(f"{bench.name} at {size} failed:\n{done.stdout}\n{done.stderr}")
            figures = bench.figures(done.stdout)
            took = time.monotonic() - started
            for measure, figure in figures.items():
                growth = ""
                if previous and previous[1].get(measure) and size > previous[0]:
                    # Normalised to a tenfold step, so steps of 3x and 10x read alike.
                    growth = f"{(figure / previous[1][measure]) ** (1 / math.log10(size / previous[0])):.2f}x"
                print(
                    f"{bench.name:<10} {size:>10,} {bench.unit:<15} {measure:<17} {figure:>9.2f} {growth:>12}  "
                    f"{took:6.1f}",
                    flush=True,
                )
            previous = (size, figures)


if __name__ == "__main__":
    main()
