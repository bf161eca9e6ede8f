"""PURE: saved documents of the past -> what `monitor import` and `monitor backfill` store.

A saved feed document (RSS, Atom, RDF) is parsed by `parse.parse_feed`, as a polled one is; this module adds
what a poll knows and a file does not: which feed the document is (its self link or site link, matched
against the feeds by canonical URL) and when it was captured (the time it stands for, never the time of the
import). JSON lines in the format of the evaluation set (`title`, `summary`, `link`, `published`, `source`)
become the entries feedparser would have made of them, and go through the same `parse` code to become items.
Nothing here reads files, the clock or the database: bytes and times are arguments.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from feedparser.datetimes import _parse_date

from ..identity import address
from ..types import Item, ParsedFeed
from .feed import EARLIEST_PLAUSIBLE, FUTURE_TOLERANCE, _item

HEAD_BYTES = 64 * 1024  # the feed's own link and date stand before its first entry, near the top
_FIRST_ENTRY = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\b")
_SELF_LINK = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?link\b[^>]*?\brel=[\"']self[\"'][^>]*>", re.IGNORECASE)
_HREF = re.compile(rb"\bhref=[\"']([^\"']+)[\"']", re.IGNORECASE)
_SITE_LINK = re.compile(rb"<link>\s*([^<\s]+)\s*</link>")
_DOC_DATE = re.compile(rb"<(lastBuildDate|pubDate|updated|dc:date)>\s*([^<]{4,64}?)\s*</\1>")


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """What a saved document says about itself before its first entry: links naming the feed (its self link
    first, then its site link) and its own date (lastBuildDate, pubDate, updated or dc:date)."""

    links: tuple[str, ...]
    date: datetime | None


@dataclass(frozen=True, slots=True)
class Record:
    """One line of a JSON lines file: an entry as feedparser would give it, where the file says it came from
    (`source`, a feed's URL) and its line number."""

    line: int
    entry: dict[str, Any]
    source: str | None
    published: datetime | None


def document_facts(body: bytes) -> DocumentFacts:
    """The feed's self link, site link and date, read from the document's head with a scan (feedparser has
    parsed the document already, but keeps neither link apart from the entries' nor the head's date)."""
    head = body[:HEAD_BYTES]
    first = _FIRST_ENTRY.search(head)
    head = head[: first.start()] if first else head
    links = [m.group(1) for tag in _SELF_LINK.finditer(head) if (m := _HREF.search(tag.group(0)))]
    links += [m.group(1) for m in _SITE_LINK.finditer(head)]
    found = [_text(link) for link in links]
    date = None
    for match in _DOC_DATE.finditer(head):
        date = parse_date(_text(match.group(2)))
        if date:
            break
    return DocumentFacts(tuple(dict.fromkeys(link for link in found if link)), date)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").replace("&amp;", "&").strip()


def parse_date(text: str) -> datetime | None:
    """A date as feeds and the evaluation set write them (RFC 822, ISO 8601, "2020-07-11 15:30:15+00:00"),
    in UTC; None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = _parse_date(text)
        if not isinstance(parsed, time.struct_time):
            return None
        return datetime(*parsed[:6], tzinfo=UTC)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def capture_time(given: datetime | None, facts: DocumentFacts, parsed: ParsedFeed, now: datetime) -> datetime | None:
    """When a document was captured: `given` (--captured-at, or the archive's capture time), else the
    document's own date, else its newest item's publication; None when it says nothing of when it is
    from. A date after `now` (a server's clock, a typo) is not believed."""
    if given is not None:
        return given
    limit = now + FUTURE_TOLERANCE
    if facts.date and EARLIEST_PLAUSIBLE <= facts.date <= limit:
        return max([facts.date, *(i.published for i in parsed.items if i.date_source != "first_seen")])
    dated = [i.published for i in parsed.items if i.date_source != "first_seen"]
    return max(dated) if dated else None


def at_capture(parsed: ParsedFeed, captured: datetime) -> ParsedFeed:
    """The parsed document as a poll at `captured` would have stored it: an undated item was first seen
    then (it was parsed with another `now`)."""
    if not any(i.date_source == "first_seen" and i.published != captured for i in parsed.items):
        return parsed
    return replace(
        parsed,
        items=tuple(replace(i, published=captured) if i.date_source == "first_seen" else i for i in parsed.items),
    )


def feed_for(links: Iterable[str], feeds: Mapping[str, int]) -> int | None:
    """The feed id whose address (canonical URL, http and https alike) is one of `links`, the first found."""
    for link in links:
        found = feeds.get(address(link))
        if found is not None:
            return found
    return None


def jsonl_records(text: str) -> tuple[list[Record], list[str]]:
    """The records of a JSON lines file, and the reasons lines were skipped ("line 3: ...")."""
    records, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as error:
            problems.append(f"line {number}: not JSON ({error})")
            continue
        if not isinstance(data, dict) or not any(
            isinstance(data.get(k), str) and data[k].strip() for k in ("title", "summary", "link")
        ):
            problems.append(f"line {number}: not an object with a title, summary or link")
            continue
        records.append(_record(number, data))
    return records, problems


def _record(number: int, data: dict[str, Any]) -> Record:
    raw_date = data.get("published") if isinstance(data.get("published"), str) else None
    published = parse_date(raw_date) if raw_date else None
    entry: dict[str, Any] = {
        "title": _string(data.get("title")),
        "link": _string(data.get("link")),
        "summary": _string(data.get("summary")),
        "summary_detail": {"type": "text/html"},
    }
    guid = _string(data.get("guid") or data.get("id"))
    if guid:
        entry["id"] = guid
    if raw_date:
        entry["published"] = raw_date
    if published:
        entry["published_parsed"] = published.timetuple()
    source = _string(data.get("source")) or None
    return Record(number, entry, source, published)


def _string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def record_items(
    records: Iterable[Record], *, url: str, feed_id: int, captured: datetime, language: str | None = None
) -> ParsedFeed:
    """JSON lines records as a parsed document of one feed, polled at `captured`: each made an item by the
    code that makes a polled entry one."""
    items: dict[str, Item] = {}
    for record in records:
        item = _item(record.entry, url=url, feed_id=feed_id, now=captured, language=language)
        if item is not None:
            items.setdefault(item.key, item)
    return ParsedFeed(title=None, items=tuple(items.values()), version="jsonl")
