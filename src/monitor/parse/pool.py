"""Where feed documents are parsed: in this process, or in helper processes that use the other cores.

feedparser is pure Python, so in one process it holds the GIL and a round of new content is bound to one
core, however many fetch threads wait. A `ProcessParser` parses in helper processes while this one fetches,
matches and stores (bench/polling.py measures the gain). Both parsers answer the same call, so the poll
round does not care which it has. A helper that dies (killed, out of memory, a crash in a C extension)
costs the feed it was parsing, not the daemon: the feed gets an error and a fresh helper takes over.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from typing import Protocol

from ..types import ParsedFeed
from .feed import parse_feed

log = logging.getLogger("monitor.parse")

# Starting a helper (a fresh interpreter importing feedparser) costs ~0.3 s: a one-off poll of a handful
# of feeds is faster parsed here.
MIN_FEEDS_FOR_PROCESSES = 16
PARENT_CHECK_SECONDS = 1.0
# MONITOR_PARSER=feedparser parses every document with feedparser, as before the fast path (parse/fast.py): for
# comparing the two, and a way back should the fast path ever read a feed wrongly.
PARSER_ENV = "MONITOR_PARSER"
PARSER_CHOICES = ("auto", "feedparser")


def fast_path_from_environment(env: Mapping[str, str] | None = None) -> bool:
    """Whether documents go the fast path first (MONITOR_PARSER unset, empty or "auto") or straight to
    feedparser ("feedparser"). Another value is reported and changes nothing."""
    value = (os.environ if env is None else env).get(PARSER_ENV, "").strip().lower()
    if value not in ("", *PARSER_CHOICES):
        log.warning("%s=%r is not one of %s: the fast path stays on", PARSER_ENV, value, ", ".join(PARSER_CHOICES))
    return value != "feedparser"


class Parser(Protocol):
    in_process: bool

    def parse(
        self,
        body: bytes,
        *,
        url: str,
        headers: Mapping[str, str],
        feed_id: int,
        now: datetime,
        language: str | None = None,
    ) -> ParsedFeed: ...

    def close(self) -> None: ...


class InlineParser:
    """Parses in the calling thread."""

    in_process = True

    def __init__(self, fast_path: bool | None = None):
        self.fast_path = fast_path_from_environment() if fast_path is None else fast_path

    def parse(
        self,
        body: bytes,
        *,
        url: str,
        headers: Mapping[str, str],
        feed_id: int,
        now: datetime,
        language: str | None = None,
    ) -> ParsedFeed:
        return parse_feed(
            body, url=url, headers=headers, feed_id=feed_id, now=now, language=language, fast_path=self.fast_path
        )

    def close(self) -> None:
        pass


class ProcessParser:
    """Parses in `processes` helper processes; `parse` is thread-safe and blocks only its caller."""

    in_process = False

    def __init__(self, processes: int, fast_path: bool | None = None):
        self.processes = processes
        self.fast_path = fast_path_from_environment() if fast_path is None else fast_path
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn, not fork: the daemon has threads (scheduler, fetchers) whose locks a fork would copy.
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_helper,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def parse(
        self,
        body: bytes,
        *,
        url: str,
        headers: Mapping[str, str],
        feed_id: int,
        now: datetime,
        language: str | None = None,
    ) -> ParsedFeed:
        pool = self._executor()
        try:
            return pool.submit(
                parse_feed,
                body,
                url=url,
                headers=dict(headers),
                feed_id=feed_id,
                now=now,
                language=language,
                fast_path=self.fast_path,
            ).result()
        except BrokenProcessPool:
            log.error("the parser process died while parsing %s; starting a new one", url)
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return ParsedFeed(title=None, items=(), bozo="the parser process died while parsing this document")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _start_helper(parent: int) -> None:
    """Ctrl-C and systemd's stop reach the whole process group; the daemon finishes the feeds in hand and
    then closes its helpers, which must live until then, so they ignore both. A daemon killed outright
    (SIGKILL, the OOM killer) cannot close them, and a pool's helper holds both ends of its own task queue,
    so it would wait forever: it watches its parent and leaves when the parent is gone. The parent's pid
    comes from the parent: a daemon killed while this helper was still starting (importing feedparser takes
    a while) would otherwise leave it adopted already, watching its new parent forever."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:  # an orphan is adopted by init or a subreaper: its parent id changes
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def make_parser(processes: int, feeds: int | None = None) -> Parser:
    """Helper processes when the setting asks for them and there is enough to parse (`feeds`, when known)."""
    if processes <= 0 or (feeds is not None and feeds < MIN_FEEDS_FOR_PROCESSES):
        return InlineParser()
    return ProcessParser(processes)
