"""EDGE: the SQLite file and the SQL of feeds, items, search, status, digests, history, labels and models, one
module per concern.

`connection` is the one class, `Connection`: it opens and migrates the file and runs transactions, and holds the
write lock's small generic helpers. Every concern is a module of functions taking it: `feeds`, `items` (and their
matches), `search`, `cleaning` (stored summaries made again), `status`, `digests`, `history`, `labels` and
`models` each hold their tables' SQL (`feeds.sync_feeds(store, feeds, now)`). `Store` is the name the rest of
monitor knows the connection by (`with Store.open(path) as store:`).
"""

from __future__ import annotations

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
from .status import clock_figures, health_figures

Store = Connection  # the database, on one connection: what every storage module's functions take

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
