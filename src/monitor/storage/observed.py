"""EDGE: the SQL of observed time: the spans of time each feed was observed (the `observed` table).

A successful poll or an imported capture at T whose document's oldest item was published at R observed
the feed from R to T: whatever the feed published in between is still in the document. A document that was
not parsed again (304, the same body) or carried nothing observed it back to the feed's previous observation.
Each observation is merged into the feed's spans as it is stored, in the poll's (or import's) transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..types import ObservedSpan
from ..units import from_iso, iso
from .connection import CHUNK, Connection


def reach_of(store: Connection, keys: Sequence[str]) -> datetime | None:
    """The oldest stored date of the items of these keys (those of one document); None: none stored."""
    oldest: datetime | None = None
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        found = from_iso(
            store.conn.execute(
                f"SELECT min(published) FROM items WHERE key IN ({','.join('?' * len(chunk))})", chunk
            ).fetchone()[0]
        )
        if found is not None and (oldest is None or found < oldest):
            oldest = found
    return oldest


def observe(store: Connection, feed: int, at: datetime, reach: datetime | None) -> None:
    """Inside a transaction: the feed observed at `at` back to `reach` (None: back to its previous
    observation), merged into its spans."""
    if reach is None:
        row = store.conn.execute(
            "SELECT max(until) FROM observed WHERE feed_id = ? AND until <= ?", (feed, iso(at))
        ).fetchone()
        low = from_iso(row[0]) or at
    else:
        low = min(reach, at)
    rows = store.conn.execute(
        "SELECT since, until, resumed_at FROM observed WHERE feed_id = ? AND since <= ? AND until >= ?",
        (feed, iso(at), iso(low)),
    ).fetchall()
    since, until, resumed = iso(low), iso(at), iso(at)
    for row_since, row_until, row_resumed in rows:
        if row_since < since or (row_since == since and row_resumed < resumed):
            since, resumed = row_since, row_resumed
        until = max(until, row_until)
    store.conn.execute(
        "DELETE FROM observed WHERE feed_id = ? AND since <= ? AND until >= ?", (feed, iso(at), iso(low))
    )
    store.conn.execute(
        "INSERT INTO observed (feed_id, since, until, resumed_at) VALUES (?,?,?,?)", (feed, since, until, resumed)
    )


def spans(store: Connection, start: datetime, end: datetime) -> dict[str, tuple[ObservedSpan, ...]]:
    """Each feed's spans that touch [start, end), by feed name (every feed, removed ones too: their items
    still count), the earliest first; a feed never observed then has none."""
    out: dict[str, list[ObservedSpan]] = {name: [] for (name,) in store.conn.execute("SELECT name FROM feeds")}
    for name, since, until, resumed in store.conn.execute(
        "SELECT f.name, o.since, o.until, o.resumed_at FROM observed o JOIN feeds f ON f.id = o.feed_id "
        "WHERE o.since < ? AND o.until >= ? ORDER BY f.name, o.since",
        (iso(end), iso(start)),
    ):
        out[name].append(ObservedSpan(from_iso(since), from_iso(until), from_iso(resumed)))  # type: ignore[arg-type]
    return {name: tuple(found) for name, found in out.items()}
