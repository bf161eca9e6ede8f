"""EDGE: the socket layer under `fetch`: a fetch's deadline holds for the whole exchange.

Timeouts bound each wait, not the whole: a server may trickle its headers or its body a byte at a time,
each within read_timeout, and getaddrinfo cannot be interrupted at all (the resolver's own retries add up
to half a minute or more). So:
- names are resolved in a helper thread that is abandoned at the time left (`getaddrinfo`);
- httpcore is given a network backend (`GuardedBackend`) whose streams report themselves to the watchdog
  of the fetch running in their thread: at connection, before TLS, and at the first write of each request
  on a reused connection. Nothing is added to the request (an earlier design used httpcore's `trace`
  extension for this; with it, even a no-op callback, one request in a few thousand stalled for
  read_timeout in bench/polling.py);
- the watchdog (`Watchdog`) shuts the socket down when the deadline passes, which wakes a blocked connect,
  TLS handshake or read at once (closing it would not wake a `recv` on Linux).
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpcore

Resolver = Callable[..., list[Any]]  # socket.getaddrinfo's signature

_current = threading.local()  # .watchdog: the Watchdog of the fetch running in this thread, if any


def getaddrinfo(
    host: str, port: int | None, timeout: float | None, resolver: Resolver = socket.getaddrinfo
) -> list[Any]:
    """`resolver(host, port, type=SOCK_STREAM)` bounded by `timeout` seconds (TimeoutError past it). The
    helper thread is left to finish on its own: it holds nothing but its answer."""
    if timeout is None:
        return resolver(host, port, type=socket.SOCK_STREAM)
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["answer"] = resolver(host, port, type=socket.SOCK_STREAM)
        except BaseException as error:  # handed to the waiting thread
            box["error"] = error
        done.set()

    start_deaf(threading.Thread(target=work, name=f"resolve {host}", daemon=True))
    if not done.wait(max(timeout, 0.0)):
        raise TimeoutError(f"resolving {host} took longer than {timeout:.3g}s")
    if "error" in box:
        raise box["error"]
    return list(box["answer"])


_DEFERRED_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def start_deaf(thread: threading.Thread) -> None:
    """Start `thread` with SIGINT, SIGTERM and SIGHUP blocked in it (a thread inherits its creator's mask).
    The kernel hands a process's signal to any thread that does not block it, while Python acts on it only
    in the main thread, and only once that thread runs again: a Ctrl-C that landed on a watchdog would leave
    the main thread in its socket read until the read ended, up to the fetch's deadline."""
    if not hasattr(signal, "pthread_sigmask"):  # not POSIX: nothing to route
        thread.start()
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
    try:
        thread.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Watchdog:
    """Cuts the connection of one fetch, in this thread, when `seconds` have passed. Used as a context
    manager around the exchange; streams opened or used in it are watched (`GuardedStream`)."""

    def __init__(self, seconds: float):
        self.fired = False
        self.seconds = seconds
        self._stream: GuardedStream | None = None
        self._over = False
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._cut)
        self._timer.daemon = True

    def __enter__(self) -> Watchdog:
        _current.watchdog = self
        start_deaf(self._timer)
        return self

    def __exit__(self, *exc: object) -> None:
        _current.watchdog = None
        self._timer.cancel()
        with self._lock:  # a timer already running must not cut a connection the pool has handed on
            self._over = True
            self._stream = None

    def watch(self, stream: GuardedStream) -> None:
        with self._lock:
            if self._over:
                return
            self._stream = stream
            fired = self.fired
        if fired:  # the deadline passed before the stream was seen
            stream.shut()

    def _cut(self) -> None:
        with self._lock:
            if self._over:
                return
            self.fired = True
            stream = self._stream
        if stream is not None:
            stream.shut()


def _watchdog() -> Watchdog | None:
    return getattr(_current, "watchdog", None)


class GuardedStream(httpcore.NetworkStream):
    """httpcore's stream, plus a second descriptor of the same socket (`dup`) by which a watchdog shuts it
    down. The second descriptor stays valid while TLS wraps the socket (`wrap_socket` detaches the first
    one), so a handshake is cut as well; it is closed with the stream, under a lock, so a shutdown never
    reaches a descriptor number that was closed and reused meanwhile."""

    def __init__(self, inner: httpcore.NetworkStream, handle: socket.socket, lock: threading.Lock):
        self._inner = inner
        self._handle = handle
        self._lock = lock

    def shut(self) -> None:
        with self._lock:
            try:
                self._handle.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed already: nothing left to wake

    def _release(self) -> None:
        with self._lock:
            self._handle.close()

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        watchdog = _watchdog()
        if watchdog is not None:  # a request starts: on a reused connection, its first sight by this fetch
            watchdog.watch(self)
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._release()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        try:
            inner = self._inner.start_tls(ssl_context, server_hostname, timeout)
        except BaseException:
            self._release()  # httpcore closed the socket itself
            raise
        return GuardedStream(inner, self._handle, self._lock)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.SyncBackend):
    """Resolves names within the connect timeout and hands every stream to the thread's watchdog from
    the moment it is connected."""

    def __init__(self, resolver: Resolver = socket.getaddrinfo):
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        if _is_ip_literal(host):  # nothing to resolve: no helper thread
            stream = super().connect_tcp(host, port, timeout, local_address, socket_options)
            return self._guard(stream)
        started = time.monotonic()
        try:
            answers = getaddrinfo(host, port, timeout, self.resolver)
        except TimeoutError as error:
            raise httpcore.ConnectTimeout(str(error)) from error
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error}") from error
        if timeout is not None:  # resolving and connecting share the connect timeout
            timeout -= time.monotonic() - started
            if timeout <= 0:
                raise httpcore.ConnectTimeout(f"resolving {host} used up the time to connect")
        return self._guard(
            self._first_to_connect([str(a[4][0]) for a in answers], port, timeout, local_address, socket_options)
        )

    def _guard(self, stream: httpcore.NetworkStream) -> GuardedStream:
        guarded = GuardedStream(stream, stream.get_extra_info("socket").dup(), threading.Lock())
        watchdog = _watchdog()
        if watchdog is not None:
            watchdog.watch(guarded)
        return guarded

    def _first_to_connect(
        self,
        addresses: list[str],
        port: int,
        timeout: float | None,
        local_address: str | None,
        socket_options: Iterable[Any] | None,
    ) -> httpcore.NetworkStream:
        """Each address in turn, as socket.create_connection tries them; the last failure if none answers."""
        failure: Exception = httpcore.ConnectError("the name resolved to no address")
        for address in dict.fromkeys(addresses):
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectTimeout:
                raise  # the time is spent: the next address would get none
            except httpcore.ConnectError as error:
                failure = error
        raise failure


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True
