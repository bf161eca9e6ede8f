"""Upkeep for months, with real processes on one SQLite file: the WAL that an analyst's long read
transaction let grow is cut back once the reader is gone, and the daemon prunes the fetches log to
`polling.keep_fetches` without changing what the digest and `monitor status` say about recent weeks."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.storage import JOURNAL_SIZE_LIMIT
from monitor.units import iso
from monitor.weeks import last_complete_week, week_label

from .helpers import Running, count, wait_for
from .samples import Entry, rss


def monitor(config: Path, db: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def big_feed(feed: int, edition: int, items: int = 400) -> bytes:
    """Items with long summaries (about 6 kB each); a new edition rewrites every one of them."""
    site = f"https://sample-{feed}.example.org"
    words = " ".join(f"word{(n * 7 + edition) % 997}" for n in range(900))
    return rss(
        [
            Entry(
                title=f"Sample {feed}-{n}: edition {edition}",
                link=f"{site}/{n}",
                guid=f"{site}/{n}",
                summary=f"Sample story {n}, edition {edition}. {words}",
            )
            for n in range(items)
        ]
    )


def wal_size(db: Path) -> int:
    wal = Path(str(db) + "-wal")
    return wal.stat().st_size if wal.exists() else 0


@pytest.mark.timeout(240)
@pytest.mark.slow
def test_the_wal_an_open_read_transaction_let_grow_is_cut_back_at_the_next_poll(feed_server, write_config, tmp_path):
    feeds = 4
    for n in range(feeds):
        feed_server.add(f"/feed{n}", body=big_feed(n, 1))
    config = write_config([{"name": f"sample-{n}", "url": feed_server.url(f"/feed{n}")} for n in range(feeds)])
    db = tmp_path / "data" / "monitor.db"
    monitor(config, db, "poll")

    # An analyst's shell stays open for days (as a daemon's connection does): the WAL is not deleted when a
    # command closes the database, so only a checkpoint and journal_size_limit can cut it back.
    analyst = sqlite3.connect(db, isolation_level=None)
    try:
        analyst.execute("BEGIN")
        analyst.execute("SELECT count(*) FROM items").fetchone()  # a read transaction, held a while
        for n in range(feeds):
            feed_server.add(f"/feed{n}", body=big_feed(n, 2))
        assert "1600 updated" in monitor(config, db, "poll").replace(",", "")
        grown = wal_size(db)
        assert grown > JOURNAL_SIZE_LIMIT, grown  # the WAL could not be reset under the reader
        analyst.execute("COMMIT")  # the transaction ends; the shell stays open

        monitor(config, db, "poll")  # unchanged feeds: a few small writes
        after = wal_size(db)
    finally:
        analyst.close()
    print(f"WAL {grown / 1e6:.1f} MB under the reader, {after / 1e6:.1f} MB after the next poll")
    assert after <= JOURNAL_SIZE_LIMIT


SOON = 10.0  # seconds: the upkeep's first retry after a held write lock (5 s), and slack


def add_unclean_item(db: Path, now: datetime) -> None:
    """An item an older monitor stored with its related links in the summary (migration 21 lists it): the
    upkeep's cleaning drops the "Pashinyan" link from it."""
    html = (
        '<p>Sample: families reach Goris after the long road.</p><ul><li><a href="https://sample.example.org/a">'
        'Sample: Pashinyan blames the peacekeepers</a></li><li><a href="https://sample.example.org/b">'
        "Sample: talks in Brussels</a></li></ul>"
    )
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO items (key, feed_id, title, summary, summary_html, published, date_source, first_seen, "
            "content_hash) VALUES ('sample:old', 1, 'Sample: the long road', ?, ?, ?, 'first_seen', ?, '')",
            ("Sample: families reach Goris after the long road. Sample: Pashinyan blames the peacekeepers", html)
            + (iso(now), iso(now)),
        )
        conn.execute("INSERT INTO items_unclean SELECT id FROM items WHERE key = 'sample:old'")
    conn.close()


