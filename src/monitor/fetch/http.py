"""EDGE: one polite HTTP GET of one feed -> `FetchResult`. Never raises for the feed's own problems.

Polite means: a descriptive User-Agent; conditional GET (If-None-Match / If-Modified-Since, RFC 9110
§13.1) so an unchanged feed costs the server a 304; gzip; bounded time (connect, read and a total
deadline over the whole exchange, name resolution included, so a server trickling a byte a second cannot
hold a worker: `netguard`); bounded size (the body is streamed and cut at the cap, measured after
decompression, so a gzip bomb is cut too); at most
`per_host` requests to one host at once. Redirects are followed here, not by httpx, to know whether every
hop was permanent (then the stored URL moves), to refuse schemes other than http(s), and to refuse, before
connecting, a redirect into a loopback, private or link-local network the feed's own address is not in
(`addresses.redirect_refusal`; `allow_private_redirects` lifts it). Credentials in the feed's URL
(`https://user:secret@host/feed`) go along on redirects to the same host only (`_with_credentials`), and
never into an error message (`textsafe.redact`).
"""

from __future__ import annotations

import base64
import email.utils
import socket
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import httpcore
import httpx

from ..config.load import PollingSettings
from ..text.safe import redact
from ..types import RETRY_AFTER_CAP, FetchResult
from .addresses import Address, parse_address, redirect_refusal
from .netguard import GuardedBackend, Resolver, Watchdog, getaddrinfo

MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
PERMANENT = {301, 308}
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Fetcher:
    """Holds one connection pool for a whole round; safe to call from many threads at once."""

    def __init__(
        self,
        polling: PollingSettings,
        *,
        clock: Callable[[], datetime] = utc_now,
        resolver: Resolver = socket.getaddrinfo,
    ):
        """`resolver`: socket.getaddrinfo, or a stand-in with its signature (a test's slow DNS)."""
        self.polling = polling
        self.clock = clock
        self.resolver = resolver
        self._host_slots: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self.client = httpx.Client(
            follow_redirects=False,
            headers={"User-Agent": polling.user_agent, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
            transport=_transport(polling, GuardedBackend(resolver)),
            trust_env=False,  # a proxy from the environment must be configured on purpose, not inherited
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        allow_private_redirects: bool | None = None,
    ) -> FetchResult:
        """`allow_private_redirects`: the feed's own setting; None takes `polling.allow_private_redirects`."""
        allow = self.polling.allow_private_redirects if allow_private_redirects is None else allow_private_redirects
        with self._slot(url):  # the deadline starts once the host has a slot for us, not while queued
            return _Exchange(self, url, etag, last_modified, self.clock(), time.monotonic(), allow).run()

    def _slot(self, url: str) -> threading.BoundedSemaphore:
        host = (urlsplit(url).hostname or "").lower()
        with self._lock:
            if host not in self._host_slots:
                self._host_slots[host] = threading.BoundedSemaphore(self.polling.per_host)
            return self._host_slots[host]


def _transport(polling: PollingSettings, backend: httpcore.NetworkBackend) -> httpx.HTTPTransport:
    """httpx's transport over a pool that connects through `backend`. httpx takes no network backend, so
    its pool is rebuilt with what httpx would give it: the same TLS context, limits and keep-alive."""
    transport = httpx.HTTPTransport(trust_env=False)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=polling.concurrency * 2,
        max_keepalive_connections=polling.concurrency,
        keepalive_expiry=5.0,  # httpx's default
        network_backend=backend,
    )
    return transport


