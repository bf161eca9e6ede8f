"""EDGE: the SQL of items and matches: a feed's poll applied as `update.reconcile` decided it (called back inside
the write transaction, with what was read there), weeks, themes, the matches `update.rematch` makes again."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from ..types import (
    Decide,
    Decision,
    FeedReport,
    FeedState,
    ItemCounts,
    ParsedFeed,
    Sighting,
    Stored,
    StoredItem,
    ThemeMatch,
    ThemeSpec,
    evidence_records,
)
from ..units import from_iso, iso
from ..weeks import week_end, week_label, week_start
from . import feeds, observed, search
from .connection import CHUNK, Connection, _marks

FAILURES = ("error", "gone")  # fetches.outcome of a poll that observed nothing


def record_poll(
    store: Connection,
    state: FeedState,
    report: FeedReport,
    parsed: ParsedFeed | None,
    now: datetime,
    decide: Decide | None,
) -> ItemCounts:
    """Store one feed's items as `decide` plans and matches them (`update.reconcile.decider`), its new
    state and the fetch row, atomically. `decide` is called inside the write transaction with what is
    stored of the items, so a writer between reading and writing cannot make an item be lost or stored
    twice. None: no items to store."""
    if parsed and parsed.items and decide is None:
        raise ValueError("record_poll: items to store need a `decide`")
    with store.transaction():
        counts = store_items(store, state.id, parsed, decide) if parsed and decide else ItemCounts()
        if counts.new or counts.updated:
            fill_weeks(store)
        feeds.save_feed_state(store, state, parsed.title if parsed else None)
        started = report.started_at or now
        reach = observed.reach_of(store, [i.key for i in parsed.items]) if parsed else None
        if report.outcome.value not in FAILURES:
            observed.observe(store, state.id, started, reach)
        store.db.table("fetches").insert(
            {
                "feed_id": state.id,
                "started_at": iso(started),
                "duration_ms": int(report.duration * 1000),
                "url": report.url,
                "status": report.status,
                "bytes": report.bytes_read,
                "outcome": report.outcome.value,
                "error": report.error,
                "bozo": parsed.bozo if parsed else None,
                "items_total": len(parsed.items) if parsed else 0,
                "items_new": counts.new,
                "items_updated": counts.updated,
                "items_seen": counts.seen,
                "reach": iso(reach),
            }
        )
    return counts


def store_items(store: Connection, feed_id: int, parsed: ParsedFeed, decide: Decide) -> ItemCounts:
    """Inside a transaction: what is stored of the items read, `decide`d on, and written."""
    return _apply(store, feed_id, decide(_stored(store, feed_id, [i.key for i in parsed.items])))


def _stored(store: Connection, feed_id: int, keys: list[str]) -> Stored:
    """What is stored of these keys, and this feed's sightings of them: what `reconcile` decides on."""
    items = {key: StoredItem(*row) for key, row in _existing_items(store, keys).items()}
    sightings = {i: Sighting(*row) for i, row in _sources(store, feed_id, [s.item_id for s in items.values()]).items()}
    return Stored(items, sightings)