def troubled(digest: str) -> list[str]:
    """The feeds a digest lists as troubled (their last error aside: the daemon polled meanwhile)."""
    return [line.split(":")[0] for line in digest.splitlines() if "sample-" in line]


def add_history(db: Path, now: datetime) -> dict[str, int]:
    """Fetch rows of the past, as months of polling leave them: old ones beyond the window, recent ones
    within it (a feed that failed all last week among them)."""
    conn = sqlite3.connect(db)
    feeds = dict(conn.execute("SELECT name, id FROM feeds").fetchall())
    rows = []

    def fetch(feed: str, when: datetime, outcome: str = "not_modified") -> None:
        rows.append(
            (
                feeds[feed],
                iso(when),
                20,
                "http://127.0.0.1/x",
                None if outcome == "error" else 200,
                outcome,
                "connection refused" if outcome == "error" else None,
            )
        )

    # Months ago: the first successful poll of each feed but one that never worked, then a long history
    # (every 10 minutes).
    first = [feed for feed in feeds if feed != "sample-never"]
    for feed in first:
        fetch(feed, now - timedelta(days=200), "ok")
    old = [now - timedelta(days=199) + timedelta(minutes=10 * n) for n in range(12_000)]  # 199 .. ~116 days ago
    for n, when in enumerate(old):
        feed = ("sample-good", "sample-down", "sample-never")[n % 3]
        fetch(feed, when, "error" if n % 7 == 0 or feed == "sample-never" else "not_modified")
    # Within the window: the last 80 days, every hour; sample-down failed all of last week.
    week = last_complete_week(now, "UTC", "monday")
    recent = [now - timedelta(days=80) + timedelta(hours=n) for n in range(80 * 24 - 2)]
    for when in recent:
        fetch("sample-good", when)
        down = week <= when < week + timedelta(days=7) or when >= week + timedelta(days=7)
        fetch("sample-down", when, "error" if down else "not_modified")
    conn.executemany(
        "INSERT INTO fetches (feed_id, started_at, duration_ms, url, status, outcome, error) VALUES (?,?,?,?,?,?,?)",
        rows,
    )
    conn.commit()
    conn.close()
    return {"first": len(first), "old": len(old), "recent": 2 * len(recent)}


