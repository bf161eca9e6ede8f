"""No data is not a quiet week (issue 11): a digest says which part of its week was polled.

A week that ended before anything was observed is not digested unbidden (not by the daemon, not by
`monitor digest` without --week); one only a first poll's document reached is written by the command and
held back from e-mail; asked for by name, a week is written saying what of it was observed, and e-mailed
only with an explicit --send. A week polled only in part says since when, and so does a
comparison with such a week. A feed added during the week is "failing since it was added", not "failed
all week". Driven as an operator would: the real feed server, the CLI, `monitor run`, the SMTP server.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config.load import load_config
from monitor.digest.build import build
from monitor.digest.decide import DAEMON_ROUND, DigestFacts, decide
from monitor.digest.render import environment, render_html, render_text
from monitor.types import FeedTrouble, ThemedItem, ThemeSpec, WeekData
from monitor.weeks import last_complete_week, week_coverage, week_end, week_label, week_start

from .conftest import backdate_polling
from .helpers import (
    SITE,
    STORIES,
    THEMES,
    WEEK,
    Running,
    count,
    database_before,
    email_section,
    last_week_entries,
    wait_for,
)
from .samples import Entry, rss

YEREVAN = 'timezone = "Asia/Yerevan"\n'


def setup(feed_server, write_config, tmp_path, mail, entries=STORIES, extra: str = ""):
    url = feed_server.add("/wire", body=rss(entries))
    return write_config(
        [{"name": "sample-wire", "url": url, "interval": "1h"}],
        extra=THEMES
        + "\n"
        + email_section(mail.port)
        + '\n[digest]\nweek_start = "monday"\nsend_day = "monday"\nsend_time = "00:00"\n'
        + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n'
        + extra,
    )


# -- weeks before the first poll ------------------------------------------------------------------


@pytest.mark.timeout(90)
@pytest.mark.slow
def test_a_first_start_sends_no_digest_for_the_week_before_it(feed_server, write_config, tmp_path, mail):
    """A fresh daemon, e-mail on, last week's send time passed: it polls (finding last week's items in
    the feed's back catalogue) and sends nothing for a week it never polled."""
    config = setup(feed_server, write_config, tmp_path, mail, entries=last_week_entries())
    db, log = tmp_path / "data" / "monitor.db", tmp_path / "daemon.log"
    last_week = week_label(last_complete_week(datetime.now(UTC), "UTC"), "UTC")
    daemon = Running(config, db, log)
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM items") == 3, what="the first poll")
        wait_for(
            lambda: mail.messages or f"digest {last_week}: not produced" in log.read_text(),
            timeout=30,
            what="the start-up digest check",
        )
        wait_for(lambda: "start-up digest check done" in log.read_text(), what="the start-up digest check's end")
    finally:
        daemon.stop()
    print(f"\ncopies of {last_week} e-mailed by a first start: {len(mail.messages)}")
    assert mail.messages == []
    assert count(db, "SELECT count(*) FROM digests") == 0 and not (tmp_path / "digests").exists()
    # The first poll's document carried last week (observed), but no live poll did: not produced.
    line = next(x for x in log.read_text().splitlines() if f"digest {last_week}: not produced" in x)
    assert "it is before the first live poll" in line, line


def test_digest_without_week_skips_a_week_nothing_observed_and_holds_one_only_a_first_poll_reached(
    feed_server, write_config, tmp_path, mail, run_cli, query
):
    """One rule (issue 22): a week is digested unbidden once something observed it. A first poll whose feed
    carries only today's items observed nothing of last week: skipped. One whose feed still carries last
    week's items observed it: written, and held back from e-mail until live polling covers a week."""
    now = datetime.now(UTC)
    fresh = [Entry("Sample: families fled Stepanakert today", "https://sample-wire.example.org/t", published=now)]
    config = setup(feed_server, write_config, tmp_path, mail, entries=fresh)
    run_cli(config, "poll")
    result = run_cli(config, "digest")
    print(f"\n`monitor digest` after a first poll: {len(mail.messages)} e-mail(s)")
    assert mail.messages == [] and not (tmp_path / "digests").exists()
    assert query("SELECT count(*) AS n FROM digests")[0]["n"] == 0
    assert "nothing was observed that week" in result.output and "--week" in result.output

    feed_server.add("/wire", body=rss(fresh + last_week_entries()))
    run_cli(config, "poll", "--force")
    result = run_cli(config, "digest")
    zone = load_config(config).timezone
    last_week = week_label(last_complete_week(now, zone), zone)
    assert mail.messages == [] and f"{last_week}: not e-mailed: it is before the first live poll" in result.output
    assert query("SELECT week, state FROM digests") == [{"week": last_week, "state": "rendered"}]


