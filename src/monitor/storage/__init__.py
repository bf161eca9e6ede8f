"""EDGE: the SQLite file and the SQL of feeds, items, search and status, one module per concern.

`connection` opens and migrates the file and runs transactions; `feeds`, `items` (and their matches),
`search`, `cleaning` (stored summaries made again) and `status` each hold their tables' SQL; `Store` is all
of them on one connection.
"""

from __future__ import annotations

from .cleaning import Cleaning
from .connection import (
    BUSY_TIMEOUT,
    CHUNK,
    FOREVER,
    JOURNAL_SIZE_LIMIT,
    NEWEST,
    STALE,
    SUCCESSES,
    Connection,
)
from .feeds import feed_renames
from .status import Status, clock_figures, health_figures


class Store(Cleaning, Status):
    """The database: feeds, items and matches, search and status figures, on one connection."""


__all__ = [
    "BUSY_TIMEOUT",
    "CHUNK",
    "FOREVER",
    "JOURNAL_SIZE_LIMIT",
    "NEWEST",
    "STALE",
    "SUCCESSES",
    "Connection",
    "Store",
    "clock_figures",
    "feed_renames",
    "health_figures",
]
