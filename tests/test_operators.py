"""The daemon under its operators, driven as they drive it: `monitor run` as a real subprocess reloaded with
SIGHUP in bursts, beside an analyst holding the write lock and beside `monitor poll` run in a loop; a config
whose `[polling]` changes under a running daemon; feeds renamed (and moved by a 301) in the config; a clock
that was set back, so the database holds times in the future (`MONITOR_CLOCK_OFFSET`, see docs/development.md)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import STOP_BOUND, count, last_week_entries, wait_for
from .samples import Entry, rss

DAY = 86400


def entries(prefix: str, n: int = 3, *, guid: str | None = "url") -> list[Entry]:
    """Sample entries; `guid="plain"` gives guids that are not URLs (item-1, item-2...), as many CMSs do."""
    out = []
    for i in range(n):
        link = f"https://{prefix}.example.org/story/{i}"
        out.append(
            Entry(
                title=f"Sample: {prefix} story {i} from Stepanakert",
                link=link,
                guid=link if guid == "url" else f"{prefix}-item-{i}" if guid == "plain" else None,
            )
        )
    return out


class Daemon:
    """`monitor run` as a subprocess; always gone after the test, however it ends."""

    def __init__(self, config: Path, db: Path, log: Path, env: dict[str, str] | None = None):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "run"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )

    def hup(self) -> None:
        os.kill(self.process.pid, signal.SIGHUP)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> tuple[int | None, float]:
        """SIGTERM; (exit code, seconds) — exit code None when it did not exit within STOP_BOUND."""
        started = time.monotonic()
        if self.process.poll() is not None:
            return self.process.returncode, 0.0
        self.process.send_signal(signal.SIGTERM)
        try:
            code: int | None = self.process.wait(timeout=STOP_BOUND)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def add_feed(config: Path, name: str, url: str) -> None:
    config.write_text(config.read_text() + f'\n[[feeds]]\nname = "{name}"\nurl = "{url}"\n')


def monitor(
    config: Path, db: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def stopped_cleanly(daemon: Daemon) -> float:
    code, took = daemon.stop()
    assert code == 0 and took < STOP_BOUND, f"exit {code} after {took:.1f}s\n{daemon.log.read_text()[-3000:]}"
    return took


# -- reload is safe -------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_a_burst_of_twenty_sighups_neither_deadlocks_nor_stops_the_daemon(feed_server, write_config, tmp_path, daemons):
    body = rss(last_week_entries())
    # Many feeds, so that each reload's write to the feeds table takes a while, as on a real installation.
    config = write_config([{"name": f"sample-{n}", "url": feed_server.add(f"/f{n}", body=body)} for n in range(150)])
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    daemon = Daemon(config, db, log)
    daemons.append(daemon)
    wait_for(lambda: count(db, "SELECT count(*) FROM fetches") == 150, timeout=60, what="the first polls")
    for n in range(20):
        daemon.hup()
        time.sleep(0.005 * (n % 7))
    time.sleep(0.5)
    add_feed(config, "sample-second", feed_server.add("/b", body=rss(entries("second"))))
    daemon.hup()
    wait_for(lambda: count(db, "SELECT count(*) FROM items") == 6, what="the feed added after the burst")
    for n in range(20):  # and a stop right behind a burst
        daemon.hup()
        time.sleep(0.005 * (n % 7))
    took = stopped_cleanly(daemon)
    print(f"\n20 SIGHUPs: still polling; SIGTERM right after 20 more: exit 0 in {took:.1f}s")


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_a_reload_while_an_analyst_holds_the_write_lock_is_retried_not_fatal(
    feed_server, write_config, tmp_path, daemons
):
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/a", body=rss(last_week_entries()))}],
        extra='[monitor]\nbusy_timeout = "1s"\n',
    )
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    daemon = Daemon(config, db, log)
    daemons.append(daemon)
    wait_for(lambda: count(db, "SELECT count(*) FROM items") == 3, what="the first poll")
    analyst = sqlite3.connect(db, isolation_level=None)
    analyst.execute("BEGIN IMMEDIATE")
    try:
        add_feed(config, "sample-second", feed_server.add("/b", body=rss(entries("second"))))
        daemon.hup()
        time.sleep(2.0)
        daemon.hup()  # a second reload asked while the first still waits
        time.sleep(2.0)  # twice busy_timeout over: today the daemon has exited 1 by now
        assert daemon.alive(), log.read_text()[-2000:]
    finally:
        analyst.execute("COMMIT")
        analyst.close()
    wait_for(lambda: count(db, "SELECT count(*) FROM items") == 6, what="the reload once the lock is free")
    text = log.read_text()
    assert "reload waits for the database" in text and "reloaded" in text
    stopped_cleanly(daemon)


@pytest.mark.timeout(240)
@pytest.mark.slow
def test_reloads_beside_monitor_poll_in_a_loop_neither_fail_nor_stop_polling(
    feed_server, write_config, tmp_path, daemons
):
    body = rss(entries("wire", 40))
    feeds = [{"name": f"sample-{n}", "url": feed_server.add(f"/f{n}", body=body)} for n in range(60)]
    config = write_config(feeds)
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    daemon = Daemon(config, db, log)
    daemons.append(daemon)
    wait_for(lambda: count(db, "SELECT count(*) FROM feeds") == 60, timeout=60, what="the daemon's start")
    failures = []
    for round_ in range(6):
        for n in range(10):  # new feeds, which both the daemon's reload and each poll insert
            add_feed(config, f"sample-new-{round_}-{n}", feed_server.add(f"/n{round_}-{n}", body=body))
        pollers = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "poll"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        for _ in range(40):
            daemon.hup()
            time.sleep(0.05)
        for poller in pollers:
            output, _ = poller.communicate(timeout=120)
            if poller.returncode != 0:
                failures.append(output[-500:])
        if not daemon.alive():
            break
    assert daemon.alive(), log.read_text()[-3000:]
    assert not failures, failures[0]
    assert "UNIQUE constraint" not in log.read_text()
    add_feed(config, "sample-last", feed_server.add("/last", body=rss(entries("last"))))
    daemon.hup()
    wait_for(lambda: count(db, "SELECT count(*) FROM items") == 43, timeout=30, what="the daemon's next poll")
    stopped_cleanly(daemon)


# -- reload applies what it says ------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.serial  # a reload timed to land while a 1.5 s response is in flight
def test_reload_applies_polling_settings_and_names_those_that_need_a_restart(
    feed_server, write_config, tmp_path, daemons
):
    slow = feed_server.add("/slow", body=rss(entries("slow", 2)), delay=1.5)  # in flight during the reload
    config = write_config(
        [
            {"name": "sample-wire", "url": feed_server.add("/a", body=rss(last_week_entries()))},
            {"name": "sample-slow", "url": slow},
        ]
    )
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    daemon = Daemon(config, db, log)
    daemons.append(daemon)
    wait_for(lambda: count(db, "SELECT count(*) FROM items") == 3, what="the first poll")
    assert feed_server.hits("/slow") and count(db, "SELECT count(*) FROM fetches") == 1
    first_agent = feed_server.hits("/a")[0].headers["user-agent"]
    text = config.read_text().replace(
        "concurrency = 8", 'concurrency = 3\nuser_agent = "monitor-test/2 (reloaded)"\nmax_bytes = "600B"'
    )
    config.write_text(text)
    add_feed(config, "sample-second", feed_server.add("/b", body=rss(entries("second", 20))))
    daemon.hup()
    wait_for(lambda: feed_server.hits("/b"), what="the new feed's poll")
    assert first_agent != "monitor-test/2 (reloaded)"
    assert feed_server.hits("/b")[0].headers["user-agent"] == "monitor-test/2 (reloaded)"
    wait_for(
        lambda: count(db, "SELECT count(*) FROM fetches WHERE outcome = 'partial'") == 1,
        what="the body cut at the new max_bytes",
    )
    # the fetch in flight during the reload finished on the old fetcher, closed only after it
    wait_for(
        lambda: count(db, "SELECT count(*) FROM items WHERE link LIKE 'https://slow.%'") == 2,
        what="the slow feed's items",
    )
    slow_outcome = "SELECT outcome FROM fetches f JOIN feeds d ON d.id = f.feed_id WHERE d.name = 'sample-slow'"
    assert count(db, slow_outcome) == "ok"
    reloaded = next(line for line in log.read_text().splitlines() if "reloaded" in line)
    assert "polling.concurrency" in reloaded and "restart" in reloaded, reloaded
    assert "polling.user_agent" not in reloaded  # applied, so not among those waiting for a restart
    assert "1 feed(s) added or changed" in reloaded  # the others only moved down the file
    stopped_cleanly(daemon)


# -- renaming a feed keeps its items --------------------------------------------------------------------------


def test_renaming_a_feed_with_plain_guids_keeps_its_items_and_sightings(feed_server, write_config, run_cli, query):
    url = feed_server.add("/wire", body=rss(entries("wire", 4, guid="plain")))
    config = write_config([{"name": "sample-wire", "url": url}])
    run_cli(config, "poll")
    before = query("SELECT id, key FROM items ORDER BY id")
    assert len(before) == 4
    config = write_config([{"name": "wire-renamed", "url": url}])
    output = run_cli(config, "poll").output
    assert "0 new" in output or "nothing new" in output, output
    assert query("SELECT id, key FROM items ORDER BY id") == before
    feeds = query("SELECT name, in_config FROM feeds")
    assert feeds == [{"name": "wire-renamed", "in_config": 1}]
    sightings = query(
        "SELECT f.name, count(*) AS n FROM item_sources s JOIN feeds f ON f.id = s.feed_id GROUP BY f.name"
    )
    assert sightings == [{"name": "wire-renamed", "n": 4}]
    assert "wire-renamed" in run_cli(config, "feeds").output


def test_a_feed_moved_by_a_301_and_renamed_to_its_new_address_keeps_its_items(
    feed_server, write_config, run_cli, query
):
    new = feed_server.add("/new", body=rss(entries("moved", 3, guid="plain")))
    old = feed_server.add("/old", status=301, headers={"Location": new})
    config = write_config([{"name": "sample-old", "url": old}])
    assert "moved permanently" in run_cli(config, "poll").output
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 3
    # the operator follows the move: a new name and the new address
    config = write_config([{"name": "sample-moved", "url": new}])
    run_cli(config, "poll")
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 3
    assert query("SELECT name, url, config_url FROM feeds") == [{"name": "sample-moved", "url": new, "config_url": new}]
    assert query("SELECT count(*) AS n FROM item_sources")[0]["n"] == 3
    # items without guid or link, keyed by title and the feed's date, also survive
    feed_server.add("/new", body=rss([Entry(title="Sample: no link at all", link="")]))
    run_cli(config, "poll")
    config = write_config([{"name": "sample-moved-again", "url": new}])
    run_cli(config, "poll")
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 4


# -- clock steps ----------------------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_times_stored_in_the_future_neither_stop_polling_nor_pass_unreported(
    feed_server, write_config, tmp_path, daemons
):
    ahead = {"MONITOR_CLOCK_OFFSET": str(DAY)}
    wire = feed_server.add("/wire", body=rss(entries("wire", 2)))
    flaky = feed_server.add("/flaky", status=500, body=b"down")
    config = write_config(
        [
            {"name": "sample-wire", "url": wire, "interval": "1h"},
            {"name": "sample-flaky", "url": flaky, "interval": "1h"},
        ]
    )
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    assert monitor(config, db, "poll", env=ahead).returncode == 0  # a clock a day ahead, then set right
    future = count(db, "SELECT last_fetch_at FROM feeds WHERE name = 'sample-wire'")
    assert future > time.strftime("%Y-%m-%dT%H:%M", time.gmtime(time.time() + DAY - 120))
    feed_server.add("/wire", body=rss(entries("wire", 4)))
    feed_server.add("/flaky", body=rss(entries("flaky", 1)))
    status = monitor(config, db, "status")
    assert "in the future" in status.stdout, status.stdout
    hits = len(feed_server.hits("/wire")), len(feed_server.hits("/flaky"))
    daemon = Daemon(config, db, log)
    daemons.append(daemon)
    wait_for(
        lambda: count(db, "SELECT count(*) FROM items") == 5,
        timeout=30,
        what="polls of the feeds whose times were in the future",
    )
    assert (len(feed_server.hits("/wire")), len(feed_server.hits("/flaky"))) == (hits[0] + 1, hits[1] + 1)
    assert "in the future" in log.read_text()
    status = monitor(config, db, "status")
    assert "running" in status.stdout and "in the future" in status.stdout, status.stdout
    print("\n" + status.stdout + next(line for line in log.read_text().splitlines() if "in the future" in line))
    stopped_cleanly(daemon)
    # `monitor poll` too: a backoff computed a day ahead does not hold a feed back
    feed_server.add("/flaky", status=500, body=b"down")
    assert monitor(config, db, "poll", "--feed", "sample-flaky", env=ahead).returncode == 0
    out = monitor(config, db, "poll", "--feed", "sample-flaky").stdout
    assert "skipped" not in out, out


def test_a_bad_clock_offset_is_a_clear_usage_error(write_config, tmp_path):
    config = write_config([])
    result = monitor(config, tmp_path / "m.db", "check", env={"MONITOR_CLOCK_OFFSET": "tomorrow"})
    assert result.returncode == 2 and "MONITOR_CLOCK_OFFSET" in result.stderr, result.stderr


def test_status_counts_only_past_polls_as_the_last_and_flags_a_daemon_with_none_since_the_clock_went_back():
    from datetime import UTC, datetime

    from monitor.cli.report import health_problems, status_lines
    from monitor.config.load import Config

    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    future = {"feeds": 2, "fetches": 5, "latest": "2026-11-30T12:00:00Z"}
    figures = {"feeds": {"ok": 2}, "last_fetch": None, "future": future}
    problems = health_problems(4242, figures, Config(path="x.toml"), now)
    assert problems == [
        "no feed polled since the clock was set back (the last polls are dated up to "
        "2026-11-30 12:00 UTC, in the future)"
    ]
    report = {
        "daemon": {"running": True, "pid": 4242},
        **figures,
        "items_today": 0,
        "items_week": 0,
        "themes_week": {},
        "themes_today": {},
        "last_digest": None,
        "next_digest": {"week": "2026-W49", "due": "2026-12-07T08:00:00+00:00"},
        "healthy": False,
        "problems": problems,
    }
    lines = status_lines(report, "UTC", now)
    assert (
        "clock        2 feed(s) last polled and 5 poll(s) logged in the future, up to 2026-11-30 12:00 UTC (24 h ahead)"
    ) in "\n".join(lines)
    assert "last poll    never" in lines
