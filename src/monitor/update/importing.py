"""Saved documents of the past into the database, each as a poll made at its capture time (issue 15).

`monitor import` hands files here, `monitor backfill` the captures it downloads from a web archive: each
document is parsed (`parse`), told which feed it is and when it was captured (`history_import`, pure), and
stored by the poll's own item path (`storage.history.record_import`). One file that cannot be read becomes a
report with its path and reason; the others go on. Only regular files are read (a named pipe would block
the import, a link to /dev/zero would fill the memory), a document at most `polling.max_bytes` as a poll reads
one, a JSON lines file line by line whatever its size; no capture is dated after the import's own clock.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ..config.load import PollingSettings
from ..jsonlines import json_lines
from ..parse.pool import InlineParser, Parser
from ..parse.saved import (
    Record,
    Skipped,
    at_capture,
    capture_time,
    document_facts,
    feed_for,
    jsonl_records,
    record_items,
)
from ..storage import Store
from ..storage.history import imported_documents, imported_from, record_import
from ..types import ItemCounts, Matching, ParsedFeed
from ..units import iso
from .files import Refused, open_regular, read_capped
from .reconcile import decider

Clock = Callable[[], datetime]
JSONL_SUFFIXES = (".jsonl", ".ndjson")
# Records of a JSON lines file held at once (each batch stored before the next is read), by count and by the
# characters of their text: a file of any size imports in the memory of one batch.
JSONL_BATCH = 1_000
JSONL_BATCH_CHARS = 2_000_000
SAID_PER_FILE = 100  # problems (and notes) of one file named one by one; the rest are counted


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
    max_bytes: int = PollingSettings().max_bytes  # the largest document read (polling.max_bytes, as a poll reads)


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
    more_problems: int = 0  # past SAID_PER_FILE: counted, not kept (a file of a million bad lines)
    more_notes: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < SAID_PER_FILE:
            self.problems.append(text)
        else:
            self.more_problems += 1

    def note(self, text: str) -> None:
        if len(self.notes) < SAID_PER_FILE:
            self.notes.append(text)
        else:
            self.more_notes += 1

    def add(self, counts: ItemCounts | None, feed: str) -> None:
        self.feeds.add(feed)
        if counts is None:
            self.already += 1
            return
        self.documents += 1
        self.counts = ItemCounts(
            new=self.counts.new + counts.new,
            updated=self.counts.updated + counts.updated,
            seen=self.counts.seen + counts.seen,
            matched=self.counts.matched + counts.matched,
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A document read, attributed and parsed, ready to store (or its report, when there is nothing to)."""

    report: FileReport
    feed: int | None = None
    body_hash: str = ""
    parsed: ParsedFeed | None = None  # None: nothing to store (see report)
    captured: datetime | None = None
    jsonl: Path | None = None  # a JSON lines file: read and imported line by line by the storing thread


Known = Callable[[int, str], bool]  # was this document (feed id, sha256) imported before?


def import_file(
    store: Store, path: Path, target: Target, matcher: Matching | None, clock: Clock, parser: Parser | None = None
) -> FileReport:
    """Import one saved feed document or JSON lines file."""
    known: Known = lambda feed, body_hash: imported_from(store, feed, body_hash) is not None  # noqa: E731
    prepared = prepare_file(path, target, parser or InlineParser(), clock(), known)
    return store_prepared(store, prepared, target, matcher, clock, origin="file")


def import_files(
    store: Store, paths: Iterable[Path], target: Target, matcher: Matching | None, clock: Clock, parser: Parser
) -> Iterator[FileReport]:
    """Import files in order, each file's report as it is stored. With helper processes (`parser`), files are
    read and parsed ahead in threads while this one matches and stores, as a poll round does."""
    if parser.in_process:
        for path in paths:
            yield import_file(store, path, target, matcher, clock, parser)
        return
    imported = imported_documents(store)
    known: Known = lambda feed, body_hash: (feed, body_hash) in imported  # noqa: E731
    workers = max(getattr(parser, "processes", 1), 1) + 1
    ahead: deque[_Ahead] = deque()
    with ThreadPoolExecutor(workers, thread_name_prefix="import") as pool:
        for path in paths:
            now = clock()
            ahead.append(_Ahead(path, now, pool.submit(prepare_file, path, target, parser, now, known)))
            if len(ahead) > 2 * workers:  # bounded: a million files are not all held in memory
                prepared = _next_prepared(ahead, target, known)
                yield store_prepared(store, prepared, target, matcher, clock, origin="file")
        while ahead:
            yield store_prepared(store, _next_prepared(ahead, target, known), target, matcher, clock, origin="file")


