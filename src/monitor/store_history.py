"""Where `history`, `backfill` and `bench/import.py` import it from: `storage.history` (moved, as it was)."""

from __future__ import annotations

from .storage.history import (
    add_feed,
    done_captures,
    feed_addresses,
    feed_id,
    import_of,
    imported_documents,
    imported_from,
    live_since,
    record_capture,
    record_import,
)

__all__ = [
    "feed_addresses",
    "feed_id",
    "add_feed",
    "imported_from",
    "record_import",
    "live_since",
    "done_captures",
    "import_of",
    "record_capture",
    "imported_documents",
]
