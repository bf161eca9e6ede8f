"""Saved "Sample Wire" documents for the tests of `monitor import` and `monitor backfill` (issue 15): invented
stories on example.org about the 2023 exodus, marked as samples, not reporting."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from .samples import SAMPLE_NOTE, Entry

SITE = "https://sample-wire.example.org"
WIRE_URL = f"{SITE}/rss"


def story(n: int, title: str, published: datetime) -> Entry:
    return Entry(
        title=title,
        link=f"{SITE}/2023/09/{n}",
        guid=f"{SITE}/2023/09/{n}",
        summary=f"<p>{SAMPLE_NOTE} Number {n}.</p>",
        published=published,
    )


def saved_rss(entries: list[Entry], built: datetime | None, *, self_link: str = WIRE_URL) -> bytes:
    """An RSS document as a browser's "save as" or an archive keeps it: its self link and build date."""
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
        f"<description>{escape(e.summary)}</description><guid>{escape(e.guid or e.link)}</guid>"
        + (f"<pubDate>{format_datetime(e.published)}</pubDate>" if e.published else "")
        + "</item>"
        for e in entries
    )
    build = f"<lastBuildDate>{format_datetime(built)}</lastBuildDate>" if built else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
        f"<channel><title>Sample Wire</title><link>{SITE}/</link>"
        f'<atom:link href="{self_link}" rel="self" type="application/rss+xml"/>'
        f"<description>Sample feed for monitor's tests</description>{build}{items}</channel></rss>"
    ).encode()


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2023, 9, day, hour, tzinfo=UTC)


W38 = [
    story(1, "Sample: shelling reported near Stepanakert", at(19)),
    story(2, "Sample: a concert in the capital", at(20)),
]
W39 = [
    story(3, "Sample: families fled Stepanakert overnight", at(26)),
    story(4, "Sample: refugees from Karabakh reach Goris", at(27)),
    story(1, "Sample: shelling reported near Stepanakert", at(19)),
]  # still carried a week later


def json_line(title: str, link: str, published: str, source: str = WIRE_URL) -> str:
    """One line of a JSON lines file in the format of the evaluation set."""
    return json.dumps(
        {"title": title, "summary": f"<p>{SAMPLE_NOTE}</p>", "link": link, "published": published, "source": source}
    )


def nested(depth: int) -> str:
    """A JSON line nested `depth` arrays deep: deeper than Python's stack when read naively."""
    return "[" * depth + "]" * depth
