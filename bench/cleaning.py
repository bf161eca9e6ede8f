"""Benchmark: cleaning an archive an older monitor stored (migration 21: every summary made again from its
sanitized original, and the items whose text changed matched and indexed again), against storing the same
items from their feed documents (parse, match, store), measured in the same run.

    python bench/cleaning.py [--documents D] [--items N] [--samples]

What an upgrade costs: the daemon's upkeep does this in the background, 2,000 items per transaction. Two
archives are cleaned: one where every summary changes (each held a related-links line), and one already
clean, where every summary is made again and found the same. Cost per item must not grow with the archive:
the largest archive is timed at three sizes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import REPO, document

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.match.rules import Matcher
from monitor.parse.feed import parse_feed, plain_text
from monitor.storage import Store
from monitor.storage import feeds as feed_store
from monitor.storage import search as search_store
from monitor.types import FeedReport, FeedSource, FetchOutcome
from monitor.update.poll import store_poll
from monitor.update.rematch import clean_pending

NOW = datetime(2023, 10, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=20, help="documents in the largest archive")
    parser.add_argument("--items", type=int, default=500, help="items per document")
    parser.add_argument("--samples", action="store_true", help="a general feed's mix instead of the eval items")
    args = parser.parse_args()
    matcher = Matcher(load_config(REPO / "config" / "feeds.toml").themes)
    folder = Path(tempfile.mkdtemp(prefix="monitor-bench-cleaning-"))
    bodies = [document(args.items, samples_only=args.samples, first=n * args.items) for n in range(args.documents)]
    print(f"{'items':>8} {'store s':>8} {'clean s':>8} {'ratio':>6} {'items/s':>9} {'clean again s':>14} {'ratio':>6}")
    for share in (4, 2, 1):
        count = max(1, args.documents // share)
        with Store.open(folder / f"archive-{count}.db") as store:
            feed_store.sync_feeds(
                store, [FeedSource("sample-wire", "https://sample.example.org/", timedelta(minutes=30))], NOW
            )
            state = feed_store.feed_state(store, "sample-wire")
            assert state is not None
            started = time.perf_counter()
            for body in bodies[:count]:
                parsed = parse_feed(body, url=state.url, headers={}, feed_id=state.id, now=NOW)
                report = FeedReport(feed=state.name, url=state.url, outcome=FetchOutcome.OK, status=200)
                store_poll(store, state, report, parsed, NOW, matcher)
            stored = time.perf_counter() - started
            items = store.count("items")
            # The archive as an older monitor left it: all of each summary's text, a related link's too.
            rows = store.conn.execute("SELECT id, summary_html FROM items WHERE summary_html != ''").fetchall()
            with store.transaction():
                store.conn.executemany(
                    "UPDATE items SET summary = ? WHERE id = ?",
                    [(plain_text(html) + " Related: sample link", item_id) for item_id, html in rows],
                )
                store.conn.execute("INSERT INTO items_unclean SELECT id FROM items")
            search_store.stem_pending(store)
            started = time.perf_counter()
            changed = clean_pending(store, matcher, NOW)
            cleaned = time.perf_counter() - started
            assert changed == len(rows), (changed, len(rows))
            with store.transaction():
                store.conn.execute("INSERT INTO items_unclean SELECT id FROM items")
            started = time.perf_counter()
            assert clean_pending(store, matcher, NOW) == 0
            again = time.perf_counter() - started
        print(
            f"{items:>8,} {stored:>8.2f} {cleaned:>8.2f} {cleaned / stored:>6.2f} {items / cleaned:>9,.0f} "
            f"{again:>14.2f} {again / stored:>6.2f}"
        )


if __name__ == "__main__":
    main()
