"""EDGE: the SQLite file, the only module that writes SQL.

One file, WAL mode (readers never block the poller and the poller never blocks an analyst's `sqlite3`
shell), a busy timeout, foreign keys on. Each feed's results of a round are written in one transaction,
so a crash mid-round loses nothing that was committed before it. Items are reconciled in bulk (one
query for the keys of a whole feed, never one query per item).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from .errors import StoreError
from .identity import canonical_url
from .reconcile import Plan, Sighting, Stored, StoredItem, reconcile
from .schema import MIGRATIONS
from .stemming import query_terms, search_query, snippet, stem_text
from .types import FeedReport, FeedSource, FeedState, ItemCounts, ParsedFeed, ThemeMatch, ThemeSpec, evidence_records
from .units import from_iso, iso
from .weeks import week_end, week_label, week_start


class Matching(Protocol):
    """What the store needs of a matcher (`match.Matcher`): a version and a pure `match`."""

    version: str

    def match(self, title: str, summary: str = "") -> list[ThemeMatch]: ...


BUSY_TIMEOUT = timedelta(seconds=30)  # `monitor.busy_timeout`
CHUNK = 500  # bound parameters per IN (...) query, well under SQLite's limit
RANK_WINDOW = 2000  # search ranks the most recent matches, at most this many
# A WAL that a long read transaction let grow (to the size of the database) is cut back to this once it is
# checkpointed; without a limit SQLite reuses the file but never shrinks it.
JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024
STEM_CHUNK = 2000  # items stemmed per transaction when catching up (after migration 11, or SQL edits)
PRUNE_CHUNK = 5000  # fetches deleted per transaction: a poll waits at most for one chunk
SUCCESSES = "('ok', 'partial', 'not_modified', 'unchanged')"  # fetches.outcome of a successful poll
# When feed `f` last brought something new, as of :upto: its newest item's publication, but no later than
# the item's first sighting (an old story first seen today is not news); without items, its first success.
NEWEST = (
    "coalesce((SELECT max(min(i.published, s.first_seen)) FROM item_sources s JOIN items i ON i.id = s.item_id "
    "WHERE s.feed_id = f.id AND s.first_seen < :upto), f.first_success_at)"
)
# Feed `f` brought nothing new since :cut (NEWEST < :cut); the caller checks that it answers. Written so
# that the index on item_sources(feed_id, first_seen) reads only the items first seen since :cut.
STALE = (
    "(NOT EXISTS (SELECT 1 FROM item_sources s JOIN items i ON i.id = s.item_id "
    "WHERE s.feed_id = f.id AND s.first_seen >= :cut AND s.first_seen < :upto AND i.published >= :cut) "
    "AND (f.first_success_at < :cut OR EXISTS (SELECT 1 FROM item_sources s WHERE s.feed_id = f.id "
    "AND s.first_seen < :upto)))"
)
FOREVER = "9999"  # an :upto after every stored time


class Store:
    def __init__(self, path: str, conn: sqlite3.Connection, busy_timeout: timedelta = BUSY_TIMEOUT):
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.busy_timeout = busy_timeout

    @classmethod
    def open(cls, path: str | Path, busy_timeout: timedelta = BUSY_TIMEOUT) -> Store:
        """Open (creating it and its folder if needed) and migrate the database. A write waits up to
        `busy_timeout` for another process's write lock (an analyst's `BEGIN IMMEDIATE`, a `monitor poll`)."""
        path = str(path)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                path, timeout=busy_timeout.total_seconds(), isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout.total_seconds() * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # durable at each checkpoint; safe in WAL mode
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
            conn.execute("PRAGMA foreign_keys = ON")
        except (OSError, sqlite3.Error) as error:
            raise StoreError(path, f"cannot open: {error}", locked=_is_locked(error)) from error
        store = cls(path, conn, busy_timeout)
        store.migrate()
        return store

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front, so a busy database is waited for here (busy_timeout)
        # instead of failing half-way through when a read would have to become a write.
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise self.write_error(error) from error
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException as error:
            # After an I/O error or a full disk mid-statement SQLite has already rolled back (a ROLLBACK then
            # fails and would hide the real error); after a failed COMMIT the transaction is still open, and
            # left so, every later BEGIN of this connection would fail even once the disk has room again.
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if isinstance(error, sqlite3.Error):
                raise self.write_error(error) from error
            raise

    def write_error(self, error: sqlite3.Error) -> StoreError:
        """A write that failed, as a StoreError saying what the usual cause is."""
        text = str(error)
        code = getattr(error, "sqlite_errorcode", None)
        code = code & 0xFF if isinstance(code, int) else None  # the primary code of an extended one
        if _is_locked(error):
            hint = (
                f"another process held the write lock for more than monitor.busy_timeout "
                f"({self.busy_timeout.total_seconds():g}s); nothing of this write was kept"
            )
        elif code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR) or "disk" in text:
            hint = "is the disk full, or the file over a size limit? nothing of this write was kept"
        elif code == sqlite3.SQLITE_READONLY or "readonly" in text:
            hint = "the file or its folder is not writable by this user"
        else:
            hint = ""
        return StoreError(self.path, f"cannot write: {text}" + (f" ({hint})" if hint else ""), locked=_is_locked(error))

    def checkpoint(self) -> bool:
        """After a big write: if the WAL has outgrown JOURNAL_SIZE_LIMIT, copy it into the database and
        truncate it, without waiting. A reader still on an old snapshot (an analyst's open transaction) makes
        this a no-op; journal_size_limit then cuts the WAL back at a later write. True when it was cut."""
        try:
            if self.path == ":memory:" or os.path.getsize(self.path + "-wal") <= JOURNAL_SIZE_LIMIT:
                return False
        except OSError:
            return False
        self.conn.execute("PRAGMA busy_timeout = 0")  # TRUNCATE would otherwise wait busy_timeout for readers
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error:
            busy = 1
        finally:
            self.set_busy_timeout(self.busy_timeout)
        return not busy

    def set_busy_timeout(self, busy_timeout: timedelta) -> None:
        self.conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout.total_seconds() * 1000)}")
        self.busy_timeout = busy_timeout

    # -- schema -----------------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, each atomically. Returns the versions applied."""
        try:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in self.conn.execute("SELECT version FROM schema_migrations")}
            newest_known = max(m.version for m in MIGRATIONS)
            if done and max(done) > newest_known:
                raise StoreError(
                    self.path,
                    f"was written by a newer monitor (schema {max(done)}, this one "
                    f"knows {newest_known}); upgrade monitor",
                )
            applied = []
            for migration in MIGRATIONS:
                if migration.version in done:
                    continue
                name = migration.name.replace("'", "''")
                record = (
                    "INSERT INTO schema_migrations VALUES "
                    f"({migration.version}, '{name}', strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
                )
                try:
                    self.conn.executescript(f"BEGIN IMMEDIATE;\n{migration.sql}\n{record};\nCOMMIT;")
                except sqlite3.Error:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
                applied.append(migration.version)
            return applied
        except sqlite3.Error as error:
            raise StoreError(self.path, f"cannot apply the schema: {error}", locked=_is_locked(error)) from error

    def schema_version(self) -> int:
        return self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0

    # -- feeds ------------------------------------------------------------------------------------

    def sync_feeds(self, feeds: Sequence[FeedSource], now: datetime) -> list[tuple[str, str]]:
        """Make the feeds table match the config: add new feeds, follow edits and renames, retire removed
        ones (their items stay). A feed whose configured URL changed starts afresh at the new URL.
        Returns the renames followed, as (old name, new name).

        Safe beside other processes doing the same (a `monitor poll` while the daemon reloads): the table is
        read inside the IMMEDIATE transaction that writes it, so no process inserts a name another has just
        inserted. A feed new to the config at the address of a feed that left it (its configured URL, or
        the one a 301 moved it to) is that feed renamed: the row keeps its id, so the identity keys of its
        items (`identity.item_key`, scoped by feed id when guids are not URLs) and its sightings stay."""
        with self.transaction():
            rows = {row["name"]: row for row in self.db.query("SELECT id, name, url, config_url, in_config FROM feeds")}
            renames = feed_renames(feeds, list(rows.values()))
            for new_name, old_name in renames.items():
                row = rows.pop(old_name)
                self.conn.execute("UPDATE feeds SET name = ? WHERE id = ?", (new_name, row["id"]))
                rows[new_name] = {**row, "name": new_name}
            for feed in feeds:
                values = {
                    "language": feed.language,
                    "tags": json.dumps(list(feed.tags)),
                    "interval_seconds": int(feed.interval.total_seconds()),
                    "in_config": 1,
                }
                existing = rows.get(feed.name)
                if existing is None:
                    self.db.table("feeds").insert(
                        {"name": feed.name, "url": feed.url, "config_url": feed.url, "created_at": iso(now), **values}
                    )
                    continue
                if existing["config_url"] != feed.url:
                    values.update(config_url=feed.url)
                    if _address(existing["url"]) != _address(feed.url):  # not merely following a 301
                        values.update(
                            url=feed.url,
                            etag=None,
                            last_modified=None,
                            content_hash=None,
                            dead=0,
                            consecutive_failures=0,
                            retry_not_before=None,
                        )
                self.db.table("feeds").update(existing["id"], values)
            names = [f.name for f in feeds]
            retired = f"name NOT IN ({_marks(names)})" if names else "1"
            self.conn.execute(f"UPDATE feeds SET in_config = 0 WHERE in_config = 1 AND {retired}", names)
        return [(old, new) for new, old in renames.items()]

    def _feed_id(self, name: str) -> int:
        row = self.conn.execute("SELECT id FROM feeds WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def feed_states(self, names: Iterable[str] | None = None) -> list[FeedState]:
        """States of the configured feeds (or of the named ones), in config order of insertion."""
        sql = "SELECT * FROM feeds WHERE in_config = 1"
        params: list[Any] = []
        if names is not None:
            names = list(names)
            sql += f" AND name IN ({_marks(names)})"
            params = names
        return [_feed_state(row) for row in self.db.query(sql + " ORDER BY id", params)]

    def feed_state(self, name: str) -> FeedState | None:
        rows = self.feed_states([name])
        return rows[0] if rows else None

    def revive(self, states: Sequence[FeedState]) -> None:
        with self.transaction():
            for state in states:
                self.save_feed_state(state)

    def save_feed_state(self, state: FeedState, title: str | None = None) -> None:
        """Write a feed's state; call inside a transaction."""
        values = {
            "url": state.url,
            "etag": state.etag,
            "last_modified": state.last_modified,
            "content_hash": state.content_hash,
            "last_fetch_at": iso(state.last_fetch_at),
            "last_success_at": iso(state.last_success_at),
            "last_error": state.last_error,
            "last_error_at": iso(state.last_error_at),
            "consecutive_failures": state.consecutive_failures,
            "retry_not_before": iso(state.retry_not_before),
            "dead": int(state.dead),
        }
        if title:
            values["title"] = title
        self.db.table("feeds").update(state.id, values)

    # -- a feed's poll, in one transaction ---------------------------------------------------------

    def record_poll(
        self,
        state: FeedState,
        report: FeedReport,
        parsed: ParsedFeed | None,
        now: datetime,
        matcher: Matching | None = None,
    ) -> ItemCounts:
        """Store one feed's items (matched to the themes when new or changed), its new state and the
        fetch row, atomically."""
        with self.transaction():
            counts = self._store_items(state.id, parsed, now, matcher) if parsed else ItemCounts()
            if counts.new or counts.updated:
                self._fill_weeks()
            self.save_feed_state(state, parsed.title if parsed else None)
            self.db.table("fetches").insert(
                {
                    "feed_id": state.id,
                    "started_at": iso(report.started_at or now),
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
                }
            )
        return counts

    def _store_items(self, feed_id: int, parsed: ParsedFeed, now: datetime, matcher: Matching | None) -> ItemCounts:
        stamp = iso(now)
        plan = reconcile(parsed.items, self._stored(feed_id, [i.key for i in parsed.items]), stamp)
        return self._apply(feed_id, plan, matcher)

    def _stored(self, feed_id: int, keys: list[str]) -> Stored:
        """What is stored of these keys, and this feed's sightings of them: what `reconcile` decides on."""
        items = {key: StoredItem(*row) for key, row in self._existing_items(keys).items()}
        sightings = {
            i: Sighting(*row) for i, row in self._sources(feed_id, [s.item_id for s in items.values()]).items()
        }
        return Stored(items, sightings)

    def _apply(self, feed_id: int, plan: Plan, matcher: Matching | None) -> ItemCounts:
        """Inside a transaction: the plan written, its new and updated items matched first."""
        stamp = plan.stamp
        new_rows, updates = plan.new, [item for _, item in plan.updates]
        new_sources = [(item_id, feed_id, stamp, stamp, i.link, i.content_hash) for item_id, i in plan.new_sightings]
        source_updates = [(stamp, content_hash, item_id, feed_id) for item_id, content_hash in plan.sighting_updates]
        earlier_sightings = [(stamp, item_id, feed_id, stamp) for item_id in plan.earlier_sightings]
        earlier = [(stamp, item_id, stamp) for item_id in plan.earlier_first_seen]
        # Matched before they are written, so a new item is inserted once, with its matcher version.
        version = matcher.version if matcher else None
        found = {i.key: matcher.match(i.title, i.summary_text) for i in new_rows + updates} if matcher else {}
        if new_rows:
            self.conn.executemany(
                "INSERT INTO items (key, feed_id, title, link, summary, summary_html, author, language, guid,"
                " published, date_source, first_seen, content_hash, matcher_version)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
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
            new_ids = {key: row[0] for key, row in self._existing_items([i.key for i in new_rows]).items()}
            new_sources += [(new_ids[i.key], feed_id, stamp, stamp, i.link, i.content_hash) for i in new_rows]
            if matcher:
                self._insert_matches([(new_ids[i.key], found[i.key]) for i in new_rows], version, stamp)
        if updates:
            self.conn.executemany(
                "UPDATE items SET title = ?, link = ?, summary = ?, summary_html = ?, author = ?, updated_at = ?,"
                " content_hash = ?, published = CASE WHEN ? = 'first_seen' THEN published ELSE ? END,"
                " date_source = CASE WHEN ? = 'first_seen' THEN date_source ELSE ? END,"
                " week = CASE WHEN ? = 'first_seen' THEN week END WHERE key = ?",  # its week computed again
                [
                    (
                        i.title,
                        i.link,
                        i.summary_text,
                        i.summary_html,
                        i.author,
                        stamp,
                        i.content_hash,
                        i.date_source,
                        iso(i.published),
                        i.date_source,
                        i.date_source,
                        i.date_source,
                        i.key,
                    )
                    for i in updates
                ],
            )
            if matcher:
                self._write_matches([(item_id, found[i.key]) for item_id, i in plan.updates], matcher.version, stamp)
        ids = {**(new_ids if new_rows else {}), **{i.key: item_id for item_id, i in plan.updates}}
        fresh = new_rows + updates
        self._index_stems([(ids[i.key], i.title, i.summary_text) for i in fresh if i.stems is None])
        self._write_stems([(ids[i.key], *i.stems) for i in fresh if i.stems is not None])
        if new_sources:
            self.conn.executemany(
                "INSERT OR IGNORE INTO item_sources (item_id, feed_id, first_seen, last_seen, link, "
                "content_hash) VALUES (?,?,?,?,?,?)",
                new_sources,
            )
        if source_updates:
            self.conn.executemany(
                "UPDATE item_sources SET last_seen = ?, content_hash = ? WHERE item_id = ? AND feed_id = ?",
                source_updates,
            )
        if earlier_sightings:
            self.conn.executemany(
                "UPDATE item_sources SET first_seen = ? WHERE item_id = ? AND feed_id = ? AND first_seen > ?",
                earlier_sightings,
            )
        if earlier:  # an undated item's week follows its first sighting: computed again
            self.conn.executemany(
                "UPDATE items SET first_seen = ?, week = CASE WHEN date_source = 'first_seen' "
                "THEN NULL ELSE week END WHERE id = ? AND first_seen > ?",
                earlier,
            )
        matched = sum(1 for matches in found.values() if matches)
        return ItemCounts(new=len(new_rows), updated=len(updates), seen=len(plan.seen), matched=matched)

    # -- what SQL users need of the config: item weeks, theme labels -----------------------------

    def sync_calendar(self, timezone: str, first_day: str) -> int:
        """Fill `items.week` where it is missing, and compute it again for every item if the time zone or
        first weekday changed since it was computed. Returns the items whose week was written."""
        with self.transaction():
            if self.conn.execute("SELECT timezone, week_start FROM calendar").fetchone() == (timezone, first_day):
                return self._fill_weeks()
            self.conn.execute("UPDATE calendar SET timezone = ?, week_start = ?", (timezone, first_day))
            return self._fill_weeks(everything=True)

    def _fill_weeks(self, everything: bool = False) -> int:
        """Inside a transaction: items.week of the items without one (`everything`: of all items), one
        UPDATE per week between the earliest and latest of them, each a range of the published index."""
        timezone, first_day = self.conn.execute("SELECT timezone, week_start FROM calendar").fetchone()
        which = "1" if everything else "week IS NULL"
        low, high = (
            from_iso(t)
            for t in self.conn.execute(f"SELECT min(published), max(published) FROM items WHERE {which}").fetchone()
        )
        if low is None or high is None:
            return 0
        written, start = 0, week_start(low, timezone, first_day)
        while start <= high:
            end, label = week_end(start, timezone), week_label(start, timezone)
            # `+week`: the week's range of the published index, not every NULL week of the index on week
            # (after migration 15 all are NULL, and each UPDATE would read them all: 14 s for 300,000 items).
            written += self.conn.execute(
                f"UPDATE items SET week = ? WHERE published >= ? AND published < ? AND +{which} AND +week IS NOT ?",
                (label, iso(start), iso(end), label),
            ).rowcount
            start = end
        return written

    def sync_themes(self, themes: Iterable[ThemeSpec]) -> None:
        """The `themes` table brought to the config's themes; a removed theme is kept, out of the config."""
        rows = [(t.key, t.label, t.description, t.threshold) for t in themes]
        with self.transaction():
            self.conn.execute("UPDATE themes SET in_config = 0")
            self.conn.executemany(
                "INSERT INTO themes (key, label, description, threshold, in_config) VALUES (?,?,?,?,1) "
                "ON CONFLICT(key) DO UPDATE SET label = excluded.label, description = excluded.description, "
                "threshold = excluded.threshold, in_config = 1",
                rows,
            )

    # -- search index ----------------------------------------------------------------------------

    def stem_pending(self, chunk: int = STEM_CHUNK, *, stop: Callable[[], bool] = lambda: False) -> int:
        """Stem the items waiting in `items_unstemmed` (all items after migration 11, any item whose text an
        analyst changed with SQL), `chunk` per short transaction, until none is left or `stop()` says so.
        Called before a search (which needs them) and by the daemon's upkeep, not at every open: after an
        upgrade, `monitor status` need not wait minutes for an archive to be stemmed. Returns how many were
        stemmed."""
        total = 0
        while not stop() and self.conn.execute("SELECT EXISTS (SELECT 1 FROM items_unstemmed)").fetchone()[0]:
            with self.transaction():  # read inside the write lock: no edit slips between read and write
                ids = [
                    row[0]
                    for row in self.conn.execute(
                        "SELECT item_id FROM items_unstemmed ORDER BY item_id LIMIT ?", (chunk,)
                    )
                ]
                self._stem_items(ids)
            total += len(ids)
            if total > chunk:
                self.checkpoint()
        return total

    def _stem_items(self, ids: Sequence[int]) -> None:
        """Index these items' stemmed text for search (inside the caller's transaction)."""
        for start in range(0, len(ids), CHUNK):
            chunk = list(ids[start : start + CHUNK])
            self._index_stems(
                self.conn.execute(
                    f"SELECT id, title, summary FROM items WHERE id IN ({_marks(chunk)})", chunk
                ).fetchall()
            )

    def _index_stems(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Index items' text, as (id, title, summary) that the items table holds, stemmed (inside the caller's
        transaction)."""
        self._write_stems([(item_id, stem_text(title), stem_text(summary)) for item_id, title, summary in rows])

    def _write_stems(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """Index items' stemmed text, as (id, title stems, summary stems) (inside the caller's transaction)."""
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            ids = [row[0] for row in chunk]
            self.conn.execute(f"DELETE FROM items_stemmed WHERE item_id IN ({_marks(ids)})", ids)
            self.conn.executemany("INSERT INTO items_stemmed (item_id, title, summary) VALUES (?,?,?)", chunk)
            self.conn.execute(f"DELETE FROM items_unstemmed WHERE item_id IN ({_marks(ids)})", ids)

    # -- theme matches ----------------------------------------------------------------------------

    def _write_matches(
        self, results: Sequence[tuple[int, Sequence[ThemeMatch]]], version: str, stamp: str | None
    ) -> None:
        """Replace the matches of these items (inside the caller's transaction)."""
        self.conn.executemany("DELETE FROM matches WHERE item_id = ?", [(item_id,) for item_id, _ in results])
        self._insert_matches(results, version, stamp)
        self.conn.executemany(
            "UPDATE items SET matcher_version = ? WHERE id = ?", [(version, item_id) for item_id, _ in results]
        )

    def _insert_matches(
        self, results: Sequence[tuple[int, Sequence[ThemeMatch]]], version: str | None, stamp: str | None
    ) -> None:
        self.conn.executemany(
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

    def items_to_match(self, version: str, *, everything: bool = False) -> int:
        """How many items `rematch` would match: those not matched with `version`, or all."""
        where = "" if everything else "WHERE matcher_version IS NOT ?"
        return int(
            self.conn.execute(f"SELECT count(*) FROM items {where}", [] if everything else [version]).fetchone()[0]
        )

    def rematch(self, matcher: Matching, now: datetime, *, everything: bool = False, batch: int = 500) -> Iterator[int]:
        """Match stored items again, `batch` items per short transaction (a running daemon waits at most
        for one batch). Yields the number of items done after each batch."""
        stamp = iso(now)
        last_id = 0
        while True:
            rows = self.conn.execute(
                "SELECT id, title, summary FROM items WHERE id > ? AND (? OR matcher_version IS NOT ?) "
                "ORDER BY id LIMIT ?",
                (last_id, everything, matcher.version, batch),
            ).fetchall()
            if not rows:
                return
            results = [(item_id, matcher.match(title, summary)) for item_id, title, summary in rows]
            with self.transaction():
                self._write_matches(self._still_current(rows, results, matcher), matcher.version, stamp)
            last_id = rows[-1][0]
            self.checkpoint()
            yield len(rows)

    def _still_current(
        self, rows: Sequence[tuple[int, str, str]], results: list[tuple[int, list[ThemeMatch]]], matcher: Matching
    ) -> list[tuple[int, list[ThemeMatch]]]:
        """The batch's results, each item matched again on the text it holds now (inside the write
        transaction) if a poll changed it since the batch was read: a stale match would quote text the
        item no longer has. An item deleted meanwhile is left out."""
        ids = [row[0] for row in rows]
        now: dict[int, tuple[str, str]] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            now.update(
                (item_id, (title, summary))
                for item_id, title, summary in self.conn.execute(
                    f"SELECT id, title, summary FROM items WHERE id IN ({_marks(chunk)})", chunk
                )
            )
        fresh = []
        for (item_id, title, summary), (_, found) in zip(rows, results, strict=True):
            current = now.get(item_id)
            if current is None:
                continue
            fresh.append((item_id, found if current == (title, summary) else matcher.match(*current)))
        return fresh

    # -- upkeep -----------------------------------------------------------------------------------

    def prune_fetches(
        self, older_than: datetime, now: datetime, *, stop: Callable[[], bool] = lambda: False, chunk: int = PRUNE_CHUNK
    ) -> int:
        """Delete the rows of the fetches log that started before `older_than`, `chunk` rows per transaction
        (a poll waits at most for one), until none is left or `stop()` says so; count them in `pruned`.
        Each feed's first successful fetch is kept: it says when polling began, which weeks a digest covers.
        Returns how many rows were deleted."""
        total = 0
        while not stop():
            with self.transaction():
                deleted = int(
                    self.conn.execute(
                        f"""
                    DELETE FROM fetches WHERE id IN (
                        SELECT id FROM fetches WHERE started_at < ? AND id NOT IN (
                            SELECT first FROM (SELECT (SELECT x.id FROM fetches x WHERE x.feed_id = f.id
                                AND x.outcome IN {SUCCESSES} ORDER BY x.started_at, x.id LIMIT 1) AS first
                                FROM feeds f) WHERE first IS NOT NULL)
                        ORDER BY started_at LIMIT ?)""",
                        (iso(older_than), chunk),
                    ).rowcount
                )
                if deleted:
                    self.conn.execute(
                        "INSERT INTO pruned (table_name, rows, last_pruned_at, older_than) VALUES ('fetches', ?, ?, ?) "
                        "ON CONFLICT (table_name) DO UPDATE SET rows = rows + excluded.rows, "
                        "last_pruned_at = excluded.last_pruned_at, older_than = excluded.older_than",
                        (deleted, iso(now), iso(older_than)),
                    )
            total += deleted
            if deleted < chunk:
                break
        if total:
            self.checkpoint()
        return total

    def theme_counts(self, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
        """theme -> (matches of items published in [start, end), matches in all)."""
        rows = self.conn.execute(
            "SELECT m.theme, sum(i.published >= ? AND i.published < ?), count(*) FROM matches m "
            "JOIN items i ON i.id = m.item_id GROUP BY m.theme",
            (iso(start), iso(end)),
        )
        return {theme: (int(recent or 0), int(total)) for theme, recent, total in rows}

    def _existing_items(self, keys: list[str]) -> dict[str, tuple[int, str, str]]:
        """Stored items by key: id, content hash, first seen."""
        found: dict[str, tuple[int, str, str]] = {}
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            for item_id, key, stored_hash, first_seen in self.conn.execute(
                f"SELECT id, key, content_hash, first_seen FROM items WHERE key IN ({_marks(chunk)})", chunk
            ):
                found[key] = (item_id, stored_hash, first_seen)
        return found

    def _sources(self, feed_id: int, item_ids: list[int]) -> dict[int, tuple[str, str]]:
        """This feed's sightings of stored items: the hash of its last copy, when it last carried it."""
        found: dict[int, tuple[str, str]] = {}
        for start in range(0, len(item_ids), CHUNK):
            chunk = item_ids[start : start + CHUNK]
            for item_id, source_hash, last_seen in self.conn.execute(
                f"SELECT item_id, content_hash, last_seen FROM item_sources WHERE feed_id = ? AND item_id IN "
                f"({_marks(chunk)})",
                [feed_id, *chunk],
            ):
                found[item_id] = (source_hash, last_seen)
        return found

    # -- reading ----------------------------------------------------------------------------------

    def feed_health(self) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                f"""
            SELECT f.*, (SELECT count(*) FROM item_sources s WHERE s.feed_id = f.id) AS items, {NEWEST} AS newest
            FROM feeds f WHERE f.in_config = 1 ORDER BY f.id""",
                {"upto": FOREVER},
            )
        )

    def search(self, query: str, limit: int = 20, newest_first: bool = False) -> list[dict[str, Any]]:
        """Full-text search (FTS5 syntax: words, "phrases", OR, NOT, prefix*), every word stemmed by its
        language (`stemming`): "беженцы" finds "беженцев", "refugee" finds "refugees". A query that is not
        valid FTS5 syntax is searched again as plain words, so a stray quote or hyphen still finds something."""
        # Ranking every match of a common word in a large archive is slow (bm25 for each), so relevance is
        # judged among the RANK_WINDOW most recent matches: FTS5 walks its index newest first and stops.
        # Snippets are made for the rows shown only.
        self.stem_pending()
        try:
            return self._search(search_query(query), limit, newest_first)
        except sqlite3.OperationalError:
            return self._search(search_query(_as_plain_words(query)), limit, newest_first)

    def _search(self, query: str, limit: int, newest_first: bool) -> list[dict[str, Any]]:
        window = self.conn.execute(
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
            for row in self.db.query(
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

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])


def feed_renames(feeds: Sequence[FeedSource], rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """new name -> old name, for each configured feed unknown by name whose address is that of a stored feed
    no longer in the config (its `config_url`, or the `url` a permanent redirect moved it to). A feed that
    has just left the config is preferred over one retired long ago; each stored feed is claimed once."""
    configured = {f.name for f in feeds}
    leaving = sorted((r for r in rows if r["name"] not in configured), key=lambda r: (-r["in_config"], -r["id"]))
    taken: set[str] = set()
    renames: dict[str, str] = {}
    known = {r["name"] for r in rows}
    for feed in feeds:
        if feed.name in known:
            continue
        address = _address(feed.url)
        for row in leaving:
            if row["name"] not in taken and address in (_address(row["config_url"]), _address(row["url"])):
                taken.add(row["name"])
                renames[feed.name] = row["name"]
                break
    return renames


def _address(url: str) -> str:
    """A feed's address as the config compares them: http and https of one URL are the same feed."""
    canonical = canonical_url(url) or url
    return canonical.split(":", 1)[1] if canonical.startswith(("http:", "https:")) else canonical


def _stamp(text: str) -> float:
    moment = from_iso(text)
    return moment.timestamp() if moment else 0.0


def _without(row: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != key}


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values)) or "NULL"


def _as_plain_words(query: str) -> str:
    words = [w.replace('"', "") for w in query.split()]
    return " ".join(f'"{w}"' for w in words if w) or '""'


def _feed_state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        config_url=row["config_url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        content_hash=row["content_hash"],
        last_fetch_at=from_iso(row["last_fetch_at"]),
        last_success_at=from_iso(row["last_success_at"]),
        last_error=row["last_error"],
        last_error_at=from_iso(row["last_error_at"]),
        consecutive_failures=row["consecutive_failures"],
        retry_not_before=from_iso(row["retry_not_before"]),
        dead=bool(row["dead"]),
    )


def health_figures(store: Store, day: tuple[str, str], week: tuple[str, str], stale_cut: str) -> dict[str, Any]:
    """What `monitor status` reports, in few queries (timestamps as stored: UTC ISO text). `day` and `week`
    are [start, end) in monitor.timezone: an item counts in the day and week it was published (first seen
    when undated), as in `monitor themes` and the digest (issue 13). A feed with nothing new since
    `stale_cut` is stale."""
    conn = store.conn
    feeds = dict(
        conn.execute(
            "SELECT CASE WHEN dead THEN 'dead' WHEN consecutive_failures > 0 THEN 'failing' "
            f"WHEN last_fetch_at IS NULL THEN 'new' WHEN {STALE} THEN 'stale' ELSE 'ok' END AS state, count(*) "
            "FROM feeds f WHERE in_config = 1 GROUP BY state",
            {"cut": stale_cut, "upto": FOREVER},
        ).fetchall()
    )
    last_fetch = conn.execute("SELECT max(started_at) FROM fetches").fetchone()[0]
    today, this_week = (
        conn.execute("SELECT count(*) FROM items WHERE published >= ? AND published < ?", span).fetchone()[0]
        for span in (day, week)
    )
    themes, themes_today = (
        dict(
            conn.execute(
                "SELECT m.theme, count(*) FROM matches m JOIN items i ON i.id = m.item_id "
                "WHERE i.published >= ? AND i.published < ? GROUP BY m.theme",
                span,
            ).fetchall()
        )
        for span in (week, day)
    )
    last_digest = conn.execute("SELECT week, state, sent_at FROM digests ORDER BY week DESC LIMIT 1").fetchone()
    kept, oldest = conn.execute("SELECT count(*), min(started_at) FROM fetches").fetchone()
    pruned = conn.execute("SELECT rows, last_pruned_at FROM pruned WHERE table_name = 'fetches'").fetchone()
    return {
        "feeds": feeds,
        "last_fetch": last_fetch,
        "items_today": today,
        "items_week": this_week,
        "themes_week": themes,
        "themes_today": themes_today,
        "last_digest": list(last_digest) if last_digest else None,
        "fetch_log": {
            "rows": kept,
            "oldest": oldest,
            "pruned": pruned[0] if pruned else 0,
            "last_pruned": pruned[1] if pruned else None,
        },
    }


def clock_figures(store: Store, limit: str) -> dict[str, Any]:
    """What `monitor status` says about time: the last poll not after `limit` (now and a clock's drift, as
    stored UTC text), and what is dated after it (a clock set back): feeds last polled then, fetch rows, and
    the latest such time; `future` is None when nothing is."""
    conn = store.conn
    last = conn.execute("SELECT max(started_at) FROM fetches WHERE started_at <= ?", (limit,)).fetchone()[0]
    feeds, latest_feed = conn.execute(
        "SELECT count(*), max(last_fetch_at) FROM feeds WHERE in_config = 1 AND last_fetch_at > ?", (limit,)
    ).fetchone()
    fetches, latest_fetch = conn.execute(
        "SELECT count(*), max(started_at) FROM fetches WHERE started_at > ?", (limit,)
    ).fetchone()
    future = None
    if feeds or fetches:
        future = {"feeds": feeds, "fetches": fetches, "latest": max(filter(None, [latest_feed, latest_fetch]))}
    return {"last_fetch": last, "future": future}


def _is_locked(error: BaseException) -> bool:
    """Another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED), as opposed to a broken file."""
    code = getattr(error, "sqlite_errorcode", None)
    code = code & 0xFF if isinstance(code, int) else None  # the primary code of an extended one
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error)
