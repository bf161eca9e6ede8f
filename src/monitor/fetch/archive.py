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

The archive is asked for the feed's public address (`public_address`): its credentials (a `user:secret@`, a
`?token=` or `?api_key=`) are for the feed's own host, never for the archive, nor for what is stored of
the archive's captures; the archive indexes public addresses anyway.

An index may be far larger than memory (a feed captured every minute for years, an archive sending pages
over the `limit` asked for): each answer is read row by row and each row handed to a `Chooser` that holds
only what the choice needs, never the index.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..config.load import BackfillSettings, PollingSettings
from ..errors import MonitorError
from ..identity import canonical_url
from ..text.safe import secret_parameter
from ..types import FetchResult
from .http import Fetcher, utc_now

RETRYABLE = {429, 502, 503, 504}
CDX_PAGE = 5000  # rows asked for in one index request: under the Wayback Machine's own cap
MAX_PAGES = 1000  # an archive that keeps answering keys stops here (five million captures of one feed)
MAX_ADDRESS = 8192  # an index row naming a longer address is not the feed's (servers refuse longer ones)
MAX_DIGEST = 64  # a longer digest (a SHA-1 in base 32 is 32 characters) is held as a hash of itself


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


def public_address(url: str) -> str:
    """`url` as the archive may be told it: no userinfo (`user:secret@`), no query parameter named as a
    credential (`token`, `key`, `api_key`, `sig`...), no fragment; the rest exactly as written."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]  # not a URL: nothing but its start
    netloc = parts.netloc.rpartition("@")[2]
    # Filter the raw pieces (`&`, and `;` as some sites write them) rather than re-encode the query: the
    # archive keys a capture by its address as written.
    pieces = (";".join(p for p in piece.split(";") if not secret_parameter(p)) for piece in parts.query.split("&"))
    return urlunsplit((parts.scheme, netloc, parts.path, "&".join(p for p in pieces if p), ""))


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
    """What was read of a feed's index, page after page (its captures went to a `Chooser`), and what was
    left out of it."""

    usable: int = 0  # captures of the feed's address that can be imported, handed to the chooser
    pages: int = 0
    cut: bool = False  # the archive's answer was cut and could not be read on: captures may be missing
    cut_answers: int = 0  # answers cut without a key, read on from their last capture's time
    elsewhere: int = 0  # rows of another address than the feed's (an archive matching loosely)
    unusable: int = 0  # redirects and failed captures the archive listed all the same


def same_address(feed_url: str, original: str) -> bool:
    """Whether an address the index gives is the feed's: the archive files http and https, `www.`, a
    trailing slash and the default port under one key, so those differences do not count."""
    return _address_key(feed_url) == _address_key(original)


@lru_cache(maxsize=256)  # asked for every row of an index, which names a handful of addresses
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
    return f"{base}/web/{capture.timestamp}id_/{public_address(capture.original)}"


def read_cdx(body: bytes, each: Callable[[Capture], None]) -> str | None:
    """Hand each capture of a CDX answer in JSON (a header row naming the fields, then one row per capture)
    to `each` as it is read, in the archive's order, and return the key to resume from when the archive has
    more (after an empty row, a row of one string); ValueError naming what was wrong when it is not one.
    Row by row: an answer of 10 MB never becomes a list of its rows."""
    try:
        text = body.decode(json.detect_encoding(body)).strip()
    except (UnicodeDecodeError, LookupError) as error:
        raise ValueError(f"not JSON ({error}): {body[:80]!r}") from None
    if not text:
        return None  # some CDX servers answer an empty body when nothing matches, others `[]`
    rows = _Rows(each)
    held: list[object] = []  # the last two rows, which may be the resume key's
    for row in _elements(text):
        held.append(row)
        if len(held) > 2:
            rows.take(held.pop(0))
    if len(held) == 2 and held[0] == [] and isinstance(held[1], list) and len(held[1]) == 1:
        return str(held[1][0])
    for row in held:
        rows.take(row)
    return None


class _Rows:
    """The rows of one answer: the header first, then captures handed on."""

    def __init__(self, each: Callable[[Capture], None]):
        self.each = each
        self.fields: tuple[int, int, int | None, int | None] | None = None

    def take(self, row: object) -> None:
        if not isinstance(row, list):
            raise ValueError("not a CDX answer in JSON (a list of rows)")
        if self.fields is None:
            header = [str(h) for h in row]
            if "timestamp" not in header or "original" not in header:
                raise ValueError(f"its header row names no timestamp and original: {header[:8]}")
            self.fields = (
                header.index("timestamp"),
                header.index("original"),
                header.index("digest") if "digest" in header else None,
                header.index("statuscode") if "statuscode" in header else None,
            )
            return
        at, original, digest, status = self.fields
        stamp = str(row[at]) if len(row) > at else ""
        if len(stamp) < 8 or not stamp[:14].isdigit() or len(row) <= original:
            return
        self.each(
            Capture(
                stamp[:14],
                str(row[original]),
                _digest(str(row[digest])) if digest is not None and len(row) > digest else None,
                str(row[status])[:3] if status is not None and len(row) > status else "200",
            )
        )


def _digest(text: str) -> str:
    return text if len(text) <= MAX_DIGEST else hashlib.sha256(text.encode()).hexdigest()


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _elements(text: str) -> Iterator[object]:
    """The elements of the JSON array `text`, decoded one at a time."""
    position = _SPACE.match(text).end()  # type: ignore[union-attr]  # matches the empty string at least
    if not text.startswith("[", position):
        raise ValueError(f"not a CDX answer in JSON (a list of rows): {text[:80]!r}")
    position = _SPACE.match(text, position + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", position):
        _end(text, position + 1)
        return
    while True:
        try:
            value, position = _DECODER.raw_decode(text, position)
        except ValueError as error:
            raise ValueError(f"not JSON ({error}): {text[position : position + 80]!r}") from None
        yield value
        position = _SPACE.match(text, position).end()  # type: ignore[union-attr]
        if text.startswith(",", position):
            position = _SPACE.match(text, position + 1).end()  # type: ignore[union-attr]
        elif text.startswith("]", position):
            _end(text, position + 1)
            return
        else:
            raise ValueError(f"not JSON (expected , or ] at character {position}): {text[position : position + 80]!r}")


def _end(text: str, position: int) -> None:
    if text[position:].strip():
        raise ValueError(f"not JSON (extra data at character {position}): {text[position : position + 80]!r}")


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


class Chooser:
    """At most `per_day` captures of each day, spread over the day (the first, the last, evenly between),
    identical bodies (same digest) kept once, chosen as the index is read, in bounded memory: of each day it
    holds the first capture, the latest and every `stride`-th between, `stride` doubling whenever they grow
    past `room`. A day of up to `room` captures is chosen from exactly; a bigger one from its evenly thinned
    sample (a capture or two off the exact spread). A body is known as a duplicate while a capture with its
    digest is held."""

    def __init__(self, per_day: int):
        self.per_day = per_day
        self.room = 2 * max(per_day, 16)  # even: a thinned sample keeps its newest capture
        self.days: dict[str, _Day] = {}
        self.held: set[str] = set()  # digests of the captures held
        self.left = 0  # captures left out as identical to one held

    def add(self, capture: Capture) -> None:
        if capture.digest is not None and capture.digest in self.held:
            self.left += 1
            return
        day = self.days.get(capture.timestamp[:8])
        if day is None:
            day = self.days[capture.timestamp[:8]] = _Day()
        if capture.digest is not None:
            self.held.add(capture.digest)
        for dropped in day.add(capture, self.room):
            if dropped.digest is not None:
                self.held.discard(dropped.digest)

    def chosen(self) -> tuple[list[Capture], int]:
        """The captures chosen, in time order, and how many were left out."""
        chosen: list[Capture] = []
        left = self.left
        for key in sorted(self.days):
            day = self.days[key]
            found = sorted(day.sample + ([day.last] if day.last is not None else []), key=lambda c: c.timestamp)
            if day.count <= self.per_day:
                chosen += found
                continue
            picks = sorted({round(n * (len(found) - 1) / max(self.per_day - 1, 1)) for n in range(self.per_day)})
            chosen += [found[n] for n in picks]
            left += day.count - len(picks)
        return chosen, left


@dataclass
class _Day:
    """One day's captures as a `Chooser` holds them."""

    count: int = 0
    stride: int = 1
    sample: list[Capture] = field(default_factory=list)  # the n-th capture for each n a multiple of stride
    last: Capture | None = None  # the latest, when it is not in the sample

    def add(self, capture: Capture, room: int) -> list[Capture]:
        """Hold `capture`; the captures no longer held."""
        dropped = [self.last] if self.last is not None else []
        self.last = None
        if self.count % self.stride:
            self.last = capture
        else:
            self.sample.append(capture)
            if len(self.sample) > room:
                dropped += self.sample[1::2]
                self.sample = self.sample[::2]
                self.stride *= 2
        self.count += 1
        return dropped


