"""A small web archive on 127.0.0.1 for tests, speaking the CDX API as the Wayback Machine does.

`/cdx/search/cdx?url=...&from=YYYYMMDD&to=YYYYMMDD&output=json&filter=statuscode:200&collapse=digest` answers
the JSON rows of the captures of that address in the period (successful ones, a run of identical bodies
collapsed to its first); `/web/<timestamp>id_/<address>` answers a capture's original bytes. A capture can
misbehave the ways archives do: answer 404 (a failed capture), 429 with Retry-After before its bytes, or an
HTML error page with status 200. Every request is recorded with its time.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Stored:
    timestamp: str  # 14 digits
    original: str
    body: bytes
    status: int = 200  # what /web/ answers (404: the capture cannot be had)
    content_type: str = "application/rss+xml"
    busy: int = 0  # answer 429 with Retry-After this many times first
    retry_after: str = "1"
    digest: str = field(default="")

    def __post_init__(self) -> None:
        self.digest = self.digest or hashlib.sha1(self.body).hexdigest().upper()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        archive = self.server.archive
        with archive.lock:
            archive.requests.append((time.monotonic(), self.path))
        parts = urlsplit(self.path)
        if parts.path == "/cdx/search/cdx":
            self._send(200, "application/json", archive.index(parse_qs(parts.query)))
            return
        if parts.path.startswith("/web/") and "id_/" in parts.path:
            stamp, original = self.path[len("/web/") :].split("id_/", 1)
            capture = archive.find(stamp, original)
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
        self.requests: list[tuple[float, str]] = []
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.archive = self
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

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
        for c in sorted(self.captures, key=lambda c: c.timestamp):
            if c.original != url or not low <= c.timestamp <= high:
                continue
            if "collapse" in query and c.digest == last_digest:  # CDX collapses a run of identical bodies
                continue
            last_digest = c.digest
            rows.append(
                ["org,example)/feed", c.timestamp, c.original, c.content_type, "200", c.digest, str(len(c.body))]
            )
        if not rows:
            return b""
        header = ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"]
        return json.dumps([header, *rows]).encode()

    def fetched(self) -> list[str]:
        """The capture addresses asked for, in order (each attempt once)."""
        return [path for _, path in self.requests if path.startswith("/web/")]

    def __enter__(self) -> ArchiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
