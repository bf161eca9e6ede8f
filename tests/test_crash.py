"""`monitor run` killed with SIGKILL again and again, at random points of its poll rounds and once in the
middle of an SMTP exchange: after every kill the SQLite file is intact, nothing committed before the kill
is lost, nothing is stored twice, and the week's digest reaches the (real, local) SMTP server at most
once, across every restart.

The feeds grow at each request, so each poll writes new items and a kill often lands between a fetch and
its commit. A fixed seed keeps CI repeatable; MONITOR_KILL_LOOPS and MONITOR_KILL_SEED run it longer or
differently (see docs/development.md, Long fault tests)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import backdate_polling
from .helpers import count, email_section, wait_for
from .mailserver import MailServer
from .samples import headlines, rss

pytestmark = pytest.mark.slow  # kill loops

LOOPS = int(os.environ.get("MONITOR_KILL_LOOPS", "10"))
SEED = int(os.environ.get("MONITOR_KILL_SEED", "7"))
FEEDS = 3
STEP = 25  # stories a feed grows by at each request


class GrowingFeed:
    """Serves STEP more sample stories at each request, until frozen."""

    def __init__(self, site: str):
        self.site = site
        self.size = 0
        self.frozen = False
        self.lock = threading.Lock()

    def __call__(self) -> bytes:
        with self.lock:
            if not self.frozen:
                self.size += STEP
            size = self.size
        return rss(headlines(size, site=self.site))

    def links(self) -> set[str]:
        return {e.link for e in headlines(self.size, site=self.site)}


def read(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def stored_keys(db: Path) -> set[str]:
    return {str(r[0]) for r in read(db, "SELECT key FROM items")} if db.exists() else set()


@pytest.mark.timeout(60 + 6 * LOOPS)
def test_sigkill_at_random_points_loses_nothing_and_sends_no_digest_twice(feed_server, write_config, tmp_path, run_cli):
    rng = random.Random(SEED)
    mail = MailServer(reply_delay=2.0).start()
    feeds = [GrowingFeed(f"https://sample-{n}.example.org") for n in range(FEEDS)]
    config = write_config(
        [
            {"name": f"sample-{n}", "url": feed_server.add(f"/feed{n}", generate=f), "interval": "1s"}
            for n, f in enumerate(feeds)
        ],
        extra=email_section(mail.port) + '\n[digest]\nsend_day = "monday"\nsend_time = "00:00"\n'
        f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
    )
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    run_cli(config, "feeds")  # a database polling since before last week, whose digest is then due
    backdate_polling(db)
    digest_kill = min(2, LOOPS - 1)  # the kill that lands in the SMTP exchange; the others in poll rounds
    kills = mid_round = 0
    compared = 0
    try:
        for loop in range(LOOPS):
            process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "run"],
                stdout=log.open("ab"),
                stderr=subprocess.STDOUT,
            )
            if loop == digest_kill:
                assert mail.inbox.received.wait(20), "the daemon never started sending the due digest"
            else:
                time.sleep(rng.uniform(0.4, 2.0))
            committed = stored_keys(db)  # all of this was committed before the kill
            fetched = sum(len(feed_server.hits(f"/feed{n}")) for n in range(FEEDS))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            kills += 1

            assert read(db, "PRAGMA integrity_check") == [("ok",)], f"kill {kills}"
            after = stored_keys(db)
            assert committed <= after, f"kill {kills} lost {len(committed - after)} committed item(s)"
            compared += len(committed)
            assert read(db, "SELECT count(*) - count(DISTINCT key) FROM items") == [(0,)]
            assert read(db, "SELECT count(*) FROM (SELECT link FROM items GROUP BY link HAVING count(*) > 1)") == [(0,)]
            assert len(mail.messages) <= 1, f"a second digest after kill {kills}"
            mid_round += fetched > count(db, "SELECT count(*) FROM fetches")  # fetched, not committed: killed mid-round

        for feed in feeds:
            feed.frozen = True
        final = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "run"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        expected = set().union(*(f.links() for f in feeds))
        try:
            wait_for(
                lambda: {str(r[0]) for r in read(db, "SELECT link FROM items")} == expected,
                timeout=30,
                what="every story ever served to be stored",
            )
            # The start-up digest check settles the week the kill interrupted; had it sent it again, it
            # would have done so here.
            wait_for(
                lambda: "delivery was interrupted; marked uncertain" in log.read_text(),
                timeout=20,
                what="the interrupted delivery to be settled",
            )
            time.sleep(0.5)
        finally:
            final.send_signal(signal.SIGTERM)
            assert final.wait(timeout=35) == 0, log.read_text()[-3000:]
        [(state, attempts)] = read(db, "SELECT state, attempts FROM digests")
    finally:
        mail.stop()
    # The kill came after the server had the message and before it said so: the daemon cannot know
    # whether it went out, marks the week uncertain, and never sends it again.
    assert len(mail.messages) == 1 and state == "uncertain" and attempts == 1
    assert read(db, "PRAGMA integrity_check") == [("ok",)]
    assert count(db, "SELECT count(*) FROM items") == len(expected)
    print(
        f"\nSIGKILL loop: {kills} kills survived ({mid_round} between a fetch and its commit), "
        f"{compared} committed items compared, {len(expected)} stories stored once each, "
        f"{len(mail.messages)} digest message at the SMTP server (week {state})"
    )
