"""What a reload of the config changes under a running daemon (`changes`: which feeds' jobs, the fetcher, the
parser, the digest schedule), the settings that only a restart applies, and the resources (the fetcher, the
parser) swapped while jobs are using them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from ..config.load import Config

T = TypeVar("T")


def restart_needed(old: Config, new: Config, *, database_given: bool = False) -> list[str]:
    """The settings that changed and that the running daemon cannot apply, as `key (old -> new)`: it says so
    rather than claiming to have reloaded them. Everything else is applied by the reload."""
    fixed = [
        ("polling.concurrency", old.polling.concurrency, new.polling.concurrency),  # the scheduler's threads
        ("metrics.enabled", old.metrics.enabled, new.metrics.enabled),  # the metrics server is started once
        ("metrics.address", old.metrics.address, new.metrics.address),
    ]
    if not database_given:  # --db / MONITOR_DB wins over the config anyway
        fixed.append(("monitor.database", old.database, new.database))
    return [f"{key} ({before} -> {after})" for key, before, after in fixed if before != after]


@dataclass(frozen=True, slots=True)
class Changes:
    """What a reload from one config to another has to apply."""

    feeds: frozenset[str]  # feeds added or changed: their jobs are (re)scheduled
    removed: frozenset[str]  # feeds gone: their jobs are removed
    fetcher: bool  # [polling] changed: a new fetcher
    parser: bool  # polling.parse_processes changed: a new parser
    digest: bool  # the digest's settings or the time zone changed: its jobs are rescheduled
    restart: tuple[str, ...]  # what it cannot apply (restart_needed)


def changes(old: Config, new: Config, *, database_given: bool = False) -> Changes:
    # Where an entry stands in the file is no change of the feed: an edit above it moves it.
    old_feeds = {f.name: replace(f, line=None) for f in old.feeds}
    new_feeds = {f.name: replace(f, line=None) for f in new.feeds}
    return Changes(
        feeds=frozenset(name for name, feed in new_feeds.items() if old_feeds.get(name) != feed),
        removed=frozenset(set(old_feeds) - set(new_feeds)),
        fetcher=new.polling != old.polling,
        parser=new.polling.parse_processes != old.polling.parse_processes,
        digest=new.digest != old.digest or new.timezone != old.timezone,
        restart=tuple(restart_needed(old, new, database_given=database_given)),
    )


class Swappable(Generic[T]):
    """A resource that a reload replaces while jobs use it (the fetcher, the parser). Jobs borrow the current
    one; a replaced one is closed when the last job that borrowed it gives it back, so its in-flight fetches
    finish on the connections they started on, and none is closed under them."""

    def __init__(self, value: T, close: Callable[[T], None]):
        self._value = value
        self._close = close
        self._lock = threading.Lock()
        self._users: dict[int, int] = {}

    @property
    def current(self) -> T:
        return self._value

    @contextmanager
    def borrow(self) -> Iterator[T]:
        with self._lock:
            value = self._value
            self._users[id(value)] = self._users.get(id(value), 0) + 1
        try:
            yield value
        finally:
            with self._lock:
                self._users[id(value)] -= 1
                retired = not self._users[id(value)] and value is not self._value
                if not self._users[id(value)]:
                    del self._users[id(value)]
            if retired:
                self._close(value)

    def replace(self, value: T) -> None:
        with self._lock:
            old, self._value = self._value, value
            idle = not self._users.get(id(old))
        if idle:
            self._close(old)

    def close(self) -> None:
        """Close the current one (at shutdown, once no job runs)."""
        self._close(self._value)
