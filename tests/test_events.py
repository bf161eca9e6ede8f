"""`monitor digest --week` on feeds of three outlets that report one happening in their own words: the
digest shows it once, with its outlets, the first and the others' links; the `events` table and Datasette's
"same story from several feeds" return that group. Sample feeds on a real local HTTP server, the CLI as an
operator runs it, the SQLite file read back with plain sqlite3."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from .conftest import REPO
from .helpers import BLAST, THEMES, events_by_outlet
from .samples import rss

WEEK = "2023-W39"


def feeds(feed_server) -> list[dict[str, str]]:
    """BLAST's three reports, one per outlet, and the other happenings, each on its outlet's feed."""

    def published(n: int) -> datetime:
        if n < len(BLAST):
            return datetime(2023, 9, 26, 9 + 2 * n, tzinfo=UTC)
        return datetime(2023, 9, 28 + n - len(BLAST), 8, tzinfo=UTC)

    by_outlet = events_by_outlet(published)
    return [
        {"name": site, "url": feed_server.add(f"/{site}", body=rss(entries))} for site, entries in by_outlet.items()
    ]


def test_one_happening_from_three_outlets_is_one_event_in_the_digest_and_in_sqlite(
    feed_server, write_config, run_cli, tmp_path, query, db_path
):
    config = write_config(feeds(feed_server), extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n')
    run_cli(config, "poll")
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    text = (tmp_path / "d" / f"{WEEK}.txt").read_text()
    html = (tmp_path / "d" / f"{WEEK}.html").read_text()

    assert "== Sample exodus: 3 events ==" in text
    blast_titles = [title for _, title, _ in BLAST]
    assert sum(text.count(title) for title in blast_titles) == 1  # one headline for the three reports
    first = text.split("\n1. ", 1)[1].split("\n\n", 1)[0]  # the most widely reported event comes first
    assert "3 outlets, " in first and ("first sample-wire on 26 Sep 09:00" in first or "this one first" in first)
    assert sum(f"also {o}, " in first for o in ("sample-wire", "sample-dispatch", "sample-courier")) == 2
    assert first.count("https://") == 3  # the headline's link and the other two outlets'
    assert "3 outlets</b>" in html and html.count("example.org/2023/09/") >= 5

    events = query(
        "SELECT theme, event, headline, outlets, items, first_outlet, first_published FROM events "
        "WHERE week = ? ORDER BY event",
        (WEEK,),
    )
    assert [(e["event"], e["outlets"], e["items"]) for e in events] == [(1, 3, 3), (2, 1, 1), (3, 1, 1)]
    assert events[0]["headline"] in blast_titles and events[0]["first_outlet"] == "sample-wire"
    assert events[0]["first_published"] == "2023-09-26T09:00:00Z"
    grouped = query(
        "SELECT i.title FROM digest_items d JOIN items i ON i.id = d.item_id WHERE d.week = ? AND d.event = 1", (WEEK,)
    )
    assert sorted(r["title"] for r in grouped) == sorted(blast_titles)

    canned = json.loads((REPO / "deploy" / "datasette-metadata.json").read_text())
    sql = canned["databases"]["monitor"]["queries"]["same_story_several_feeds"]["sql"]
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(sql).fetchall()
    finally:
        conn.close()
    assert len(rows) == 1 and rows[0][3] == 3 and len(rows[0][-1].split()) == 3
