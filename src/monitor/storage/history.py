"""EDGE: what `monitor import` and `monitor backfill` write (migration 20), beside `items`.

An imported document is stored by the store's own item path (`items.store_items`: identity, de-duplication,
the plan and matches its `decide` makes, the search index, item weeks) with its capture time as the poll's
"now", in one transaction with its `imports` row; the sightings it made name that row. The feed's state
(validators, failures, last poll) is not touched: an import is not a poll, and the next live poll must not be
skipped or misled by it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..identity import address
from ..types import Decide, FeedSource, ItemCounts, ParsedFeed
from ..units import from_iso, iso
from . import items, observed
from .connection import CHUNK, Connection


def feed_addresses(store: Connection) -> dict[str, int]:
    """Every feed's addresses (configured, polled) -> its id; a configured feed wins over a removed one."""
    found: dict[str, int] = {}
    for feed_id, url, config_url in store.conn.execute("SELECT id, url, config_url FROM feeds ORDER BY in_config, id"):
        found[address(url)] = feed_id
        found[address(config_url)] = feed_id
    return found


def feed_id(store: Connection, name: str) -> int | None:
    row = store.conn.execute("SELECT id FROM feeds WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row else None


def add_feed(store: Connection, source: FeedSource, now: datetime) -> int:
    """A feed named only by an import: stored, not in the config, so never polled (a poll's config sync
    would take it over as renamed if the config later adds a feed at its address)."""
    with store.transaction():
        store.db.table("feeds").insert(
            {
                "name": source.name,
                "url": source.url,
                "config_url": source.url,
                "in_config": 0,
                "language": source.language,
                "tags": json.dumps(list(source.tags)),
                "interval_seconds": int(source.interval.total_seconds()),
                "created_at": iso(now),
            }
        )
    found = feed_id(store, source.name)
    assert found is not None
    return found


def imported_from(store: Connection, feed: int, body_hash: str) -> str | None:
    """Where this document of this feed was imported from before (None: never)."""
    row = store.conn.execute(
        "SELECT source FROM imports WHERE feed_id = ? AND body_hash = ?", (feed, body_hash)
    ).fetchone()
    return row[0] if row else None


def record_import(
    store: Connection,
    feed: int,
    parsed: ParsedFeed,
    captured: datetime,
    *,
    origin: str,
    source: str,
    body_hash: str,
    now: datetime,
    decide: Decide,
) -> ItemCounts | None:
    """Store one document as a poll of `feed` at `captured`, atomically. None: this document of this feed
    was imported already (nothing is written)."""
    stamp = iso(captured)
    assert stamp is not None
    with store.transaction():
        if imported_from(store, feed, body_hash) is not None:
            return None
        import_id = int(
            store.db.table("imports")
            .insert(
                {  # type: ignore[arg-type]
                    "feed_id": feed,
                    "origin": origin,
                    "source": source,
                    "captured_at": stamp,
                    "body_hash": body_hash,
                    "imported_at": iso(now),
                    "items_total": len(parsed.items),
                }
            )
            .last_pk
        )
        earlier = _sightings(store, feed, [i.key for i in parsed.items])
        counts = items.store_items(store, feed, parsed, decide)  # the poll's own path, on purpose
        if counts.new or counts.updated:
            items.fill_weeks(store)
        _keep_order(store, feed, stamp, earlier)
        _claim_sightings(store, feed, import_id, stamp, [i.key for i in parsed.items])
        reach = observed.reach_of(store, [i.key for i in parsed.items])
        observed.observe(store, feed, captured, reach or captured)  # a capture says nothing of the time before it
        store.conn.execute(
            "UPDATE imports SET items_new = ?, items_updated = ?, reach = ? WHERE id = ?",
            (counts.new, counts.updated, iso(reach), import_id),
        )
        # The feed's record now begins at its earliest capture: a digest counts its weeks as polled.
        store.conn.execute(
            "UPDATE feeds SET first_success_at = min(coalesce(first_success_at, :t), :t), "
            "title = coalesce(title, :title) WHERE id = :id",
            {"t": stamp, "title": parsed.title, "id": feed},
        )
    return counts


def _sightings(store: Connection, feed: int, keys: Sequence[str]) -> dict[int, tuple[str, str]]:
    """item id -> (first_seen, last_seen) of this feed's sightings of these items."""
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        for item_id, first, last in store.conn.execute(
            "SELECT s.item_id, s.first_seen, s.last_seen FROM items i JOIN item_sources s "
            f"ON s.item_id = i.id AND s.feed_id = ? WHERE i.key IN ({','.join('?' * len(chunk))})",
            [feed, *chunk],
        ):
            found[item_id] = (first, last)
    return found


def _keep_order(store: Connection, feed: int, stamp: str, earlier: dict[int, tuple[str, str]]) -> None:
    """A capture older than what is stored (imported after live polls, or out of order) moves first sightings
    back, never last sightings: the store wrote `stamp` as the last one, as a poll is always the newest."""
    rows: list[Any] = [
        (min(first, stamp), max(last, stamp), item_id, feed)
        for item_id, (first, last) in earlier.items()
        if stamp < last or stamp < first
    ]
    if rows:
        store.conn.executemany(
            "UPDATE item_sources SET first_seen = ?, last_seen = ? WHERE item_id = ? AND feed_id = ?", rows
        )


def _claim_sightings(store: Connection, feed: int, import_id: int, stamp: str, keys: Sequence[str]) -> None:
    """The sightings this import made (first seen at its capture, by this feed) name it; an item stored from a
    later capture or poll was in fact first seen at this one."""
    for start in range(0, len(keys), CHUNK):
        chunk = list(keys[start : start + CHUNK])
        marks = ",".join("?" * len(chunk))
        store.conn.execute(
            f"UPDATE items SET first_seen = ? WHERE first_seen > ? AND key IN ({marks})", [stamp, stamp, *chunk]
        )
        store.conn.execute(
            "UPDATE item_sources SET import_id = ? WHERE feed_id = ? AND first_seen = ? AND import_id IS NULL "
            f"AND item_id IN (SELECT id FROM items WHERE key IN ({','.join('?' * len(chunk))}))",
            [import_id, feed, stamp, *chunk],
        )


def live_since(store: Connection) -> datetime | None:
    """The first successful live poll of any feed (None: none yet): a week before it is e-mailed only when
    asked for with --send, even when imports fill it."""
    return from_iso(store.conn.execute("SELECT min(first_live_at) FROM feeds").fetchone()[0])


def done_captures(store: Connection, feed: int) -> set[tuple[str, str]]:
    """(timestamp, original) of this feed's captures imported by earlier runs (failed ones are tried again)."""
    return {
        (t, o)
        for t, o in store.conn.execute(
            "SELECT timestamp, original FROM captures WHERE feed_id = ? AND state = 'imported'", (feed,)
        )
    }


def import_of(store: Connection, feed: int, body_hash: str) -> int | None:
    row = store.conn.execute("SELECT id FROM imports WHERE feed_id = ? AND body_hash = ?", (feed, body_hash)).fetchone()
    return int(row[0]) if row else None


def record_capture(
    store: Connection,
    feed: int,
    timestamp: str,
    original: str,
    digest: str | None,
    *,
    state: str,
    now: datetime,
    error: str | None = None,
    import_id: int | None = None,
) -> None:
    with store.transaction():
        store.conn.execute(
            "INSERT INTO captures (feed_id, timestamp, original, digest, state, error, import_id, done_at) "
            "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (feed_id, timestamp, original) DO UPDATE SET state = excluded.state, "
            "error = excluded.error, import_id = excluded.import_id, done_at = excluded.done_at",
            (feed, timestamp, original, digest, state, error, import_id, iso(now)),
        )


def imported_documents(store: Connection) -> set[tuple[int, str]]:
    """(feed id, sha256) of every document imported: a large import checks each file against it without a
    query (an import of a million files holds a million short pairs)."""
    return {(feed, body_hash) for feed, body_hash in store.conn.execute("SELECT feed_id, body_hash FROM imports")}
