"""PURE: saved documents of the past -> what `monitor import` and `monitor backfill` store.

A saved feed document (RSS, Atom, RDF) is parsed by `parse.parse_feed`, as a polled one is; this module adds
what a poll knows and a file does not: which feed the document is (its self link or site link, matched
against the feeds by canonical URL) and when it was captured (the time it stands for, never the time of the
import). JSON lines in the format of the evaluation set (`title`, `summary`, `link`, `published`, `source`)
become the entries feedparser would have made of them, and go through the same `parse` code to become items.
Nothing here reads files, the clock or the database: bytes and times are arguments.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from feedparser.datetimes import _parse_date

from ..identity import address
from ..jsonlines import JsonLine
from ..types import Item, ParsedFeed
from ..units import iso
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
    doubt: str | None = None  # why its `published` was not believed (then None, as a poll makes it undated)
    size: int = 0  # characters of its text: what holding it costs


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line of a JSON lines file that is not a record, and why."""

    line: int
    reason: str


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
        try:
            return datetime(*parsed[:6], tzinfo=UTC)
        except (ValueError, OverflowError):  # year 0 or 10000 and up: no date Python can hold
            return None
    try:
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC, 9999-12-31 west of it: before or after what Python holds
        return None


def plausible(moment: datetime, now: datetime) -> bool:
    """Whether `moment` can be when something was seen or published, by the bound a poll puts on an item's
    date (`parse.feed`): not before 1990, not more than two days after `now` (the clock of the import)."""
    return EARLIEST_PLAUSIBLE <= moment <= now + FUTURE_TOLERANCE


def implausible(moment: datetime, now: datetime) -> str:
    """Why `moment` is not `plausible`, in words."""
    if moment < EARLIEST_PLAUSIBLE:
        return f"before {EARLIEST_PLAUSIBLE.year}"
    return f"more than {FUTURE_TOLERANCE.days} days after the import's clock ({iso(now)})"


def capture_time(given: datetime | None, facts: DocumentFacts, parsed: ParsedFeed, now: datetime) -> datetime | None:
    """When a document was captured: `given` (--captured-at, or the archive's capture time), else the
    document's own date, else its newest item's publication; None when it says nothing of when it is
    from. A date after `now` (a server's clock, a typo) is not believed."""
    if given is not None:
        return given
    if facts.date and plausible(facts.date, now):
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


def jsonl_records(lines: Iterable[JsonLine], now: datetime) -> Iterator[Record | Skipped]:
    """The records of a JSON lines file read by `jsonlines.json_lines`, and the lines skipped with why. A
    `published` date that a poll would not believe (`plausible` at `now`) is dropped, with its doubt."""
    for line in lines:
        if line.problem is not None:
            yield Skipped(line.number, line.problem)
            continue
        data = line.value
        if not isinstance(data, dict) or not any(
            isinstance(data.get(k), str) and data[k].strip() for k in ("title", "summary", "link")
        ):
            yield Skipped(line.number, "not an object with a title, summary or link")
            continue
        yield _record(line.number, data, now)


def _record(number: int, data: dict[str, Any], now: datetime) -> Record:
    raw_date = data.get("published") if isinstance(data.get("published"), str) else None
    published = parse_date(raw_date) if raw_date else None
    doubt, shown = None, repr(raw_date.strip()[:40]) if raw_date else ""
    if raw_date and published is None and _looks_dated(raw_date):
        doubt = f"published {shown} is out of the range of dates"
    elif published is not None and not plausible(published, now):
        doubt = f"published {shown} is {implausible(published, now)}"
        published = None
    entry: dict[str, Any] = {
        "title": _string(data.get("title")),
        "link": _string(data.get("link")),
        "summary": _string(data.get("summary")),
        "summary_detail": {"type": "text/html"},
    }
    guid = _string(data.get("guid") or data.get("id"))
    if guid:
        entry["id"] = guid
    if raw_date:  # the raw text takes part in an undated item's identity (`identity.item_key`), as a poll's does
        entry["published"] = raw_date
    if published:
        entry["published_parsed"] = published.timetuple()
    source = _string(data.get("source")) or None
    size = sum(len(v) for v in (entry["title"], entry["link"], entry["summary"], guid))
    return Record(number, entry, source, published, doubt, size)


def _looks_dated(text: str) -> bool:
    """A year of four or more digits in it: a date out of range (year 0, 10000), not words like "yesterday"."""
    return re.search(r"\d{4}", text) is not None


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
