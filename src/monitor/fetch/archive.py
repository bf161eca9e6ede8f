"""EDGE: a web archive that speaks the CDX API (the Internet Archive's Wayback Machine by default).

Two kinds of request: the CDX index of a feed's captures in a period (successful ones, identical bodies
collapsed), and a capture's original bytes (`/web/<timestamp>id_/<url>`: the raw form, not rewritten for
a browser). Politely: one request at a time through the project's `Fetcher` (its User-Agent, size cap,
timeouts, redirect rules), `backfill.pace` between the starts of two requests, and a request refused with
429 or 503 (or failing on the network) tried again after its Retry-After, else after a doubling wait, up to
`backfill.retries` times. An archive asking to wait longer than `backfill.max_wait` stops the run: it is
resumed by running it again.

The index is read in pages (`limit` + `showResumeKey`/`resumeKey`): the Wayback Machine caps what one answer
holds, so a long period asked in one go is silently cut. An answer that fills the page and gives no key to
go on with may have been cut all the same (an archive that ignores `showResumeKey` or caps below `limit`):
the index is then asked again from the last capture's time, until an answer brings nothing new; an archive
that gives nothing to go on with (keys going round, an answer of one second's captures only) is said to
have cut its answer, and the captures beyond may be missing.
"""

from __future__ import annotations

import json
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from ..config.load import BackfillSettings, PollingSettings
from ..errors import MonitorError
from ..identity import canonical_url
from ..types import FetchResult
from .http import Fetcher, utc_now

RETRYABLE = {429, 502, 503, 504}
CDX_PAGE = 5000  # rows asked for in one index request: under the Wayback Machine's own cap
MAX_PAGES = 1000  # an archive that keeps answering keys stops here (five million captures of one feed)


class ArchiveBusy(MonitorError):
    """The archive asked to wait longer than `backfill.max_wait`, or kept refusing: stop, resume later."""