class _Exchange:
    """One fetch with its redirects, against one total deadline."""

    def __init__(
        self,
        fetcher: Fetcher,
        url: str,
        etag: str | None,
        last_modified: str | None,
        started_at: datetime,
        start: float,
        allow_private_redirects: bool = False,
    ):
        self.fetcher = fetcher
        self.allow_private_redirects = allow_private_redirects
        self._origin: list[Address] | None = None
        self.polling = fetcher.polling
        self.url = url
        self.started_at = started_at
        self.start = start
        self.deadline = start + self.polling.deadline.total_seconds()
        self.headers = {}
        if etag:
            self.headers["If-None-Match"] = etag
        if last_modified:
            self.headers["If-Modified-Since"] = last_modified

    def result(self, final_url: str, **fields: object) -> FetchResult:
        if isinstance(fields.get("error"), str):  # messages quote URLs: the feed's own, a redirect's target
            fields["error"] = redact(str(fields["error"]))
        return FetchResult(
            url=self.url,
            final_url=final_url,
            started_at=self.started_at,
            duration=time.monotonic() - self.start,
            **fields,  # type: ignore[arg-type]
        )

    def run(self) -> FetchResult:
        current = self.url
        pin: Address | None = None
        visited = {current}
        all_permanent = True
        for _ in range(MAX_REDIRECTS + 1):
            try:
                outcome = self.get(current, pin)
            except _Failure as failure:
                return self.result(current, status=failure.status, error=failure.message)
            if isinstance(outcome, FetchResult):
                if all_permanent and current != self.url:
                    outcome = _with_permanent(outcome, current)
                return outcome
            status, location = outcome
            target = _with_credentials(current, urljoin(current, location))
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                return self.result(current, status=status, error=f"redirect to a non-HTTP address refused: {target}")
            if target in visited:
                return self.result(current, status=status, error=f"redirect loop at {target}")
            refusal, pin = self.check(target)
            if refusal:
                return self.result(current, status=status, error=refusal)
            visited.add(target)
            all_permanent = all_permanent and status in PERMANENT
            current = target
        return self.result(current, status=None, error=f"more than {MAX_REDIRECTS} redirects")

    def check(self, target: str) -> tuple[str | None, Address | None]:
        """Why the redirect to `target` is not followed, decided before any connection to it; else the
        checked address to connect to. Connecting there, rather than letting httpx resolve the name again,
        leaves no gap for a DNS answer that changes between the check and the connection (DNS rebinding)."""
        if self.allow_private_redirects:
            return None, None
        if self._origin is None:
            try:
                self._origin = self.resolve(urlsplit(self.url).hostname or "")
            except OSError:
                self._origin = []  # the feed's own host is gone from DNS: only global targets qualify
        try:
            addresses = self.resolve(urlsplit(target).hostname or "")
        except OSError as error:
            return f"redirect to {target} refused: its host does not resolve ({error})", None
        if not addresses:
            return f"redirect to {target} refused: its host does not resolve", None
        reason = redirect_refusal(self._origin, addresses)
        if reason is None:
            return None, next((a for a in addresses if a.version == 4), addresses[0])
        return (
            f"redirect to a non-public address refused: {target} ({reason}, the feed's own address is not); "
            "allow_private_redirects = true allows it"
        ), None

    def resolve(self, host: str) -> list[Address]:
        """Within the connect timeout and the deadline, like a connection."""
        budget = min(self.polling.connect_timeout.total_seconds(), self.deadline - time.monotonic())
        return resolve(host, max(budget, 0.0), self.fetcher.resolver)

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Failure(self.deadline_message())
        return left

    def deadline_message(self) -> str:
        return f"deadline of {self.polling.deadline.total_seconds():g}s exceeded"

    def timeout(self) -> httpx.Timeout:
        left = self.remaining()
        return httpx.Timeout(
            connect=min(self.polling.connect_timeout.total_seconds(), left),
            read=min(self.polling.read_timeout.total_seconds(), left),
            write=min(10.0, left),
            pool=left,
        )

    def get(self, url: str, pin: Address | None = None) -> FetchResult | tuple[int, str]:
        """One request: a final result, or (status, location) of a redirect to follow. `pin`: the address
        to connect to instead of resolving the host again (Host and TLS SNI still name the host)."""
        request_url, headers, extensions = url, self.headers, {}
        if pin is not None:
            parts = urlsplit(url)
            host = f"[{pin}]" if pin.version == 6 else str(pin)
            request_url = urlunsplit(parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")))
            headers = {**self.headers, "Host": parts.netloc.rsplit("@", 1)[-1]}
            if parts.username is not None:  # the address replaced the userinfo httpx would have sent
                credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()  # as httpx does
            if parts.scheme.lower() == "https":
                extensions = {"sni_hostname": parts.hostname or ""}
        # The watchdog sees the connection from the moment it opens (netguard.GuardedBackend), so the deadline
        # holds for connecting, TLS, the headers and the body alike.
        with Watchdog(self.deadline - time.monotonic()) as watchdog:
            try:
                return self.exchange(url, request_url, headers, extensions)
            except _Failure:
                raise
            except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as error:
                if watchdog.fired:  # the error is the cut connection: the deadline is the cause
                    raise _Failure(self.deadline_message()) from error
                raise _Failure(self.describe(error)) from error

    def exchange(
        self, url: str, request_url: str, headers: dict[str, str], extensions: dict[str, Any]
    ) -> FetchResult | tuple[int, str]:
        with self.fetcher.client.stream(
            "GET", request_url, headers=headers, timeout=self.timeout(), extensions=extensions
        ) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            status = response.status_code
            if status in REDIRECTS and "location" in headers:
                return status, headers["location"]
            retry_after = _retry_after(headers.get("retry-after"), self.fetcher.clock())
            if not 200 <= status < 300:
                return self.result(
                    url,
                    status=status,
                    headers=headers,
                    retry_after=retry_after,
                    error=None if status in (304,) else f"HTTP {status} {response.reason_phrase}".strip(),
                )
            body, truncated, read = self.read(response)
            error = (
                f"response larger than max_bytes ({self.polling.max_bytes:,} bytes): cut off there"
                if truncated
                else None
            )
            return self.result(
                url, status=status, headers=headers, body=body, truncated=truncated, bytes_read=read, error=error
            )

    def describe(self, error: Exception) -> str:
        if isinstance(error, httpx.TimeoutException):
            if self.deadline - time.monotonic() < 0.05:  # the wait was cut to what the deadline left
                return self.deadline_message()
            return _timeout_message(error, self.polling)
        if isinstance(error, httpx.HTTPError):
            return _describe(error)
        if isinstance(error, httpx.InvalidURL):
            # httpx parses a redirect's Location even when it follows none itself, and `javascript:x` or
            # `http://[x` fails there, before the response reaches us: an error of this feed, not a crash.
            return f"unusable address in the response (a redirect's Location?): {error}"
        return f"{type(error).__name__}: {error}"  # a bad URL, a socket error httpx let through

    def read(self, response: httpx.Response) -> tuple[bytes, bool, int]:
        """Stream the body into memory up to the cap. Returns (body, truncated, bytes on the wire).

        Decompression is done here, in bounded steps, rather than by httpx: one compressed chunk of a
        gzip bomb can expand a thousandfold, and the cap must hold for what is decompressed."""
        cap = self.polling.max_bytes
        decoder = _BoundedDecoder(response.headers.get("content-encoding", ""))
        buffer = bytearray()
        wire = 0
        for raw in response.iter_raw():  # as it arrives: no waiting to fill a chunk
            wire += len(raw)
            buffer += decoder.decode(raw, cap + 1 - len(buffer))
            if len(buffer) > cap or decoder.overflowed:
                return bytes(buffer[:cap]), True, wire
            self.remaining()
        buffer += decoder.flush(cap + 1 - len(buffer))
        if len(buffer) > cap:
            return bytes(buffer[:cap]), True, wire
        return bytes(buffer), False, wire


class _BoundedDecoder:
    """gzip/deflate decoding that never produces more than it is allowed to."""

    def __init__(self, content_encoding: str):
        encoding = content_encoding.strip().lower()
        if encoding in ("", "identity"):
            self.zlib = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self.zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)  # gzip or zlib header, detected
        else:
            raise _Failure(f"the server used an encoding that was not asked for: {content_encoding}")
        self.overflowed = False

    def decode(self, data: bytes, budget: int) -> bytes:
        if self.zlib is None:
            return data
        try:
            out = self.zlib.decompress(data, max(budget, 1))
        except zlib.error as error:
            raise _Failure(f"cannot decompress the response: {error}") from error
        if self.zlib.unconsumed_tail:
            self.overflowed = True  # more output was waiting than the budget allows
        return out

    def flush(self, budget: int) -> bytes:
        return self.zlib.flush(max(budget, 1)) if self.zlib else b""


