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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.config.load import load_config
from monitor.digest.deliver import SmtpSender
from monitor.digest.publish import publish, retry_failed
from monitor.fetch.http import Fetcher
from monitor.storage import Store
from monitor.storage import digests as store_digest
from monitor.storage import feeds as feed_store
from monitor.update.poll import poll_round
from monitor.weeks import digest_send_moment, parse_week

from .conftest import backdate_polling
from .feedserver import FeedServer
from .helpers import STORIES, THEMES, WEEK, count, email_section, wait_for
from .mailserver import MailServer, body, free_port
from .samples import headlines, rss

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


def start_daemon(
    config: Path, db: Path, log: Path, preexec: Callable[[], None] | None = None
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "run"],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        preexec_fn=preexec,
    )


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
    feed_server, write_config, run_cli, db_path, tmp_path
):
    feed = Growing(10)
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/wire", generate=feed)}])
    run_cli(config, "poll")
    before = keys(db_path)
    feed.size = 25
    reader = analyst_reading(db_path)
    held = 3.0
    writer = hold_write_lock(db_path, held, threading.Event())
    started = time.monotonic()
    poll = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db_path), "poll"],
        capture_output=True,
        text=True,
        timeout=60,
    )
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
@pytest.mark.slow
def test_the_daemon_gives_up_a_round_the_lock_outlasts_says_so_and_stores_it_next_round(
    feed_server, write_config, run_cli, db_path, tmp_path
):
    feed = Growing(10)
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/wire", generate=feed), "interval": "1s"}],
        extra=f'[monitor]\nbusy_timeout = "500ms"\ndigests_dir = "{tmp_path / "digests"}"\n',
    )
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
@pytest.mark.slow
def test_a_full_disk_fails_rounds_clearly_the_daemon_lives_on_and_recovers_when_space_returns(
    feed_server, write_config, run_cli, db_path, tmp_path
):
    feed = Growing(10)
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/wire", generate=feed), "interval": "1s"}],
        extra=f'[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
    )
    run_cli(config, "poll")
    before = keys(db_path)
    limit = os.path.getsize(db_path)  # no file may grow past the database's size now: the disk is "full"
    feed.size = 400  # far more than fits
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, db_path, log, preexec=file_size_limit(limit))
    try:
        wait_for(lambda: log.read_text().count("this poll was not stored") >= 3, timeout=20, what="three failed rounds")
        assert daemon.poll() is None  # it lives on through failing rounds
        line = next(x for x in log.read_text().splitlines() if "this poll was not stored" in x)
        assert f"database {db_path}: cannot write: disk I/O error (is the disk full" in line
        assert keys(db_path) == before and integrity(db_path) == "ok"
        resource.prlimit(daemon.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        wait_for(
            lambda: count(db_path, "SELECT count(*) FROM items") == 400,
            timeout=20,
            what="the first round after space returned",
        )
    finally:
        stop_daemon(daemon, log)
    after = keys(db_path)
    assert before < after and len(after) == 400 and integrity(db_path) == "ok"


class SteppedClock:
    """The injected clock of a simulated outage: moves only when the test says so."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.timeout(60)
@pytest.mark.slow
def test_smtp_down_for_a_day_the_digest_goes_out_once_late_and_says_so(
    feed_server, write_config, run_cli, db_path, tmp_path
):
    mail = MailServer()  # its port is chosen, nothing listens there yet: the mail server is down
    config_path = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/wire", body=rss(STORIES))}],
        extra=THEMES
        + "\n"
        + email_section(mail.port)
        + f'\n[monitor]\ntimezone = "Asia/Yerevan"\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    run_cli(config_path, "poll")
    config = load_config(config_path)
    sender = SmtpSender(config.email)
    start = parse_week(WEEK, config.timezone)
    due = digest_send_moment(start, config.timezone, "monday", "monday", "08:00")  # Mon 2 Oct 08:00 Yerevan
    with Store.open(db_path) as store:
        clock = SteppedClock(due)
        assert publish(config, store, start, clock(), sender=sender).state == "failed"
        # The daemon's digest check, every 10 minutes for a day, retries when the backoff has passed.
        while clock.now < due + timedelta(days=1):
            clock.now += timedelta(minutes=10)
            assert all(r.state == "failed" for r in retry_failed(config, store, clock(), sender))
        down = store_digest.record(store, WEEK)
        assert down is not None and down.state == "failed" and "cannot reach SMTP server" in (down.last_error or "")
        # 5 min doubling to 6 h: 9 tries in the day, not 144; and more than one, so it did retry.
        assert 5 <= down.attempts <= 10, down.attempts
        mail.start()
        try:
            sent_at = None
            for _ in range(6 * 6 + 1):  # at most one 6-hour backoff later it has gone
                clock.now += timedelta(minutes=10)
                results = retry_failed(config, store, clock(), sender)
                if results:
                    assert [r.state for r in results] == ["sent"]
                    sent_at = clock.now
                    break
            assert sent_at is not None
            for _ in range(12):  # later checks, and a `monitor digest` of the week, send nothing more
                clock.now += timedelta(minutes=10)
                assert retry_failed(config, store, clock(), sender) == []
            assert publish(config, store, start, clock(), sender=sender).state == "sent"
        finally:
            mail.stop()
    assert len(mail.messages) == 1
    [(_, message)] = mail.messages
    local_sent = sent_at.astimezone(ZoneInfo("Asia/Yerevan"))
    notice = (
        "This digest was due on Monday 2 October 2023 at 08:00 and is delivered late: delivery to the "
        f"mail server failed until {local_sent:%A} {local_sent.day} {local_sent:%B %Y at %H:%M} (Asia/Yerevan)."
    )
    plain = " ".join(body(message, "plain").split())
    html = " ".join(body(message, "html").split())
    assert notice in plain and notice in html
    assert STORIES[0].title in plain  # the late digest is still the whole digest
    record = run_cli(config_path, "digests", "--json").output
    assert '"failing_since": "2023-10-02T04:00:00' in record or "2023-10-02 04:00" in record
    print(f"\nSMTP down a day: {down.attempts} delivery attempts, 1 message, delivered {sent_at - due} late")


@pytest.mark.timeout(60)
@pytest.mark.slow
def test_a_feed_failing_for_weeks_is_backed_off_and_recovers_on_its_own(feed_server, write_config, db_path):
    refused_port = free_port()  # nothing listens here until the second feed "comes back"
    erroring = feed_server.add("/down", status=500, body=b"sample outage")
    config_path = write_config(
        [
            {"name": "sample-500", "url": erroring, "interval": "30m"},
            {"name": "sample-refused", "url": f"http://127.0.0.1:{refused_port}/feed", "interval": "30m"},
        ],
        polling={"backoff_max": "12h"},
    )
    config = load_config(config_path)
    outage = timedelta(weeks=3)
    clock = SteppedClock(datetime(2023, 9, 4, tzinfo=UTC))
    began = clock.now
    with Store.open(db_path) as store, Fetcher(config.polling, clock=clock) as fetcher:
        # `monitor poll` from cron every 15 minutes, for three weeks: only the backoff keeps it off the feed.
        while clock.now < began + outage:
            poll_round(config, store, fetcher, clock)
            clock.now += timedelta(minutes=15)
        hits_500 = len(feed_server.hits("/down"))
        tries_refused = store.conn.execute(
            "SELECT count(*) FROM fetches f JOIN feeds d ON d.id = f.feed_id WHERE d.name = 'sample-refused'"
        ).fetchone()[0]
        # 30m, 1h, 2h ... 8h, then every 12h: 6 + (3 weeks - 15.5h) / 12h = 47 tries, not 2,016.
        bound = 6 + int((outage - timedelta(hours=15.5)) / timedelta(hours=12)) + 1
        assert 40 <= hits_500 <= bound and 40 <= tries_refused <= bound, (hits_500, tries_refused, bound)
        failing = {s.name: s for s in feed_store.feed_states(store)}
        assert failing["sample-500"].consecutive_failures == hits_500
        assert "HTTP 500" in (failing["sample-500"].last_error or "")

        feed_server.add("/down", body=rss(headlines(4, site="https://sample-500.example.org")))
        back = FeedServer(port=refused_port)  # listening only now: before, connections were refused
        back.add("/feed", body=rss(headlines(3, site="https://sample-refused.example.org")))
        back.start()
        try:
            recovered_at = began + outage
            while store.count("items") < 7 and clock.now < recovered_at + timedelta(hours=13):
                poll_round(config, store, fetcher, clock)
                clock.now += timedelta(minutes=15)
        finally:
            back.stop()
        assert store.count("items") == 7  # both came back on their own, within one capped wait
        assert clock.now - recovered_at <= timedelta(hours=12, minutes=30)
        for state in feed_store.feed_states(store):
            assert (state.consecutive_failures, state.retry_not_before, state.last_error) == (0, None, None)
    print(
        f"\nfeed down 3 weeks: {hits_500} requests to the 500 server, {tries_refused} refused connections "
        f"(polled every 15 min: {int(outage / timedelta(minutes=15))} rounds)"
    )


@pytest.mark.timeout(60)
def test_an_unwritable_digests_folder_is_a_clear_error_and_the_week_goes_out_once_when_it_is_fixed(
    feed_server, write_config, run_cli, db_path, tmp_path
):
    folder = tmp_path / "digests"
    folder.write_text("a file where the digests folder should be\n")  # mkdir fails for root too, unlike chmod
    mail = MailServer().start()
    try:
        config = write_config(
            [{"name": "sample-wire", "url": feed_server.add("/wire", body=rss(STORIES))}],
            extra=THEMES + "\n" + email_section(mail.port) + f'\n[monitor]\ndigests_dir = "{folder}"\n',
        )
        run_cli(config, "poll")
        backdate_polling(db_path)  # a monitor polling since before WEEK: its digest is e-mailed unbidden
        for _ in range(2):  # every run says so, and changes nothing
            failed = run_cli(config, "digest", "--week", WEEK, expect=1)
            assert (
                f"Error: digest {WEEK}: cannot write its files to {folder}/: a file stands where the folder "
                "should be" in failed.output
            ), failed.output
            assert "OSError" not in failed.output and "Traceback" not in failed.output
            assert mail.messages == []
            assert count(db_path, "SELECT count(*) FROM digests") == 0  # nothing recorded: the week is still due
        folder.unlink()
        fixed = run_cli(config, "digest", "--week", WEEK)
        assert f"{WEEK}: written and sent" in fixed.output
        assert (folder / f"{WEEK}.txt").exists() and (folder / f"{WEEK}.html").exists()
        assert "already sent" in run_cli(config, "digest", "--week", WEEK).output
        assert len(mail.messages) == 1
    finally:
        mail.stop()


@pytest.mark.timeout(60)
@pytest.mark.slow
def test_a_daemon_started_while_the_write_lock_is_held_waits_says_who_holds_it_and_starts_after(
    feed_server, write_config, run_cli, db_path, tmp_path
):
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/wire", body=rss(headlines(3, site=SITE))), "interval": "1h"}],
        extra=f'[monitor]\nbusy_timeout = "500ms"\ndigests_dir = "{tmp_path / "digests"}"\n',
    )
    run_cli(config, "poll")
    log = tmp_path / "daemon.log"
    analyst = sqlite3.connect(db_path, isolation_level=None)  # an analyst's sqlite3 session, here in this process
    analyst.execute("BEGIN IMMEDIATE")
    try:
        # SIGTERM while it waits stops it at once, with exit 0.
        first = start_daemon(config, db_path, log)
        wait_for(lambda: "is locked" in log.read_text(), timeout=10, what="the waiting line")
        line = next(x for x in log.read_text().splitlines() if "is locked" in x)
        assert f"database {db_path} is locked: another process holds its write lock" in line
        assert f"pid {os.getpid()} (" in line  # whom to ask: the process that has the file open
        time.sleep(1.0)  # past busy_timeout twice over: it still waits rather than exiting 1
        assert first.poll() is None, log.read_text()
        started = time.monotonic()
        stop_daemon(first, log)
        assert time.monotonic() - started < 3.0
        assert "monitor stopped while waiting for the database" in log.read_text()

        second = start_daemon(config, db_path, log)
        wait_for(lambda: log.read_text().count("is locked") == 2, timeout=10, what="the second daemon waiting")
        assert "monitor running" not in log.read_text()
    finally:
        analyst.execute("COMMIT")
        analyst.close()
    try:
        wait_for(lambda: "monitor running" in log.read_text(), timeout=10, what="start-up after the lock is gone")
        assert "released its write lock" in log.read_text()
        assert second.poll() is None
    finally:
        stop_daemon(second, log)
    assert integrity(db_path) == "ok"