def _apply(store: Connection, feed_id: int, decision: Decision) -> ItemCounts:
    """Inside a transaction: the plan written, with the matches of its new and updated items."""
    plan, found, version = decision.plan, decision.matches, decision.matcher_version
    stamp = plan.stamp
    new_rows, updates = plan.new, [item for _, item in plan.updates]
    new_sources = [(item_id, feed_id, stamp, stamp, i.link, i.content_hash) for item_id, i in plan.new_sightings]
    source_updates = [(stamp, content_hash, item_id, feed_id) for item_id, content_hash in plan.sighting_updates]
    earlier_sightings = [(stamp, item_id, feed_id, stamp) for item_id in plan.earlier_sightings]
    earlier = [(stamp, item_id, stamp) for item_id in plan.earlier_first_seen]
    if new_rows:
        store.insert_rows(
            "INSERT INTO items (key, feed_id, title, link, summary, summary_html, author, language, guid,"
            " published, date_source, first_seen, content_hash, matcher_version)",
            [
                (
                    i.key,
                    feed_id,
                    i.title,
                    i.link,
                    i.summary_text,
                    i.summary_html,
                    i.author,
                    i.language,
                    i.guid,
                    iso(i.published),
                    i.date_source,
                    stamp,
                    i.content_hash,
                    version,
                )
                for i in new_rows
            ],
        )
        new_ids = {key: row[0] for key, row in _existing_items(store, [i.key for i in new_rows]).items()}
        new_sources += [(new_ids[i.key], feed_id, stamp, stamp, i.link, i.content_hash) for i in new_rows]
        if version is not None:
            _insert_matches(store, [(new_ids[i.key], found[i.key]) for i in new_rows], version, stamp)
    if updates:
        # One statement per chunk (row_chunks); an item's week is computed again unless its date stays.
        rows = [
            (
                item_id,
                i.title,
                i.link,
                i.summary_text,
                i.summary_html,
                i.author,
                stamp,
                i.content_hash,
                i.date_source,
                iso(i.published),
            )
            for item_id, i in plan.updates
        ]
        for values, parameters in store.row_chunks(rows):
            store.conn.execute(
                "UPDATE items SET title = v.column2, link = v.column3, summary = v.column4,"
                " summary_html = v.column5, author = v.column6, updated_at = v.column7, content_hash = v.column8,"
                " published = CASE WHEN v.column9 = 'first_seen' THEN items.published ELSE v.column10 END,"
                " date_source = CASE WHEN v.column9 = 'first_seen' THEN items.date_source ELSE v.column9 END,"
                " week = CASE WHEN v.column9 = 'first_seen' THEN items.week END"
                f" FROM (VALUES {values}) AS v WHERE items.id = v.column1",
                parameters,
            )
        if version is not None:
            replace_matches(store, [(item_id, found[i.key]) for item_id, i in plan.updates], version, stamp)
    ids = {**(new_ids if new_rows else {}), **{i.key: item_id for item_id, i in plan.updates}}
    fresh = new_rows + updates
    search.index_stems(store, [(ids[i.key], i.title, i.summary_text) for i in fresh if i.stems is None])
    search.write_stems(store, [(ids[i.key], *i.stems) for i in fresh if i.stems is not None])
    if new_sources:
        store.conn.executemany(
            "INSERT OR IGNORE INTO item_sources (item_id, feed_id, first_seen, last_seen, link, "
            "content_hash) VALUES (?,?,?,?,?,?)",
            new_sources,
        )
    if source_updates:
        store.conn.executemany(
            "UPDATE item_sources SET last_seen = ?, content_hash = ? WHERE item_id = ? AND feed_id = ?",
            source_updates,
        )
    if earlier_sightings:
        store.conn.executemany(
            "UPDATE item_sources SET first_seen = ? WHERE item_id = ? AND feed_id = ? AND first_seen > ?",
            earlier_sightings,
        )
    if earlier:  # an undated item's week follows its first sighting: computed again
        store.conn.executemany(
            "UPDATE items SET first_seen = ?, week = CASE WHEN date_source = 'first_seen' "
            "THEN NULL ELSE week END WHERE id = ? AND first_seen > ?",
            earlier,
        )
    matched = sum(1 for matches in found.values() if matches)
    return ItemCounts(new=len(new_rows), updated=len(updates), seen=len(plan.seen), matched=matched)


def _existing_items(store: Connection, keys: list[str]) -> dict[str, tuple[int, str, str]]:
    """Stored items by key: id, content hash, first seen."""
    found: dict[str, tuple[int, str, str]] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        for item_id, key, stored_hash, first_seen in store.conn.execute(
            f"SELECT id, key, content_hash, first_seen FROM items WHERE key IN ({_marks(chunk)})", chunk
        ):
            found[key] = (item_id, stored_hash, first_seen)
    return found


def _sources(store: Connection, feed_id: int, item_ids: list[int]) -> dict[int, tuple[str, str]]:
    """This feed's sightings of stored items: the hash of its last copy, when it last carried it."""
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(item_ids), CHUNK):
        chunk = item_ids[start : start + CHUNK]
        for item_id, source_hash, last_seen in store.conn.execute(
            f"SELECT item_id, content_hash, last_seen FROM item_sources WHERE feed_id = ? AND item_id IN "
            f"({_marks(chunk)})",
            [feed_id, *chunk],
        ):
            found[item_id] = (source_hash, last_seen)
    return found


def sync_calendar(store: Connection, timezone: str, first_day: str) -> int:
    """Fill `items.week` where it is missing, and compute it again for every item if the time zone or
    first weekday changed since it was computed. Returns the items whose week was written."""
    with store.transaction():
        if store.conn.execute("SELECT timezone, week_start FROM calendar").fetchone() == (timezone, first_day):
            return fill_weeks(store)
        store.conn.execute("UPDATE calendar SET timezone = ?, week_start = ?", (timezone, first_day))
        return fill_weeks(store, everything=True)