def test_an_unpolled_week_asked_for_is_written_as_such_and_sent_only_with_send(
    feed_server, write_config, tmp_path, mail, run_cli, query
):
    config = setup(feed_server, write_config, tmp_path, mail, extra=YEREVAN)
    run_cli(config, "poll")  # today: long after WEEK, whose items the feed still carries
    result = run_cli(config, "digest", "--week", WEEK)
    text = (tmp_path / "digests" / f"{WEEK}.txt").read_text()
    html = (tmp_path / "digests" / f"{WEEK}.html").read_text()
    print(f"\n`monitor digest --week {WEEK}` (never polled), e-mail on: {len(mail.messages)} e-mail(s)")
    assert mail.messages == [] and "not e-mailed" in result.output and "--send" in result.output
    # The first poll's document reached back into the week: observed from its oldest item on (issue 22).
    assert "Only part of this week was observed: observed only from Tuesday 26 September 14:00" in text
    assert "Only part of this week was observed" in html
    assert "quiet week" not in text and STORIES[0].title in text  # what the feed still carried is shown
    assert "on last week" not in text and "last week: not observed" in text
    assert query("SELECT state FROM digests") == [{"state": "rendered"}]

    run_cli(config, "digest", "--week", WEEK, "--send")
    assert len(mail.messages) == 1
    assert "Only part of this week was observed" in mail.messages[0][1].get_body(("plain",)).get_content()
    assert query("SELECT state FROM digests") == [{"state": "sent"}]


def test_an_empty_unpolled_week_is_not_called_quiet(feed_server, write_config, tmp_path, mail, run_cli):
    config = setup(feed_server, write_config, tmp_path, mail)
    run_cli(config, "poll")
    run_cli(config, "digest", "--week", "2023-W10", "--no-send")
    text = (tmp_path / "digests" / "2023-W10.txt").read_text()
    assert "quiet week" not in text and "none of the 0 items" not in text
    assert "Not observed: no feed was observed during this week" in text and "nothing to report" in text


# -- weeks polled in part -------------------------------------------------------------------------


def test_a_week_polled_from_thursday_says_so_and_so_does_the_next_weeks_comparison(
    feed_server, write_config, tmp_path, mail, run_cli, db_path
):
    following_week = Entry(
        title="Sample: more families fled Stepanakert",
        link=f"{SITE}/2023/10/1",
        guid=f"{SITE}/2023/10/1",
        published=datetime(2023, 10, 3, 10, tzinfo=UTC),
    )
    config = setup(feed_server, write_config, tmp_path, mail, entries=[*STORIES, following_week], extra=YEREVAN)
    run_cli(config, "poll")
    # The monitor's history: polling began at 02:30 on Thursday 28 September in Yerevan, which is still
    # Wednesday in UTC. The analysts' time zone decides the day.
    backdate_polling(db_path, "2023-09-27T22:30:00Z")
    conn = sqlite3.connect(db_path)  # ...and observed the feed from then on (its documents reached no further)
    conn.execute("UPDATE observed SET since = '2023-09-27T22:30:00Z'")
    conn.commit()
    conn.close()
    run_cli(config, "digest", "--week", WEEK)
    text = (tmp_path / "digests" / f"{WEEK}.txt").read_text()
    html = (tmp_path / "digests" / f"{WEEK}.html").read_text()
    for rendered in (text, html):
        assert "Only part of this week was observed: observed only from Thursday 28 September 02:30" in rendered
        assert "Not observed" not in rendered and "on last week" not in rendered
    assert "last week: not observed" in text
    assert len(mail.messages) == 1  # part of the week was polled: it is a digest like any other

    run_cli(config, "digest", "--week", "2023-W40")
    following = (tmp_path / "digests" / "2023-W40.txt").read_text()
    assert "Only part" not in following.split("AT A GLANCE")[0] and "Not observed" not in following
    # The change is given only between weeks both observed throughout (issue 22).
    assert re.search(
        r"not compared with last week \(\d+\): last week observed only from Thursday 28 September 02:30", following
    ), following
    assert len(mail.messages) == 2


