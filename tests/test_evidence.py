"""Issue 13, "every piece of evidence, and clean text": the digest's "why" shows every field a piece of
evidence stands in; boilerplate that is not the article (lists of related links, "Continue reading...",
share buttons) is neither matched, searched nor shown, while the sanitized original is kept; links that
differ only by tracking parameters are one item. All through a real local feed server and the CLI."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.identity import content_hash
from monitor.parse.feed import plain_text, summary_text

from .conftest import REPO, backdate_polling
from .feedserver import Route
from .helpers import THEMES
from .samples import Entry, rss

WEEK = "2023-W39"  # Monday 25 September - Sunday 1 October 2023
SITE = "https://sample-wire.example.org"
BOILERPLATE_FEED = Path(__file__).parent / "data" / "sample-wire-boilerplate.xml"
SHIPPED = (REPO / "config" / "feeds.toml").read_text()
SHIPPED_THEMES = "[terms]" + SHIPPED.split("\n[terms]", 1)[1].split("# --- Digests")[0]


# --- every span, in every field -------------------------------------------------------------------


def test_a_rule_across_title_and_summary_shows_both_in_the_digest(
    feed_server, write_config, run_cli, db_path, tmp_path
):
    # "Stepanakert" stands only in the title, "fled" only in the summary: one rule, two fields.
    story = Entry(
        title="Sample: Stepanakert empties",
        link=f"{SITE}/2023/09/empties",
        guid=f"{SITE}/2023/09/empties",
        summary="<p>Sample text: families fled overnight with what they could carry.</p>",
        published=datetime(2023, 9, 26, 10, tzinfo=UTC),
    )
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/wire", body=rss([story]))}],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
    )
    run_cli(config, "poll")
    backdate_polling(db_path)
    run_cli(config, "digest", "--week", WEEK, "--no-send")

    text = (tmp_path / "digests" / f"{WEEK}.txt").read_text()
    lines = text.splitlines()
    [at] = [n for n, line in enumerate(lines) if line.strip().startswith('why: rule "flight"')]
    assert lines[at].endswith("title: Sample: [Stepanakert] empties"), lines[at]
    assert lines[at + 1].strip() == "summary: Sample text: families [fled] overnight with what they could carry.", text

    html = (tmp_path / "digests" / f"{WEEK}.html").read_text()
    [why] = re.findall(r"Why: rule “flight”.*?</div>", html, re.DOTALL)
    assert re.search(r"title: Sample: <mark[^>]*>Stepanakert</mark> empties", why), why
    assert re.search(r"summary: Sample text: families <mark[^>]*>fled</mark> overnight", why), why


# --- boilerplate out of matching, search and display ----------------------------------------------


@pytest.fixture
def boilerplate_polled(feed_server, write_config, run_cli, tmp_path):
    url = feed_server.add("/wire", Route(body=BOILERPLATE_FEED.read_bytes()))
    config = write_config(
        [{"name": "sample-wire", "url": url}],
        extra=SHIPPED_THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
    )
    run_cli(config, "poll")
    return config


def _item(query, slug: str) -> dict[str, Any]:
    [row] = query("SELECT id, summary, summary_html FROM items WHERE link = ?", (f"{SITE}/2023/09/{slug}",))
    row["themes"] = sorted(r["theme"] for r in query("SELECT theme FROM matches WHERE item_id = ?", (row["id"],)))
    return row


def test_a_related_links_list_does_not_make_an_exodus_feature_blame_putin(boilerplate_polled, query):
    feature = _item(query, "long-road")
    assert feature["themes"] == ["armenian_exodus"]  # was also putin_blame, from the related links
    assert "Putin" not in feature["summary"] and "Continue reading" not in feature["summary"]
    assert feature["summary"] == (
        "Sample item: families who fled the region describe the journey to Goris. "
        "Sample item: in Goris, volunteers register the new arrivals day and night."
    )
    assert "Putin" in feature["summary_html"] and "Continue reading" in feature["summary_html"]  # the original kept

    lone = _item(query, "last-bus")  # one related link alone in a list
    assert lone["themes"] == ["armenian_exodus"] and "peacekeepers" not in lone["summary"]
    camp = _item(query, "goris-camp")  # "Related:" paragraph, share buttons, "The post ... appeared first on"
    assert camp["themes"] == ["armenian_exodus"]
    assert camp["summary"] == "Sample item: tents went up overnight for families arriving from the region."


def test_the_digest_shows_the_article_without_its_boilerplate(boilerplate_polled, run_cli, db_path, tmp_path):
    backdate_polling(db_path)
    run_cli(boilerplate_polled, "digest", "--week", WEEK, "--no-send")
    for suffix in ("txt", "html"):
        digest = (tmp_path / "digests" / f"{WEEK}.{suffix}").read_text()
        assert "the journey to Goris" in digest or suffix == "txt"  # the text digest shows no summaries
        for furniture in ("Pashinyan", "stood aside", "Continue reading", "Share on Facebook", "appeared first on"):
            assert furniture not in digest, (suffix, furniture)


def test_article_text_with_links_is_kept(boilerplate_polled, query):
    points = _item(query, "key-points")
    assert points["summary"] == (
        "Sample item: the text, published in full, has three points. Sample point: the Karabakh forces disarm. "
        "Sample point: talks on the residents' future, see the talks. Sample point: Russian peacekeepers oversee it."
    )


def test_search_does_not_find_words_only_in_boilerplate(boilerplate_polled, run_cli):
    def search(words: str) -> list[str]:
        output = run_cli(boilerplate_polled, "search", words, "--json").output
        return [json.loads(line)["link"] for line in output.splitlines()]

    assert search("Pashinyan") == []  # only in the related links
    assert search("Tweet") == []  # only in the share buttons
    assert search("volunteers") == [f"{SITE}/2023/09/long-road"]


def test_an_archive_stored_before_boilerplate_removal_is_cleaned_by_rematch(
    boilerplate_polled, feed_server, run_cli, db_path
):
    """An analyst upgrades: the summaries an older monitor stored still hold their related links, and were
    matched and indexed with them. `monitor rematch` makes them again from the sanitized original kept beside
    them, matches them again, and the next poll of the same feed finds nothing changed."""
    with sqlite3.connect(db_path) as conn:  # the database as the older monitor left it
        for item_id, title, link, html in conn.execute("SELECT id, title, link, summary_html FROM items").fetchall():
            old = plain_text(html)  # all of the summary's text, boilerplate in
            conn.execute(
                "UPDATE items SET summary = ?, content_hash = ? WHERE id = ?",
                (old, content_hash(title, link, old), item_id),
            )
            conn.execute(
                "UPDATE item_sources SET content_hash = ? WHERE item_id = ?", (content_hash(title, link, old), item_id)
            )
            conn.execute("INSERT INTO items_unclean VALUES (?)", (item_id,))
        [(feature, version)] = conn.execute(
            "SELECT i.id, m.matcher_version FROM items i JOIN matches m ON m.item_id = i.id WHERE i.link = ?",
            (f"{SITE}/2023/09/long-road",),
        ).fetchall()
        conn.execute(  # what the related links made it match
            "INSERT INTO matches (item_id, theme, score, evidence, matcher_version, matched_at)"
            " VALUES (?, 'putin_blame', 80, '[]', ?, '2023-09-27T10:00:00Z')",
            (feature, version),
        )

    def search(words: str) -> list[str]:
        output = run_cli(boilerplate_polled, "search", words, "--json").output
        return [json.loads(line)["link"] for line in output.splitlines()]

    def state(slug: str) -> tuple[str, list[str]]:
        with sqlite3.connect(db_path) as conn:
            [(item_id, summary)] = conn.execute(
                "SELECT id, summary FROM items WHERE link = ?", (f"{SITE}/2023/09/{slug}",)
            ).fetchall()
            themes = sorted(row[0] for row in conn.execute("SELECT theme FROM matches WHERE item_id = ?", (item_id,)))
        return summary, themes

    assert search("Pashinyan") == [f"{SITE}/2023/09/long-road"] and "Pashinyan" in state("long-road")[0]
    assert state("long-road")[1] == ["armenian_exodus", "putin_blame"]

    output = run_cli(boilerplate_polled, "rematch").output
    [line] = [line for line in output.splitlines() if line.startswith("cleaned stored summaries:")]
    changed, listed = int(line.split()[3]), int(line.split()[5])
    assert changed >= 3 and listed >= changed, output  # long-road, last-bus, goris-camp at least
    summary, themes = state("long-road")
    assert themes == ["armenian_exodus"] and "Pashinyan" not in summary and "Continue reading" not in summary
    assert search("Pashinyan") == [] and search("Tweet") == []
    assert search("volunteers") == [f"{SITE}/2023/09/long-road"]
    assert "cleaned" not in run_cli(boilerplate_polled, "rematch").output  # done once, remembered

    # The feed again, its items as before in a document that is not byte for byte the same (read, not skipped).
    feed_server.add("/wire", Route(body=BOILERPLATE_FEED.read_bytes() + b"<!-- read again -->"))
    polled = run_cli(boilerplate_polled, "poll").output
    assert " 0 new, 0 updated, " in polled, polled  # the stored text is what the feed's own reads as now


def test_match_jsonl_reads_summaries_without_boilerplate(tmp_path, run_cli, write_config):
    config = write_config([], extra=SHIPPED_THEMES)
    found = re.search(
        r"<description>(&lt;p&gt;Sample item: families who fled.*?)</description>", BOILERPLATE_FEED.read_text()
    )
    assert found, f"{BOILERPLATE_FEED} lost its sample item"
    html = found.group(1)
    summary = html.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    line = {"title": "Sample: the long road out of Stepanakert", "summary": summary, "link": f"{SITE}/x"}
    source = tmp_path / "items.jsonl"
    source.write_text(json.dumps(line) + "\n")
    [result] = [json.loads(x) for x in run_cli(config, "match", "--jsonl", str(source)).output.splitlines()]
    assert result["themes"] == ["armenian_exodus"]


@pytest.mark.parametrize(
    "tail",
    [
        ' <a href="https://example.org/a">Continue reading...</a>',
        "<p>Read more</p>",
        '<p><a href="https://example.org/a">Read the full story »</a></p>',
        "<p>Share this: Facebook, Twitter, WhatsApp</p>",
        '<p>The post <a href="https://example.org/a">Sample title</a> appeared first on Sample Wire.</p>',
        '<p><a href="https://example.org/a">Читать далее</a></p>',
    ],
)
def test_trailing_boilerplate_lines_are_dropped(tail):
    assert (
        summary_text("<p>Sample text: families fled overnight.</p>" + tail) == "Sample text: families fled overnight."
    )


@pytest.mark.parametrize(
    "kept",
    [
        "<p>Sample text: families fled overnight.</p><p>Read more about the sample on page two, said the editor.</p>",
        '<p>Sample text: families fled overnight, <a href="https://example.org/a">read more</a> on page two.</p>',
        "<p>Sample text: families fled overnight.</p><ul><li>Sample point without a link</li>"
        '<li><a href="https://example.org/a">Live scoreboard</a> | and more on the sample match</li></ul>',
    ],
)
def test_article_text_that_looks_like_boilerplate_is_kept(kept):
    assert summary_text(kept) == summary_text(kept.replace("<a ", "<b ").replace("</a>", "</b>"))
    assert "Sample text: families fled overnight" in summary_text(kept)
    assert len(summary_text(kept)) > 40


def test_words_in_blocks_the_sanitizer_drops_stay_apart(feed_server, write_config, run_cli, query):
    # nh3 keeps the text of a div or a table cell but not the tag: "Goris</div><div>Refugees" was stored
    # as the one word "GorisRefugees", which neither search nor matching could find.
    story = Entry(
        title="Sample: a day in Goris",
        link=f"{SITE}/2023/09/day",
        guid=f"{SITE}/2023/09/day",
        summary="<div>Sample text from Goris</div><div>Refugees queue</div><table><tr><td>one</td>"
        "<td>two</td></tr></table>",
        published=datetime(2023, 9, 26, 10, tzinfo=UTC),
    )
    run_cli(write_config([{"name": "sample-wire", "url": feed_server.add("/w", body=rss([story]))}]), "poll")
    [row] = query("SELECT summary FROM items")
    assert row["summary"] == "Sample text from Goris Refugees queue one two"
