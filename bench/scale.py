"""Benchmark: how the stored archive scales — full-text search, a week's digest, `rematch` — at several
sizes, to show how cost grows (nothing that should be linear may be worse).

    python bench/scale.py [--sizes 10000,100000,1000000]

The database is generated directly (items spread over two years, 20 feeds, one item in twenty matched),
with the real schema, triggers and indexes; then stemmed for search, as an upgraded database is (`stem s`).
Goals (issue 6, at 1,000,000 items): full-text search median < 50 ms, one week's digest built and rendered
< 2 s, rematch of all items < 3 minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import REPO, news_items

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.digest.publish import publish
from monitor.match.rules import Matcher
from monitor.parse.feed import plain_text
from monitor.storage import Store
from monitor.storage import feeds as feed_store
from monitor.storage import search as search_store
from monitor.types import FeedSource
from monitor.units import iso
from monitor.update.rematch import rematch as rematch_items
from monitor.weeks import parse_week

END = datetime(2025, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=730)
QUERIES = [
    "Karabakh",
    "refugees",
    "Lachin corridor",
    "Putin",
    "peacekeepers",
    "Baku",
    "amnesty",
    "Stepanakert",
    "ceasefire",
    '"ethnic Armenians"',
    "Russia OR Moscow",
    "exod*",
]


def generate(path: Path, count: int) -> float:
    """Write the archive; returns the seconds its stemming for search took (as after migration 11)."""
    texts = [(plain_text(t), plain_text(s)) for t, s in news_items(2000)]
    evidence = json.dumps(
        [
            {
                "kind": "rule",
                "name": "sample",
                "score": 88,
                "spans": [{"field": "title", "start": 0, "end": 6, "text": "Sample"}],
            }
        ]
    )
    with Store.open(path) as store:
        feed_store.sync_feeds(
            store,
            [FeedSource(f"feed-{n}", f"https://f{n}.example.org/rss", timedelta(minutes=30)) for n in range(20)],
            END,
        )
        step = SPAN / count
        for start in range(0, count, 20_000):
            rows, sources, matches = [], [], []
            for n in range(start, min(count, start + 20_000)):
                title, summary = texts[n % len(texts)]
                published = iso(END - step * n)
                rows.append(
                    (
                        n + 1,
                        f"url://x.example.org/{n}",
                        n % 20 + 1,
                        f"{title} ({n})",
                        summary,
                        summary,
                        published,
                        "published",
                        published,
                        "h",
                        "old",
                    )
                )
                sources.append((n + 1, n % 20 + 1, published, published, "h"))
                if n % 20 == 0:
                    matches.append(
                        (
                            n + 1,
                            ("putin_blame", "baku_promises", "armenian_exodus")[n % 3],
                            88,
                            evidence,
                            "old",
                            published,
                        )
                    )
            with store.transaction():
                store.conn.executemany(
                    "INSERT INTO items (id, key, feed_id, title, summary, summary_html, published, date_source, "
                    "first_seen, content_hash, matcher_version) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    rows,
                )
                store.conn.executemany(
                    "INSERT INTO item_sources (item_id, feed_id, first_seen, last_seen, "
                    "content_hash) VALUES (?,?,?,?,?)",
                    sources,
                )
                store.conn.executemany("INSERT INTO matches VALUES (?,?,?,?,?,?)", matches)
        start = time.perf_counter()
        search_store.stem_pending(store)  # rows written with SQL wait to be stemmed, as an upgraded database's do
        stemming = time.perf_counter() - start
        store.conn.execute("PRAGMA optimize")
    return stemming


def measure(path: Path, count: int, rematch_too: bool = True) -> dict[str, float]:
    config = load_config(REPO / "config" / "feeds.toml")
    with Store.open(path) as store:
        times = []
        for query in QUERIES * 3:
            start = time.perf_counter()
            search_store.search(store, query, limit=20)
            times.append(time.perf_counter() - start)
        week = parse_week("2024-W20", config.timezone)
        start = time.perf_counter()
        publish(config, store, week, END, dry_run=True)
        digest = time.perf_counter() - start
        matcher = Matcher(config.themes)
        start = time.perf_counter()
        done = sum(rematch_items(store, matcher, END, everything=True, batch=2000)) if rematch_too else count
        rematch = time.perf_counter() - start
        assert done == count
    return {
        "search_median_ms": statistics.median(times) * 1000,
        "search_max_ms": max(times) * 1000,
        "digest_s": digest,
        "rematch_s": rematch,
        "rematch_items_per_s": count / rematch,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--no-rematch", action="store_true", help="skip the rematch (minutes at 1M)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="monitor-scale-"))
    print(
        f"{'items':>9} {'generate s':>10} {'search median ms':>17} {'search max ms':>14} {'digest s':>9} "
        f"{'rematch s':>10} {'rematch items/s':>16} {'stem s':>7}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        path = folder / f"scale-{size}.db"
        start = time.perf_counter()
        stemming = generate(path, size)
        generated = time.perf_counter() - start - stemming
        m = measure(path, size, rematch_too=not args.no_rematch)
        rematch = (
            f"{m['rematch_s']:>10.1f} {m['rematch_items_per_s']:>16,.0f}"
            if not args.no_rematch
            else f"{'-':>10} {'-':>16}"
        )
        print(
            f"{size:>9,} {generated:>10.1f} {m['search_median_ms']:>17.1f} {m['search_max_ms']:>14.1f} "
            f"{m['digest_s']:>9.2f} {rematch} {stemming:>7.1f}",
            flush=True,
        )
        path.unlink()


if __name__ == "__main__":
    main()
