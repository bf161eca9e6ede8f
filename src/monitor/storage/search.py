"""EDGE: the SQL of search: the stemmed full-text index of items, kept in step, and ranked search over it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from ..text.stemming import query_terms, search_query, snippet, stem_text
from ..units import from_iso
from .connection import CHUNK, Connection, _marks

RANK_WINDOW = 2000  # search ranks the most recent matches, at most this many
STEM_CHUNK = 2000  # items stemmed per transaction when catching up (after migration 11, or SQL edits)


def stem_pending(store: Connection, chunk: int = STEM_CHUNK, *, stop: Callable[[], bool] = lambda: False) -> int:
    """Stem the items waiting in `items_unstemmed` (all items after migration 11, any item whose text an
    analyst changed with SQL), `chunk` per short transaction, until none is left or `stop()` says so.
    Called before a search (which needs them) and by the daemon's upkeep, not at every open: after an
    upgrade, `monitor status` need not wait minutes for an archive to be stemmed. Returns how many were
    stemmed."""
    total = 0
    while not stop() and store.conn.execute("SELECT EXISTS (SELECT 1 FROM items_unstemmed)").fetchone()[0]:
        with store.transaction():  # read inside the write lock: no edit slips between read and write
            ids = [
                row[0]
                for row in store.conn.execute("SELECT item_id FROM items_unstemmed ORDER BY item_id LIMIT ?", (chunk,))
            ]
            _stem_items(store, ids)
        total += len(ids)
        if total > chunk:
            store.checkpoint()
    return total


def _stem_items(store: Connection, ids: Sequence[int]) -> None:
    """Index these items' stemmed text for search (inside the caller's transaction)."""
    index_stems(store, store.where_in("SELECT id, title, summary FROM items WHERE id IN ({ids})", ids))


def index_stems(store: Connection, rows: Sequence[tuple[int, str, str]]) -> None:
    """Index items' text, as (id, title, summary) that the items table holds, stemmed (inside the caller's
    transaction)."""
    write_stems(store, [(item_id, stem_text(title), stem_text(summary)) for item_id, title, summary in rows])


def write_stems(store: Connection, rows: Sequence[tuple[int, str, str]]) -> None:
    """Index items' stemmed text, as (id, title stems, summary stems) (inside the caller's transaction)."""
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        ids = [row[0] for row in chunk]
        store.conn.execute(f"DELETE FROM items_stemmed WHERE item_id IN ({_marks(ids)})", ids)
        store.insert_rows("INSERT INTO items_stemmed (item_id, title, summary)", chunk)
        store.conn.execute(f"DELETE FROM items_unstemmed WHERE item_id IN ({_marks(ids)})", ids)


def search(store: Connection, query: str, limit: int = 20, newest_first: bool = False) -> list[dict[str, Any]]:
    """Full-text search (FTS5 syntax: words, "phrases", OR, NOT, prefix*), every word stemmed by its
    language (`stemming`): "беженцы" finds "беженцев", "refugee" finds "refugees". A query that is not
    valid FTS5 syntax is searched again as plain words, so a stray quote or hyphen still finds something."""
    # Ranking every match of a common word in a large archive is slow (bm25 for each), so relevance is
    # judged among the RANK_WINDOW most recent matches: FTS5 walks its index newest first and stops.
    # Snippets are made for the rows shown only.
    stem_pending(store)
    try:
        return _search(store, search_query(query), limit, newest_first)
    except sqlite3.OperationalError:
        return _search(store, search_query(_as_plain_words(query)), limit, newest_first)


def _search(store: Connection, query: str, limit: int, newest_first: bool) -> list[dict[str, Any]]:
    window = store.conn.execute(
        "SELECT s.rowid, rank, i.published FROM items_stemmed_fts s JOIN items i ON i.id = s.rowid "
        "WHERE items_stemmed_fts MATCH ? ORDER BY s.rowid DESC LIMIT ?",
        (query, max(limit, RANK_WINDOW)),
    ).fetchall()
    if newest_first:
        window.sort(key=lambda r: (r[2], r[0]), reverse=True)
    else:
        window.sort(key=lambda r: (r[1], -_stamp(r[2]), -r[0]))  # best rank, then newest
    ids = [r[0] for r in window[:limit]]
    if not ids:
        return []
    # The original text is shown, its words highlighted where their stems are the query's.
    terms = query_terms(query)
    rows = {
        row["id"]: row
        for row in store.db.query(
            f"SELECT i.id, i.title, i.summary, i.link, i.published, i.date_source, f.name AS feed FROM items i "
            f"JOIN feeds f ON f.id = i.feed_id WHERE i.id IN ({_marks(ids)})",
            ids,
        )
    }
    return [
        {**_without(rows[i], "summary"), "snippet": snippet(rows[i]["title"], rows[i]["summary"], terms)}
        for i in ids
        if i in rows
    ]


def _stamp(text: str) -> float:
    moment = from_iso(text)
    return moment.timestamp() if moment else 0.0


def _without(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != key}


def _as_plain_words(query: str) -> str:
    words = [w.replace('"', "") for w in query.split()]
    return " ".join(f'"{w}"' for w in words if w) or '""'
