"""One "this week" everywhere (issue 13): an item belongs to the week of its published time (its first
sighting when the feed gave no date), in `monitor.timezone`, for `monitor status`, `monitor themes`, the
digest and the Datasette queries alike."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.clock import utc_now

from .conftest import REPO
from .samples import Entry, rss
from .test_themes_cli import THEMES

YEREVAN = '[monitor]\ntimezone = "Asia/Yerevan"\n'


def fled(n: int, published: datetime) -> Entry:
    return Entry(title=f"Sample: families fled Stepanakert, report {n}", link=f"https://sample-wire.example.org/f{n}",
                 guid=f"https://sample-wire.example.org/f{n}", published=published)


def pretend(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    """Run the CLI as if the clock said `now` (the documented MONITOR_CLOCK_OFFSET seam)."""
    monkeypatch.setenv("MONITOR_CLOCK_OFFSET", str((now - utc_now()).total_seconds()))


def test_an_item_published_last_week_and_first_seen_this_week_counts_in_last_week_everywhere(
        feed_server, write_config, run_cli, monkeypatch):
    # Wednesday 31 December 2025 in Yerevan: ISO week 2026-W01, which began on Monday 29 December.
    pretend(monkeypatch, datetime(2025, 12, 31, 12, tzinfo=UTC))
    last_week = fled(1, datetime(2025, 12, 26, 9, tzinfo=UTC))  # Friday of 2025-W52
    this_week = fled(2, datetime(2025, 12, 30, 9, tzinfo=UTC))
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/f", body=rss([last_week, this_week]))}],
                          extra=YEREVAN + THEMES)
    run_cli(config, "poll")  # both first seen this week

    status = json.loads(run_cli(config, "status", "--json", expect=None).output)
    themes = {row["theme"]: row for row in json.loads(run_cli(config, "themes", "--json").output)["themes"]}
    now_digest = run_cli(config, "digest", "--week", "2026-W01", "--dry-run").output
    then_digest = run_cli(config, "digest", "--week", "2025-W52", "--dry-run").output

    assert status["themes_week"] == {"exodus": 1} and status["items_week"] == 1
    assert themes["exodus"]["this_week"] == 1
    assert this_week.title in now_digest and last_week.title not in now_digest
    assert last_week.title in then_digest and this_week.title not in then_digest

    # The catch-up still holds: once 2025-W52's digest is out, an item of that week first seen later is
    # reported late in the next digest (and is still not "this week" for status and themes).
    run_cli(config, "digest", "--week", "2025-W52", "--no-send", "--out", str(config.parent / "digests"))
    straggler = fled(3, datetime(2025, 12, 27, 9, tzinfo=UTC))
    feed_server.add("/f", body=rss([last_week, this_week, straggler]))
    run_cli(config, "poll")
    status = json.loads(run_cli(config, "status", "--json", expect=None).output)
    assert status["themes_week"] == {"exodus": 1}
    assert straggler.title in run_cli(config, "digest", "--week", "2026-W01", "--dry-run").output
