"""A feed that answers but brings nothing new is `stale`, not "ok" (issue 13): in `monitor feeds` (with the
newest item's age), `monitor status` and the digest's list of feeds in trouble. The clock is moved with
MONITOR_CLOCK_OFFSET, as docs/development.md describes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from .helpers import pretend
from .samples import Entry, rss

T0 = datetime(2023, 10, 2, 9, tzinfo=UTC)  # a Monday
ONLY = Entry(
    title="Sample: a quiet outlet's last story",
    link="https://sample-quiet.example.org/1",
    guid="https://sample-quiet.example.org/1",
    published=T0,
)


def feeds(run_cli, config) -> dict[str, Any]:
    return {row["name"]: row for row in json.loads(run_cli(config, "feeds", "--json").output)}


def test_a_feed_silent_longer_than_stale_after_is_stale_in_feeds_status_and_the_digest(
    feed_server, write_config, run_cli, monkeypatch
):
    config = write_config([{"name": "sample-quiet", "url": feed_server.add("/q", body=rss([ONLY]))}])
    pretend(monkeypatch, T0 + timedelta(hours=1))
    run_cli(config, "poll")
    fresh = feeds(run_cli, config)["sample-quiet"]
    assert (fresh["state"], fresh["newest_item_age"]) == ("ok", "1 h")

    pretend(monkeypatch, T0 + timedelta(days=8))  # it still answers, with the same story
    run_cli(config, "poll")
    quiet = feeds(run_cli, config)["sample-quiet"]
    assert (quiet["state"], quiet["newest_item_age"]) == ("stale", "8 days")
    assert "stale" in run_cli(config, "feeds").output
    status = json.loads(run_cli(config, "status", "--json", expect=None).output)
    assert status["feeds"] == {"stale": 1}
    assert not any("failing" in problem for problem in status["problems"])  # the service works
    digest = run_cli(config, "digest", "--week", "2023-W41", "--dry-run").output
    assert "sample-quiet: answers, but nothing new since Monday 2 October" in digest
    # a stale feed answered: it is named as stale, not counted among the failing ones that cost coverage
    assert "STALE FEEDS" in digest and "FAILING" not in digest
    assert "feed failing" not in digest

    patient = write_config(
        [{"name": "sample-quiet", "url": feed_server.url("/q")}], polling={"stale_after": "30d"}, name="patient.toml"
    )
    assert feeds(run_cli, patient)["sample-quiet"]["state"] == "ok"
    assert "nothing new since" not in run_cli(patient, "digest", "--week", "2023-W41", "--dry-run").output


def test_a_stale_after_that_is_not_a_duration_is_refused_naming_the_key(feed_server, write_config, run_cli):
    config = write_config(
        [{"name": "sample-quiet", "url": feed_server.add("/q", body=rss([ONLY]))}], polling={"stale_after": "a week"}
    )
    result = run_cli(config, "feeds", expect=2)
    assert "stale_after" in result.output and "a week" in result.output
