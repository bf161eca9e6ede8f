"""EDGE: the SQLite file: opening, migrating, transactions and the write lock; what every part of storage shares.

One file, WAL mode (readers never block the poller and the poller never blocks an analyst's `sqlite3`
shell), a busy timeout, foreign keys on. Each feed's results of a round are written in one transaction,
so a crash mid-round loses nothing that was committed before it. Items are reconciled in bulk (one
query for the keys of a whole feed, never one query per item).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Self

import sqlite_utils

from ..errors import StoreError
from .schema import MIGRATIONS, Migration

BUSY_TIMEOUT = timedelta(seconds=30)  # `monitor.busy_timeout`
CHUNK = 500  # bound parameters per IN (...) query, well under SQLite's limit
WAL_RETRY = 0.05  # seconds between tries to put a database another process is creating in WAL mode
ROW_PARAMETERS = 8000  # bound parameters per multi-row INSERT, where SQLite allows as many (32766 since 3.32)
# A WAL that a long read transaction let grow (to the size of the database) is cut back to this once it is
# checkpointed; without a limit SQLite reuses the file but never shrinks it.
JOURNAL_SIZE_LIMIT = 16 * 1024 * 1024
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


class Connection:
    """The database connection and its transactions: what every other storage module's functions take."""

    def __init__(self, path: str, conn: sqlite3.Connection, busy_timeout: timedelta = BUSY_TIMEOUT):
        self.path = path
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.busy_timeout = busy_timeout

    @classmethod
    def open(cls, path: str | Path, busy_timeout: timedelta = BUSY_TIMEOUT) -> Self:
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
            _use_wal(conn, busy_timeout)
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

    def __enter__(self) -> Self:
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

    def where_in(self, sql: str, ids: Iterable[Any]) -> list[Any]:
        """`sql`, where `{ids}` stands for a list of ids ("... WHERE id IN ({ids})"), run for every CHUNK of
        `ids` (SQLite bounds one statement's parameters); the rows of every run, in order."""
        wanted = list(ids)
        rows: list[Any] = []
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            rows += self.conn.execute(sql.replace("{ids}", _marks(chunk)), chunk).fetchall()
        return rows

    def insert_rows(self, insert: str, rows: Sequence[Sequence[Any]]) -> None:
        """`insert` ("INSERT INTO table (a, b)") of every row, many rows to a statement (see `row_chunks`)."""
        for values, parameters in self.row_chunks(rows):
            self.conn.execute(f"{insert} VALUES {values}", parameters)

    def row_chunks(self, rows: Sequence[Sequence[Any]]) -> Iterator[tuple[str, list[Any]]]:
        """Rows as a VALUES list ("(?,?),(?,?)") and its parameters, as many rows to a statement as SQLite
        takes parameters. Not executemany: a statement per row makes each FTS5 index behind a trigger flush
        its pending terms at every statement's end, a segment per row, three times the cost of the same rows
        in a few statements (bench/import.py)."""
        if not rows:
            return
        width = len(rows[0])
        per_statement = max(1, min(self.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), ROW_PARAMETERS) // width)
        row_marks = "(" + ",".join("?" * width) + ")"
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            yield ",".join([row_marks] * len(chunk)), [value for row in chunk for value in row]

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

    def migrate(self) -> list[int]:
        """Apply the migrations this database lacks, each atomically. Returns the versions applied.

        Several processes may open a new database at once (the daemon starting while cron runs `monitor
        digest`): each migration's record is written first, inside the write lock, so whichever process
        comes second hits the version's primary key, rolls back and reads again what is done."""
        try:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            newest_known = max(m.version for m in MIGRATIONS)
            applied: list[int] = []
            while True:
                done = {row[0] for row in self.conn.execute("SELECT version FROM schema_migrations")}
                if done and max(done) > newest_known:
                    raise StoreError(
                        self.path,
                        f"was written by a newer monitor (schema {max(done)}, this one "
                        f"knows {newest_known}); upgrade monitor",
                    )
                missing = [migration for migration in MIGRATIONS if migration.version not in done]
                if not missing:
                    return applied
                if self._apply_migration(missing[0]):
                    applied.append(missing[0].version)
        except sqlite3.Error as error:
            raise StoreError(self.path, f"cannot apply the schema: {error}", locked=_is_locked(error)) from error

    def _apply_migration(self, migration: Migration) -> bool:
        """Apply one migration; False when another process applied it first."""
        name = migration.name.replace("'", "''")
        claim = (
            "INSERT INTO schema_migrations VALUES "
            f"({migration.version}, '{name}', strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
        )
        try:
            self.conn.executescript(f"BEGIN IMMEDIATE;\n{claim};\n{migration.sql}\nCOMMIT;")
        except sqlite3.IntegrityError as error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if "schema_migrations" in str(error):
                return False
            raise
        except sqlite3.Error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        return True

    def schema_version(self) -> int:
        return self.conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0

    def count(self, table: str) -> int:
        return int(self.conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0])


def _use_wal(conn: sqlite3.Connection, busy_timeout: timedelta) -> None:
    """Put a new database in WAL mode, or find it there. Several processes creating one file at once (the
    daemon's first start beside a cron job) can deadlock on the change, each holding a read lock the other
    must see released: SQLite then answers "database is locked" at once, without waiting busy_timeout, to the
    one that must give way. It gives way, and tries again until busy_timeout has passed."""
    deadline = time.monotonic() + busy_timeout.total_seconds()
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if not _is_locked(error) or time.monotonic() >= deadline:
                raise
            time.sleep(WAL_RETRY)


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values)) or "NULL"


def _is_locked(error: BaseException) -> bool:
    """Another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED), as opposed to a broken file."""
    code = getattr(error, "sqlite_errorcode", None)
    code = code & 0xFF if isinstance(code, int) else None  # the primary code of an extended one
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error)
