"""Shared fixtures: a real HTTP server on 127.0.0.1, config files written for it, the CLI as a user runs
it, and the SQLite file read back. Each fixture cleans up after itself."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from monitor.cli import cli

from .feedserver import FeedServer
from .helpers import CORPUS_FIGURES, PARSE_FIGURES
from .mailserver import MailServer

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

# Short limits so that tests of timeouts stay fast; a test that needs others writes them. The servers are the
# tests' own, so intervals of seconds are meant (test_bounds.py checks that a config has to say so).
TEST_POLLING = {
    "connect_timeout": "2s",
    "read_timeout": "2s",
    "deadline": "5s",
    "concurrency": 8,
    "allow_short_intervals": True,
}


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    with FeedServer() as server:
        yield server


def config_text(feeds: list[dict[str, Any]], polling: dict[str, Any] | None = None, extra: str = "") -> str:
    def value(v: Any) -> str:
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return str(v)

    lines = ["[polling]"] + [f"{k} = {value(v)}" for k, v in {**TEST_POLLING, **(polling or {})}.items()]
    for feed in feeds:
        lines += ["", "[[feeds]]"] + [f"{k} = {value(v)}" for k, v in feed.items()]
    return "\n".join(lines) + "\n" + extra


@pytest.fixture
def mail() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[..., Path]:
    def write(
        feeds: list[dict[str, Any]], polling: dict[str, Any] | None = None, extra: str = "", name: str = "feeds.toml"
    ) -> Path:
        path = tmp_path / name
        path.write_text(config_text(feeds, polling, extra), encoding="utf-8")
        return path

    return write


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "monitor.db"


@pytest.fixture
def run_cli(db_path: Path) -> Callable[..., Result]:
    """Run `monitor --config CONFIG --db DB ARGS...` in-process, as a user would type it."""

    def run(config: Path, *args: str, expect: int | None = 0) -> Result:
        result = CliRunner().invoke(cli, ["--config", str(config), "--db", str(db_path), *args])
        if expect is not None:
            assert result.exit_code == expect, f"exit {result.exit_code}\n{result.output}\n{result.exception!r}"
        return result

    return run


@pytest.fixture
def query(db_path: Path) -> Callable[..., list[dict[str, Any]]]:
    """Read the database back with plain sqlite3, as an analyst would."""

    def run(sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        conn = sqlite3.connect(db_path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(row) for row in conn.execute(sql, params)]
        finally:
            conn.close()

    return run


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if CORPUS_FIGURES:
        terminalreporter.write_line(
            "feedparser corpus: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in CORPUS_FIGURES.items())
        )
    if PARSE_FIGURES:
        terminalreporter.write_line(
            "fast path against feedparser: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in PARSE_FIGURES.items())
        )


def backdate_polling(db_path: Path, since: str = "2023-01-02T00:00:00Z") -> None:
    """Make the database record polling since `since` (UTC ISO), as a monitor running all along would have:
    the weeks after it count as polled (a week that ended before the first successful poll is not
    digested unbidden). The CLI's clock is the real one; this writes the history it would have left."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute(
            "UPDATE feeds SET first_fetch_at = ?, first_success_at = ?, first_live_at = ?", (since, since, since)
        )
        # Observed all along (issue 22): each feed's spans begin at `since`.
        conn.execute(
            "UPDATE observed SET since = ? WHERE since > ? AND since = (SELECT min(o.since) FROM observed o "
            "WHERE o.feed_id = observed.feed_id)",
            (since, since),
        )
        conn.execute(
            "INSERT OR IGNORE INTO observed (feed_id, since, until, resumed_at) "
            "SELECT id, ?, ?, ? FROM feeds WHERE id NOT IN (SELECT feed_id FROM observed)",
            (since, since, since),
        )
        conn.commit()
    finally:
        conn.close()