def test_a_week_polled_throughout_reads_as_before(feed_server, write_config, tmp_path, mail, run_cli, db_path):
    config = setup(feed_server, write_config, tmp_path, mail, extra=YEREVAN)
    run_cli(config, "poll")
    backdate_polling(db_path, "2023-01-01T00:00:00Z")
    run_cli(config, "digest", "--week", WEEK)
    text = (tmp_path / "digests" / f"{WEEK}.txt").read_text()
    assert "2 items, +2 on last week (0)" in text and "Only part" not in text and "Not observed" not in text


# -- feeds added during the week ------------------------------------------------------------------


def test_a_feed_added_this_week_is_failing_since_added_not_all_week(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    config = write_config(
        [
            {"name": "sample-old", "url": feed_server.add("/old", status=503)},
            {"name": "sample-new", "url": feed_server.add("/new", status=503)},
            # With a story of today: only the samples' 2023 stories would make it stale.
            {
                "name": "sample-ok",
                "url": feed_server.add(
                    "/ok",
                    body=rss(
                        [*STORIES, Entry("Sample: a sunny day in Goris", f"{SITE}/today", published=datetime.now(UTC))]
                    ),
                ),
            },
        ],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    run_cli(config, "poll")
    now = datetime.now(UTC)
    # sample-old has been polled (and failing) since long before this week; sample-new was added today.
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE feeds SET first_fetch_at = '2023-01-02T00:00:00Z' WHERE name = 'sample-old'")
    conn.commit()
    conn.close()
    week = week_label(week_start(now, "UTC"), "UTC")
    run_cli(config, "digest", "--week", week, "--no-send")
    text = (tmp_path / "d" / f"{week}.preview.txt").read_text()  # this week is not over: a preview
    html = (tmp_path / "d" / f"{week}.preview.html").read_text()
    added = f"{now:%A} {now.day} {now:%B}"
    new_line = next(line for line in text.splitlines() if "sample-new" in line)
    old_line = next(line for line in text.splitlines() if "sample-old" in line)
    assert f"failing since it was added on {added}" in new_line and "all week" not in new_line
    assert "failed all week" in old_line and "HTTP 503" in old_line
    assert f"failing since it was added on {added}" in html and "sample-ok" not in text.split("FAILING")[-1]


# -- the pure parts -------------------------------------------------------------------------------

MONDAY = datetime(2023, 9, 24, 21, tzinfo=UTC)  # 00:00 on Monday 25 September in Yerevan
THEME = {"exodus": ThemeSpec(key="exodus", label="Exodus", phrases=("fled",), threshold=80)}


def week(polled_since, troubled=(), previous=3, items=2):
    themed = tuple(
        ThemedItem(
            item_id=n,
            theme="exodus",
            score=90,
            evidence=(),
            title=f"Sample {n}",
            link=None,
            summary="",
            published=MONDAY + timedelta(days=2, hours=n),
            date_source="published",
            outlets=("sample-wire",),
            late=False,
        )
        for n in range(items)
    )
    return WeekData(
        week=WEEK,
        start=MONDAY,
        end=MONDAY + timedelta(days=7),
        items=themed,
        total_items=items,
        previous={"exodus": previous},
        troubled=tuple(troubled),
        polled_since=polled_since,
    )


def text_of(data):
    digest = build(data, THEME, timezone="Asia/Yerevan", now=MONDAY + timedelta(days=8), subject_template="{week}")
    env = environment()
    return digest, render_text(digest, env), render_html(digest, env)


@pytest.mark.parametrize(
    ("polled_since", "coverage", "previous"),
    [
        (None, "none", "none"),
        (MONDAY + timedelta(days=9), "none", "none"),
        (MONDAY + timedelta(days=7), "none", "none"),  # polling began the moment the week ended
        (MONDAY + timedelta(days=3, hours=5), "partial", "none"),
        (MONDAY, "full", "none"),
        (MONDAY - timedelta(days=2), "full", "partial"),
        (MONDAY - timedelta(days=7), "full", "full"),
    ],
)
def test_coverage_of_a_week_and_of_the_week_before(polled_since, coverage, previous):
    digest, _, _ = text_of(week(polled_since))
    assert (digest.coverage, digest.previous_coverage) == (coverage, previous)
    assert week_coverage(MONDAY, MONDAY + timedelta(days=7), polled_since) == coverage


def test_the_texts_of_each_coverage():
    _, never, _ = text_of(week(None))
    assert "Not observed: no feed was observed during this week (no feed has been polled successfully yet)" in never
    _, after, html = text_of(week(MONDAY + timedelta(days=9, hours=3)))
    assert "Not observed: no feed was observed during this week, so what was published in it is unknown" in after
    assert "Not observed" in html and "items, last week: not observed" in after and "quiet" not in after
    _, partial, _ = text_of(week(MONDAY + timedelta(days=3, hours=5)))
    assert "Only part of this week was observed: observed only from Thursday 28 September 06:00" in partial
    assert "items, last week: not observed; this week observed only from Thursday 28 September 06:00" in partial
    _, full, _ = text_of(week(MONDAY - timedelta(days=2)))
    assert "not compared with last week (3): last week observed only from Saturday 23 September 01:00" in full
    assert "Only part" not in full
    _, settled, _ = text_of(week(MONDAY - timedelta(days=30)))
    assert "-1 on last week (3)" in settled and "observed" not in settled


def test_troubled_feeds_say_since_when_they_fail():
    added = FeedTrouble(
        name="sample-new",
        url="u",
        last_error="HTTP 503",
        dead=False,
        failures=2,
        since=MONDAY + timedelta(days=2, hours=10),
    )
    old = FeedTrouble(name="sample-old", url="u", last_error="HTTP 503", dead=False, failures=9)
    _, text, html = text_of(week(MONDAY - timedelta(days=30), troubled=(added, old)))
    assert "sample-new: failing since it was added on Wednesday 27 September: HTTP 503" in text
    assert "sample-old: failed all week: HTTP 503" in text
    assert "failing since it was added on Wednesday 27 September" in html


def test_the_due_digest_skips_a_week_that_ended_before_the_first_poll():
    now = datetime(2023, 10, 2, 9, tzinfo=UTC)  # Monday, after the 08:00 send time
    facts = DigestFacts("UTC", "monday", "monday", "08:00", False, False, polled_since=None, live_since=None)
    w39 = datetime(2023, 9, 25, tzinfo=UTC)

    def due(since: datetime | None) -> datetime | None:
        decision = decide(DAEMON_ROUND, replace(facts, polled_since=since, live_since=since), now)
        return decision.week if decision.write else None

    assert due(None) is None
    assert due(datetime(2023, 10, 2, 7, tzinfo=UTC)) is None
    assert due(datetime(2023, 9, 30, tzinfo=UTC)) == w39
    assert due(datetime(2023, 1, 1, tzinfo=UTC)) == w39
    assert week_end(w39, "UTC") == datetime(2023, 10, 2, tzinfo=UTC)


def test_an_older_database_learns_its_first_polls_from_its_fetch_log(tmp_path):
    """Migration 6 fills the new columns from `fetches`; from then on every fetch logged keeps them, the
    earliest winning (a clock set back cannot make polling begin later)."""
    from monitor.storage import Store

    path = tmp_path / "old.db"
    conn = database_before(path, 6)
    conn.execute(
        "INSERT INTO feeds (id, name, url, config_url, interval_seconds, created_at) "
        "VALUES (1, 'sample-wire', 'u', 'u', 3600, '2023-09-01T00:00:00Z')"
    )
    for started, outcome in [
        ("2023-09-26T08:00:00Z", "error"),
        ("2023-09-27T08:00:00Z", "ok"),
        ("2023-09-28T08:00:00Z", "not_modified"),
    ]:
        conn.execute(
            "INSERT INTO fetches (feed_id, started_at, duration_ms, url, outcome) VALUES (1, ?, 5, 'u', ?)",
            (started, outcome),
        )
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        assert store.conn.execute("SELECT first_fetch_at, first_success_at FROM feeds").fetchone() == (
            "2023-09-26T08:00:00Z",
            "2023-09-27T08:00:00Z",
        )
        store.conn.execute(
            "INSERT INTO fetches (feed_id, started_at, duration_ms, url, outcome) "
            "VALUES (1, '2023-09-20T08:00:00Z', 5, 'u', 'ok')"
        )  # a clock set back
        store.conn.execute(
            "INSERT INTO fetches (feed_id, started_at, duration_ms, url, outcome) "
            "VALUES (1, '2023-10-20T08:00:00Z', 5, 'u', 'ok')"
        )
        assert store.conn.execute("SELECT first_fetch_at, first_success_at FROM feeds").fetchone() == (
            "2023-09-20T08:00:00Z",
            "2023-09-20T08:00:00Z",
        )
