"""`monitor run` as a real subprocess against feeds on 127.0.0.1: it polls, stores, sends the due digest
to a real SMTP server, stops on SIGTERM within the bound, and a restart stores no duplicates, polls no
feed before its time and sends no second digest. Reload picks up a new feed and refuses a broken config."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from .conftest import backdate_polling
from .helpers import STOP_BOUND, THEMES, Running, count, email_section, last_week_entries, wait_for
from .mailserver import free_port
from .samples import Entry, rss


@pytest.mark.timeout(180)
@pytest.mark.slow
def test_the_daemon_polls_sends_the_due_digest_stops_and_restarts_cleanly(
    feed_server, write_config, mail, tmp_path, run_cli
):
    url = feed_server.add("/wire", body=rss(last_week_entries()))
    digest = '\n[digest]\nweek_start = "monday"\nsend_day = "monday"\nsend_time = "00:00"\n'
    config = write_config(
        [{"name": "sample-wire", "url": url, "interval": "1h"}],
        extra=THEMES
        + "\n"
        + email_section(mail.port)
        + digest
        + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
    )
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    run_cli(config, "feeds")  # a database that has polled since before last week: its digest is due
    backdate_polling(db)  # (a first start sends none for a week it never polled: test_coverage.py)
    daemon = Running(config, db, log)
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM items") == 3, what="the first poll")
        wait_for(lambda: len(mail.messages) == 1, what="the due digest")
        status = run_cli(config, "status")
        assert f"running (pid {daemon.process.pid})" in status.output and "health       ok" in status.output
        second = subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "run"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 3 and f"already runs on {db}" in second.stderr
        assert run_cli(config, "search", "Stepanakert").output  # CLI commands work beside the daemon
    finally:
        took = daemon.stop()
    assert took < STOP_BOUND
    assert "monitor stopped" in log.read_text()
    assert run_cli(config, "status", expect=1).output.count("not running") == 2  # daemon line and health line

    hits = len(feed_server.hits("/wire"))
    checks = log.read_text().count("start-up digest check done")
    again = Running(config, db, log)
    try:  # any start-up poll and digest comes before the start-up digest check ends, if they (wrongly) would
        wait_for(
            lambda: log.read_text().count("start-up digest check done") == checks + 1, what="the start-up digest check"
        )
    finally:
        again.stop()
    assert len(feed_server.hits("/wire")) == hits  # polled within its interval: not polled again
    assert count(db, "SELECT count(*) FROM items") == 3 and len(mail.messages) == 1
    assert count(db, "SELECT count(*) FROM digests WHERE state = 'sent'") == 1


@pytest.mark.timeout(180)
def test_reload_adds_a_feed_and_refuses_a_broken_config(feed_server, write_config, tmp_path, run_cli):
    first = {"name": "sample-wire", "url": feed_server.add("/a", body=rss(last_week_entries()))}
    port = free_port()
    config = write_config([first], extra=f'[metrics]\nenabled = true\naddress = "127.0.0.1:{port}"\n')
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    daemon = Running(config, db, log)
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM items") == 3, what="the first poll")
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert 'monitor_polls_total{outcome="ok"} 1.0' in metrics and "monitor_items_new_total 3.0" in metrics
        good = config.read_text()
        config.write_text(
            good
            + '\n[[feeds]]\nname = "sample-second"\nurl = "'
            + feed_server.add("/b", body=rss([Entry("Sample: a second feed", "https://b.example.org/1")]))
            + '"\n'
        )
        assert "asked the daemon" in run_cli(config, "reload").output
        wait_for(lambda: count(db, "SELECT count(*) FROM items") == 4, what="the new feed's poll")
        config.write_text(good + "\n[[feeds]]\nname = 42\n")
        os.kill(daemon.process.pid, signal.SIGHUP)
        wait_for(lambda: "reload refused" in log.read_text(), what="the refusal")
        assert daemon.process.poll() is None  # still running, on the old config
    finally:
        daemon.stop()


@pytest.mark.timeout(120)
def test_json_logs_and_a_second_signal_exits_at_once(feed_server, write_config, tmp_path):
    slow = feed_server.add("/slow", body=rss(last_week_entries()) * 50, trickle=0.05)  # minutes to read
    config = write_config([{"name": "sample-slow", "url": slow}], polling={"deadline": "10m", "read_timeout": "1m"})
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "run", "--log-format", "json"],
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    wait_for(lambda: feed_server.hits("/slow"), what="the slow fetch to start")
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert process.poll() is None  # the first signal waits for the feed being fetched...
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) != 0 and time.monotonic() - started < 5  # ...the second does not
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert any("second signal" in line["message"] for line in lines)


@pytest.mark.timeout(60)
@pytest.mark.slow
@pytest.mark.serial  # < 8 s, of which the daemon's own start-up delay is 5 s
def test_a_restart_with_no_feed_due_produces_the_missed_digest_within_seconds_once_its_folder_is_usable(
    feed_server, write_config, mail, tmp_path, run_cli
):
    url = feed_server.add("/wire", body=rss(last_week_entries()))
    folder = tmp_path / "digests"
    digest = '\n[digest]\nweek_start = "monday"\nsend_day = "monday"\nsend_time = "00:00"\n'
    config = write_config(
        [{"name": "sample-wire", "url": url, "interval": "1h"}],
        extra=THEMES + "\n" + email_section(mail.port) + digest + f'\n[monitor]\ndigests_dir = "{folder}"\n',
    )
    run_cli(config, "poll")  # polled just now: not due again for an hour, and last week's digest is due
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    backdate_polling(db)  # polling since before last week, so its digest is due
    hits = len(feed_server.hits("/wire"))
    folder.write_text("a file where the digests folder should be\n")
    daemon = Running(config, db, log)
    try:
        wait_for(lambda: "cannot write its files" in log.read_text(), timeout=12, what="the start-up digest check")
        line = next(x for x in log.read_text().splitlines() if "cannot write its files" in x)
        assert f"to {folder}/: a file stands where the folder should be" in line and "OSError" not in line
        assert "tried again at the next digest check" in line
        time.sleep(0.3)
        assert daemon.process.poll() is None and mail.messages == []  # it lives on; nothing went out
        assert count(db, "SELECT count(*) FROM digests") == 0
    finally:
        daemon.stop()
    folder.unlink()
    again = Running(config, db, log)
    started = time.monotonic()
    try:
        wait_for(lambda: len(mail.messages) == 1, timeout=10, what="the missed digest after the restart")
        produced_after = time.monotonic() - started
        assert count(db, "SELECT count(*) FROM digests WHERE state = 'sent'") == 1
        assert any(folder.glob("*.txt")) and any(folder.glob("*.html"))
        time.sleep(0.5)
    finally:
        again.stop()
    assert len(mail.messages) == 1
    assert len(feed_server.hits("/wire")) == hits  # the feed was not due: the digest did not wait for it
    assert produced_after < 8.0, f"{produced_after:.1f}s"
    print(f"\nmissed digest produced {produced_after:.1f}s after the restart (no feed due)")


def _hup_until_gone(process: subprocess.Popen[bytes]) -> int:
    """SIGHUP every millisecond until `process` has exited (while the interpreter shuts down too); the count."""
    sent = 0
    while process.poll() is None:
        try:
            os.kill(process.pid, signal.SIGHUP)
        except ProcessLookupError:
            break
        sent += 1
        time.sleep(0.001)
    return sent


@pytest.mark.timeout(120)
@pytest.mark.slow  # twelve daemon runs
def test_a_sighup_right_after_sigterm_or_during_the_exit_never_turns_the_stop_into_death_by_signal(
    feed_server, write_config, tmp_path
):
    # systemd's `reload` and `stop` can cross, and logrotate sends HUPs on its own schedule: a HUP in the stop's
    # window killed the daemon (exit 129, -1 here) after "monitor stopped", a failed stop for systemd.
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/wire", body=rss(last_week_entries()))}])
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    codes: dict[str, list[int]] = {}
    for gap in ["reload first", 0.0, 0.01, 0.05, 0.1, "after stopped"] * 2:
        log.write_text("")
        daemon = Running(config, db, log)
        wait_for(lambda: "monitor running" in log.read_text(), what="the daemon's start")
        if gap == "reload first":  # before a stop, a HUP still reloads
            daemon.process.send_signal(signal.SIGHUP)
            wait_for(lambda: f"reloaded {config}" in log.read_text(), what="the reload")
            assert daemon.process.poll() is None
        daemon.process.send_signal(signal.SIGTERM)
        if gap == "after stopped":
            deadline = time.monotonic() + STOP_BOUND
            while "monitor stopped" not in log.read_text() and time.monotonic() < deadline:
                pass  # no sleep: the interpreter's shutdown after the line takes milliseconds
            _hup_until_gone(daemon.process)
        elif isinstance(gap, float):
            time.sleep(gap)
            if gap == 0.1:  # and on, until it is gone
                _hup_until_gone(daemon.process)
            else:
                daemon.process.send_signal(signal.SIGHUP)
        codes.setdefault(str(gap), []).append(daemon.process.wait(timeout=STOP_BOUND))
        assert "monitor stopped" in log.read_text()
    print(f"\nexit codes by the HUP's gap after SIGTERM: {codes}")
    assert all(code == 0 for runs in codes.values() for code in runs), codes


@pytest.mark.timeout(180)
def test_the_metrics_count_the_documents_each_parse_path_read(feed_server, write_config, tmp_path):
    """A well-formed RSS 2.0 document is read by the fast path; one with a DOCTYPE is declined to feedparser;
    a document not modified is read by neither."""
    well = feed_server.add("/well", body=rss(last_week_entries()))
    doctype = rss([Entry("Sample: a feed with a DOCTYPE", "https://d.example.org/1")]).replace(
        b"<rss", b'<!DOCTYPE rss SYSTEM "http://example.org/rss.dtd">\n<rss', 1
    )
    declined = feed_server.add("/doctype", body=doctype)
    port = free_port()
    feeds = [{"name": "sample-wire", "url": well}, {"name": "sample-doctype", "url": declined}]
    config = write_config(feeds, extra=f'[metrics]\nenabled = true\naddress = "127.0.0.1:{port}"\n')
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    daemon = Running(config, db, log)
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM items") == 4, what="the first polls")
        wait_for(
            lambda: 'outcome="ok"} 2.0' in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text,
            what="both polls counted",
        )
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    finally:
        daemon.stop()
    assert 'monitor_documents_parsed_total{parser="fast"} 1.0' in metrics, metrics
    assert 'monitor_documents_parsed_total{parser="feedparser"} 1.0' in metrics, metrics
