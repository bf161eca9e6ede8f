"""The deployment files stay true: Datasette's canned queries find what they should on a real database, the
systemd unit and Dockerfile start the service."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from typing import Any

from .conftest import REPO, backdate_polling
from .helpers import BLAST, OTHERS, SITE, STORIES, THEMES, WEEK, canned, email_section, entry, events_by_outlet
from .mailserver import MailServer, body
from .samples import Entry, rss


def test_every_canned_datasette_query_finds_the_rows_it_should(feed_server, write_config, run_cli, db_path):
    """Each canned query on a database that holds what it looks for: one happening reported by three tagged
    outlets (an event of several feeds), other items of the week, a feed failing and a digest written."""
    by_outlet = events_by_outlet(lambda n: datetime(2023, 9, 26 if n < len(BLAST) else 27, 9 + 2 * n, tzinfo=UTC))
    concert = Entry(
        "Sample: a concert in the capital",
        "https://sample-wire.example.org/2023/09/concert",
        published=datetime(2023, 9, 27, 20, tzinfo=UTC),
    )
    by_outlet["sample-wire"].append(concert)  # carried, matched by no theme
    tags = {"sample-wire": ["wires"], "sample-dispatch": ["wires"], "sample-courier": ["regional"]}
    feeds = [
        {"name": site, "url": feed_server.add(f"/{site}", body=rss(e)), "tags": tags[site]}
        for site, e in by_outlet.items()
    ]
    feeds.append({"name": "sample-down", "url": feed_server.add("/down", status=503)})
    config = write_config(feeds, extra=THEMES)
    assert "HTTP 503" in run_cli(config, "poll").output  # a failing feed is no failed round: exit 0
    backdate_polling(db_path)
    run_cli(config, "digest", "--week", WEEK, "--out", str(db_path.parent / "d"), "--no-send")

    queries = json.loads((REPO / "deploy" / "datasette-metadata.json").read_text())["databases"]["monitor"]["queries"]
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row

    def rows(name: str, **params: str) -> list[dict[str, Any]]:
        sql = queries[name]["sql"]
        assert set(re.findall(r":(\w+)", sql)) == set(params), name
        return [dict(r) for r in conn.execute(sql, params)]

    on_theme = [title for _, title, _ in BLAST + OTHERS]  # every one matches the sample exodus theme
    blast_links = sorted(e.link for entries in by_outlet.values() for e in entries if e.title in on_theme[:3])
    try:
        assert set(queries) == {
            "theme_this_week",
            "search",
            "items_per_outlet_per_day",
            "themes_per_week",
            "same_story_several_feeds",
            "events_of_a_week",
            "theme_outlets_in_week",
            "theme_coverage_by_outlet_group",
            "feeds_failing",
            "digests",
            "alerts",  # checked on alerts the sample crisis made, in test_alerts.py
        }, "a new canned query: give this test the data it must find and check its rows"

        week = rows("theme_this_week", theme="exodus", week=WEEK)
        assert sorted(r["title"] for r in week) == sorted(on_theme)  # not the concert
        assert [(r["score"], r["published"]) for r in week] == sorted(
            ((r["score"], r["published"]) for r in week), reverse=True
        )  # best first, then newest
        assert all(r["week"] == WEEK and r["label"] == "Sample exodus" and 0 < r["score"] <= 100 for r in week)
        assert all("Stepanakert" in r["evidence"] and "|" in r["evidence"] for r in week), week
        assert rows("theme_this_week", theme="exodus", week=" ") == week  # blank: the latest item's week

        found = rows("search", q="Stepanakert")
        assert sorted(r["title"] for r in found) == sorted(on_theme)  # not the concert
        assert all("[Stepanakert]" in r["snippet"] for r in found), found
        assert {(r["feed"], r["link"]) for r in found} == {
            (site, e.link) for site, entries in by_outlet.items() for e in entries if e.title in on_theme
        }

        per_day = [(r["outlet"], r["week"], r["day"], r["items"]) for r in rows("items_per_outlet_per_day")]
        assert sorted(per_day) == [
            ("sample-courier", WEEK, "2023-09-26", 1),
            ("sample-dispatch", WEEK, "2023-09-26", 1),
            ("sample-dispatch", WEEK, "2023-09-27", 1),
            ("sample-wire", WEEK, "2023-09-26", 1),
            ("sample-wire", WEEK, "2023-09-27", 2),  # a refugee bus and the concert
        ]
        assert [day for _, _, day, _ in per_day] == sorted((day for _, _, day, _ in per_day), reverse=True)

        [theme_week] = rows("themes_per_week", week=WEEK)
        assert (theme_week["week"], theme_week["theme"], theme_week["label"], theme_week["items"]) == (
            WEEK,
            "exodus",
            "Sample exodus",
            5,
        )
        assert theme_week["mean_score"] == round(sum(r["score"] for r in week) / len(week))
        assert theme_week["shown"] == "today's matches (no digest of this week went out)"  # written, not sent
        assert rows("themes_per_week", week="") == [theme_week]  # blank: every week, here one

        [story] = rows("same_story_several_feeds")
        assert (story["week"], story["event"], story["themes"], story["outlets"]) == (WEEK, 1, "exodus", 3)
        assert story["headline"] in on_theme[:3] and story["first_outlet"] == "sample-wire"
        assert story["first_published"] == "2023-09-26T09:00:00Z" and sorted(story["links"].split()) == blast_links

        reports = rows("events_of_a_week", week=WEEK)
        assert [(r["event"], r["event_outlets"], r["themes"]) for r in reports] == [(1, 3, "Sample exodus")] * 3 + [
            (2, 1, "Sample exodus"),
            (3, 1, "Sample exodus"),
        ]  # the blast's three reports, then the bus and the hospital (one outlet each, the earlier first)
        assert [r["title"] for r in reports[:3]] == on_theme[:3] and reports[0]["outlets"] == "sample-wire"
        assert reports[0]["published"] == "2023-09-26T09:00:00Z" and rows("events_of_a_week", week="") == reports

        outlets = rows("theme_outlets_in_week", theme="exodus", week=WEEK)
        assert [(r["outlet"], r["items"], r["events"], r["outlet_items"], r["share_percent"]) for r in outlets] == [
            ("sample-dispatch", 2, 2, 2, 100.0),  # the blast and the hospital
            ("sample-wire", 2, 2, 3, 66.7),  # the blast and the bus; the concert is no match
            ("sample-courier", 1, 1, 1, 100.0),
        ]
        assert outlets[2]["tags"] == '["regional"]' and outlets[1]["first_published"] == "2023-09-26T09:00:00Z"

        coverage = rows("theme_coverage_by_outlet_group", week=WEEK)
        assert [
            (r["theme"], r["outlet_group"], r["items"], r["group_items"], r["share_percent"]) for r in coverage
        ] == [
            ("exodus", "wires", 4, 5, 80.0),  # the blast's two reports, the bus, the hospital; not the concert
            ("exodus", "regional", 1, 1, 100.0),
        ]
        assert [r["events"] for r in coverage] == [3, 1]  # the blast is one event in the wires' two reports

        [failing] = rows("feeds_failing")
        assert (failing["name"], failing["dead"], failing["failures"]) == ("sample-down", 0, 1)
        assert failing["last_error"].startswith("HTTP 503") and failing["retry_not_before"] > failing["last_error_at"]

        [digest] = rows("digests")
        assert (digest["week"], digest["state"], digest["items"], digest["attempts"]) == (WEEK, "rendered", 5, 0)
        assert digest["sent_at"] is None and digest["last_error"] is None
    finally:
        conn.close()


NEXT_WEEK = "2023-W40"
TODAY = "today's matches (no digest of this week went out)"


def test_datasette_counts_a_sent_week_as_it_was_sent_and_an_unsent_week_as_matched_today(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    """themes_per_week counts a week whose digest went out from what the digest reported, whatever was matched
    since (an item of the week that arrived late, the theme renamed and everything rematched), and another
    week from today's matches; its `shown` column says which."""
    on_monday = Entry(
        "Sample: refugees from Stepanakert queue in Goris",
        "https://sample-wire.example.org/2023/10/4",
        published=datetime(2023, 10, 2, 10, tzinfo=UTC),
    )
    arrived_late = entry(5, "Sample: the last families fled Stepanakert", day=30)  # of the sent week
    with MailServer() as mail:
        url = feed_server.add("/wire", body=rss([*STORIES, on_monday]))
        settings = email_section(mail.port) + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n'
        config = write_config([{"name": "sample-wire", "url": url}], extra=THEMES + "\n" + settings)
        run_cli(config, "poll")
        backdate_polling(db_path)
        run_cli(config, "digest", "--week", WEEK)
        assert len(mail.messages) == 1
        renamed = THEMES.replace("themes.exodus", "themes.departures").replace("Sample exodus", "Departures")
        config.write_text(config.read_text().replace(THEMES, renamed))
        run_cli(config, "rematch", "--all")
        feed_server.add("/wire", body=rss([*STORIES, on_monday, arrived_late]))
        run_cli(config, "poll", "--force")  # which also brings the themes table's labels up to date

    reported = canned(db_path, "theme_this_week", theme="exodus", week=WEEK)  # the two items e-mailed
    [sent] = canned(db_path, "themes_per_week", week=WEEK)
    assert (sent["week"], sent["theme"], sent["label"], sent["items"]) == (WEEK, "exodus", "Sample exodus", 2)
    assert sent["mean_score"] == round(sum(r["score"] for r in reported) / len(reported))
    assert sent["shown"].startswith("as the digest reported it (sent "), sent["shown"]
    [unsent] = canned(db_path, "themes_per_week", week=NEXT_WEEK)
    assert (unsent["week"], unsent["theme"], unsent["label"], unsent["items"]) == (
        NEXT_WEEK,
        "departures",
        "Departures",
        1,
    )
    assert unsent["shown"] == TODAY
    assert canned(db_path, "themes_per_week") == [unsent, sent]  # blank: every week, the latest first


