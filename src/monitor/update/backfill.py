"""A feed's past from a web archive: its captures in a period, each downloaded and imported as a poll made
at the capture's time (issue 15).

Resumable: each capture dealt with is recorded (`captures`) as soon as its document is stored, so a run
stopped by Ctrl-C or SIGKILL goes on where it stopped; a capture whose document was stored but not yet
recorded is downloaded again and found already imported, so nothing is stored twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from ..errors import MonitorError
from ..fetch.archive import Archive, Capture, Chooser, capture_url, original_bytes, public_address, wayback_page
from ..storage import Store
from ..storage.history import done_captures, import_of, record_capture
from ..types import Matching
from .importing import Clock, Feed, FileReport, Target, import_document


@dataclass
class BackfillReport:
    """What backfilling one feed did."""

    feed: str
    found: int = 0  # captures in the archive's index for the period
    fetched: int = 0  # downloaded in this run
    skipped: int = 0  # imported by an earlier run, identical to another, or over backfill.per_day
    failed: int = 0  # could not be downloaded, or were not a feed: tried again by the next run
    new: int = 0  # items stored for the first time
    cut: bool = False  # the archive's index may hold more captures than it gave
    cut_answers: int = 0  # index answers the archive cut without a key, read on by date
    pages: int = 0  # index requests
    redirects: int = 0  # listed captures that were redirects or failures (among skipped)
    elsewhere: int = 0  # listed captures of another address (among skipped)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "feed": self.feed,
            "found": self.found,
            "fetched": self.fetched,
            "skipped": self.skipped,
            "failed": self.failed,
            "new": self.new,
            "cut": self.cut,
            "cut_answers": self.cut_answers,
            "index_pages": self.pages,
            "redirects": self.redirects,
            "other_addresses": self.elsewhere,
            "errors": list(self.errors),
        }


def plan(
    store: Store, archive: Archive, feed: Feed, since: date, until: date, per_day: int, report: BackfillReport
) -> list[Capture]:
    """The captures still to import, in time order."""
    chooser = Chooser(per_day)
    try:
        index = archive.captures(feed.url, since, until, chooser)
    except MonitorError as error:
        report.failed += 1
        report.errors.append(str(error))
        return []
    report.pages, report.cut, report.cut_answers = index.pages, index.cut, index.cut_answers
    report.redirects, report.elsewhere = index.unusable, index.elsewhere
    report.found = index.usable + index.unusable + index.elsewhere
    if index.cut:
        report.errors.append(
            f"the archive's index of {public_address(feed.url)} may hold more captures than it gave (its answer "
            "was cut and gave no way on): run again with shorter periods (--since/--until) to have them all"
        )
    chosen, left = chooser.chosen()
    done = done_captures(store, feed.id)
    todo = [c for c in chosen if (c.timestamp, c.original) not in done]
    report.skipped = index.unusable + index.elsewhere + left + len(chosen) - len(todo)
    return todo


def import_capture(
    store: Store,
    archive: Archive,
    feed: Feed,
    capture: Capture,
    target: Target,
    matcher: Matching | None,
    clock: Clock,
    report: BackfillReport,
) -> None:
    """Download one capture and import it as a poll made at its time; record what became of it."""
    result = archive.download(capture)
    where = capture_url(archive.settings.archive_url, capture)
    if result.error or result.body is None or result.status != 200:
        _failed(store, feed, capture, f"{where}: {result.error or f'HTTP {result.status}'}", clock, report)
        return
    report.fetched += 1
    try:
        body = original_bytes(result.body, archive.max_bytes)
    except ValueError as too_large:
        _failed(store, feed, capture, f"{where}: {too_large}", clock, report)
        return
    if wayback_page(body):
        error = (
            f"{where}: not a feed: the archive answered an HTML page of its own (an error page, or a copy "
            "rewritten for a browser: the original bytes, id_, were not given)"
        )
        _failed(store, feed, capture, error, clock, report)
        return
    document = FileReport(where)
    import_document(store, body, document, target, matcher, clock, origin="archive", feed=feed.id, captured=capture.at)
    if document.error:  # an archive's error page, or a capture of something that is not a feed
        _failed(store, feed, capture, f"{where}: {document.error}", clock, report)
        return
    report.new += document.counts.new
    import_id = import_of(store, feed.id, hashlib.sha256(body).hexdigest())
    record_capture(
        store,
        feed.id,
        capture.timestamp,
        capture.original,
        capture.digest,
        state="imported",
        now=clock(),
        import_id=import_id,
    )


def _failed(store: Store, feed: Feed, capture: Capture, error: str, clock: Clock, report: BackfillReport) -> None:
    report.failed += 1
    report.errors.append(error)
    record_capture(
        store, feed.id, capture.timestamp, capture.original, capture.digest, state="failed", now=clock(), error=error
    )
