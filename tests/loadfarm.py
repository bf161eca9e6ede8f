"""Many feeds on many local hosts, one in ten misbehaving, and one real `monitor poll` round over them:
shared by tests/test_load.py (CI, small) and bench/load.py (1,000 feeds).

Every feed is a SAMPLE ("Sample Wire", example.org links). Feed n is served by host 127.0.0.(2 + (n // 10)
% hosts) (loopback addresses, so the per-host limit applies as across outlets); in every block of ten feeds
the last one misbehaves, each kind in turn, so every host has its share of trouble:

- slow:   trickles its body a byte at a time, never silent for read_timeout but longer than the deadline
- hang:   accepts the request and never answers
- broken: ill-formed XML (a mismatched tag, an undefined entity, cut off mid-item)
- huge:   a real feed whose body goes on far beyond max_bytes
- error:  HTTP 500
"""

from __future__ import annotations

import math
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .feedserver import FeedServer, Route

KINDS = ("slow", "hang", "broken", "huge", "error")
# Short limits make a misbehaving feed cost seconds, not minutes (the shipped ones: 30 s of silence, a
# 60 s deadline), yet leave a healthy feed on a busy CI machine seconds to answer.
POLLING = {
    "connect_timeout": "2s",
    "read_timeout": "2s",
    "deadline": "4s",
    "concurrency": 20,
    "per_host": 2,
    "max_bytes": "256KiB",
    "interval": "30m",
}
HUGE_BYTES = 64 * 1024 * 1024  # far beyond max_bytes: unbounded reading would show in the peak RSS


def sample_feed(number: int, items: int, *, close: bool = True) -> bytes:
    entries = "".join(
        f"<item><title>Sample Wire {number}: report {i} on the ferry timetable</title>"
        f"<link>https://sample-wire.example.org/feed-{number}/{i}</link>"
        f"<guid>https://sample-wire.example.org/feed-{number}/{i}</guid>"
        f"<pubDate>Mon, 25 Sep 2023 {i % 24:02d}:00:00 +0000</pubDate>"
        f"<description>&lt;p&gt;Sample Wire report {i} of feed {number}.&lt;/p&gt;</description></item>"
        for i in range(items)
    )
    head = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Sample Wire</title>'
        f"<link>https://sample-wire.example.org/feed-{number}/</link>"
    )
    return (head + entries + ("</channel></rss>" if close else "")).encode()