@dataclass(slots=True)
class _Ahead:
    """A file handed to the parsing threads, or parsed by the storing thread itself (`prepared`)."""

    path: Path
    now: datetime
    future: Future[Prepared]
    prepared: Prepared | None = None


def _next_prepared(ahead: deque[_Ahead], target: Target, known: Known) -> Prepared:
    """The first file's document, in order. Parsing costs a helper more than twice what storing costs this
    thread, so while the first is still being parsed this thread parses one that no helper has started
    (the first itself, else the furthest ahead) instead of waiting: the helpers and this thread share the
    parsing (bench/import.py measures it)."""
    first = ahead.popleft()
    while first.prepared is None and not first.future.done():
        spare = next((a for a in (first, *reversed(ahead)) if a.prepared is None and a.future.cancel()), None)
        if spare is None:
            break
        spare.prepared = prepare_file(spare.path, target, InlineParser(), spare.now, known)
    return first.prepared or first.future.result()


def prepare_file(path: Path, target: Target, parser: Parser, now: datetime, known: Known) -> Prepared:
    report = FileReport(str(path))
    try:
        if path.suffix.lower() in JSONL_SUFFIXES:
            open_regular(path).close()  # refused here already if it is not a regular file
            return Prepared(report, jsonl=path)
        body = read_capped(path, target.max_bytes)
    except Refused as refused:
        report.error = str(refused)
        return Prepared(report)
    return prepare_document(body, report, target, parser, now, known)


def prepare_document(
    body: bytes,
    report: FileReport,
    target: Target,
    parser: Parser,
    now: datetime,
    known: Known,
    *,
    feed: int | None = None,
    captured: datetime | None = None,
) -> Prepared:
    """Attribute and parse one feed document: `feed` and `captured` when the caller knows them (an archive
    capture), else the target's, else what the document says."""
    facts = document_facts(body)
    feed = feed or target.feed or feed_for(facts.links, target.addresses)
    if feed is None:
        unread = parser.parse(body, url="", headers={}, feed_id=0, now=now)
        if not unread.items and not unread.version:  # an error page saved where a feed should be
            report.error = f"not a readable feed: {unread.bozo}"
            return Prepared(report)
        named = f" (it names {', '.join(facts.links[:2])})" if facts.links else " (it names no address of its own)"
        report.error = f"no feed has this document's address{named}: give --feed NAME, and --url for a new feed"
        return Prepared(report)
    info = target.feeds[feed]
    body_hash = hashlib.sha256(body).hexdigest()
    if known(feed, body_hash):
        report.add(None, info.name)
        return Prepared(report)
    parsed = parser.parse(body, url=info.url, headers={}, feed_id=feed, now=now, language=info.language)
    if not parsed.items and not parsed.version:
        report.error = f"not a readable feed: {parsed.bozo}"
        return Prepared(report)
    when = capture_time(captured or target.captured_at, facts, parsed, now)
    if when is None:
        report.error = (
            "nothing in it says when it was captured (no date of its own or of its items): give --captured-at"
        )
        return Prepared(report)
    if parsed.bozo:
        report.notes.append(f"ill-formed, kept what could be read ({parsed.bozo})")
    # A date up to two days ahead is believed of an item, as a poll believes it, but no capture was made after
    # the import's clock: later than it, the capture would pass for newer than the live polls that follow.
    when = min(when, now)
    return Prepared(report, feed, body_hash, at_capture(parsed, when), when)


def store_prepared(
    store: Store, prepared: Prepared, target: Target, matcher: Matching | None, clock: Clock, *, origin: str
) -> FileReport:
    """Store what `prepare_file` or `prepare_document` made of a document (in the one thread that writes)."""
    report = prepared.report
    if prepared.jsonl is not None:
        _import_jsonl(store, prepared.jsonl, report, target, matcher, clock)
    elif prepared.parsed is not None and prepared.feed is not None and prepared.captured is not None:
        counts = record_import(
            store,
            prepared.feed,
            prepared.parsed,
            prepared.captured,
            origin=origin,
            source=report.path,
            body_hash=prepared.body_hash,
            now=clock(),
            decide=decider(prepared.parsed.items, iso(prepared.captured), matcher),
        )
        report.add(counts, target.feeds[prepared.feed].name)
    return report


def import_document(
    store: Store,
    body: bytes,
    report: FileReport,
    target: Target,
    matcher: Matching | None,
    clock: Clock,
    *,
    origin: str,
    feed: int | None = None,
    captured: datetime | None = None,
) -> None:
    """Import one feed document into `report`, parsed in this thread (an archive capture)."""
    known: Known = lambda feed, body_hash: imported_from(store, feed, body_hash) is not None  # noqa: E731
    prepared = prepare_document(body, report, target, InlineParser(), clock(), known, feed=feed, captured=captured)
    store_prepared(store, prepared, target, matcher, clock, origin=origin)


