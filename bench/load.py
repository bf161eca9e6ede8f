"""Load: one `monitor poll` round (a real subprocess) over many sample feeds on local hosts, one in ten
misbehaving (slow beyond the deadline, never answering, broken XML, bodies far beyond max_bytes, HTTP 500).

    python bench/load.py [--feeds 1000] [--hosts 20] [--items 20]

Prints the round time against its bound, the healthy feeds' items stored against those served, how each
kind of misbehaving feed was reported, and the poller's peak resident memory. Exits 1 when the round
overran its bound, a healthy item is missing, or a misbehaving feed was not reported as such.
The farm (tests/loadfarm.py) is the one tests/test_load.py runs at 200 feeds in CI.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from common import REPO

sys.path.insert(0, str(REPO))
from tests.loadfarm import KINDS, POLLING, poll_round

REPORTED_AS = {"slow": "error", "hang": "error", "broken": "ok", "huge": "partial", "error": "error"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--items", type=int, default=20, help="items in every healthy feed")
    args = parser.parse_args()
    figures = poll_round(
        Path(tempfile.mkdtemp(prefix="monitor-load-")), feeds=args.feeds, hosts=args.hosts, items=args.items
    )
    limits = ", ".join(
        f"{k} {POLLING[k]}" for k in ("concurrency", "per_host", "read_timeout", "deadline", "max_bytes")
    )
    print(f"feeds: {figures.feeds} on {args.hosts} hosts, {figures.misbehaving} misbehaving; {limits}")
    print(
        f"round: {figures.round_seconds:.1f} s (bound {figures.bound_seconds:.1f} s; "
        f"{figures.wall_seconds:.1f} s with interpreter start)"
    )
    print(
        f"healthy: {figures.healthy_feeds_ok} feeds ok, {figures.healthy_items:,} of "
        f"{figures.expected_healthy_items:,} items stored"
    )
    wrong = []
    for kind in KINDS:
        outcomes = figures.outcomes.get(kind, {})
        sample = (figures.errors.get(kind) or ["-"])[0]
        print(f"  {kind:7s} {dict(outcomes)}  e.g. {sample[:70]}")
        if outcomes and set(outcomes) != {REPORTED_AS[kind]}:  # a small farm may lack a kind
            wrong.append(kind)
    print(f"peak resident memory of the poller: {figures.peak_rss_mb:.1f} MB")
    failed = (
        figures.exit_code != 0
        or figures.round_seconds > figures.bound_seconds
        or wrong
        or figures.healthy_items != figures.expected_healthy_items
    )
    if failed:
        print(f"FAILED: exit {figures.exit_code}, misreported kinds {wrong}\n{figures.output[-3000:]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
