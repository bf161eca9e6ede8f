"""Helpers shared by several test modules: sample themes and stories, the e-mail section of a config, a
daemon run as a subprocess, and waits on what it leaves behind. Test modules import from here (or use the
fixtures of conftest.py), never from each other: tests/test_layout.py checks it."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.weeks import week_start

from .samples import Entry

# --- Themes (once in test_themes_cli.py)

THEMES = """
[terms]
place = ["Karabakh", "Stepanakert"]

[themes.exodus]
label = "Sample exodus"
phrases = ["Armenians flee Karabakh"]

[[themes.exodus.rules]]
name = "flight"
all = [["flee*", "fled", "refugee*"], "@place"]
within = 10
"""
FLEEING = Entry(
    title="Sample: families fled Stepanakert overnight",
    link="https://sample-wire.example.org/fled",
    summary="<p>Sample text: long queues on the road out of Karabakh.</p>",
)

# --- The digest's sample week (once in test_digest.py)

WEEK = "2023-W39"  # Monday 25 September - Sunday 1 October 2023
SITE = "https://sample-wire.example.org"


def entry(n: int, title: str, day: int = 26, site: str = SITE) -> Entry:
    return Entry(
        title=title,
        link=f"{site}/2023/09/{n}",
        guid=f"{site}/2023/09/{n}",
        summary=f"<p>Sample text for monitor's tests, number {n}.</p>",
        published=datetime(2023, 9, day, 10, tzinfo=UTC),
    )


STORIES = [
    entry(1, "Sample: families fled Stepanakert overnight"),
    entry(2, "Sample: refugees from Karabakh reach Goris", day=27),
    entry(3, "Sample: a concert in the capital"),
]


def email_section(port: int, **extra: str) -> str:
    lines = [
        "[email]",
        "enabled = true",
        'host = "127.0.0.1"',
        f"port = {port}",
        'security = "none"',
        'from = "monitor@example.org"',
        'to = ["analyst@example.org", "desk@example.org"]',
        'subject = "Sample digest {week}"',
    ] + [f'{k} = "{v}"' for k, v in extra.items()]
    return "\n".join(lines) + "\n"


# --- The daemon as a subprocess (once in test_daemon.py)

STOP_BOUND = 35  # seconds: the daemon's STOP_TIMEOUT and some slack


def last_week_entries() -> list[Entry]:
    """Sample items published in the last complete week, whatever today is."""
    monday = week_start(datetime.now(UTC), "UTC") - timedelta(days=5)
    return [
        Entry(
            title=f"Sample: families fled Stepanakert, report {n}",
            link=f"https://sample-wire.example.org/d/{n}",
            guid=f"https://sample-wire.example.org/d/{n}",
            published=monday + timedelta(hours=n),
        )
        for n in range(3)
    ]


class Running:
    def __init__(self, config: Path, db: Path, log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "run"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(timeout=STOP_BOUND) == 0, self.log.read_text()
        return time.monotonic() - started


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def count(db: Path, sql: str) -> Any:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


# --- Output and clock (once in test_poll.py and test_weeks.py)


def line_of(output: str, feed: str) -> str:
    return next(line for line in output.splitlines() if f" {feed} " in f" {line} ")


def pretend(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    """Run the CLI as if the clock said `now` (the documented MONITOR_CLOCK_OFFSET seam)."""
    monkeypatch.setenv("MONITOR_CLOCK_OFFSET", str((now - datetime.now(UTC)).total_seconds()))


# Figures of the feedparser corpus run (test_corpus.py), printed in the terminal summary (conftest.py).
CORPUS_FIGURES: dict[str, int] = {}
# Which parser read each document of the corpus and the fixtures (test_fastparse.py), printed there too.
PARSE_FIGURES: dict[str, int] = {}


# --- Events: one happening in three sample outlets' words, and other happenings in the same places
# (invented SAMPLES, see tests/test_cluster.py)

BLAST = [
    (
        "Sample Wire",
        "Sample: fuel depot blast near Stepanakert kills 20 as families flee",
        "Sample text: an explosion at a fuel depot on the road out of Stepanakert killed at least 20 people "
        "queuing for petrol to flee, officials said.",
    ),
    (
        "Sample Dispatch",
        "Sample: at least 20 dead as petrol depot explodes outside Stepanakert",
        "Sample text: people queuing for fuel to flee Karabakh were killed or injured when a depot exploded "
        "near Stepanakert, officials said.",
    ),
    (
        "Sample Courier",
        "Sample: hundreds injured in Stepanakert fuel depot explosion",
        "Sample text: hospitals in Stepanakert are overwhelmed after a fuel depot explosion injured hundreds "
        "of families fleeing Karabakh; at least 20 died.",
    ),
]
# Other happenings of the same days, in the same places (SAMPLES).
OTHERS = [
    (
        "Sample Wire",
        "Sample: first refugee buses leave Stepanakert for Goris",
        "Sample text: buses carrying families who fled Stepanakert reached Goris in Armenia overnight, officials said.",
    ),
    (
        "Sample Dispatch",
        "Sample: Stepanakert hospital runs out of medicines as doctors flee",
        "Sample text: the last hospital in Stepanakert has run out of medicines; doctors fled Karabakh with "
        "their families, officials said.",
    ),
]


def events_by_outlet(published: Callable[[int], datetime]) -> dict[str, list[Entry]]:
    """BLAST's three reports and the OTHERS, each as an entry of its outlet's feed (keyed by the outlet's site
    name, such as `sample-wire`), the n-th of them published at `published(n)`."""
    by_outlet: dict[str, list[Entry]] = {}
    for n, (outlet, title, summary) in enumerate(BLAST + OTHERS):
        site = outlet.lower().replace(" ", "-")
        by_outlet.setdefault(site, []).append(
            Entry(
                title=title,
                link=f"https://{site}.example.org/2023/09/{n}",
                guid=f"https://{site}.example.org/{n}",
                summary=f"<p>{summary}</p>",
                published=published(n),
            )
        )
    return by_outlet


# A small labelled set of SAMPLE pairs: (title, summary) of two outlets' reports, and whether they report
# the same happening.


def canned(db_path, name: str, **params: str) -> list[dict[str, Any]]:
    """Run a Datasette canned query of deploy/datasette-metadata.json as Datasette would."""
    metadata = json.loads((Path(__file__).resolve().parent.parent / "deploy" / "datasette-metadata.json").read_text())
    sql = metadata["databases"]["monitor"]["queries"][name]["sql"]
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, {p: params.get(p, "") for p in re.findall(r":(\w+)", sql)})]
    finally:
        conn.close()


def database_before(path: Path, version: int, applied_at: str = "2023-01-01T00:00:00Z") -> sqlite3.Connection:
    """A database as a monitor whose newest migration was `version` - 1 left it, to test an upgrade from it:
    the migrations before `version` applied and recorded, nothing else. The caller adds its rows and closes it."""
    from monitor.storage.schema import MIGRATIONS

    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for migration in MIGRATIONS:
        if migration.version < version:
            conn.executescript(migration.sql)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, ?)", (migration.version, migration.name, applied_at)
            )
    return conn


# A headless Chromium, where the machine has one (.ci/run installs Debian's): the HTML as a mail client shows it.
BROWSER = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), None)


def screenshot(page: Path, png: Path, profile: Path, size: str, *options: str) -> None:
    """The page as the browser draws it in a window of `size` ("700,1000"), written to `png`."""
    assert BROWSER is not None
    quiet = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
    subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", *quiet, *options, f"--user-data-dir={profile}"]
        + [f"--screenshot={png}", f"--window-size={size}", page.as_uri()],
        capture_output=True,
        timeout=120,
    )


def rows(db: Path, sql: str) -> list[dict[str, object]]:
    """The rows of a query on a database file, as dicts."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()
