"""EDGE: a web archive that speaks the CDX API (the Internet Archive's Wayback Machine by default).

Two kinds of request: the CDX index of a feed's captures in a period (successful ones, identical bodies
collapsed), and a capture's original bytes (`/web/<timestamp>id_/<url>`: the raw form, not rewritten for
a browser). Politely: one request at a time through the project's `Fetcher` (its User-Agent, size cap,
timeouts, redirect rules), `backfill.pace` between the starts of two requests, and a request refused with
429 or 503 (or failing on the network) tried again after its Retry-After, else after a doubling wait, up to
`backfill.retries` times. An archive asking to wait longer than `backfill.max_wait` stops the run: it is
resumed by running it again.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from .config import BackfillSettings, PollingSettings
from .errors import MonitorError
from .fetch import Fetcher, utc_now
from .types import FetchResult

RETRYABLE = {429, 502, 503, 504}


class ArchiveBusy(MonitorError):
    """The archive asked to wait longer than `backfill.max_wait`, or kept refusing: stop, resume later."""


@dataclass(frozen=True, slots=True)
class Capture:
    """One capture in the CDX index: when (14 digits, UTC), of what address, and its body's digest."""

    timestamp: str
    original: str
    digest: str | None = None

    @property
    def at(self) -> datetime:
        return datetime.strptime(self.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def cdx_url(base: str, url: str, since: date, until: date) -> str:
    query = urlencode(
        {
            "url": url,
            "from": since.strftime("%Y%m%d"),
            "to": until.strftime("%Y%m%d"),
            "output": "json",
            "filter": "statuscode:200",
            "collapse": "digest",
        }
    )
    return f"{base}/cdx/search/cdx?{query}"


def capture_url(base: str, capture: Capture) -> str:
    return f"{base}/web/{capture.timestamp}id_/{capture.original}"


def parse_cdx(body: bytes) -> list[Capture]:
    """The captures of a CDX answer in JSON (a header row naming the fields, then one row per capture), in
    time order; ValueError naming what was wrong when it is not one."""
    text = body.strip()
    if not text:
        return []  # the CDX server answers an empty body when nothing matches
    rows = json.loads(text)
    if not isinstance(rows, list) or (rows and not all(isinstance(r, list) for r in rows)):
        raise ValueError("not a CDX answer in JSON (a list of rows)")
    if not rows:
        return []
    header = [str(h) for h in rows[0]]
    if "timestamp" not in header or "original" not in header:
        raise ValueError(f"its header row names no timestamp and original: {header[:8]}")
    at, original = header.index("timestamp"), header.index("original")
    digest = header.index("digest") if "digest" in header else None
    captures = []
    for row in rows[1:]:
        stamp = str(row[at]) if len(row) > at else ""
        if len(stamp) < 8 or not stamp.isdigit() or len(row) <= original:
            continue
        captures.append(
            Capture(stamp, str(row[original]), str(row[digest]) if digest is not None and len(row) > digest else None)
        )
    return sorted(captures, key=lambda c: c.timestamp)


def choose(captures: Iterable[Capture], per_day: int) -> tuple[list[Capture], int]:
    """At most `per_day` captures of each day, spread over the day (the first, the last, evenly between),
    identical bodies (same digest) kept once; and how many were left out."""
    days: dict[str, list[Capture]] = defaultdict(list)
    seen: set[str] = set()
    left = 0
    for capture in captures:
        if capture.digest and capture.digest in seen:
            left += 1
            continue
        if capture.digest:
            seen.add(capture.digest)
        days[capture.timestamp[:8]].append(capture)
    chosen = []
    for day in sorted(days):
        found = days[day]
        if len(found) <= per_day:
            chosen += found
            continue
        picks = sorted({round(n * (len(found) - 1) / max(per_day - 1, 1)) for n in range(per_day)})
        chosen += [found[n] for n in picks]
        left += len(found) - len(picks)
    return chosen, left


class Archive:
    """One archive, asked one request at a time."""

    def __init__(
        self,
        settings: BackfillSettings,
        polling: PollingSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.settings = settings
        limit = settings.timeout
        # The archive is asked for what the user configured: its address, not the feed's host, so a local
        # archive (a test server, one on the intranet) is allowed as a feed's own address is.
        self.fetcher = Fetcher(
            replace(
                polling,
                deadline=limit,
                read_timeout=min(polling.read_timeout, limit),
                connect_timeout=min(polling.connect_timeout, limit),
            ),
            clock=clock,
        )
        self.sleep = sleep
        self.monotonic = monotonic
        self.last_start: float | None = None
        self.requests = 0

    def close(self) -> None:
        self.fetcher.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def captures(self, url: str, since: date, until: date) -> list[Capture]:
        """The feed's captures in [since, until]; MonitorError when the index cannot be had."""
        result = self.get(cdx_url(self.settings.archive_url, url, since, until))
        if result.error or result.body is None:
            raise MonitorError(f"the archive's index of {url}: {result.error or 'no body'}")
        try:
            return parse_cdx(result.body)
        except ValueError as error:
            raise MonitorError(f"the archive's index of {url} could not be read: {error}") from error

    def download(self, capture: Capture) -> FetchResult:
        return self.get(capture_url(self.settings.archive_url, capture))

    def get(self, url: str) -> FetchResult:
        """One GET at the configured pace, tried again after 429/503 and network failures."""
        wait = max(self.settings.pace.total_seconds(), 1.0)
        for attempt in range(self.settings.retries + 1):
            self._pace()
            result = self.fetcher.fetch(url)
            retryable = result.status in RETRYABLE or result.status is None
            if not retryable or attempt == self.settings.retries:
                return result
            delay = result.retry_after.total_seconds() if result.retry_after is not None else wait * 2**attempt
            if delay > self.settings.max_wait.total_seconds():
                raise ArchiveBusy(
                    f"the archive asks to wait {timedelta(seconds=round(delay))} before the next "
                    f"request (more than backfill.max_wait): run `monitor backfill` again later; it "
                    "goes on where it stopped"
                )
            self.sleep(delay)
        raise AssertionError("unreachable")  # the loop returns on its last attempt

    def _pace(self) -> None:
        now = self.monotonic()
        if self.last_start is not None:
            gap = self.settings.pace.total_seconds() - (now - self.last_start)
            if gap > 0:
                self.sleep(gap)
        self.last_start = self.monotonic()
        self.requests += 1
