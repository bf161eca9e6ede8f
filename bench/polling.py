"""Benchmark: a poll round over many feeds served with realistic latency, concurrent against sequential,
and a round of 304s against a full round, all measured in the same run.

    python bench/polling.py [--feeds 1000] [--hosts 20] [--sequential-sample 100] [--items-per-feed=50]

Feeds are spread over `--hosts` HTTP servers on 127.0.0.2, 127.0.0.3, ... (loopback addresses, so the
per-host limit applies as it would across outlets); each response waits 50-200 ms. The sequential round is
measured on a sample of feeds (it takes minutes at full size) and compared per feed.
Goals (issue 6): >= 10x faster than sequential at concurrency 20 with the per-host limit respected; a 304
round >= 5x faster than a full round.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from common import REPO, document

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import Config, PollingSettings
from monitor.config.settings import auto_processes
from monitor.fetch.http import Fetcher
from monitor.storage import Store
from monitor.types import FeedSource
from monitor.update.poll import poll_round

BODY = document(int(next((a.split("=")[1] for a in sys.argv if a.startswith("--items-per-feed=")), "50")))
ETAG: str | None = '"sample-v1"'


class Server:
    """One host: every path answers BODY after 50-200 ms, 304 to a matching If-None-Match; given
    `documents`, /feed/N answers documents[N] instead (feeds with items of their own)."""

    def __init__(
        self, address: str, latency: tuple[float, float] = (0.05, 0.2), documents: Sequence[bytes] | None = None
    ):
        self.in_flight = 0
        self.most = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with owner.lock:
                    owner.in_flight += 1
                    owner.most = max(owner.most, owner.in_flight)
                try:
                    time.sleep(random.uniform(*latency))
                    if ETAG and self.headers.get("If-None-Match") == ETAG:
                        self.send_response(304)
                        self.send_header("ETag", ETAG)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    body = documents[int(self.path.rsplit("/", 1)[1])] if documents else BODY
                    self.send_response(200)
                    self.send_header("Content-Type", "application/rss+xml")
                    if ETAG:
                        self.send_header("ETag", ETAG)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{address}:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


class Hosts:
    """`count` Servers in a child process: their work is not the poller's, so it must neither share the
    measured process's GIL nor be counted in its time (real servers are elsewhere)."""

    def __init__(
        self, count: int, latency: tuple[float, float] = (0.05, 0.2), documents: Sequence[bytes] | None = None
    ):
        context = multiprocessing.get_context("fork")  # before the measured process starts any thread
        self._most = [context.Value("i", 0) for _ in range(count)]
        mine, theirs = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(count, latency, documents, self._most, theirs), daemon=True
        )
        self._process.start()
        self.urls: list[str] = mine.recv()

    def most_at_once(self) -> int:
        """The most requests one host answered at the same time."""
        time.sleep(0.2)  # the child copies its counts every 50 ms
        return max(value.value for value in self._most)

    def close(self) -> None:
        self._process.terminate()
        self._process.join()


def _serve(
    count: int, latency: tuple[float, float], documents: Sequence[bytes] | None, most: list[Any], conn: Any
) -> None:
    servers = [Server(f"127.0.0.{n + 2}", latency, documents) for n in range(count)]
    conn.send([server.url for server in servers])
    while True:
        time.sleep(0.05)
        for server, value in zip(servers, most, strict=True):
            value.value = server.most


def clock() -> datetime:
    return datetime.now(UTC)


def run_round(
    feeds: list[FeedSource],
    concurrency: int,
    per_host: int,
    folder: Path,
    name: str,
    rounds: int = 1,
    parse_processes: int = 0,
) -> list[float]:
    polling = PollingSettings(
        concurrency=concurrency,
        per_host=per_host,
        deadline=timedelta(seconds=60),
        user_agent="monitor-bench",
        parse_processes=parse_processes,
    )
    config = Config(path="bench", polling=polling, feeds=tuple(feeds))
    times = []
    with Store.open(folder / f"{name}.db") as store, Fetcher(polling, clock=clock) as fetcher:
        for _ in range(rounds):
            start = time.perf_counter()
            reports = poll_round(config, store, fetcher, clock, force=True)
            times.append(time.perf_counter() - start)
            failed = [(r.feed, r.error) for r in reports if r.error]
            assert len(reports) == len(feeds) and not failed, failed[:5]
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--per-host", type=int, default=2)
    parser.add_argument("--sequential-sample", type=int, default=100)
    parser.add_argument("--items-per-feed", type=int, default=50, help="items in every feed document (read early)")
    parser.add_argument(
        "--parse-processes",
        type=int,
        default=auto_processes(),
        help='helper processes for parsing (default: the setting\'s "auto")',
    )
    args = parser.parse_args()
    hosts = Hosts(args.hosts)
    feeds = [
        FeedSource(f"feed-{n}", f"{hosts.urls[n % len(hosts.urls)]}/feed/{n}", timedelta(minutes=30))
        for n in range(args.feeds)
    ]
    folder = Path(tempfile.mkdtemp(prefix="monitor-bench-"))
    sample = feeds[: args.sequential_sample]
    [sequential] = run_round(sample, 1, 1, folder, "sequential")
    [one_process] = run_round(feeds, args.concurrency, args.per_host, folder, "one-process")
    full, not_modified = run_round(
        feeds, args.concurrency, args.per_host, folder, "concurrent", rounds=2, parse_processes=args.parse_processes
    )
    per_feed_sequential = sequential / len(sample)
    per_feed_concurrent = full / len(feeds)
    most_per_host = hosts.most_at_once()
    hosts.close()
    print(
        f"feeds: {len(feeds)} of {args.items_per_feed} items ({len(BODY) // 1000} kB) on {args.hosts} hosts "
        "in another process, "
        f"50-200 ms per response; concurrency {args.concurrency}, "
        f"per host {args.per_host}"
    )
    print(f"sequential ({len(sample)} feeds):     {per_feed_sequential * 1000:7.1f} ms/feed  (baseline)")
    print(
        f"concurrent, parsed in-process: {one_process / len(feeds) * 1000:7.1f} ms/feed  "
        f"{sequential / len(sample) / (one_process / len(feeds)):.1f}x faster than sequential; "
        f"round {one_process:.1f} s"
    )
    print(
        f"concurrent, {args.parse_processes} parse process(es): {per_feed_concurrent * 1000:7.1f} ms/feed  "
        f"{per_feed_sequential / per_feed_concurrent:.1f}x faster than sequential; round {full:.1f} s"
    )
    print(
        f"concurrent 304 round:          {not_modified / len(feeds) * 1000:7.1f} ms/feed  "
        f"{full / not_modified:.1f}x faster than the full round"
    )
    print(f"most requests at once on one host: {most_per_host} (limit {args.per_host})")


if __name__ == "__main__":
    main()
