"""The store as the rest of monitor imports it (`from .store import Store`): see the `storage` package."""

from __future__ import annotations

from .storage import (
    BUSY_TIMEOUT,
    CHUNK,
    FOREVER,
    JOURNAL_SIZE_LIMIT,
    NEWEST,
    STALE,
    SUCCESSES,
    Matching,
    Store,
    clock_figures,
    feed_renames,
    health_figures,
)

__all__ = [
    "BUSY_TIMEOUT",
    "CHUNK",
    "FOREVER",
    "JOURNAL_SIZE_LIMIT",
    "NEWEST",
    "STALE",
    "SUCCESSES",
    "Matching",
    "Store",
    "clock_figures",
    "feed_renames",
    "health_figures",
]