POST = "https://sample-post.example.org"
SHARE_LINE = re.compile(r"^  (\S+)\s+(\d+) items?\s+(\d+) events?\s+(\S+) of its (\d+) items?\s*$", re.MULTILINE)


def test_datasette_divides_a_sent_week_by_what_its_digest_counted_and_an_unsent_week_by_today(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    """theme_outlets_in_week and theme_coverage_by_outlet_group give a sent week's shares as the e-mail gave
    them, after an item of the week arrived late (raising a feed's own items) and another feed carried one of
    its reported items (adding it to that outlet's and its group's items); a week that did not go out, even
    written, shows today's items and sightings. Each outlet is a group of its own here, so the e-mail's share of
    each group is also its outlet's."""
    wire_week = list(STORIES)  # two exodus items and a concert: 2 of 3
    post_week = [
        entry(11, "Sample: Armenians flee Karabakh", day=28, site=POST),
        entry(12, "Sample: a cup final", site=POST),  # no match: 1 of 2
    ]
    on_monday = Entry(  # of the next week, which is only written
        "Sample: refugees from Stepanakert queue in Goris",
        "https://sample-wire.example.org/2023/10/4",
        published=datetime(2023, 10, 2, 10, tzinfo=UTC),
    )
    festival = Entry("Sample: a harvest festival", f"{SITE}/2023/10/5", published=datetime(2023, 10, 3, 9, tzinfo=UTC))
    arrived_late = entry(5, "Sample: the last families fled Stepanakert", day=30)  # of the sent week
    with MailServer() as mail:
        wire = feed_server.add("/wire", body=rss([*wire_week, on_monday]))
        post = feed_server.add("/post", body=rss(post_week))
        settings = email_section(mail.port) + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n'
        feeds = [
            {"name": "sample-wire", "url": wire, "tags": ["wires"]},
            {"name": "sample-post", "url": post, "tags": ["posts"]},
        ]
        config = write_config(feeds, extra=THEMES + "\n" + settings)
        run_cli(config, "poll")
        backdate_polling(db_path)
        run_cli(config, "digest", "--week", WEEK)
        run_cli(config, "digest", "--week", NEXT_WEEK, "--no-send")  # written, not sent
        [(_, message)] = mail.messages
        feed_server.add("/wire", body=rss([*wire_week, arrived_late, on_monday, festival]))
        feed_server.add("/post", body=rss([*post_week, wire_week[0], on_monday]))  # sightings of wire's items
        run_cli(config, "poll", "--force")

    emailed = {g: (int(n), int(e), share, int(of)) for g, n, e, share, of in SHARE_LINE.findall(body(message, "plain"))}
    assert emailed == {"wires": (2, 2, "67%", 3), "posts": (1, 1, "50%", 2)}, body(message, "plain")

    def percent(share: float) -> str:
        return f"{share:.0f}%"

    [counted] = canned(db_path, "themes_per_week", week=WEEK)
    sent = counted["shown"]
    assert sent.startswith("as the digest reported it (sent "), sent
    outlets = canned(db_path, "theme_outlets_in_week", theme="exodus", week=WEEK)
    group = {"sample-wire": "wires", "sample-post": "posts"}
    assert {
        group[r["outlet"]]: (r["items"], r["events"], percent(r["share_percent"]), r["outlet_items"]) for r in outlets
    } == emailed  # not 2 of 4 (the late item) and 2 of 3 (wire's item sighted by post)
    assert all(r["shown"] == sent for r in outlets), outlets
    assert [r["tags"] for r in outlets] == ['["wires"]', '["posts"]']
    coverage = canned(db_path, "theme_coverage_by_outlet_group", week=WEEK)
    assert {
        r["outlet_group"]: (r["items"], r["events"], percent(r["share_percent"]), r["group_items"]) for r in coverage
    } == emailed
    assert all(r["theme"] == "exodus" and r["shown"] == sent for r in coverage), coverage

    today = [
        (r["outlet"], r["items"], r["events"], r["outlet_items"], r["share_percent"], r["shown"])
        for r in canned(db_path, "theme_outlets_in_week", theme="exodus", week=NEXT_WEEK)
    ]
    assert today == [
        ("sample-post", 1, 1, 1, 100.0, TODAY),  # a sighting since the week was written
        ("sample-wire", 1, 1, 2, 50.0, TODAY),  # and the festival
    ]
    by_group = [
        (r["theme"], r["outlet_group"], r["items"], r["events"], r["group_items"], r["share_percent"], r["shown"])
        for r in canned(db_path, "theme_coverage_by_outlet_group", week=NEXT_WEEK)
    ]
    assert by_group == [("exodus", "posts", 1, 1, 1, 100.0, TODAY), ("exodus", "wires", 1, 1, 2, 50.0, TODAY)]

    # A week sent before migration 26 kept no counts (a database migrated from 25 has none): its reported items
    # are divided by today's items and sightings, and shown says so.
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("DELETE FROM digest_outlets")
        conn.execute("DELETE FROM digest_outlet_groups")
        conn.execute("UPDATE digest_items SET outlets = NULL")
    conn.close()
    older = canned(db_path, "theme_outlets_in_week", theme="exodus", week=WEEK)
    # Two items, two events each (post's two are departures two days apart): in order of the outlet's name.
    assert [(r["outlet"], r["items"], r["outlet_items"], r["share_percent"]) for r in older] == [
        ("sample-post", 2, 3, 66.7),  # with wire's item it carried since
        ("sample-wire", 2, 4, 50.0),  # with the late item
    ]
    assert {r["shown"] for r in older} == {
        f"{sent}, outlets and their items as stored today (not recorded before migration 26)"
    }


def test_service_definitions_run_the_daemon_with_a_health_check():
    unit = (REPO / "deploy" / "monitor.service").read_text()
    assert "ExecStart=" in unit and "monitor run" in unit and "ExecReload=/bin/kill -HUP" in unit
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'CMD ["run"]' in dockerfile and "HEALTHCHECK" in dockerfile and 'monitor", "status' in dockerfile
    assert re.search(r"^USER monitor$", dockerfile, re.MULTILINE)
