"""Who says what, and figures that read right everywhere (issue 13): coverage of each theme by outlet group
(items, events, share of the group's own output), busiest outlets by theme matches, changes worded so they
cannot be misread, a chart whose values show without hovering and survive e-mail clients that drop SVG,
and a partly covered week said so beside its figures. Real feeds on 127.0.0.1, the CLI as a user runs it,
the e-mail read back from a real SMTP server."""

from __future__ import annotations

import html as htmllib
import json
import re
import sqlite3
from datetime import UTC, datetime

import pytest

from .conftest import REPO, backdate_polling
from .helpers import BROWSER, THEMES, WEEK, email_section, screenshot
from .png import count_colour
from .samples import Entry, rss


def item(site: str, slug: str, title: str, day: int, month: int = 9) -> Entry:
    link = f"https://{site}.example.org/2023/{slug}"
    return Entry(title=title, link=link, guid=link, published=datetime(2023, month, day, 10, tzinfo=UTC))


FLED = item("am-one", "fled", "Sample: families fled Stepanakert overnight", 26)
AM_ONE = [
    FLED,
    item("am-one", "goris", "Sample: refugees from Karabakh reach Goris", 27),
    item("am-one", "concert", "Sample: a concert in the capital", 26),
    item("am-one", "chess", "Sample: chess olympiad opens", 28),
]
AM_TWO = [FLED, item("am-two", "bakery", "Sample: a new bakery opens", 29)]  # carries am-one's item: one item
AZ_ONE = [item("az-one", "baku", "Sample: thousands fled Karabakh by the Lachin road, Baku says", 28)] + [
    item("az-one", f"football-{n}", f"Sample: football league round {n}", 25 + n) for n in range(6)
]
RU_ONE = [item("ru-one", f"weather-{n}", f"Sample: weather in Moscow, day {n}", 25 + n) for n in range(2)]


