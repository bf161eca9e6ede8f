"""Benchmark: the whole ingest of one feed document (parse + identity + de-duplication + matching + store,
one transaction) against feedparser's parse alone of the same bytes, measured in the same run.

    python bench/ingest.py [--items N [N ...]] [--runs R] [--feeds F] [--samples]

Goal (issues 6 and 25): at most 1.3x feedparser's parse; moonshot 1.0x. Three sizes by default (100, 1,000
and 2,000 items a document: parse.feed reads no more), each timed in turns with its baselines, into databases
created before the timing (what is measured is the ingest, not the creation of a database).
MONITOR_PARSER=feedparser measures the ingest as it was before the fast path (parse/fast.py). Both baselines
are printed: feedparser with its defaults (its own sanitizer on, what a hand-rolled script would run) and as
monitor calls it (its HTML passes off, nh3 sanitizes instead). Two pipelines are measured: one document
ingested in this process (the cost per item on one core), and a poll round of `--feeds` such documents
served on loopback (fetch included), where helper processes parse while this one matches and stores
(`polling.parse_processes`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import polling
from common import REPO, best_of_each, document

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import Config, PollingSettings, load_config
from monitor.config.settings import auto_processes
from monitor.fetch.http import Fetcher
from monitor.match.rules import Matcher
from monitor.parse.feed import parse_feed
from monitor.parse.pool import fast_path_from_environment, make_parser
from monitor.storage import Store
from monitor.storage import feeds as feed_store
from monitor.types import FeedReport, FeedSource, FetchOutcome
from monitor.update.poll import poll_round, store_poll

NOW = datetime(2023, 10, 1, tzinfo=UTC)  # the documents' items are dated before it


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, nargs="+", default=[100, 1000, 2000], help="items per document, each size")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--feeds", type=int, default=10, help="documents in the poll round")
    parser.add_argument(
        "--samples",
        action="store_true",
        help="a general feed's mix (one item in ten on the themes) instead of the eval items, all on-topic",
    )
    args = parser.parse_args()
    fast_path = fast_path_from_environment()
    print(f"parser: {'fast path first (lxml), feedparser when it declines' if fast_path else 'feedparser only'}")
    for items in args.items:
        measure(items, args.runs, args.feeds, args.samples, fast_path)


def measure(n: int, runs: int, feeds: int, samples: bool, fast_path: bool) -> None:
    """One size: the ingest of one document in this process and a poll round, each timed in turns with
    feedparser's parse of the same bytes (best of `runs` each), so that the ratios hold on a busy machine."""
    body = document(n, samples_only=samples)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    matcher = Matcher(load_config(REPO / "config" / "feeds.toml").themes)
    folder = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    stores = [Store.open(folder / f"ingest-{run}.db") for run in range(runs)]  # every item new: the costly case
    for store in stores:
        feed_store.sync_feeds(
            store, [FeedSource("sample-wire", "https://sample.example.org/rss", timedelta(minutes=30))], NOW
        )
    fresh = iter(stores)

    def ingest() -> None:
        store = next(fresh)
        state = feed_store.feed_state(store, "sample-wire")
        parsed = parse_feed(body, url=state.url, headers=headers, feed_id=state.id, now=NOW, fast_path=fast_path)
        report = FeedReport(feed=state.name, url=state.url, outcome=FetchOutcome.OK, status=200)
        counts = store_poll(store, replace(state, last_fetch_at=NOW), report, parsed, NOW, matcher)
        assert counts.new == n, counts

    cpu: dict[str, float] = {}
    timings = best_of_each(
        runs,
        {
            "default": lambda: feedparser.parse(body, response_headers=headers),
            "ours": lambda: feedparser.parse(
                body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
            ),
            "ingest": ingest,
        },
        cpu,
    )
    default, ours, pipeline = timings["default"], timings["ours"], timings["ingest"]
    for store in stores:
        store.close()
    round_seconds, round_items, processes, round_default = ingest_round(feeds, n, samples, folder, runs)
    print(f"items per document: {n}")
    print(f"  feedparser, defaults (sanitizer on):   {n / default:>8,.0f} items/s  (baseline)")
    print(f"  feedparser, as monitor calls it:       {n / ours:>8,.0f} items/s  ratio {ours / default:.2f}")
    print(
        f"  monitor ingest (parse+match+store):    {n / pipeline:>8,.0f} items/s  "
        f"ratio {pipeline / default:.2f} to defaults, {pipeline / ours:.2f} to monitor's parse"
    )
    print(
        f"  the same in CPU seconds of this process: ingest {cpu['ingest'] / cpu['default']:.2f} to defaults,"
        f" {cpu['ingest'] / cpu['ours']:.2f} to monitor's parse"
    )
    print(
        f"  poll round of {feeds} such feeds, {processes} parse helper(s), fetch included:"
        f" {round_items / round_seconds:>8,.0f} items/s  ratio {round_seconds / round_default:.2f} to defaults"
    )


def ingest_round(feeds: int, items: int, samples: bool, folder: Path, runs: int) -> tuple[float, int, int, float]:
    """Seconds for one poll round of `feeds` documents of `items` new items each (the best of `runs`, each into
    a new database), the items stored, the parse helpers, and feedparser's parse (defaults) of the same
    documents, timed in turns with the rounds."""
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
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    stores = [Store.open(folder / f"round-{run}.db") for run in range(runs)]
    fresh = iter(stores)
    stored: list[int] = []
    try:
        parser = make_parser(processes)
        parser.parse(documents[0][:200], url="https://sample.example.org/", headers={}, feed_id=0, now=now())
        with Fetcher(settings, clock=now) as fetcher:  # helpers already started: a daemon starts them once

            def one_round() -> None:
                reports = poll_round(config, next(fresh), fetcher, now, force=True, parser=parser)
                stored.append(sum(r.counts.new for r in reports))
                assert stored[-1] == feeds * items, [r.error for r in reports if r.error][:3]

            timings = best_of_each(
                runs,
                {
                    "default": lambda: [feedparser.parse(d, response_headers=headers) for d in documents],
                    "round": one_round,
                },
            )
        parser.close()
    finally:
        hosts.close()
        for store in stores:
            store.close()
    return timings["round"], stored[-1], processes, timings["default"]


if __name__ == "__main__":
    main()
