"""EDGE: stored summaries made again with today's cleaning (boilerplate left out) for the items an older monitor
stored (listed in `items_unclean`, migration 21), and matched again where their text changed: an upgraded archive
reads as a new one would. The text is derived and matched by the `clean` handed in (`update.rematch.cleaner`);
storage reads the rows and writes what it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from ..types import Cleanup, StoredText
from ..units import iso
from . import items, search
from .connection import Connection

CLEAN_CHUNK = 2000  # items per short transaction: a running daemon's polls wait for one chunk at most


def items_to_clean(store: Connection) -> int:
    return int(store.conn.execute("SELECT count(*) FROM items_unclean").fetchone()[0])


def clean_pending(
    store: Connection,
    clean: Callable[[Sequence[StoredText]], Cleanup],
    now: datetime,
    *,
    chunk: int = CLEAN_CHUNK,
    stop: Callable[[], bool] = lambda: False,
    progress: Callable[[int], object] = lambda done: None,
) -> int:
    """Make the listed items' summaries again from their sanitized originals, `chunk` items per
    transaction, until none is left or `stop()` says so: `clean` is called inside the transaction with the
    chunk's stored texts, and says which changed. An item whose text changed gets its new content hash (so
    the next poll that carries it finds it unchanged), its search index and the matches `clean` made
    (without them, it is left for `rematch`). `progress` hears of each chunk's size.
    Returns how many changed."""
    stamp = iso(now)
    changed = 0
    while not stop():
        with store.transaction():  # read inside the write lock: a poll's change cannot slip in between
            ids = [
                row[0]
                for row in store.conn.execute("SELECT item_id FROM items_unclean ORDER BY item_id LIMIT ?", (chunk,))
            ]
            if ids:
                changed += _clean(store, ids, clean, stamp)
                store.where_in("DELETE FROM items_unclean WHERE item_id IN ({ids})", ids)
        if not ids:
            return changed
        progress(len(ids))
        store.checkpoint()
    return changed


def _clean(store: Connection, ids: Sequence[int], clean: Callable[[Sequence[StoredText]], Cleanup], stamp: str) -> int:
    rows = store.where_in(
        "SELECT id, title, link, summary, summary_html, content_hash FROM items WHERE id IN ({ids})", ids
    )
    cleanup = clean([StoredText(*row) for row in rows])
    cleaned = cleanup.items
    if not cleaned:
        return 0
    for values, parameters in store.row_chunks([(c.item_id, c.text, c.new_hash) for c in cleaned]):
        store.conn.execute(
            "UPDATE items SET summary = v.column2, content_hash = v.column3"
            f" FROM (VALUES {values}) AS v WHERE items.id = v.column1",
            parameters,
        )
    # A feed's sighting that held the old text holds the new one: the next poll carrying it sees no change.
    store.conn.executemany(
        "UPDATE item_sources SET content_hash = ? WHERE item_id = ? AND content_hash = ?",
        [(c.new_hash, c.item_id, c.old_hash) for c in cleaned],
    )
    search.index_stems(store, [(c.item_id, c.title, c.text) for c in cleaned])
    if cleanup.matcher_version is not None:
        items.replace_matches(store, [(c.item_id, c.matches or []) for c in cleaned], cleanup.matcher_version, stamp)
    else:
        store.where_in("UPDATE items SET matcher_version = NULL WHERE id IN ({ids})", [c.item_id for c in cleaned])
    return len(cleaned)
