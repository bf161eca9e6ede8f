"""Benchmark: `monitor import` of saved feed documents (read, attribute, parse, identity, de-duplication,
matching, store with provenance) against feedparser's parse alone of the same documents, in the same run.

    python bench/import.py [--files F] [--items N] [--runs R] [--samples]

Goal (issue 15): at most 1.3x feedparser's parse, as for live rounds: years of captures are millions of
items. Both baselines are printed: feedparser with its defaults (its sanitizer on, what a hand-rolled
script would run) and as monitor calls it (its HTML passes off, nh3 sanitizes instead). The import runs
one file after another into a new database each run (every item new, the costly case, unless
--overlap makes successive documents share items as captures of one feed do), in turns with
the baselines (each the best of its --runs timings);
a second import of the same files (every document already imported) is timed too. As `monitor import` does
with `polling.parse_processes` ("auto": one per core beyond the first), documents are parsed in helper
processes ahead of the storing thread, which matches and stores, and parses a file no helper has started
whenever the next one is still being parsed (history.py `_next_prepared`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
from common import REPO, best_of_each, document

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.config.settings import auto_processes
from monitor.match.rules import Matcher
from monitor.parse.feed import parse_feed
from monitor.parse.pool import fast_path_from_environment, make_parser
from monitor.storage import Store
from monitor.storage import feeds as feed_store
from monitor.storage.history import feed_addresses
from monitor.types import FeedReport, FeedSource, FetchOutcome
from monitor.update.importing import Feed, Target, import_file, import_files
from monitor.update.poll import store_poll

NOW = datetime(2023, 10, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--items", type=int, default=200, help="items per document")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--processes",
        type=int,
        default=auto_processes(),
        help="parse helpers (0: parse in this process; default: polling.parse_processes' auto)",
    )
    parser.add_argument(
        "--samples",
        action="store_true",
        help="a general feed's mix (one item in ten on the themes) instead of the eval items, all on-topic",
    )
    parser.add_argument(
        "--overlap",
        type=float,
        default=0.0,
        help="share of each document's items also in the one before, as a feed's successive captures "
        "(0: every item new, the costly case; a feed captured four times a day shares most of them)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="monitor-bench-import-"))
    saved = folder / "saved"
    saved.mkdir()
    step = max(1, round(args.items * (1 - args.overlap)))
    bodies = [document(args.items, samples_only=args.samples, first=n * step) for n in range(args.files)]
    files = []
    for n, body in enumerate(bodies):
        files.append(saved / f"capture-{n:04d}.xml")
        files[-1].write_bytes(body)
    matcher = Matcher(load_config(REPO / "config" / "feeds.toml").themes)
    counter = iter(range(10_000))
    total = args.files * args.items
    distinct = (args.files - 1) * step + args.items if step < args.items else total
    last: list[Store] = []

    def run_import() -> None:
        if last:
            last.pop().close()
        store = Store.open(folder / f"import-{next(counter)}.db")
        last.append(store)
        # Attributed by the documents' own site link, as `monitor import FOLDER` does without --feed.
        feed_store.sync_feeds(
            store, [FeedSource("sample-wire", "https://sample.example.org/", timedelta(minutes=30))], NOW
        )
        feeds = {row[0]: Feed(*row) for row in store.conn.execute("SELECT id, name, url, language FROM feeds")}
        target = Target(feeds, feed_addresses(store))
        new = sum(r.counts.new for r in import_files(store, files, target, matcher, lambda: NOW, helpers))
        assert new == distinct, new

    def reimport() -> None:
        store = last[0]
        feeds = {row[0]: Feed(*row) for row in store.conn.execute("SELECT id, name, url, language FROM feeds")}
        target = Target(feeds, feed_addresses(store))
        assert all(import_file(store, path, target, matcher, lambda: NOW).already == 1 for path in files)

    def live_ingest() -> None:
        """The same documents stored by the poll's path (record_poll), parsed in this process: what the
        import adds to a poll is attribution, capture times and provenance."""
        with Store.open(folder / f"live-{next(counter)}.db") as store:
            feed_store.sync_feeds(
                store, [FeedSource("sample-wire", "https://sample.example.org/", timedelta(minutes=30))], NOW
            )
            state = feed_store.feed_state(store, "sample-wire")
            assert state is not None
            for path in files:
                parsed = parse_feed(
                    path.read_bytes(), url=state.url, headers={}, feed_id=state.id, now=NOW, fast_path=fast_path
                )
                report = FeedReport(feed=state.name, url=state.url, outcome=FetchOutcome.OK, status=200)
                store_poll(store, state, report, parsed, NOW, matcher)

    def parse_all(**options: bool) -> None:
        for path in files:  # read from disk as the import does
            feedparser.parse(path.read_bytes(), **options)

    processes = args.processes
    fast_path = fast_path_from_environment()  # MONITOR_PARSER=feedparser: as before the fast path (parse/fast.py)
    helpers = make_parser(processes)
    helpers.parse(bodies[0][:200], url="https://sample.example.org/", headers={}, feed_id=0, now=NOW)  # started
    timings = best_of_each(
        args.runs,
        {
            "default": parse_all,
            "ours": lambda: parse_all(sanitize_html=False, resolve_relative_uris=False),
            "imported": run_import,
            "live": live_ingest,
        },
    )
    helpers.close()
    default, ours, imported, live = (timings[name] for name in ("default", "ours", "imported", "live"))
    started = time.perf_counter()
    reimport()
    again = time.perf_counter() - started
    last.pop().close()
    print(f"documents: {args.files} of {args.items} items ({total:,} items, {distinct:,} distinct)")
    print(f"feedparser, defaults (sanitizer on):   {total / default:>8,.0f} items/s  (baseline)")
    print(f"feedparser, as monitor calls it:       {total / ours:>8,.0f} items/s  ratio {ours / default:.2f}")
    print(
        f"monitor import ({distinct / total:.0%} new), {processes} parse helper(s): {total / imported:>8,.0f} items/s  "
        f"ratio {imported / default:.2f} to defaults, {imported / ours:.2f} to monitor's parse"
    )
    print(
        f"monitor poll path, same documents, inline: {total / live:>8,.0f} items/s  "
        f"ratio {live / default:.2f} to defaults; import / poll path {imported / live:.2f}"
    )
    print(
        f"monitor import again (all imported):   {total / again:>8,.0f} items/s  ratio {again / default:.2f} "
        "to defaults"
    )


if __name__ == "__main__":
    main()
