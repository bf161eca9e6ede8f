"""One "this week" everywhere (issue 13): an item belongs to the week of its published time (its first
sighting when the feed gave no date), in `monitor.timezone`, for `monitor status`, `monitor themes`, the
digest and the Datasette queries alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from monitor.weeks import (
    digest_send_moment,
    due_digest_week,
    last_complete_week,
    parse_week,
    week_end,
    week_label,
    week_start,
)

from .helpers import THEMES, canned, pretend
from .samples import Entry, rss

YEREVAN = '[monitor]\ntimezone = "Asia/Yerevan"\n'


def fled(n: int, published: datetime) -> Entry:
    return Entry(
        title=f"Sample: families fled Stepanakert, report {n}",
        link=f"https://sample-wire.example.org/f{n}",
        guid=f"https://sample-wire.example.org/f{n}",
        published=published,
    )


def test_an_item_published_last_week_and_first_seen_this_week_counts_in_last_week_everywhere(
    feed_server, write_config, run_cli, monkeypatch
):
    # Wednesday 31 December 2025 in Yerevan: ISO week 2026-W01, which began on Monday 29 December.
    pretend(monkeypatch, datetime(2025, 12, 31, 12, tzinfo=UTC))
    last_week = fled(1, datetime(2025, 12, 26, 9, tzinfo=UTC))  # Friday of 2025-W52
    this_week = fled(2, datetime(2025, 12, 30, 9, tzinfo=UTC))
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/f", body=rss([last_week, this_week]))}],
        extra=YEREVAN + THEMES,
    )
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


# Published instants where SQLite's %W and the ISO week differ (2020, 2025, 2026), and one whose week
# differs between UTC (Sunday, 2025-W52) and Yerevan (Monday 01:30, 2026-W01).
AROUND_NEW_YEAR = [
    datetime(2019, 12, 30, 10, tzinfo=UTC),
    datetime(2020, 1, 3, 10, tzinfo=UTC),
    datetime(2025, 1, 1, 10, tzinfo=UTC),
    datetime(2025, 12, 28, 21, 30, tzinfo=UTC),
    datetime(2025, 12, 29, 10, tzinfo=UTC),
    datetime(2026, 1, 2, 10, tzinfo=UTC),
]


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.astimezone(ZoneInfo("Asia/Yerevan")).isocalendar()
    return f"{year}-W{week:02d}"


def test_datasette_queries_count_iso_weeks_in_the_configured_time_zone_with_theme_labels(
    feed_server, write_config, run_cli, db_path, monkeypatch
):
    pretend(monkeypatch, datetime(2026, 1, 2, 12, tzinfo=UTC))
    entries = [fled(n, moment) for n, moment in enumerate(AROUND_NEW_YEAR)]
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/f", body=rss(entries))}], extra=YEREVAN + THEMES
    )
    run_cli(config, "poll")

    expected: dict[str, int] = {}
    for moment in AROUND_NEW_YEAR:
        expected[iso_week(moment)] = expected.get(iso_week(moment), 0) + 1
    per_week = canned(db_path, "themes_per_week")
    assert {row["week"]: row["items"] for row in per_week} == expected  # 2020-W01: 2, 2025-W01: 1, 2026-W01: 3
    assert {row["label"] for row in per_week} == {"Sample exodus"}
    assert {row["shown"] for row in per_week} == {"today's matches (no digest of this week went out)"}
    assert [r["week"] for r in canned(db_path, "themes_per_week", week="2020-w01")] == ["2020-W01"]

    week = canned(db_path, "theme_this_week", theme="exodus", week="2026-W01")
    assert sorted(r["published"] for r in week) == [
        "2025-12-28T21:30:00Z",
        "2025-12-29T10:00:00Z",
        "2026-01-02T10:00:00Z",
    ]
    assert canned(db_path, "theme_this_week", theme="exodus") == week  # blank: the latest week
    assert {r["label"] for r in week} == {"Sample exodus"}
    assert {r["week"] for r in canned(db_path, "items_per_outlet_per_day")} == set(expected)


def test_item_weeks_follow_a_change_of_time_zone(feed_server, write_config, run_cli, query, monkeypatch):
    pretend(monkeypatch, datetime(2026, 1, 2, 12, tzinfo=UTC))
    sunday_night = fled(1, datetime(2025, 12, 28, 21, 30, tzinfo=UTC))
    url = feed_server.add("/f", body=rss([sunday_night]))
    run_cli(write_config([{"name": "sample-wire", "url": url}], extra=THEMES), "poll")
    assert [r["week"] for r in query("SELECT week FROM items")] == ["2025-W52"]  # UTC
    run_cli(write_config([{"name": "sample-wire", "url": url}], extra=YEREVAN + THEMES), "poll")
    assert [r["week"] for r in query("SELECT week FROM items")] == ["2026-W01"]
    themes = query("SELECT key, label, in_config FROM themes")
    assert themes == [{"key": "exodus", "label": "Sample exodus", "in_config": 1}]


# Santiago skips local midnight when summer time begins (Saturday 24:00 -> Sunday 01:00), so a week that starts
# on Sunday there starts at an hour that does not exist; Lord Howe moves by half an hour; Berlin as most do.
@pytest.mark.parametrize("zone", ["America/Santiago", "Australia/Lord_Howe", "Europe/Berlin"])
@pytest.mark.parametrize("first_day", ["monday", "sunday"])
def test_weeks_tile_time_and_a_digest_is_never_due_before_its_week_ends_across_summer_time(zone, first_day):
    """Every instant of two years, in steps of three hours, is in exactly one week; each week starts where the
    last one ended (167 or 169 hours later across a change); its label names it back; and its digest is due
    only once it has ended, whatever day and time it is sent at."""
    moment, stop = datetime(2023, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)
    while moment < stop:
        start = week_start(moment, zone, first_day)
        end = week_end(start, zone)
        assert start <= moment < end, (moment, start, end)
        assert week_start(end, zone, first_day) == end and timedelta(hours=166) <= end - start <= timedelta(hours=170)
        assert parse_week(week_label(start, zone), zone, first_day) == start
        assert week_end(last_complete_week(moment, zone, first_day), zone) <= moment
        for send_day, send_time in (("monday", "08:00"), (first_day, "00:30")):
            due = due_digest_week(moment, zone, first_day, send_day, send_time)
            sent_at = digest_send_moment(due, zone, first_day, send_day, send_time)
            assert week_end(due, zone) <= sent_at <= moment, (moment, send_day, send_time)
        moment += timedelta(hours=3)
