"""Benchmark: a round over feeds whose server ignores conditional GET and sends the same bytes again,
against the HTTP transfer alone of the same round, measured in the same run.

    python bench/unchanged.py [--feeds 500] [--items-per-feed 50]

Goal (issue 6): no parse at all for an unchanged body (its hash is stored), and the round costs at most
1.2x the transfer alone.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import polling
from common import REPO, document

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import Config, PollingSettings
from monitor.fetch.http import Fetcher
from monitor.storage import Store
from monitor.types import FeedSource, FetchOutcome
from monitor.update.poll import poll_round


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items-per-feed", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=10)
    args = parser.parse_args()
    polling.BODY = document(args.items_per_feed)
    polling.ETAG = None  # this server ignores conditional GET
    servers = [polling.Server(f"127.0.0.{n + 2}", latency=(0.0, 0.0)) for n in range(args.hosts)]
    feeds = tuple(
        FeedSource(f"feed-{n}", f"{servers[n % len(servers)].url}/feed/{n}", timedelta(minutes=30))
        for n in range(args.feeds)
    )
    settings = PollingSettings(concurrency=20, per_host=2, user_agent="monitor-bench")
    config = Config(path="bench", polling=settings, feeds=feeds)
    with (
        Store.open(Path(tempfile.mkdtemp()) / "unchanged.db") as store,
        Fetcher(settings, clock=polling.clock) as fetcher,
    ):
        poll_round(config, store, fetcher, polling.clock, force=True)  # the first round parses everything
        start = time.perf_counter()
        reports = poll_round(config, store, fetcher, polling.clock, force=True)
        round_seconds = time.perf_counter() - start
        assert all(r.outcome is FetchOutcome.UNCHANGED for r in reports), {r.outcome for r in reports}
        start = time.perf_counter()
        with ThreadPoolExecutor(settings.concurrency) as pool:
            list(pool.map(lambda f: fetcher.fetch(f.url), feeds))
        transfer = time.perf_counter() - start
    print(f"feeds: {args.feeds} of {args.items_per_feed} items ({len(polling.BODY) // 1000} kB), same bytes every time")
    print(f"HTTP transfer alone:  {transfer * 1000 / args.feeds:6.2f} ms/feed  (baseline)")
    print(
        f"unchanged round:      {round_seconds * 1000 / args.feeds:6.2f} ms/feed  "
        f"ratio {round_seconds / transfer:.2f}; "
        f"{len(reports)} feeds 'unchanged', none parsed"
    )


if __name__ == "__main__":
    main()