class _Reading:
    """A feed's index as it is read: each row sorted (the feed's and usable: to the chooser; a redirect or
    failure; another address) unless it repeats a row of the answer before."""

    def __init__(self, address: str, chooser: Chooser, index: Index):
        self.key = _address_key(address)
        self.chooser = chooser
        self.index = index
        self.floor = ""  # an answer asked for from this time on: rows before it are not new
        self.newest = ""  # the newest time read, and the addresses read at it: an answer read on by date
        self.at_newest: set[str] = set()  # repeats the rows of its first second
        self.fresh = 0  # rows of the current answer not read before
        self.latest = ""  # the current answer's latest time

    def answer(self, floor: str) -> None:
        self.floor, self.fresh, self.latest = floor, 0, ""

    def take(self, capture: Capture) -> None:
        stamp = capture.timestamp
        self.latest = max(self.latest, stamp)
        if stamp < self.floor or (stamp == self.newest and capture.original in self.at_newest):
            return
        if stamp > self.newest:
            self.newest, self.at_newest = stamp, set()
        if stamp == self.newest and len(self.at_newest) < 2 * CDX_PAGE:
            self.at_newest.add(capture.original)
        self.fresh += 1
        if len(capture.original) > MAX_ADDRESS or _address_key(public_address(capture.original)) != self.key:
            self.index.elsewhere += 1
        elif not usable(capture):
            self.index.unusable += 1
        else:
            self.index.usable += 1
            self.chooser.add(replace(capture, original=public_address(capture.original)))


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

    def captures(self, url: str, since: date, until: date, chooser: Chooser, page: int = CDX_PAGE) -> Index:
        """Read the index of the feed's captures in [since, until] page after page, each usable capture
        handed to `chooser`; MonitorError when the index cannot be had. The archive is asked for the feed's
        public address."""
        address = public_address(url)
        index = Index()
        reading = _Reading(address, chooser, index)
        start: date | str = since
        resume: str | None = None
        keys: set[bytes] = set()  # hashes of the keys given: a key may be long, and there may be many
        while index.pages < MAX_PAGES:
            reading.answer(start if isinstance(start, str) else "")
            resume = self._page(
                address, cdx_url(self.settings.archive_url, address, start, until, resume, page), reading
            )
            index.pages += 1
            if resume is not None:
                key = hashlib.sha256(resume.encode()).digest()
                if key in keys:
                    break  # an archive going round in circles
                keys.add(key)
                continue
            if not reading.fresh or keys:
                return index  # the period is read: nothing new, or the last of the keyed pages
            if isinstance(start, str):
                index.cut_answers += 1  # the answer before this one had been cut without a key
            # No key: the archive may have cut its answer without saying so (most have not: one request
            # more). Ask again from the last capture's time on; the rows repeated at that second are dropped.
            if reading.latest == start:
                break  # an answer of one second's captures only: no way on by date
            start = reading.latest
        index.cut = True
        return index

    def _page(self, address: str, query: str, reading: _Reading) -> str | None:
        result = self.get(query)
        if result.error or result.body is None or (result.status is not None and result.status >= 400):
            raise MonitorError(f"the archive's index of {address}: {result.error or f'HTTP {result.status}'}")
        try:
            return read_cdx(result.body, reading.take)
        except ValueError as error:
            raise MonitorError(f"the archive's index of {address} could not be read: {error}") from error

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