@dataclass(frozen=True, slots=True)
class Capture:
    """One capture in the CDX index: when (14 digits, UTC), of what address, and its body's digest."""

    timestamp: str
    original: str
    digest: str | None = None
    status: str = "200"  # the capture's HTTP status as the index gives it ("-": a revisit of an earlier body)

    @property
    def at(self) -> datetime:
        return datetime.strptime(self.timestamp[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def cdx_url(
    base: str, url: str, since: date | str, until: date, resume: str | None = None, limit: int = CDX_PAGE
) -> str:
    """The index query; `since` a day, or the 14 digits of a capture to read on from (inclusive)."""
    fields = {
        "url": url,
        "from": since if isinstance(since, str) else since.strftime("%Y%m%d"),
        "to": until.strftime("%Y%m%d"),
        "output": "json",
        "filter": "statuscode:200",
        "collapse": "digest",
        "limit": str(limit),
        "showResumeKey": "true",
    }
    if resume is not None:
        fields["resumeKey"] = resume
    return f"{base}/cdx/search/cdx?{urlencode(fields)}"


@dataclass
class Index:
    """A feed's captures read from the archive's index, page after page, and what was left out of them."""

    captures: list[Capture]
    pages: int = 0
    cut: bool = False  # the archive's answer was cut and could not be read on: captures may be missing
    cut_answers: int = 0  # answers cut without a key, read on from their last capture's time
    elsewhere: int = 0  # rows of another address than the feed's (an archive matching loosely)
    unusable: int = 0  # redirects and failed captures the archive listed all the same


def same_address(feed_url: str, original: str) -> bool:
    """Whether an address the index gives is the feed's: the archive files http and https, `www.`, a
    trailing slash and the default port under one key, so those differences do not count."""
    return _address_key(feed_url) == _address_key(original)


def _address_key(url: str) -> str | None:
    canonical = canonical_url(url)
    if canonical is None:
        return None
    key = canonical.split("://", 1)[1]
    key = key[4:] if key.startswith("www.") else key
    host, _, rest = key.partition("/")
    path, _, query = rest.partition("?")
    return f"{host}/{path.rstrip('/')}" + (f"?{query}" if query else "")


def capture_url(base: str, capture: Capture) -> str:
    return f"{base}/web/{capture.timestamp}id_/{capture.original}"


def parse_cdx(body: bytes) -> tuple[list[Capture], str | None]:
    """The captures of a CDX answer in JSON (a header row naming the fields, then one row per capture), in
    time order, and the key to resume from when the archive has more (after an empty row, a row of one
    string); ValueError naming what was wrong when it is not one."""
    text = body.strip()
    if not text:
        return [], None  # some CDX servers answer an empty body when nothing matches, others `[]`
    try:
        rows = json.loads(text)
    except ValueError as error:
        raise ValueError(f"not JSON ({error}): {text[:80]!r}") from None
    if not isinstance(rows, list) or (rows and not all(isinstance(r, list) for r in rows)):
        raise ValueError("not a CDX answer in JSON (a list of rows)")
    resume = None
    if len(rows) >= 2 and rows[-2] == [] and len(rows[-1]) == 1:
        resume = str(rows[-1][0])
        rows = rows[:-2]
    if not rows:
        return [], resume
    header = [str(h) for h in rows[0]]
    if "timestamp" not in header or "original" not in header:
        raise ValueError(f"its header row names no timestamp and original: {header[:8]}")
    at, original = header.index("timestamp"), header.index("original")
    digest = header.index("digest") if "digest" in header else None
    status = header.index("statuscode") if "statuscode" in header else None
    captures = []
    for row in rows[1:]:
        stamp = str(row[at]) if len(row) > at else ""
        if len(stamp) < 8 or not stamp.isdigit() or len(row) <= original:
            continue
        captures.append(
            Capture(
                stamp,
                str(row[original]),
                str(row[digest]) if digest is not None and len(row) > digest else None,
                str(row[status]) if status is not None and len(row) > status else "200",
            )
        )
    return sorted(captures, key=lambda c: c.timestamp), resume


def _sorted(index: Index) -> Index:
    index.captures.sort(key=lambda c: c.timestamp)
    return index


def usable(capture: Capture) -> bool:
    """A capture whose bytes are the feed: a 200, or a revisit ("-") that the archive answers with the
    earlier body it repeats. A redirect's bytes are not the feed, and its target is captured (or not) under
    its own address, not the feed's: it is left out and counted."""
    return capture.status in ("200", "-")


def original_bytes(body: bytes, cap: int) -> bytes:
    """A capture's bytes as the feed served them: some archives store (and answer) the gzip the site sent,
    without saying so in a Content-Encoding. Decompressed up to `cap` bytes (a gzip bomb is cut, as the
    fetcher cuts one); ValueError when it holds more."""
    if body[:2] != b"\x1f\x8b":
        return body
    inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        out = inflate.decompress(body, cap + 1)
    except zlib.error:
        return body  # not gzip after all: the import says what it is
    if len(out) > cap or inflate.unconsumed_tail:
        raise ValueError(f"its gzip-compressed bytes hold more than polling.max_bytes ({cap} bytes)")
    return out


def wayback_page(body: bytes) -> bool:
    """The archive's own HTML page (its toolbar, a rewritten copy, an error) where the original bytes were
    asked for: the `id_` form was not honoured. Only a document that is HTML from its first tag: a feed
    about the archive may well name it in its items."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not head.startswith((b"<!doctype html", b"<html")):
        return False
    return b"wayback machine" in head or b"web.archive.org/_static" in head or b"web.archive.org/static" in head


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
        self.max_bytes = polling.max_bytes
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

    def captures(self, url: str, since: date, until: date, page: int = CDX_PAGE) -> Index:
        """The feed's captures in [since, until], read page after page; MonitorError when the index cannot
        be had."""
        index = Index([])
        seen: set[tuple[str, str]] = set()
        start: date | str = since
        resume: str | None = None
        keys: set[str] = set()
        while index.pages < MAX_PAGES:
            found, resume = self._page(url, cdx_url(self.settings.archive_url, url, start, until, resume, page))
            index.pages += 1
            fresh = [c for c in found if (c.timestamp, c.original) not in seen]
            seen.update((c.timestamp, c.original) for c in fresh)
            self._sort(url, fresh, index)
            if resume is not None:
                if resume in keys:
                    break  # an archive going round in circles
                keys.add(resume)
                continue
            if not fresh or keys:
                return _sorted(index)  # the period is read: nothing new, or the last of the keyed pages
            if isinstance(start, str):
                index.cut_answers += 1  # the answer before this one had been cut without a key
            # No key: the archive may have cut its answer without saying so (most have not: one request
            # more). Ask again from the last capture's time on; the rows repeated at that second are dropped.
            last = max(c.timestamp for c in found)
            if last == start:
                break  # an answer of one second's captures only: no way on by date
            start = last
        index.cut = True
        return _sorted(index)

    def _sort(self, url: str, found: list[Capture], index: Index) -> None:
        for capture in found:
            if not same_address(url, capture.original):
                index.elsewhere += 1
            elif not usable(capture):
                index.unusable += 1
            else:
                index.captures.append(capture)

    def _page(self, url: str, address: str) -> tuple[list[Capture], str | None]:
        result = self.get(address)
        if result.error or result.body is None or (result.status is not None and result.status >= 400):
            raise MonitorError(f"the archive's index of {url}: {result.error or f'HTTP {result.status}'}")
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