def fill_weeks(store: Connection, everything: bool = False) -> int:
    """Inside a transaction: items.week of the items without one (`everything`: of all items), one
    UPDATE per week between the earliest and latest of them, each a range of the published index."""
    timezone, first_day = store.conn.execute("SELECT timezone, week_start FROM calendar").fetchone()
    which = "1" if everything else "week IS NULL"
    low, high = (
        from_iso(t)
        for t in store.conn.execute(f"SELECT min(published), max(published) FROM items WHERE {which}").fetchone()
    )
    if low is None or high is None:
        return 0
    written, start = 0, week_start(low, timezone, first_day)
    while start <= high:
        end, label = week_end(start, timezone), week_label(start, timezone)
        # `+week`: the week's range of the published index, not every NULL week of the index on week
        # (after migration 15 all are NULL, and each UPDATE would read them all: 14 s for 300,000 items).
        written += store.conn.execute(
            f"UPDATE items SET week = ? WHERE published >= ? AND published < ? AND +{which} AND +week IS NOT ?",
            (label, iso(start), iso(end), label),
        ).rowcount
        start = end
    return written


def sync_themes(store: Connection, themes: Iterable[ThemeSpec]) -> None:
    """The `themes` table brought to the config's themes; a removed theme is kept, out of the config."""
    rows = [(t.key, t.label, t.description, t.threshold) for t in themes]
    with store.transaction():
        store.conn.execute("UPDATE themes SET in_config = 0")
        store.conn.executemany(
            "INSERT INTO themes (key, label, description, threshold, in_config) VALUES (?,?,?,?,1) "
            "ON CONFLICT(key) DO UPDATE SET label = excluded.label, description = excluded.description, "
            "threshold = excluded.threshold, in_config = 1",
            rows,
        )


def replace_matches(
    store: Connection, results: Sequence[tuple[int, Sequence[ThemeMatch]]], version: str, stamp: str | None
) -> None:
    """Replace the matches of these items (inside the caller's transaction)."""
    store.conn.executemany("DELETE FROM matches WHERE item_id = ?", [(item_id,) for item_id, _ in results])
    _insert_matches(store, results, version, stamp)
    store.conn.executemany(
        "UPDATE items SET matcher_version = ? WHERE id = ?", [(version, item_id) for item_id, _ in results]
    )


def _insert_matches(
    store: Connection, results: Sequence[tuple[int, Sequence[ThemeMatch]]], version: str | None, stamp: str | None
) -> None:
    store.conn.executemany(
        "INSERT INTO matches (item_id, theme, score, evidence, matcher_version, matched_at) VALUES (?,?,?,?,?,?)",
        [
            (
                item_id,
                m.theme,
                m.score,
                json.dumps(evidence_records(m.evidence), ensure_ascii=False),
                version,
                stamp,
            )
            for item_id, found in results
            for m in found
        ],
    )


def items_to_match(store: Connection, version: str, *, everything: bool = False) -> int:
    """How many items `rematch` would match: those not matched with `version`, or all."""
    where = "" if everything else "WHERE matcher_version IS NOT ?"
    return int(store.conn.execute(f"SELECT count(*) FROM items {where}", [] if everything else [version]).fetchone()[0])


def to_match(
    store: Connection, after: int, version: str, *, everything: bool, limit: int
) -> list[tuple[int, str, str]]:
    """The next `limit` items after id `after` not matched with `version` (all: `everything`), in id order:
    id, title, summary (`update.rematch`)."""
    return [
        (item_id, title, summary)
        for item_id, title, summary in store.conn.execute(
            "SELECT id, title, summary FROM items WHERE id > ? AND (? OR matcher_version IS NOT ?) ORDER BY id LIMIT ?",
            (after, everything, version, limit),
        )
    ]


def write_matches(
    store: Connection, matched: Sequence[tuple[int, str, str, Sequence[ThemeMatch]]], version: str, now: datetime
) -> list[tuple[int, str, str]]:
    """The matches of items matched on a title and summary read before, written in one transaction where the
    item still holds that text. Returns the items a poll changed since, with the text they hold now (id,
    title, summary), not written: a stale match would quote text the item no longer has; the caller matches
    them again. An item deleted meanwhile is left out."""
    stamp = iso(now)
    with store.transaction():
        held = store.where_in("SELECT id, title, summary FROM items WHERE id IN ({ids})", [row[0] for row in matched])
        current = {item_id: (title, summary) for item_id, title, summary in held}
        still: list[tuple[int, Sequence[ThemeMatch]]] = []
        changed: list[tuple[int, str, str]] = []
        for item_id, title, summary, found in matched:
            text = current.get(item_id)
            if text == (title, summary):
                still.append((item_id, found))
            elif text is not None:
                changed.append((item_id, *text))
        replace_matches(store, still, version, stamp)
    return changed