@pytest.mark.timeout(180)
@pytest.mark.slow
def test_the_daemon_prunes_fetches_past_the_window_and_recent_weeks_read_the_same(feed_server, write_config, tmp_path):
    good = feed_server.add("/good", body=rss([Entry("Sample: a story", "https://good.example.org/1")]))
    config = write_config(
        [
            {"name": "sample-good", "url": good},
            {"name": "sample-down", "url": "http://127.0.0.1:9/down"},
            {"name": "sample-never", "url": "http://127.0.0.1:9/never"},
        ],
        extra=f'[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
        # sample-good's made-up history of 200 days has no story: within a year, not stale.
        polling={"stale_after": "365d"},
    )
    db = tmp_path / "data" / "monitor.db"
    monitor(config, db, "feeds")  # creates the database and the feeds
    now = datetime.now(UTC)
    history = add_history(db, now)
    week = week_label(last_complete_week(now, "UTC", "monday"), "UTC")
    before = monitor(config, db, "digest", "--week", week, "--dry-run")
    assert troubled(before) == ["  sample-down"], before  # failed all last week: a troubled feed
    assert count(db, "SELECT count(*) FROM pruned") == 0
    # An item written with plain SQL (an analyst's edit, or an archive from before the stemmed index) waits
    # to be stemmed; the daemon's upkeep stems it, without a search having to.
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "INSERT INTO items (key, feed_id, title, summary, published, date_source, first_seen, "
            "content_hash) VALUES ('sample:sql', 1, 'Sample: беженцы прибывают', '', ?, 'first_seen', ?, '')",
            (iso(now), iso(now)),
        )
    conn.close()
    add_unclean_item(db, now)  # and one an older monitor stored
    assert count(db, "SELECT count(*) FROM items_unstemmed") == 2

    log = tmp_path / "daemon.log"
    daemon = Running(config, db, log)
    try:
        # Chunk by chunk: stopping after the first commit would cut the prune short (SIGTERM stops it).
        wait_for(
            lambda: count(db, "SELECT coalesce(sum(rows), 0) FROM pruned") >= history["old"],
            timeout=60,
            what="the daemon's prune",
        )
        wait_for(
            lambda: count(db, "SELECT count(*) FROM items_unstemmed") == 0,
            timeout=30,
            what="the daemon's stemming of the search index's backlog",
        )
        wait_for(lambda: "stemmed 1 item(s)" in log.read_text(), timeout=10, what="the upkeep's log line")
    finally:
        daemon.stop()
    cutoff = iso(now - timedelta(days=90))
    assert count(db, f"SELECT count(*) FROM fetches WHERE started_at < '{cutoff}'") == history["first"]
    assert count(db, "SELECT coalesce(sum(rows), 0) FROM pruned WHERE table_name = 'fetches'") == history["old"]
    assert (
        count(db, f"SELECT count(*) FROM fetches WHERE started_at >= '{cutoff}' AND started_at < '{iso(now)}'")
        == history["recent"]
    )
    assert "pruned" in log.read_text()
    # The cleaned item was stemmed with its new text by the cleaning; the other by the stemming.
    assert count(db, "SELECT count(*) FROM items_unstemmed") == 0 and "stemmed 1 item(s)" in log.read_text()
    assert "cleaned the summaries of 1 stored item(s)" in log.read_text()
    assert count(db, "SELECT count(*) FROM items_unclean") == 0
    assert count(db, "SELECT count(*) FROM items WHERE summary LIKE '%Pashinyan%'") == 0
    assert troubled(monitor(config, db, "digest", "--week", week, "--dry-run")) == troubled(before)
    status = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "status"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    line = next(line for line in status.splitlines() if line.startswith("fetch log"))
    assert f"{history['old']:,} pruned" in line, status


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_an_upkeep_that_finds_the_write_lock_held_runs_soon_after_it_is_released_not_a_day_later(
    feed_server, write_config, tmp_path
):
    good = feed_server.add("/good", body=rss([Entry("Sample: a story", "https://good.example.org/1")]))
    config = write_config(
        [{"name": "sample-good", "url": good}],
        extra=f'[monitor]\nbusy_timeout = "1s"\ndigests_dir = "{tmp_path / "digests"}"\n',
    )
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    monitor(config, db, "feeds")  # creates the database and the feeds
    add_unclean_item(db, datetime.now(UTC))  # an upgrade's backlog: the upkeep's cleaning is due
    daemon = Running(config, db, log)
    analyst = sqlite3.connect(db, isolation_level=None)
    try:
        wait_for(lambda: "monitor running" in log.read_text(), what="the daemon's start")
        analyst.execute("BEGIN IMMEDIATE")  # held when the upkeep starts (10 s after the daemon)
        wait_for(lambda: "upkeep (" in log.read_text(), timeout=30, what="the upkeep's try")
        line = next(x for x in log.read_text().splitlines() if "upkeep (" in x)
        analyst.execute("COMMIT")
        released = time.monotonic()
        wait_for(
            lambda: "cleaned the summaries of 1 stored item(s)" in log.read_text(),
            timeout=SOON + 5,
            what=f"the upkeep after the lock was released (its line: {line!r})",
        )
        ran_after = time.monotonic() - released
    finally:
        analyst.close()
        daemon.stop()
    print(f"\nupkeep that found the write lock held: ran {ran_after:.1f}s after its release")
    assert "waits for the database" in line and "tried again in 5s" in line and "in a day" not in line, line
    assert ran_after < SOON
    assert count(db, "SELECT count(*) FROM items_unclean") == 0
    assert count(db, "SELECT count(*) FROM items WHERE summary LIKE '%Pashinyan%'") == 0
