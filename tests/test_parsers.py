"""Parsing in helper processes (`polling.parse_processes`): the same items as parsing in-process, and a
helper that dies costs one feed, not the round or the daemon."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import cli
from monitor.parse.pool import MIN_FEEDS_FOR_PROCESSES, InlineParser, ProcessParser, make_parser

from .samples import headlines, rss

NOW = datetime(2023, 10, 1, tzinfo=UTC)
SAMPLE = rss(headlines(5))


def parse(parser, body: bytes = SAMPLE):
    return parser.parse(body, url="https://sample-wire.example.org/rss", headers={}, feed_id=1, now=NOW)


def test_helper_process_parses_exactly_as_this_process_does() -> None:
    parser = ProcessParser(1)
    try:
        assert parse(parser) == parse(InlineParser())
        assert len(parse(parser).items) == 5
    finally:
        parser.close()


def test_a_helper_killed_mid_work_costs_one_document_and_a_new_helper_takes_over() -> None:
    parser = ProcessParser(1)
    try:
        parse(parser)  # the helper is running
        helpers = multiprocessing.active_children()
        assert helpers, "no helper process was started"
        for helper in helpers:
            helper.kill()  # SIGKILL
            helper.join(timeout=10)
        lost = parse(parser)
        assert lost.items == () and "parser process died" in (lost.bozo or "")
        assert len(parse(parser).items) == 5  # a fresh helper
    finally:
        parser.close()
    assert not multiprocessing.active_children()  # closed: no helper left behind


def test_small_rounds_and_zero_processes_parse_in_process() -> None:
    assert make_parser(0, 1000).in_process
    assert make_parser(2, MIN_FEEDS_FOR_PROCESSES - 1).in_process
    assert not make_parser(1, MIN_FEEDS_FOR_PROCESSES).in_process


def test_a_round_parsed_in_helpers_stores_what_an_in_process_round_stores(feed_server, write_config, tmp_path) -> None:
    feeds = [
        {
            "name": f"sample-{n}",
            "url": feed_server.add(
                f"/feed/{n}", body=rss(headlines(3, start=n, site=f"https://sample-{n}.example.org"))
            ),
        }
        for n in range(MIN_FEEDS_FOR_PROCESSES)
    ]
    stored = {}
    for processes in (0, 1):
        config = write_config(feeds, polling={"parse_processes": processes}, name=f"feeds-{processes}.toml")
        db = tmp_path / f"p{processes}.db"
        result = CliRunner().invoke(cli, ["--config", str(config), "--db", str(db), "poll"])
        assert f"{MIN_FEEDS_FOR_PROCESSES} ok" in result.output, result.output
        with closing(sqlite3.connect(db)) as conn:
            stored[processes] = conn.execute(
                "SELECT key, title, summary, summary_html, published FROM items ORDER BY key"
            ).fetchall()
    assert len(stored[1]) == 3 * MIN_FEEDS_FOR_PROCESSES
    assert stored[0] == stored[1]


HOLDER = """
import multiprocessing, sys, time
from datetime import UTC, datetime
from monitor.parse.pool import ProcessParser
parser = ProcessParser(1)
parser.parse(b"<rss version='2.0'><channel><title>Sample Wire</title></channel></rss>",
             url="https://sample-wire.example.org/rss", headers={}, feed_id=1, now=datetime.now(UTC))
print(*[child.pid for child in multiprocessing.active_children()], flush=True)
time.sleep(60)
"""


def test_helpers_of_a_process_killed_outright_do_not_outlive_it() -> None:
    assert orphans_after_killing(HOLDER) == [], "an orphaned parse helper is still running"


# Killed while its helper is still starting: the helper is adopted before it can look at its parent.
STARTING_HOLDER = """
import multiprocessing, threading, time
from datetime import UTC, datetime
from monitor.parse.pool import ProcessParser
parser = ProcessParser(1)
threading.Thread(target=parser.parse, args=(b"<rss version='2.0'><channel/></rss>",), daemon=True,
                 kwargs=dict(url="https://sample-wire.example.org/rss", headers={}, feed_id=1,
                             now=datetime.now(UTC))).start()
while not multiprocessing.active_children():
    time.sleep(0.001)
print(*[child.pid for child in multiprocessing.active_children()], flush=True)
time.sleep(60)
"""


def test_helpers_of_a_process_killed_while_they_start_do_not_outlive_it() -> None:
    leftover = orphans_after_killing(STARTING_HOLDER)  # killed before its helper has imported what it runs
    assert leftover == [], "a parse helper whose parent was killed while it started is still running"


def orphans_after_killing(holder_script: str) -> list[int]:
    """Run `holder_script` (it prints its helpers' pids), SIGKILL it, and return the helpers still running
    10 s later (killed here, so that a failing run leaves nothing behind)."""
    holder = subprocess.Popen([sys.executable, "-c", holder_script], stdout=subprocess.PIPE, text=True)
    try:
        helpers = [int(pid) for pid in holder.stdout.readline().split()]  # type: ignore[union-attr]
        assert helpers and all(alive(pid) for pid in helpers), "the parser started no helper"
    finally:
        holder.kill()  # SIGKILL: no chance to close its helpers
        holder.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in helpers) and time.monotonic() < deadline:
        time.sleep(0.1)
    leftover = [pid for pid in helpers if alive(pid)]
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    return leftover


def alive(pid: int) -> bool:
    """Running, not a zombie (a finished orphan waits for init to reap it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False
