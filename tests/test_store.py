"""The SQLite file: migrations, atomic per-feed writes, reconciliation of items, search."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.errors import StoreError
from monitor.parse.feed import parse_feed
from monitor.storage import Store
from monitor.storage import feeds as feed_store
from monitor.storage import search as search_store
from monitor.storage.schema import MIGRATIONS
from monitor.types import FeedReport, FeedSource, FeedState, FetchOutcome
from monitor.update.poll import store_poll

from .samples import headlines, rss

NOW = datetime(2023, 9, 30, 12, tzinfo=UTC)


def source(name: str = "sample-wire", url: str = "https://sample-wire.example.org/rss") -> FeedSource:
    return FeedSource(name=name, url=url, interval=timedelta(minutes=30))


def stored_state(store: Store, name: str) -> FeedState:
    """The stored state of a feed in the config."""
    state = feed_store.feed_state(store, name)
    assert state is not None
    return state


def poll_into(store: Store, name: str, body: bytes, now: datetime = NOW):
    state = stored_state(store, name)
    parsed = parse_feed(body, url=state.url, headers={}, feed_id=state.id, now=now)
    report = FeedReport(feed=name, url=state.url, outcome=FetchOutcome.OK, status=200)
    return store_poll(store, replace(state, last_fetch_at=now), report, parsed, now)


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "monitor.db") as opened:
        feed_store.sync_feeds(opened, [source(), source("sample-mirror", "https://mirror.example.org/rss")], NOW)
        yield opened


def test_migrations_apply_once_and_reopening_changes_nothing(tmp_path):
    path = tmp_path / "monitor.db"
    with Store.open(path) as first:
        assert first.schema_version() == MIGRATIONS[-1].version
        assert first.migrate() == []  # applied twice: nothing left to do
        schema = first.conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    with Store.open(path) as again:
        assert again.conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
        assert again.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert again.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_database_from_a_newer_monitor_is_refused_not_damaged(tmp_path):
    path = tmp_path / "monitor.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', '2030-01-01T00:00:00Z')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer monitor"):
        Store.open(path)


def test_processes_opening_a_new_database_at_once_each_find_it_whole(tmp_path):
    """The daemon's first start beside a cron `monitor digest`: several processes migrate one new file at
    once. Each holds the schema's state as it read it while another holds the write lock; whichever comes
    second must not apply a migration again ("duplicate column name", exit 1 as CI once saw)."""
    path = tmp_path / "monitor.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    holder.execute("BEGIN IMMEDIATE")  # every process reads "nothing applied", then queues for the lock
    opener = (
        "import sys; from monitor.storage import Store; print('ready', flush=True); "
        "store = Store.open(sys.argv[1]); print(store.schema_version())"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", opener, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(4)
    ]
    try:
        for run in runs:
            assert run.stdout is not None and run.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # not a proof of anything: only lets each process read the schema and reach the lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    newest = str(max(m.version for m in MIGRATIONS))
    assert [(run.returncode, out.strip()) for run, out in zip(runs, outputs, strict=True)] == [(0, newest)] * 4
    with sqlite3.connect(path) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert versions == sorted(m.version for m in MIGRATIONS)


@pytest.mark.slow  # ten rounds of six processes
def test_processes_creating_a_database_at_once_each_open_it(tmp_path):
    """Six processes released at once on a file that does not exist yet: putting it in WAL mode can deadlock
    between them, and SQLite then says "database is locked" at once to the one that must give way; it gives
    way and tries again. Before, about one process in seventy-five failed to open (2 of 150 in a run of this
    test at 25 rounds): ten rounds catch that often, not always; none may fail now."""
    opener = (
        "import os, sys, time; from monitor.storage import Store; print('ready', flush=True)\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.001)\n"
        "Store.open(sys.argv[1]).close()"
    )
    failures = []
    for round_ in range(10):
        path, go = tmp_path / f"new-{round_}.db", tmp_path / f"go-{round_}"
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", opener, str(path), str(go)],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(6)
        ]
        for run in runs:
            assert run.stdout is not None and run.stdout.readline().strip() == "ready"
        go.touch()
        failures += [out for run in runs if (out := run.communicate(timeout=60)[0]) and run.returncode]
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert failures == []


def test_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot open"):
        Store.open(blocker / "monitor.db")


def test_reconcile_new_seen_updated_and_other_feeds(store):
    entries = headlines(3)
    assert poll_into(store, "sample-wire", rss(entries)).new == 3
    counts = poll_into(store, "sample-wire", rss(entries), NOW + timedelta(hours=1))
    assert (counts.new, counts.updated, counts.seen) == (0, 0, 3)
    # the mirror carries a different copy of one story: a sighting, not an update
    mirror = [replace(entries[0], summary="<p>Sample mirror's shorter copy.</p>")]
    counts = poll_into(store, "sample-mirror", rss(mirror), NOW + timedelta(hours=2))
    assert (counts.new, counts.updated, counts.seen) == (0, 0, 1)
    # polling both again does not flap between the two copies
    assert poll_into(store, "sample-wire", rss(entries), NOW + timedelta(hours=3)).updated == 0
    assert poll_into(store, "sample-mirror", rss(mirror), NOW + timedelta(hours=3)).updated == 0
    # the mirror edits its copy: now the item is updated
    edited = [replace(mirror[0], title="Sample: mirror corrects its headline")]
    assert poll_into(store, "sample-mirror", rss(edited), NOW + timedelta(hours=4)).updated == 1
    assert store.count("items") == 3 and store.count("item_sources") == 4


def test_first_seen_date_is_kept_when_a_dateless_item_is_seen_again(store):
    dateless = [replace(e, published=None) for e in headlines(1)]
    poll_into(store, "sample-wire", rss(dateless))
    later = NOW + timedelta(days=2)
    edited = [replace(dateless[0], title="Sample: later edit")]
    poll_into(store, "sample-wire", rss(edited), later)
    row = store.conn.execute("SELECT published, date_source, first_seen, updated_at FROM items").fetchone()
    assert row == ("2023-09-30T12:00:00Z", "first_seen", "2023-09-30T12:00:00Z", "2023-10-02T12:00:00Z")


def test_a_failed_write_rolls_back_the_whole_feed(store):
    state = stored_state(store, "sample-wire")
    parsed = parse_feed(rss(headlines(3)), url=state.url, headers={}, feed_id=state.id, now=NOW)
    bad_report = FeedReport(feed="sample-wire", url=state.url, outcome=FetchOutcome.OK, status=200)
    store.conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON fetches BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    with pytest.raises(StoreError, match="disk says no"):
        store_poll(store, replace(state, etag='"new"'), bad_report, parsed, NOW)
    assert store.count("items") == 0 and store.count("item_sources") == 0
    assert stored_state(store, "sample-wire").etag is None  # the feed's state was not half-written


def test_readers_are_not_blocked_by_a_writer(store, tmp_path):
    poll_into(store, "sample-wire", rss(headlines(2)))
    reader = sqlite3.connect(tmp_path / "monitor.db")
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM items").fetchone()[0] == 2  # holds a read snapshot
    poll_into(store, "sample-wire", rss(headlines(2, start=10)), NOW + timedelta(hours=1))
    assert reader.execute("SELECT count(*) FROM items").fetchone()[0] == 2  # its snapshot is stable
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM items").fetchone()[0] == 4
    reader.close()


def test_sync_feeds_follows_config_edits_and_keeps_removed_feeds_items(store):
    poll_into(store, "sample-wire", rss(headlines(2)))
    old = stored_state(store, "sample-wire")
    feed_store.save_feed_state(store, replace(old, etag='"x"', dead=True))
    feed_store.sync_feeds(store, [source(url="https://sample-wire.example.org/new-rss")], NOW)
    moved = stored_state(store, "sample-wire")
    assert (moved.url, moved.etag, moved.dead) == ("https://sample-wire.example.org/new-rss", None, False)
    # another address is another feed: it starts its own history, and the old one keeps its items, retired
    assert moved.id != old.id
    assert names(store)[old.id] == ("sample-wire (sample-wire.example.org/rss)", 0)
    assert feed_store.feed_state(store, "sample-mirror") is None  # retired from polling...
    assert store.count("feeds") == 3 and store.count("items") == 2  # ...but nothing is deleted
    # following a 301 in the config is the same feed
    feed_store.save_feed_state(store, replace(moved, url="https://sample-wire.example.org/rss2"))
    feed_store.sync_feeds(store, [source(url="http://sample-wire.example.org/rss2")], NOW)
    assert stored_state(store, "sample-wire").id == moved.id


def names(store: Store) -> dict[int, tuple[str, int]]:
    return {r["id"]: (r["name"], r["in_config"]) for r in store.db.query("SELECT id, name, in_config FROM feeds")}


def test_sync_feeds_keeps_each_address_with_its_row_when_names_are_reused_or_swapped(store):
    wire, mirror = stored_state(store, "sample-wire"), stored_state(store, "sample-mirror")
    wire_url, mirror_url, other_url = wire.url, mirror.url, "https://other.example.org/rss"
    # swapped: each row keeps its address and takes the other's name
    renames = feed_store.sync_feeds(store, [source("sample-wire", mirror_url), source("sample-mirror", wire_url)], NOW)
    assert sorted(renames) == [("sample-mirror", "sample-wire"), ("sample-wire", "sample-mirror")]
    assert names(store) == {wire.id: ("sample-mirror", 1), mirror.id: ("sample-wire", 1)}
    assert stored_state(store, "sample-mirror").url == wire_url
    # the wire is renamed, and its old name given to a third outlet: a new row
    feed_store.sync_feeds(store, [source("renamed", wire_url), source("sample-mirror", other_url)], NOW)
    other = stored_state(store, "sample-mirror")
    assert other.id not in (wire.id, mirror.id) and other.url == other_url
    assert names(store)[wire.id] == ("renamed", 1) and names(store)[mirror.id] == ("sample-wire", 0)
    # a name at an address already stored continues that row; the row left with no address in the config
    # keeps its items under a label, giving its name up
    feed_store.sync_feeds(store, [source("sample-wire", mirror_url), source("renamed", other_url)], NOW)
    assert names(store) == {
        wire.id: ("renamed (sample-wire.example.org/rss)", 0),
        mirror.id: ("sample-wire", 1),
        other.id: ("renamed", 1),
    }


def test_search_ranks_finds_stems_and_survives_bad_syntax(store):
    entries = headlines(5)
    poll_into(store, "sample-wire", rss(entries))
    hits = search_store.search(store, "refugee")
    assert [h["title"] for h in hits] == [entries[3].title]  # "refugee" stems to match
    assert search_store.search(store, '"Lachin road"')[0]["title"] == entries[0].title
    assert search_store.search(store, 'Lachin "road') and search_store.search(store, "AND OR NOT") == []
    assert len(search_store.search(store, "sample", limit=2)) == 2
    newest = search_store.search(store, "sample", newest_first=True)
    assert [h["published"] for h in newest] == sorted((h["published"] for h in newest), reverse=True)


def test_many_new_and_changed_items_in_one_poll_are_each_indexed_once_for_search(store):
    """Items and their stems are written many rows to a statement (a statement per row made each full-text
    index flush per row): a poll of more items than one statement takes must index each, and a second poll
    that changes them all must leave only their new words findable, in both indexes."""
    count = 1500  # more rows than one statement of items (14 columns) or of their changes holds
    entries = [
        replace(e, summary=f"<p>Story {e.link[-9:]} reports alphaword{n}.</p>") for n, e in enumerate(headlines(count))
    ]
    assert poll_into(store, "sample-wire", rss(entries)).new == count

    def found(word: str) -> list[str]:
        rows = store.conn.execute(
            "SELECT i.link FROM items_fts JOIN items i ON i.id = items_fts.rowid WHERE items_fts MATCH ?", (word,)
        )
        return [row[0] for row in rows]

    assert found("alphaword0") == [entries[0].link] and found(f"alphaword{count - 1}") == [entries[-1].link]
    changed = [
        replace(e, summary=f"<p>Story {e.link[-9:]} now reports betaword{n}.</p>") for n, e in enumerate(entries)
    ]
    assert poll_into(store, "sample-wire", rss(changed), now=NOW + timedelta(hours=1)).updated == count
    for n in (0, 777, count - 1):
        assert found(f"alphaword{n}") == [] and found(f"betaword{n}") == [entries[n].link]
        assert [hit["link"] for hit in search_store.search(store, f"betaword{n}")] == [entries[n].link]
        assert search_store.search(store, f"alphaword{n}") == []
    for index in ("items_fts", "items_stemmed_fts"):  # raises where the index and its content disagree
        store.conn.execute(f"INSERT INTO {index}({index}) VALUES ('integrity-check')")
    assert store.count("items") == count and store.count("items_stemmed") == count


def test_sync_feeds_follows_renames_and_leaves_other_feeds_alone(store):
    wire, mirror = feed_store.feed_state(store, "sample-wire"), feed_store.feed_state(store, "sample-mirror")
    assert wire and mirror
    # renamed, written with https -> http (the same feed), beside a feed that is really new
    renames = feed_store.sync_feeds(
        store,
        [
            source("wire-renamed", "http://sample-wire.example.org/rss"),
            source("sample-mirror", "https://mirror.example.org/rss"),
            source("sample-new", "https://new.example.org/rss"),
        ],
        NOW,
    )
    assert renames == [("sample-wire", "wire-renamed")]
    renamed = feed_store.feed_state(store, "wire-renamed")
    assert renamed and renamed.id == wire.id
    assert stored_state(store, "sample-mirror").id == mirror.id
    # a feed removed long ago and added back under another name is that feed again
    feed_store.sync_feeds(store, [source("sample-mirror", "https://mirror.example.org/rss")], NOW)
    assert feed_store.sync_feeds(
        store,
        [
            source("sample-mirror", "https://mirror.example.org/rss"),
            source("back-again", "https://sample-wire.example.org/rss"),
        ],
        NOW,
    ) == [("wire-renamed", "back-again")]
    assert stored_state(store, "back-again").id == wire.id
    assert store.count("feeds") == 3
