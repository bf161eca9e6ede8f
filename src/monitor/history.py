"""Saved documents of the past into the database, each as a poll made at its capture time (issue 15).

`monitor import` hands files here, `monitor backfill` the captures it downloads from a web archive: each
document is parsed (`parse`), told which feed it is and when it was captured (`history_import`, pure), and
stored by the poll's own item path (`store_history.record_import`). One file that cannot be read becomes a
report with its path and reason; the others go on.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .history_import import (
    Record,
    at_capture,
    capture_time,
    document_facts,
    feed_for,
    jsonl_records,
    record_items,
)
from .parse import parse_feed
from .store import Matching, Store
from .store_history import imported_from, record_import
from .types import ItemCounts, ParsedFeed

Clock = Callable[[], datetime]
JSONL_SUFFIXES = (".jsonl", ".ndjson")


@dataclass(frozen=True, slots=True)
class Feed:
    """A stored feed an import can attribute items to."""

    id: int
    name: str
    url: str
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where an import's items go: `feed` for all of them (--feed), else each document's own link or each
    line's `source`, matched by address (`addresses`: address -> feed id)."""

    feeds: Mapping[int, Feed]
    addresses: Mapping[str, int]
    feed: int | None = None
    captured_at: datetime | None = None  # --captured-at


@dataclass
class FileReport:
    """What importing one file (or one archive capture) did."""

    path: str
    documents: int = 0  # documents stored (a JSON lines file holds one per feed and capture time)
    already: int = 0  # documents imported before: nothing stored
    counts: ItemCounts = ItemCounts()
    error: str | None = None  # the file could not be read at all
    problems: list[str] = field(default_factory=list)  # lines or parts skipped, with why
    notes: list[str] = field(default_factory=list)  # worth saying, nothing lost: an ill-formed document
    feeds: set[str] = field(default_factory=set)

    def add(self, counts: ItemCounts | None, feed: str) -> None:
        self.feeds.add(feed)
        if counts is None:
            self.already += 1
            return
        self.documents += 1
        self.counts = ItemCounts(new=self.counts.new + counts.new, updated=self.counts.updated + counts.updated,
                                 seen=self.counts.seen + counts.seen, matched=self.counts.matched + counts.matched)


def import_file(store: Store, path: Path, target: Target, matcher: Matching | None, clock: Clock) -> FileReport:
    """Import one saved feed document or JSON lines file."""
    report = FileReport(str(path))
    try:
        body = path.read_bytes()
    except OSError as error:
        report.error = f"cannot be read: {error.strerror or error}"
        return report
    if path.suffix.lower() in JSONL_SUFFIXES:
        _import_jsonl(store, body, report, target, matcher, clock)
    else:
        import_document(store, body, report, target, matcher, clock, origin="file")
    return report


def import_document(store: Store, body: bytes, report: FileReport, target: Target, matcher: Matching | None,
                    clock: Clock, *, origin: str, feed: int | None = None, captured: datetime | None = None) -> None:
    """Import one feed document into `report`: `feed` and `captured` when the caller knows them (an archive
    capture), else the target's, else what the document says."""
    facts = document_facts(body)
    feed = feed or target.feed or feed_for(facts.links, target.addresses)
    if feed is None:
        unread = parse_feed(body, url="", headers={}, feed_id=0, now=clock())
        if not unread.items and not unread.version:  # an error page saved where a feed should be
            report.error = f"not a readable feed: {unread.bozo}"
            return
        named = f" (it names {', '.join(facts.links[:2])})" if facts.links else " (it names no address of its own)"
        report.error = f"no feed has this document's address{named}: give --feed NAME, and --url for a new feed"
        return
    info = target.feeds[feed]
    body_hash = hashlib.sha256(body).hexdigest()
    if imported_from(store, feed, body_hash) is not None:
        report.add(None, info.name)
        return
    now = clock()
    parsed = parse_feed(body, url=info.url, headers={}, feed_id=feed, now=now, language=info.language)
    if not parsed.items and not parsed.version:
        report.error = f"not a readable feed: {parsed.bozo}"
        return
    when = capture_time(captured or target.captured_at, facts, parsed, now)
    if when is None:
        report.error = "nothing in it says when it was captured (no date of its own or of its items): give --captured-at"
        return
    if parsed.bozo:
        report.notes.append(f"ill-formed, kept what could be read ({parsed.bozo})")
    counts = record_import(store, feed, at_capture(parsed, when), when, origin=origin, source=report.path,
                           body_hash=body_hash, now=now, matcher=matcher)
    report.add(counts, info.name)


def _import_jsonl(store: Store, body: bytes, report: FileReport, target: Target, matcher: Matching | None,
                  clock: Clock) -> None:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        report.error = f"not UTF-8 text: {error}"
        return
    records, problems = jsonl_records(text)
    report.problems += problems
    if not records and not problems:
        report.error = "no JSON lines in it"
        return
    groups: dict[tuple[int, datetime], list[Record]] = defaultdict(list)
    for record in records:
        feed = target.feed or (feed_for([record.source], target.addresses) if record.source else None)
        when = target.captured_at or record.published
        if feed is None:
            report.problems.append(f"line {record.line}: no feed has the address of its source "
                                   f"({record.source or 'none given'}): give --feed NAME")
        elif when is None:
            report.problems.append(f"line {record.line}: no published date says when it was seen: give --captured-at")
        else:
            groups[feed, when].append(record)
    file_hash = hashlib.sha256(body).hexdigest()
    now = clock()
    for (feed, when), group in sorted(groups.items(), key=lambda g: g[0][1]):
        info = target.feeds[feed]
        # One document per feed and capture time; its identity is the file's and the capture's, so the same
        # file imported again stores nothing.
        body_hash = hashlib.sha256(f"{file_hash}:{when.isoformat()}".encode()).hexdigest()
        parsed: ParsedFeed = record_items(group, url=info.url, feed_id=feed, captured=when, language=info.language)
        counts = record_import(store, feed, parsed, when, origin="file", source=report.path, body_hash=body_hash,
                               now=now, matcher=matcher)
        report.add(counts, info.name)
