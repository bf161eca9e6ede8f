"""Benchmark: the whole ingest of one feed document (parse + identity + de-duplication + matching + store,
one transaction) against feedparser's parse alone of the same bytes, measured in the same run.

    python bench/ingest.py [--items N] [--runs R]

Goal (issue 6): at most 1.3x feedparser's parse. Both baselines are printed: feedparser with its defaults
(its own sanitizer on, what a hand-rolled script would run) and as monitor calls it (its HTML passes off,
nh3 sanitizes instead).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
from common import REPO, best_of, document

sys.path.insert(0, str(REPO / "src"))
from monitor.config import load_config  # noqa: E402
from monitor.match import Matcher  # noqa: E402
from monitor.parse import parse_feed  # noqa: E402
from monitor.store import Store  # noqa: E402
from monitor.types import FeedReport, FeedSource, FetchOutcome  # noqa: E402

NOW = datetime(2023, 10, 1, tzinfo=UTC)  # the documents' items are dated before it


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", action="store_true", help="a general feed's mix (one item in ten on the "
                        "themes) instead of the eval items, all on-topic")
    args = parser.parse_args()
    body = document(args.items, samples_only=args.samples)
    headers = {"content-type": "application/rss+xml; charset=utf-8"}
    matcher = Matcher(load_config(REPO / "config" / "feeds.toml").themes)
    folder = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    counter = iter(range(10_000))

    def ingest() -> None:
        with Store.open(folder / f"ingest-{next(counter)}.db") as store:  # every item new: the costly case
            store.sync_feeds([FeedSource("sample-wire", "https://sample.example.org/rss", timedelta(minutes=30))], NOW)
            state = store.feed_state("sample-wire")
            parsed = parse_feed(body, url=state.url, headers=headers, feed_id=state.id, now=NOW)
            report = FeedReport(feed=state.name, url=state.url, outcome=FetchOutcome.OK, status=200)
            counts = store.record_poll(replace(state, last_fetch_at=NOW), report, parsed, NOW, matcher)
            assert counts.new == args.items, counts

    default = best_of(args.runs, lambda: feedparser.parse(body, response_headers=headers))
    ours = best_of(args.runs, lambda: feedparser.parse(body, response_headers=headers, sanitize_html=False,
                                                      resolve_relative_uris=False))
    pipeline = best_of(args.runs, ingest)
    n = args.items
    print(f"items per document: {n}")
    print(f"feedparser, defaults (sanitizer on):   {n / default:>8,.0f} items/s  (baseline)")
    print(f"feedparser, as monitor calls it:       {n / ours:>8,.0f} items/s  ratio {ours / default:.2f}")
    print(f"monitor ingest (parse+match+store):    {n / pipeline:>8,.0f} items/s  "
          f"ratio {pipeline / default:.2f} to defaults, {pipeline / ours:.2f} to monitor's parse")


if __name__ == "__main__":
    main()
