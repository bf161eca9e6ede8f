"""A small web archive on 127.0.0.1 for tests, speaking the CDX API as the Wayback Machine does.

`/cdx/search/cdx?url=...&from=YYYYMMDD&to=YYYYMMDD&output=json&filter=statuscode:200&collapse=digest` answers
the JSON rows of the captures of that address in the period (successful ones, a run of identical bodies
collapsed to its first); `/web/<timestamp>id_/<address>` answers a capture's original bytes. A capture can
misbehave the ways archives do: answer 404 (a failed capture), 429 with Retry-After before its bytes, or an
HTML error page with status 200. Every request is recorded with its time.

Like the Wayback Machine, the index matches an address by its key (scheme, `www.`, a trailing slash do not
count), lists redirects and revisits with their own statuscode, caps an answer at `max_rows` (or `limit`,
when smaller) and, asked with `showResumeKey=true`, ends a cut answer with `[]` and a row holding the key
to go on from. `resume_keys = False` plays an archive that cuts without saying so; `loose = True` one that
answers addresses beginning with the one asked for; `filtering = False` one that ignores `filter=`;
`empty = b"[]"` the other form of an empty answer.

Everything a client sent is kept as received (`received`: request line, headers and any body), so a test can
say what the archive was told. `generated` plays an index too large to hold: page after page of captures,
each page over the `limit` asked for and ending with a fresh resume key, made as they are asked for.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def url_key(url: str) -> str:
    """The archive's key for an address: no scheme, no `www.`, no trailing slash (a SURT, simplified)."""
    rest = url.split("://", 1)[-1].lower()
    rest = rest[4:] if rest.startswith("www.") else rest
    return rest.rstrip("/")


@dataclass
class Stored:
    timestamp: str  # 14 digits
    original: str
    body: bytes
    status: int = 200  # what /web/ answers (404: the capture cannot be had)
    statuscode: str = "200"  # what the index lists ("301": a redirect, "-": a revisit)
    content_type: str = "application/rss+xml"
    busy: int = 0  # answer 429 with Retry-After this many times first
    retry_after: str = "1"
    digest: str = field(default="")

    def __post_init__(self) -> None:
        self.digest = self.digest or hashlib.sha1(self.body).hexdigest().upper()


