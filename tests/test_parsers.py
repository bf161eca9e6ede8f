"""Parsing in helper processes (`polling.parse_processes`): the same items as parsing in-process, and a
helper that dies costs one feed, not the round or the daemon."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
from contextlib import closing
from datetime import UTC, datetime

from click.testing import CliRunner

from monitor.cli import cli
from monitor.parsers import MIN_FEEDS_FOR_PROCESSES, InlineParser, ProcessParser, make_parser

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
            os.kill(helper.pid, signal.SIGKILL)
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


def test_a_round_parsed_in_helpers_stores_what_an_in_process_round_stores(feed_server, write_config,
                                                                          tmp_path) -> None:
    feeds = [{"name": f"sample-{n}", "url": feed_server.add(f"/feed/{n}", body=rss(headlines(
        3, start=n, site=f"https://sample-{n}.example.org")))} for n in range(MIN_FEEDS_FOR_PROCESSES)]
    stored = {}
    for processes in (0, 1):
        config = write_config(feeds, polling={"parse_processes": processes}, name=f"feeds-{processes}.toml")
        db = tmp_path / f"p{processes}.db"
        result = CliRunner().invoke(cli, ["--config", str(config), "--db", str(db), "poll"])
        assert f"{MIN_FEEDS_FOR_PROCESSES} ok" in result.output, result.output
        with closing(sqlite3.connect(db)) as conn:
            stored[processes] = conn.execute("SELECT key, title, summary, summary_html, published FROM items "
                                             "ORDER BY key").fetchall()
    assert len(stored[1]) == 3 * MIN_FEEDS_FOR_PROCESSES
    assert stored[0] == stored[1]
