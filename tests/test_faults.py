"""Outages with real parts: a database another process keeps locked, a disk that refuses writes. The
daemon and `monitor poll` run as real subprocesses against feeds on 127.0.0.1 and a real SQLite file;
the faults are real too (an open sqlite3 transaction, a file-size limit set on the daemon's process)."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .samples import headlines, rss
from .test_daemon import count, wait_for

SITE = "https://sample-wire.example.org"


class Growing:
    """A sample feed whose size the test sets: each request serves the first `size` sample stories."""

    def __init__(self, size: int):
        self.size = size

    def __call__(self) -> bytes:
        return rss(headlines(self.size, site=SITE))


def keys(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    try:
        return {row[0] for row in conn.execute("SELECT key FROM items")}
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def start_daemon(config: Path, db: Path, log: Path,
                 preexec: Callable[[], None] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "run"],
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, preexec_fn=preexec)


def stop_daemon(process: subprocess.Popen[bytes], log: Path) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=35) == 0, log.read_text()


def hold_write_lock(db: Path, seconds: float, started: threading.Event) -> threading.Thread:
    """Another process's writer (here a thread with its own connection) holding the write lock."""

    def hold() -> None:
        conn = sqlite3.connect(db, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        started.set()
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert started.wait(10)
    return thread


def analyst_reading(db: Path) -> sqlite3.Connection:
    """An analyst's long read: a transaction left open on a SELECT, as a paused `sqlite3` session does."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM items").fetchone()
    return conn


@pytest.mark.timeout(60)
def test_monitor_poll_waits_for_a_writer_and_an_analysts_read_and_stores_everything(
        feed_server, write_config, run_cli, db_path, tmp_path):
    feed = Growing(10)
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/wire", generate=feed)}])
    run_cli(config, "poll")
    before = keys(db_path)
    feed.size = 25
    reader = analyst_reading(db_path)
    held = 3.0
    writer = hold_write_lock(db_path, held, threading.Event())
    started = time.monotonic()
    poll = subprocess.run([sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db_path), "poll"],
                          capture_output=True, text=True, timeout=60)
    waited = time.monotonic() - started
    writer.join()
    assert poll.returncode == 0, poll.stdout + poll.stderr
    assert waited >= held - 0.5  # it waited for the lock (monitor.busy_timeout, 30 s by default)...
    assert "15 new" in poll.stdout  # ...and then stored the round
    assert reader.execute("SELECT count(*) FROM items").fetchone()[0] == 10  # the analyst's snapshot stays put
    reader.execute("COMMIT")
    reader.close()
    after = keys(db_path)
    assert before < after and len(after) == 25 and integrity(db_path) == "ok"
    print(f"\nlock wait observed by monitor poll: {waited:.1f}s for a writer holding it {held:.1f}s")


@pytest.mark.timeout(90)
def test_the_daemon_gives_up_a_round_the_lock_outlasts_says_so_and_stores_it_next_round(
        feed_server, write_config, run_cli, db_path, tmp_path):
    feed = Growing(10)
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/wire", generate=feed), "interval": "1s"}],
                          extra='[monitor]\nbusy_timeout = "500ms"\n'
                                f'digests_dir = "{tmp_path / "digests"}"\n')
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, db_path, log)
    try:
        wait_for(lambda: count(db_path, "SELECT count(*) FROM items") == 10, what="the first poll")
        before = keys(db_path)
        reader = analyst_reading(db_path)
        feed.size = 30
        writer = hold_write_lock(db_path, 4.0, threading.Event())
        wait_for(lambda: "database is locked" in log.read_text(), timeout=10, what="the round given up")
        writer.join()
        line = next(x for x in log.read_text().splitlines() if "database is locked" in x)
        assert "sample-wire: this poll was not stored; the feed is polled again at its next turn" in line
        assert str(db_path) in line and "busy_timeout (0.5s)" in line
        wait_for(lambda: count(db_path, "SELECT count(*) FROM items") == 30, what="the next round to store it")
        assert daemon.poll() is None
        assert reader.execute("SELECT count(*) FROM items").fetchone()[0] == 10
        reader.execute("COMMIT")
        reader.close()
    finally:
        stop_daemon(daemon, log)
    assert before < keys(db_path) and integrity(db_path) == "ok"


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # runs in the child between fork and exec
        # Ignored, SIGXFSZ no longer kills the process: a write past the limit fails with EFBIG instead,
        # which is what SQLite sees on a full disk. The hard limit stays open so the test can lift it.
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    return apply


@pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs prlimit(2) (Linux) to lift the limit")
@pytest.mark.timeout(90)
def test_a_full_disk_fails_rounds_clearly_the_daemon_lives_on_and_recovers_when_space_returns(
        feed_server, write_config, run_cli, db_path, tmp_path):
    feed = Growing(10)
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/wire", generate=feed), "interval": "1s"}],
                          extra=f'[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n')
    run_cli(config, "poll")
    before = keys(db_path)
    limit = os.path.getsize(db_path)  # no file may grow past the database's size now: the disk is "full"
    feed.size = 400  # far more than fits
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, db_path, log, preexec=file_size_limit(limit))
    try:
        wait_for(lambda: log.read_text().count("this poll was not stored") >= 3, timeout=20,
                 what="three failed rounds")
        assert daemon.poll() is None  # it lives on through failing rounds
        line = next(x for x in log.read_text().splitlines() if "this poll was not stored" in x)
        assert f"database {db_path}: cannot write: disk I/O error (is the disk full" in line
        assert keys(db_path) == before and integrity(db_path) == "ok"
        resource.prlimit(daemon.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        wait_for(lambda: count(db_path, "SELECT count(*) FROM items") == 400, timeout=20,
                 what="the first round after space returned")
    finally:
        stop_daemon(daemon, log)
    after = keys(db_path)
    assert before < after and len(after) == 400 and integrity(db_path) == "ok"