@dataclass
class Generated:
    """An index of `pages` answers of `rows` captures of `original` each, `step` seconds apart from `first`,
    each with a digest of its own `pad` characters long (big rows, as an archive's fat answers); `body`
    gives a capture's bytes from its timestamp."""

    original: str
    first: datetime
    step: int
    pages: int
    rows: int
    pad: int
    body: Callable[[str], bytes]

    def stamp(self, n: int) -> str:
        return (self.first + timedelta(seconds=n * self.step)).astimezone(UTC).strftime("%Y%m%d%H%M%S")

    def page(self, number: int) -> bytes:
        rows = [
            json.dumps(
                [
                    url_key(self.original),
                    self.stamp(n),
                    self.original,
                    "application/rss+xml",
                    "200",
                    f"{n:08d}" + "D" * self.pad,
                    "1",
                ]
            )
            for n in range(number * self.rows, (number + 1) * self.rows)
        ]
        header = json.dumps(["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"])
        more = ["[]", json.dumps([f"page-{number + 1}-{'k' * 200}"])] if number + 1 < self.pages else []
        return ("[" + ",\n".join([header, *rows, *more]) + "]").encode()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        archive = self.server.archive
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with archive.lock:
            archive.requests.append((time.monotonic(), self.path))
            archive.received.append(self.requestline + "\r\n" + str(self.headers) + body.decode("latin-1"))
        parts = urlsplit(self.path)
        if parts.path == "/cdx/search/cdx":
            query = parse_qs(parts.query)
            if archive.generated is not None:
                self._send(
                    200,
                    "application/json",
                    archive.generated.page(int(query.get("resumeKey", ["page-0"])[0].split("-")[1])),
                )
                return
            self._send(200, "application/json", archive.index(query))
            return
        if parts.path.startswith("/web/") and "id_/" in parts.path:
            stamp, original = self.path[len("/web/") :].split("id_/", 1)
            capture = archive.find(stamp, original)
            if capture is None and archive.generated is not None and original == archive.generated.original:
                capture = Stored(stamp, original, archive.generated.body(stamp))
            if capture is None:
                self._send(404, "text/html", b"<html><body>Not in the archive</body></html>")
                return
            with archive.lock:
                if capture.busy > 0:
                    capture.busy -= 1
                    self._send(
                        429,
                        "text/html",
                        b"<html><body>Too many requests</body></html>",
                        {"Retry-After": capture.retry_after},
                    )
                    return
            if capture.status != 200:
                self._send(capture.status, "text/html", b"<html><body>Capture unavailable</body></html>")
                return
            with archive.lock:
                archive.served += 1
                hold = archive.hold_after is not None and archive.served > archive.hold_after
            if hold:  # a client caught mid-download, for as long as the test needs (an interrupt, a kill)
                archive.holding.set()
                archive.release.wait(timeout=60)
            self._send(200, capture.content_type, capture.body)
            return
        self._send(404, "text/plain", b"not found")

    def _send(self, status: int, content_type: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    archive: ArchiveServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hangs up (a killed backfill) is not the test's failure


class ArchiveServer:
    def __init__(self) -> None:
        self.captures: list[Stored] = []
        self.max_rows = 10_000
        self.resume_keys: bool | str = True  # "stuck": always the same key, an archive going round
        self.loose = False
        self.filtering = True
        self.empty = b""
        self.requests: list[tuple[float, str]] = []
        self.received: list[str] = []  # each request as received: its line, headers and body
        self.generated: Generated | None = None
        self.served = 0  # captures answered with their bytes
        self.hold_after: int | None = None  # answer this many captures, then hold each next one until release
        self.holding = threading.Event()  # set once a download is being held
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.archive = self
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, *captures: Stored) -> None:
        self.captures.extend(captures)

    def find(self, stamp: str, original: str) -> Stored | None:
        return next((c for c in self.captures if c.timestamp == stamp and c.original == original), None)

    def index(self, query: dict[str, list[str]]) -> bytes:
        url = query.get("url", [""])[0]
        low = query.get("from", ["0"])[0].ljust(14, "0")
        high = query.get("to", ["9"])[0].ljust(14, "9")
        rows: list[list[str]] = []
        last_digest = None
        for c in sorted(self.captures, key=lambda c: (c.timestamp, c.original)):
            wanted = url_key(c.original).startswith(url_key(url)) if self.loose else url_key(c.original) == url_key(url)
            if not wanted or not low <= c.timestamp <= high:
                continue
            if self.filtering and "statuscode:200" in query.get("filter", []) and c.statuscode != "200":
                continue
            if "collapse" in query and c.digest == last_digest:  # CDX collapses a run of identical bodies
                continue
            last_digest = c.digest
            rows.append(
                [url_key(c.original), c.timestamp, c.original, c.content_type, c.statuscode, c.digest, str(len(c.body))]
            )
        start = int(query.get("resumeKey", ["0"])[0])
        cap = min(self.max_rows, int(query.get("limit", [str(self.max_rows)])[0]))
        page = rows[start : start + cap]
        if not page:
            return self.empty
        header = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
        answer: list[list[str]] = [header, *page]
        more = start + cap < len(rows)
        if more and self.resume_keys and query.get("showResumeKey") == ["true"]:
            answer += [[], [str(cap if self.resume_keys == "stuck" else start + cap)]]
        return json.dumps(answer).encode()

    def indexed(self) -> list[str]:
        """The index requests, in order."""
        return [path for _, path in self.requests if path.startswith("/cdx/")]

    def fetched(self) -> list[str]:
        """The capture addresses asked for, in order (each attempt once)."""
        return [path for _, path in self.requests if path.startswith("/web/")]

    def __enter__(self) -> ArchiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
