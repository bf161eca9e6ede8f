"""Sample feeds for tests. Invented text, plainly marked: outlets are "Sample Wire" and the like, links
are on example.org. They are written about the 2023 fall of Nagorno-Karabakh so that they look like what
`monitor` reads, but they are not reporting and must never be presented as such."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

SAMPLE_NOTE = "Sample item written for monitor's tests; not real reporting."


@dataclass(frozen=True)
class Entry:
    title: str
    link: str
    summary: str = SAMPLE_NOTE
    guid: str | None = None
    published: datetime | None = None


def headlines(
    count: int,
    *,
    site: str = "https://sample-wire.example.org",
    start: int = 0,
    when: datetime = datetime(2023, 9, 25, 9, tzinfo=UTC),
) -> list[Entry]:
    """`count` distinct sample entries, one an hour back from `when`."""
    topics = [
        "Sample: families leave Stepanakert along the Lachin road",
        "Sample: Baku says Karabakh Armenians will keep their rights",
        "Sample: critics in Yerevan blame Russian peacekeepers' inaction",
        "Sample: refugee registration centre opens in Goris",
        "Sample: talks on reintegration held in Yevlakh",
    ]
    return [
        Entry(
            title=f"{topics[(start + n) % len(topics)]} (no. {start + n})",
            link=f"{site}/2023/09/story-{start + n}",
            summary=f"<p>{SAMPLE_NOTE}</p><p>Story number {start + n} of the sample wire.</p>",
            guid=f"{site}/2023/09/story-{start + n}",
            published=when - timedelta(hours=n),
        )
        for n in range(count)
    ]


def rss(entries: list[Entry], *, title: str = "Sample Wire", encoding: str = "utf-8") -> bytes:
    items = []
    for e in entries:
        parts = [
            f"<title>{escape(e.title)}</title>",
            f"<link>{escape(e.link)}</link>",
            f"<description>{escape(e.summary)}</description>",
        ]
        if e.guid:
            permalink = "true" if e.guid.startswith("http") else "false"
            parts.append(f'<guid isPermaLink="{permalink}">{escape(e.guid)}</guid>')
        if e.published:
            parts.append(f"<pubDate>{format_datetime(e.published)}</pubDate>")
        items.append("<item>" + "".join(parts) + "</item>")
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://sample-wire.example.org/</link>"
        f"<description>Sample feed for tests</description>{''.join(items)}</channel></rss>"
    )
    return xml.encode(encoding)


def atom(entries: list[Entry], *, title: str = "Sample Dispatch") -> bytes:
    out = []
    for e in entries:
        when = (e.published or datetime(2023, 9, 25, tzinfo=UTC)).isoformat()
        out.append(
            f'<entry><title>{escape(e.title)}</title><link href="{escape(e.link)}"/>'
            f"<id>{escape(e.guid or e.link)}</id><updated>{when}</updated>"
            f'<summary type="html">{escape(e.summary)}</summary></entry>'
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:sample:dispatch</id><updated>2023-09-30T00:00:00Z</updated>"
        f"{''.join(out)}</feed>"
    ).encode()


def rdf(entries: list[Entry], *, title: str = "Sample Digest RDF") -> bytes:
    out = "".join(
        f'<item rdf:about="{escape(e.link)}"><title>{escape(e.title)}</title><link>{escape(e.link)}</link>'
        f"<description>{escape(e.summary)}</description>"
        + (f"<dc:date>{e.published.isoformat()}</dc:date>" if e.published else "")
        + "</item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://sample-rdf.example.org/"><title>{escape(title)}</title>'
        f"<link>https://sample-rdf.example.org/</link><description>Sample</description></channel>"
        f"{out}</rdf:RDF>"
    ).encode()