def kind_of(number: int) -> str:
    return KINDS[(number // 10) % len(KINDS)] if number % 10 == 9 else "healthy"


def route_for(number: int, items: int) -> Route:
    kind = kind_of(number)
    body = sample_feed(number, items)
    if kind == "slow":
        return Route(body=body * 4, trickle=0.02)  # 0.02 s a byte: hundreds of seconds in all
    if kind == "hang":
        return Route(delay=3600)
    if kind == "broken":
        broken = body.replace(b"</title>", b"</titel>", 1).replace(b"report 1 ", b"report &nbsp-sample; ", 1)
        return Route(body=broken[: len(broken) * 2 // 3])
    if kind == "huge":
        return Route(stream_prefix=sample_feed(number, items, close=False), stream_bytes=HUGE_BYTES)
    if kind == "error":
        return Route(status=500, body=b"Sample: internal server error", content_type="text/plain")
    return Route(body=body)


@dataclass
class Farm:
    feeds: int
    hosts: int
    items: int
    servers: list[FeedServer] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def start(self) -> Farm:
        self.servers = [FeedServer(f"127.0.0.{2 + h}").start() for h in range(self.hosts)]
        for number in range(self.feeds):
            server = self.servers[(number // 10) % self.hosts]
            self.urls.append(server.add(f"/feed/{number}", route_for(number, self.items)))
        return self

    def stop(self) -> None:
        # In parallel: each shutdown waits up to half a second for its server's loop to notice.
        stoppers = [threading.Thread(target=server.stop) for server in self.servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()

    def config(self, polling: dict[str, object]) -> str:
        lines = ["[polling]"] + [f"{k} = {v if isinstance(v, int) else repr(v)}" for k, v in polling.items()]
        for number, url in enumerate(self.urls):
            lines += ["", "[[feeds]]", f'name = "feed-{number:04d}-{kind_of(number)}"', f'url = "{url}"']
        return "\n".join(lines).replace("'", '"') + "\n"


@dataclass
class RoundFigures:
    feeds: int
    misbehaving: int
    round_seconds: float  # as `monitor poll` reports it
    wall_seconds: float  # the whole subprocess, interpreter start included
    bound_seconds: float
    peak_rss_mb: float
    healthy_feeds_ok: int
    healthy_items: int
    expected_healthy_items: int
    outcomes: dict[str, Counter[str]]  # kind -> outcome -> feeds
    errors: dict[str, list[str]]  # kind -> the error (or bozo) recorded for each of its feeds
    exit_code: int
    output: str


def round_bound(feeds: int, hosts: int, polling: dict[str, object]) -> float:
    """How long a round may take. Each stalled feed (slow or hang) holds one of its host's `per_host`
    slots for at most the deadline, so the host with the most stalled feeds needs that many deadlines over
    per_host; plus one deadline for its healthy feeds queued behind them, and the parse and store of the
    healthy feeds (a few ms each) and start-up."""
    deadline = float(str(polling["deadline"]).rstrip("s"))
    stalled = Counter((n // 10) % hosts for n in range(feeds) if kind_of(n) in ("slow", "hang"))
    worst = max(stalled.values(), default=0)
    return deadline * (math.ceil(worst / int(str(polling["per_host"]))) + 1) + 0.005 * feeds + 2.0


def poll_round(
    folder: Path, *, feeds: int, hosts: int, items: int, polling: dict[str, object] | None = None
) -> RoundFigures:
    """Serve the farm, run `python -m monitor poll` on it once (a real subprocess, as cron would) and read
    back what it stored."""
    polling = {**POLLING, **(polling or {})}
    farm = Farm(feeds, hosts, items).start()
    try:
        config = folder / "feeds.toml"
        config.write_text(farm.config(polling), encoding="utf-8")
        db = folder / "load.db"
        start = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "poll"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        watchdog = threading.Timer(600, child.kill)  # a hung round must fail the run, not hang it
        watchdog.start()
        peak = _Peak(child.pid)
        output, _ = child.communicate()
        watchdog.cancel()
        peak.stop()
        wall = time.perf_counter() - start
    finally:
        farm.stop()
    found = re.search(r"(\d+) feeds in ([\d.]+)s", output)
    figures = _read_back(db, feeds, items)
    return RoundFigures(
        feeds=feeds,
        misbehaving=sum(kind_of(n) != "healthy" for n in range(feeds)),
        round_seconds=float(found.group(2)) if found else wall,
        wall_seconds=wall,
        bound_seconds=round_bound(feeds, hosts, polling),
        peak_rss_mb=peak.kb / 1024,
        exit_code=child.returncode,
        output=output,
        **figures,
    )


def _read_back(db: Path, feeds: int, items: int) -> dict[str, Any]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT f.name, x.outcome, coalesce(x.error, x.bozo, '') FROM fetches x JOIN feeds f ON f.id = x.feed_id"
        ).fetchall()
        healthy_items = conn.execute(
            "SELECT count(DISTINCT s.item_id) FROM item_sources s JOIN feeds f "
            "ON f.id = s.feed_id WHERE f.name LIKE '%-healthy'"
        ).fetchone()[0]
    finally:
        conn.close()
    outcomes: dict[str, Counter[str]] = {}
    errors: dict[str, list[str]] = {}
    healthy_ok = 0
    for name, outcome, error in rows:
        kind = name.rsplit("-", 1)[1]
        outcomes.setdefault(kind, Counter())[outcome] += 1
        if kind == "healthy":
            healthy_ok += outcome == "ok" and not error
        if kind != "healthy" or error:
            errors.setdefault(kind, []).append(f"{name}: {error}" if kind == "healthy" else error)
    healthy = sum(kind_of(n) == "healthy" for n in range(feeds))
    return {
        "healthy_feeds_ok": healthy_ok,
        "healthy_items": healthy_items,
        "expected_healthy_items": healthy * items,
        "outcomes": outcomes,
        "errors": errors,
    }


class _Peak:
    """The child's VmHWM (peak resident set), read from /proc until it exits. Not ru_maxrss: that keeps
    the high-water mark from before exec, i.e. the size of the forking test process."""

    def __init__(self, pid: int):
        self.kb = 0
        self._path = Path(f"/proc/{pid}/status")
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._done.wait(0.02):
            try:
                text = self._path.read_text()
            except OSError:  # gone
                return
            found = re.search(r"^VmHWM:\s+(\d+)", text, re.MULTILINE)
            if found:  # never lower: the mark only rises, and a zombie no longer reports it
                self.kb = max(self.kb, int(found.group(1)))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