def _import_jsonl(
    store: Store, path: Path, report: FileReport, target: Target, matcher: Matching | None, clock: Clock
) -> None:
    """A JSON lines file read line by line and stored a batch of records at a time."""
    try:
        with open_regular(path) as stream:
            file_hash = _file_hash(stream)
            stream.seek(0)
            now = clock()
            records = jsonl_records(json_lines(stream), now)
            unknown: dict[str, list[int]] = defaultdict(list)  # source -> its first lines: said once per source
            unknowns: dict[str, int] = defaultdict(int)
            read = 0
            for number, batch in enumerate(_batches(records)):
                read += len(batch)
                groups = _groups(batch, report, target, now, unknown, unknowns)
                _store_groups(store, groups, file_hash, number, report, target, matcher, now)
    except (Refused, OSError) as error:  # replaced by something else since it was listed, or failed mid-read
        report.error = str(error) if isinstance(error, Refused) else f"cannot be read: {error.strerror or error}"
        return
    for source, lines in unknown.items():
        more = unknowns[source] - len(lines)
        shown = ", ".join(map(str, lines)) + (f" and {more} more" if more else "")
        many = unknowns[source] > 1
        report.problem(
            f"line{'s' if many else ''} {shown}: no feed has the address of "
            f"{'their' if many else 'its'} source ({source}): add the feed to the "
            "config, or give --feed NAME"
        )
    if not read:
        report.error = "no JSON lines in it"


def _file_hash(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def _batches(records: Iterator[Record | Skipped]) -> Iterator[list[Record | Skipped]]:
    """The lines in batches of at most JSONL_BATCH records and about JSONL_BATCH_CHARS of text."""
    batch: list[Record | Skipped] = []
    chars = 0
    for record in records:
        batch.append(record)
        chars += record.size if isinstance(record, Record) else 0
        if len(batch) >= JSONL_BATCH or chars >= JSONL_BATCH_CHARS:
            yield batch
            batch, chars = [], 0
    if batch:
        yield batch


def _groups(
    batch: list[Record | Skipped],
    report: FileReport,
    target: Target,
    now: datetime,
    unknown: dict[str, list[int]],
    unknowns: dict[str, int],
) -> dict[tuple[int, datetime], list[Record]]:
    """A batch's records by feed and capture time; what cannot be stored said in `report`."""
    groups: dict[tuple[int, datetime], list[Record]] = defaultdict(list)
    for record in batch:
        if isinstance(record, Skipped):
            report.problem(f"line {record.line}: {record.reason}")
            continue
        feed = target.feed or (feed_for([record.source], target.addresses) if record.source else None)
        when = target.captured_at or record.published
        if feed is None:
            source = record.source or "none given"
            unknowns[source] += 1
            if len(unknown[source]) < 5:
                unknown[source].append(record.line)
        elif when is None and record.doubt:
            report.problem(f"line {record.line}: {record.doubt}: not when it was seen: give --captured-at")
        elif when is None:
            report.problem(f"line {record.line}: no published date says when it was seen: give --captured-at")
        else:
            if record.doubt:
                report.note(f"line {record.line}: {record.doubt}: stored as undated, seen at --captured-at")
            # Never after the import's clock: a capture dated later would pass for newer than later live polls.
            groups[feed, min(when, now)].append(record)
    return groups


def _store_groups(
    store: Store,
    groups: dict[tuple[int, datetime], list[Record]],
    file_hash: str,
    batch: int,
    report: FileReport,
    target: Target,
    matcher: Matching | None,
    now: datetime,
) -> None:
    for (feed, when), group in sorted(groups.items(), key=lambda g: g[0][1]):
        info = target.feeds[feed]
        # One document per feed and capture time (and batch of lines); its identity is the file's and the
        # capture's, so the same file imported again stores nothing. The first batch's is what it was before
        # files were read in batches, so files imported then are still known.
        identity = f"{file_hash}:{when.isoformat()}" + (f":{batch}" if batch else "")
        body_hash = hashlib.sha256(identity.encode()).hexdigest()
        parsed: ParsedFeed = record_items(group, url=info.url, feed_id=feed, captured=when, language=info.language)
        counts = record_import(
            store,
            feed,
            parsed,
            when,
            origin="file",
            source=report.path,
            body_hash=body_hash,
            now=now,
            decide=decider(parsed.items, iso(when), matcher),
        )
        report.add(counts, info.name)
