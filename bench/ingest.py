"""Benchmark: the whole ingest of one feed document (parse + identity + de-duplication + matching + store,
one transaction) against feedparser's parse alone of the same bytes, measured in the same run.

    python bench/ingest.py [--items N] [--runs R] [--feeds F] [--samples]

Goal (issue 6): at most 1.3x feedparser's parse. Both baselines are printed: feedparser with its defaults
(its own sanitizer on, what a hand-rolled script would run) and as monitor calls it (its HTML passes off,
nh3 sanitizes instead). Two pipelines are measured: one document ingested in this process (the cost per
item on one core), and a poll round of `--feeds` such documents served on loopback (fetch included), where
helper processes parse while this one matches and stores (`polling.parse_processes`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import polling
from common import REPO, best_of, document

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import Config, PollingSettings, load_config
from monitor.config.settings import auto_processes
from monitor.fetch.http import Fetcher
from monitor.match.rules import Matcher
from monitor.parse.feed import parse_feed
from monitor.parse.pool import make_parser
from monitor.storage import Store
from monitor.storage import feeds as feed_store
from monitor.types import FeedReport, FeedSource, FetchOutcome
from monitor.update.poll import poll_round, store_poll

NOW = datetime(2023, 10, 1, tzinfo=UTC)  # the documents' items are dated before it


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--feeds", type=int, default=10, help="documents in the poll round")
    parser.add_argument(
        "--samples",
        action="store_true",
        help="a general feed's mix (one item in ten on the themes) instead of the eval items, all on-topic",
    )
    args = parser.parse_args()
    body = document(args.items, samples_only=args.samples)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    matcher = Matcher(load_config(REPO / "config" / "feeds.toml").themes)
    folder = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    counter = iter(range(10_000))

    def ingest() -> None:
        with Store.open(folder / f"ingest-{next(counter)}.db") as store:  # every item new: the costly case
            feed_store.sync_feeds(
                store, [FeedSource("sample-wire", "https://sample.example.org/rss", timedelta(minutes=30))], NOW
            )
            state = feed_store.feed_state(store, "sample-wire")
            parsed = parse_feed(body, url=state.url, headers=headers, feed_id=state.id, now=NOW)
            report = FeedReport(feed=state.name, url=state.url, outcome=FetchOutcome.OK, status=200)
            counts = store_poll(store, replace(state, last_fetch_at=NOW), report, parsed, NOW, matcher)
            assert counts.new == args.items, counts

    default = best_of(args.runs, lambda: feedparser.parse(body, response_headers=headers))
    ours = best_of(
        args.runs,
        lambda: feedparser.parse(body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False),
    )
    pipeline = best_of(args.runs, ingest)
    round_seconds, round_items, processes = ingest_round(args.feeds, args.items, args.samples, folder)
    n = args.items
    print(f"items per document: {n}")
    print(f"feedparser, defaults (sanitizer on):   {n / default:>8,.0f} items/s  (baseline)")
    print(f"feedparser, as monitor calls it:       {n / ours:>8,.0f} items/s  ratio {ours / default:.2f}")
    print(
        f"monitor ingest (parse+match+store):    {n / pipeline:>8,.0f} items/s  "
        f"ratio {pipeline / default:.2f} to defaults, {pipeline / ours:.2f} to monitor's parse"
    )
    print(
        f"poll round of {args.feeds} such feeds, {processes} parse helper(s), fetch included:"
        f" {round_items / round_seconds:>8,.0f} items/s  ratio {round_seconds / round_items / (default / n):.2f}"
        f" to defaults"
    )


def ingest_round(feeds: int, items: int, samples: bool, folder: Path) -> tuple[float, int, int]:
    """Seconds for one poll round of `feeds` documents of `items` new items each, and the items stored."""
    documents = [document(items, samples_only=samples, first=n * items) for n in range(feeds)]
    hosts = polling.Hosts(4, latency=(0.0, 0.0), documents=documents)
    processes = auto_processes()
    settings = PollingSettings(concurrency=8, per_host=2, user_agent="monitor-bench", parse_processes=processes)
    config = Config(
        path="bench",
        polling=settings,
        themes=load_config(REPO / "config" / "feeds.toml").themes,
        feeds=tuple(
            FeedSource(f"feed-{n}", f"{hosts.urls[n % len(hosts.urls)]}/feed/{n}", timedelta(minutes=30))
            for n in range(feeds)
        ),
    )
    now = lambda: datetime.now(UTC)  # noqa: E731
    try:
        parser = make_parser(processes)
        with Store.open(folder / "round.db") as store, Fetcher(settings, clock=now) as fetcher:
            parser.parse(documents[0][:200], url="https://sample.example.org/", headers={}, feed_id=0, now=now())
            start = time.perf_counter()  # helpers already started: a daemon starts them once
            reports = poll_round(config, store, fetcher, now, force=True, parser=parser)
            seconds = time.perf_counter() - start
        parser.close()
        stored = sum(r.counts.new for r in reports)
        assert stored == feeds * items, [r.error for r in reports if r.error][:3]
    finally:
        hosts.close()
    return seconds, stored, processes


if __name__ == "__main__":
    main()