def visible(html: str) -> str:
    """What a reader sees of an HTML digest: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def outlets(feed_server, write_config, run_cli, tmp_path, db_path):
    """Four tagged outlets, two of them Armenian, polled by a monitor polling since before W39."""

    def make(extra: str = ""):
        feeds = [
            {"name": "am-one", "url": feed_server.add("/am1", body=rss(AM_ONE)), "tags": ["armenia"]},
            {"name": "am-two", "url": feed_server.add("/am2", body=rss(AM_TWO)), "tags": ["armenia"]},
            {"name": "az-one", "url": feed_server.add("/az1", body=rss(AZ_ONE)), "tags": ["azerbaijan"]},
            {"name": "ru-one", "url": feed_server.add("/ru1", body=rss(RU_ONE)), "tags": ["russia", "state-media"]},
        ]
        config = write_config(feeds, extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n' + extra)
        run_cli(config, "poll")
        backdate_polling(db_path)
        return config

    return make


def test_each_theme_shows_coverage_by_outlet_group_and_busiest_outlets_count_theme_matches(outlets, run_cli, tmp_path):
    config = outlets()
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    text = (tmp_path / "d" / f"{WEEK}.txt").read_text()
    html = visible((tmp_path / "d" / f"{WEEK}.html").read_text())
    # armenia: the item both Armenian feeds carried counts once; 2 of its 5 items are on the theme
    for shown in (text, html):
        assert re.search(r"armenia\s+2 items\s+2 events\s+40% of its 5 items", shown), shown
        assert re.search(r"azerbaijan\s+1 item\s+1 event\s+14% of its 7 items", shown)
        assert re.search(r"russia\s+0 items\s+0 events\s+0% of its 2 items", shown)
        assert "state-media" not in shown  # a feed's first tag is its group, unless digest.groups says
        # the sport and weather are not what makes an outlet busy on the themes
        assert "Busiest outlets: am-one (2), am-two (1), az-one (1)" in shown

    config.write_text(config.read_text() + '\n[digest]\ngroups = ["azerbaijan", "state-media"]\n')
    text = run_cli(config, "digest", "--week", WEEK, "--dry-run").output
    assert re.search(r"azerbaijan\s+1 item\s+1 event\s+14% of its 7 items", text)
    assert re.search(r"state-media\s+0 items\s+0 events\s+0% of its 2 items", text)
    assert re.search(r"other\s+2 items\s+2 events\s+40% of its 5 items", text)  # feeds in none of the groups


def test_the_canned_datasette_query_gives_the_digests_group_figures(outlets, run_cli, db_path):
    config = outlets()
    written = run_cli(config, "digest", "--week", WEEK, "--dry-run").output
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    metadata = json.loads((REPO / "deploy" / "datasette-metadata.json").read_text())
    sql = metadata["databases"]["monitor"]["queries"]["theme_coverage_by_outlet_group"]["sql"]
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute(sql, {"week": WEEK})]
    conn.close()
    figures = {(r["theme"], r["outlet_group"]): (r["items"], r["group_items"], r["share_percent"]) for r in rows}
    assert figures[("exodus", "armenia")] == (2, 5, 40.0)
    assert figures[("exodus", "azerbaijan")] == (1, 7, 14.3)
    assert figures[("exodus", "russia")] == (0, 2, 0.0)
    assert figures[("exodus", "state-media")] == (0, 2, 0.0)  # every tag is a group there
    # the events the digest counted for each group, as it stored them (the events table, digest_items.event)
    section = written.split("== Sample exodus")[1]
    for group in ("armenia", "azerbaijan"):
        shown = re.search(rf"{group}\s+\d+ items?\s+(\d+) events?", section)
        assert shown, section
        assert [r["events"] for r in rows if (r["theme"], r["outlet_group"]) == ("exodus", group)] == [int(shown[1])]


def test_changes_are_worded_so_no_change_is_not_read_as_none(feed_server, write_config, run_cli, tmp_path, db_path):
    fled = [
        item("wire", f"fled-{n}", f"Sample: families fled Stepanakert, convoy {n}", day, month)
        for n, (day, month) in enumerate([(20, 9), (26, 9), (28, 9), (3, 10), (5, 10)])
    ]
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/w", body=rss(fled))}],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    run_cli(config, "poll")
    backdate_polling(db_path)
    w39 = run_cli(config, "digest", "--week", WEEK, "--dry-run").output
    w40 = run_cli(config, "digest", "--week", "2023-W40", "--dry-run").output
    assert re.search(r"Sample exodus\s+2 items, \+1 on last week \(1\)", w39), w39
    assert re.search(r"Sample exodus\s+2 items, as last week\b", w40), w40
    assert "on last week" not in w40
    # each day's mark carries its number: W39 had one on Tuesday 26 and one on Thursday 28
    assert re.search(r"·█·█··· +0 1 0 1 0 0 0\b", w39), w39


def test_the_emailed_chart_is_table_bars_with_their_values_and_no_svg(outlets, run_cli, mail, tmp_path):
    config = outlets(extra="\n" + email_section(mail.port))
    run_cli(config, "digest", "--week", WEEK)
    [(_, message)] = mail.messages
    rich = message.get_body(("html",)).get_content()
    assert "<svg" not in rich.lower()  # Gmail and Outlook desktop drop inline SVG
    assert 'aria-label="Matches per day per theme"' in rich, rich
    chart = rich.split('aria-label="Matches per day per theme"')[1].split("Busiest outlets")[0]
    # a bar for each day with matches, coloured, its height a table cell's; every day's value printed as text
    bars = re.findall(r'<td class="bar" height="(\d+)" bgcolor="(#[0-9a-f]{6})"[^>]*>', chart)
    values = re.findall(r'<td class="value"[^>]*>(\d+)</td>', chart)
    assert values == ["0", "1", "1", "1", "0", "0", "0"]  # Mon 25 .. Sun 1: am 26, am 27, az 28
    assert [int(h) for h, _ in bars] == [48, 48, 48] and {c for _, c in bars} == {"#b03a2e"}
    assert "Sample exodus" in visible(chart) and "Tue 26" in visible(chart)


def test_a_partly_covered_week_says_so_beside_its_figures(feed_server, write_config, run_cli, tmp_path, monkeypatch):
    def at(moment: datetime) -> None:  # the CLI's clock, as a monitor running then would have read it
        monkeypatch.setenv("MONITOR_CLOCK_OFFSET", str((moment - datetime.now(UTC)).total_seconds()))

    wire = [
        item("wire", "fled", "Sample: families fled Stepanakert overnight", 26),
        item("wire", "goris", "Sample: refugees from Karabakh reach Goris", 27),
    ]
    config = write_config(
        [
            {"name": "sample-wire", "url": feed_server.add("/w", body=rss(wire)), "tags": ["armenia"]},
            {"name": "sample-down", "url": feed_server.add("/down", status=503), "tags": ["azerbaijan"]},
        ],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    at(datetime(2023, 9, 27, 14, tzinfo=UTC))  # polling began on Wednesday of W39
    run_cli(config, "poll")
    at(datetime(2023, 10, 2, 9, tzinfo=UTC))
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    text = (tmp_path / "d" / f"{WEEK}.txt").read_text()
    glance = text.split("AT A GLANCE")[1].split("==")[0]
    row = next(line for line in glance.splitlines() if "Sample exodus" in line)
    # Polled once, on Wednesday: observed from its document's oldest item to then, nothing after (issue 22).
    observed = "this week observed only from Tuesday 26 September 10:00 to Wednesday 27 September 14:00"
    assert observed in row, glance
    assert observed in next(line for line in glance.splitlines() if "matched a theme" in line)
    section = text.split("== Sample exodus")[1]
    azerbaijan = next(line for line in section.splitlines() if "azerbaijan" in line)
    assert "unknown (sample-down failing since it was added" in azerbaijan, section
    html = visible((tmp_path / "d" / f"{WEEK}.html").read_text())
    assert re.search(
        r"Sample exodus 2 items, last week: not observed; this week observed only from Tuesday 26 "
        r"September",
        html,
    ), html
    assert re.search(
        r"azerbaijan unknown \(sample-down failing since it was added",
        html,
    ), html


def test_a_feed_that_fails_from_mid_week_is_named_beside_its_groups_figures(
    feed_server, write_config, run_cli, tmp_path, db_path, monkeypatch
):
    def at(moment: datetime) -> None:
        monkeypatch.setenv("MONITOR_CLOCK_OFFSET", str((moment - datetime.now(UTC)).total_seconds()))

    wire = [item("wire", "fled", "Sample: families fled Stepanakert overnight", 26)]
    az = [item("az", "baku", "Sample: thousands fled Karabakh by the Lachin road, Baku says", 26)]
    config = write_config(
        [
            {"name": "sample-wire", "url": feed_server.add("/w", body=rss(wire)), "tags": ["armenia"]},
            {"name": "sample-flaky", "url": feed_server.add("/az", body=rss(az)), "tags": ["azerbaijan"]},
        ],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    at(datetime(2023, 9, 26, 12, tzinfo=UTC))
    run_cli(config, "poll")
    backdate_polling(db_path)  # a monitor polling all along: the week is covered, but for the flaky feed
    feed_server.add("/az", status=503)
    at(datetime(2023, 9, 29, 8, tzinfo=UTC))  # from Friday on, every poll of it fails
    run_cli(config, "poll")
    at(datetime(2023, 9, 30, 8, tzinfo=UTC))
    run_cli(config, "poll", "--force")
    at(datetime(2023, 10, 2, 9, tzinfo=UTC))
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    text = (tmp_path / "d" / f"{WEEK}.txt").read_text()
    azerbaijan = next(line for line in text.split("== Sample exodus")[1].splitlines() if "azerbaijan" in line)
    assert re.search(
        r"azerbaijan\s+1 item\s+1 event\s+100% of its 1 item \(sample-flaky failing since Friday 29 "
        r"September",
        azerbaijan,
    ), text
    assert "1 feed failing" in next(line for line in text.splitlines() if "matched a theme" in line)
    failing = text.split("FAILING FEEDS")[1].split("==")[0]
    assert "sample-flaky: failing since Friday 29 September 08:00, after polls that worked" in failing
    assert "sample-wire" not in failing


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium here (.ci/run installs Debian's chromium)")
def test_the_emailed_chart_still_shows_where_the_mail_client_drops_svg(outlets, run_cli, mail, tmp_path):
    config = outlets(extra="\n" + email_section(mail.port))
    run_cli(config, "digest", "--week", WEEK)
    [(_, message)] = mail.messages
    # What Gmail and Outlook desktop show of it: the message's HTML without inline SVG
    shown = re.sub(r"<svg\b.*?</svg>", "", message.get_body(("html",)).get_content(), flags=re.S | re.I)
    page = tmp_path / "as-gmail-shows-it.html"
    page.write_text(shown, encoding="utf-8")
    png = tmp_path / "shot.png"
    screenshot(page, png, tmp_path / "profile", "700,700", "--hide-scrollbars", "--force-device-scale-factor=1")
    # three days' bars of the theme's colour, 26 x 48 pixels each (the colour appears nowhere else that high)
    coloured = count_colour(png.read_bytes(), (0xB0, 0x3A, 0x2E))
    assert coloured >= 3 * 26 * 40, coloured
