"""`monitor demo`: the whole product, offline, in a minute.

Serves the sample feeds bundled in `monitor/samples` from a local HTTP server on 127.0.0.1, polls them
into a throw-away database with the configured themes, writes the digest of the samples' week, and says
where to look. The sample feeds are invented and say so ("Sample Wire", example.org links).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

from .config.load import Config
from .digest.publish import Published, publish
from .fetch.http import Fetcher
from .match.rules import Matcher
from .storage import Store
from .types import FeedReport, FeedSource
from .update.poll import poll_round
from .weeks import parse_week

SAMPLE_WEEK = "2023-W39"  # the week the sample items were published in


@dataclass(frozen=True, slots=True)
class DemoResult:
    folder: Path
    database: Path
    reports: list[FeedReport]
    digest: Published
    matches: dict[str, int]


def sample_feeds() -> dict[str, bytes]:
    folder = resources.files("monitor") / "samples"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.name.endswith(".xml")}


@contextmanager
def serve(feeds: dict[str, bytes]) -> Iterator[str]:
    """The feeds at http://127.0.0.1:<port>/<name>, for as long as the block runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            body = feeds.get(self.path.lstrip("/"))
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_demo(
    config: Config,
    clock: Callable[[], datetime],
    *,
    out_dir: str | None = None,
    folder: str | None = None,
    on_report: Callable[[FeedReport], None] | None = None,
) -> DemoResult:
    work = Path(folder or tempfile.mkdtemp(prefix="monitor-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    database = work / "demo.db"
    feeds = sample_feeds()
    with serve(feeds) as base:
        demo = replace(
            config,
            database=str(database),
            feeds=tuple(
                FeedSource(
                    name=Path(name).stem,
                    url=f"{base}/{name}",
                    interval=config.polling.interval,
                    language="en",
                    tags=("sample",),
                )
                for name in sorted(feeds)
            ),
        )
        with Store.open(database) as store, Fetcher(demo.polling, clock=clock) as fetcher:
            reports = poll_round(
                demo, store, fetcher, clock, force=True, on_report=on_report, matcher=Matcher(demo.themes)
            )
            digest = publish(
                demo,
                store,
                parse_week(SAMPLE_WEEK, demo.timezone, demo.digest.week_start),
                clock(),
                out_dir=out_dir or demo.digests_dir,
            )
            matches = store.matches_per_theme()
    return DemoResult(work, database, reports, digest, matches)
