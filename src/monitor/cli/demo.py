"""`monitor demo`: the whole product, offline, in a minute.

Serves the sample feeds bundled in `monitor/samples` from a local HTTP server on 127.0.0.1, polls them
into a throw-away database with the configured themes, writes the digest of the samples' week, and says
where to look. The sample feeds are invented and say so ("Sample Wire", example.org links).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

import click

from ..config.load import Config
from ..digest.publish import Published, publish
from ..fetch.http import Fetcher
from ..match.rules import Matcher
from ..storage import Store, status
from ..types import FeedReport, FeedSource
from ..update.poll import poll_round
from ..weeks import parse_week
from .group import DEFAULT_CONFIG, Context, cli, utc_now
from .report import (
    feed_line,
)

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
        def do_GET(self) -> None:
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
            matches = status.matches_per_theme(store)
    return DemoResult(work, database, reports, digest, matches)


@cli.command()
@click.option("--out", "out_dir", metavar="DIR", help="Folder for the digest (default: monitor.digests_dir).")
@click.option(
    "--dir", "folder", metavar="DIR", help="Folder for the throw-away database (default: a new temporary folder)."
)
@click.pass_obj
def demo(obj: Context, out_dir: str | None, folder: str | None) -> None:
    """The whole product, offline: sample feeds served on 127.0.0.1, polled, matched, and a digest written."""
    config = obj.themes_config
    click.echo('Serving the bundled sample feeds (invented, marked "Sample") on 127.0.0.1 and polling them:')
    result = run_demo(
        config, utc_now, out_dir=out_dir, folder=folder, on_report=lambda report: click.echo("  " + feed_line(report))
    )
    db = result.database
    # Commands the user can paste: `monitor` where it is on PATH, else the way this one was started.
    started = sys.argv[0]
    prog = (
        "monitor"
        if shutil.which("monitor")
        else _pasteable(started)
        if os.path.basename(started) == "monitor"
        else f"{sys.executable} -m monitor"
    )
    matched = ", ".join(f"{theme} {count}" for theme, count in sorted(result.matches.items())) or "none"
    files = " and ".join(str(path) for path in result.digest.files)
    # Shipped inside the package, the starter config is no place for a user's feeds: copy it out first.
    then = (
        f"Then `{prog} init` writes a config of your own ({DEFAULT_CONFIG} here): put your feeds in it and "
        f"start the service with `{prog} run`."
        if obj.using_starter
        else f"Then put your feeds in {config.path} and start the service with `make run` (monitor run)."
    )
    click.echo(f"""
Stored in a throw-away database: {db}
Matches per theme: {matched}
Digest of {SAMPLE_WEEK} written: {files}

Try next:
  {prog} --db {db} search Stepanakert
  {prog} --db {db} themes
  {prog} match "Sample: Armenians feel betrayed as Russian peacekeepers stood by in Karabakh"
  sqlite3 {db} "SELECT m.theme, m.score, i.title FROM matches m JOIN items i ON i.id = m.item_id ORDER BY m.score DESC"
{then}""")


def _pasteable(path: str) -> str:
    """A path to show in a command to paste: relative when it is below here, else absolute (not ../../x)."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else os.path.abspath(path)