class _Failure(Exception):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


def resolve(host: str, timeout: float | None = None, resolver: Resolver = socket.getaddrinfo) -> list[Address]:
    """Every address a host name resolves to (an IP literal is itself), within `timeout` seconds. Raises
    OSError (TimeoutError past the timeout) when it does not."""
    literal = parse_address(host.strip("[]"))
    if literal is not None:
        return [literal]
    if not host:
        raise OSError("no host")
    found = [parse_address(str(info[4][0])) for info in getaddrinfo(host, None, timeout, resolver)]
    return [address for address in found if address is not None]


def _with_credentials(source: str, target: str) -> str:
    """`target` with the userinfo of `source` when it has none and names the same host and port (or is the
    same host's https). An absolute Location drops it, so without this an authenticated feed fails after
    its site moves it within itself; another host never gets it (as httpx drops Authorization there)."""
    try:
        old, new = urlsplit(source), urlsplit(target)
        ports = _port(old), _port(new)
    except ValueError:  # not a usable address: refused further on, with or without credentials
        return target
    if old.username is None or new.username is not None or new.password is not None:
        return target
    same = (old.hostname or "") == (new.hostname or "") and (
        (old.scheme == new.scheme and ports[0] == ports[1])
        or (old.scheme, new.scheme) == ("http", "https")
        and ports == (80, 443)
    )
    if not same:
        return target
    userinfo = old.netloc.rsplit("@", 1)[0]
    return urlunsplit(new._replace(netloc=f"{userinfo}@{new.netloc}"))


def _port(parts: Any) -> int:
    return int(parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0))


def _with_permanent(result: FetchResult, target: str) -> FetchResult:
    return replace(result, permanent_redirect=target)


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After is either seconds or an HTTP date (RFC 9110 §10.2.3), capped at RETRY_AFTER_CAP: a server
    may send any number, and timedelta overflows past 10**14 seconds."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=min(int(value), int(RETRY_AFTER_CAP.total_seconds())))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(when - now, timedelta(0)), RETRY_AFTER_CAP)


def _timeout_message(error: httpx.TimeoutException, polling: PollingSettings) -> str:
    if isinstance(error, httpx.ConnectTimeout) and "resolving" in str(error):
        return f"timed out: {error} (connect_timeout {polling.connect_timeout.total_seconds():g}s)"
    if isinstance(error, httpx.ConnectTimeout):
        return f"timed out connecting (connect_timeout {polling.connect_timeout.total_seconds():g}s)"
    if isinstance(error, httpx.ReadTimeout):
        return f"timed out reading: no data for {polling.read_timeout.total_seconds():g}s (read_timeout)"
    return f"timed out ({type(error).__name__})"


def _describe(error: httpx.HTTPError) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectError):
        return f"cannot connect: {text}"
    if isinstance(error, httpx.DecodingError):
        return f"cannot decode the response: {text}"
    return f"{type(error).__name__}: {text}"
