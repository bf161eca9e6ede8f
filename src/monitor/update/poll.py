"""One poll round: every due feed fetched, parsed and stored, each in isolation from the others.

Fetching is I/O-bound and runs in a thread pool (`polling.concurrency` at once, `per_host` per host).
Parsing is CPU-bound: with helper processes (`polling.parse_processes`, parsers.py) each fetch thread hands
its body to one and waits, so parsing runs on the other cores; without them it runs in the calling thread
as results arrive, which beats parsing inside the fetch threads (the GIL). Matching and storing run in the
calling thread, which keeps every database write in one thread. A feed that fails, or whose storing
fails, becomes an error report; the round goes on.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from ..config.load import Config
from ..errors import MonitorError
from ..fetch.http import Fetcher
from ..match.rules import Matcher
from ..parse.pool import InlineParser, Parser, make_parser
from ..storage import Store, items
from ..storage import feeds as feed_store
from ..types import FeedReport, FeedSource, FeedState, FetchOutcome, FetchResult, ItemCounts, Matching, ParsedFeed
from ..units import iso
from .policy import after_fetch, classify, is_due, skip_reason
from .reconcile import decider

log = logging.getLogger("monitor.poll")

Clock = Callable[[], datetime]
ReportSink = Callable[[FeedReport], None]


@dataclass(frozen=True, slots=True)
class Interpretation:
    """What one fetch means: its outcome, the parsed feed (if any), the error text and the body's hash."""

    outcome: FetchOutcome
    parsed: ParsedFeed | None
    error: str | None
    body_hash: str | None


@dataclass(frozen=True, slots=True)
class Fetched:
    result: FetchResult
    interpretation: Interpretation | None = None  # None: not interpreted yet (parsing in this process)


def record_settings(store: Store, config: Config) -> None:
    """What SQL users read of the config into the database: theme labels, and each item's week in the
    config's time zone (migration 15)."""
    items.sync_themes(store, config.themes.values())
    items.sync_calendar(store, config.timezone, config.digest.week_start)


def poll_round(
    config: Config,
    store: Store,
    fetcher: Fetcher,
    clock: Clock,
    *,
    names: Iterable[str] | None = None,
    force: bool = False,
    on_report: ReportSink | None = None,
    matcher: Matching | None = None,
    parser: Parser | None = None,
) -> list[FeedReport]:
    """Poll the configured feeds (or the named ones) once; new and changed items are matched to the
    themes as they are stored. Returns one report per feed. Without a `parser`, the round makes its own
    (helper processes when the settings ask for them and there are enough due feeds)."""
    matcher = matcher or Matcher(config.themes)
    feed_store.sync_feeds(store, config.feeds, clock())
    record_settings(store, config)
    sources = {feed.name: feed for feed in config.feeds}
    reports: list[FeedReport] = []

    def emit(report: FeedReport) -> None:
        reports.append(report)
        if on_report:
            on_report(report)

    due = []
    round_start = clock()
    for state in feed_store.feed_states(store, names):
        reason = skip_reason(state, round_start, force=force)
        if reason:
            emit(FeedReport(feed=state.name, url=state.url, outcome=FetchOutcome.SKIPPED, note=reason))
        else:
            due.append(state)
    if not due:
        return reports
    round_parser = parser or make_parser(config.polling.parse_processes, len(due))
    # Parsing in the fetch threads pays only when it leaves this process.
    early = None if round_parser.in_process else round_parser
    try:
        with ThreadPoolExecutor(
            max_workers=min(config.polling.concurrency, len(due)), thread_name_prefix="fetch"
        ) as pool:
            futures: dict[Future[Fetched], FeedState] = {
                pool.submit(_fetch, fetcher, state, sources[state.name], clock, early): state
                for state in interleave_hosts(due)
            }
            for future in as_completed(futures):
                state = futures[future]
                emit(_process(state, sources[state.name], future.result(), config, store, clock, matcher, round_parser))
    finally:
        if parser is None:
            round_parser.close()
    return reports


def poll_feed(
    config: Config,
    store: Store,
    fetcher: Fetcher,
    clock: Clock,
    name: str,
    matcher: Matching,
    store_lock: AbstractContextManager[object],
    *,
    due_only: bool = True,
    parser: Parser | None = None,
) -> FeedReport | None:
    """Poll one feed if it is due (the daemon's job): fetched and parsed outside `store_lock`, so many
    feeds fetch (and, with helper processes, parse) at once, then matched and stored under it, one feed at
    a time. None when it was not due."""
    with store_lock:
        state = feed_store.feed_state(store, name)
    source = config.feed(name)
    if state is None or source is None:
        return None
    now = clock()
    # The scheduler's jitter may run a job a little early: a feed counts as due within the last tenth of its
    # interval, so an early run polls instead of skipping a whole interval.
    if due_only and not is_due(state, source.interval * 0.9, now):
        return None
    parser = parser or InlineParser()
    fetched = _fetch(fetcher, state, source, clock, parser)
    with store_lock:
        return _process(state, source, fetched, config, store, clock, matcher, parser)


def _fetch(fetcher: Fetcher, state: FeedState, source: FeedSource, clock: Clock, parser: Parser | None) -> Fetched:
    """Fetch one feed and, given a parser, interpret (parse) it too."""
    result = _safe_fetch(fetcher, state, source, clock)
    if parser is None:
        return Fetched(result)
    return Fetched(result, _interpret(state, source, result, clock(), parser))


def _safe_fetch(fetcher: Fetcher, state: FeedState, source: FeedSource, clock: Clock) -> FetchResult:
    try:
        return fetcher.fetch(
            state.url,
            etag=state.etag,
            last_modified=state.last_modified,
            allow_private_redirects=source.allow_private_redirects,
        )
    except Exception as crash:
        log.exception("fetching %s failed unexpectedly", state.url)
        return FetchResult(
            url=state.url,
            final_url=state.url,
            status=None,
            started_at=clock(),
            duration=0.0,
            error=f"internal error while fetching: {type(crash).__name__}: {crash}",
        )


def _process(
    state: FeedState,
    source: FeedSource,
    fetched: Fetched,
    config: Config,
    store: Store,
    clock: Clock,
    matcher: Matching,
    parser: Parser,
) -> FeedReport:
    now = clock()
    result = fetched.result
    meaning = fetched.interpretation or _interpret(state, source, result, now, parser)
    outcome, parsed, error = meaning.outcome, meaning.parsed, meaning.error
    new_state = after_fetch(
        state,
        result,
        outcome,
        now=now,
        interval=source.interval,
        backoff_max=config.polling.backoff_max,
        error=error,
        body_hash=meaning.body_hash,
    )
    report = FeedReport(
        feed=state.name,
        url=state.url,
        outcome=outcome,
        status=result.status,
        error=error,
        note=_note(result, parsed),
        duration=result.duration,
        bytes_read=result.bytes_read,
        started_at=result.started_at,
        parser=parsed.parser if parsed else None,
    )
    try:
        counts = store_poll(store, new_state, report, parsed, now, matcher)
    except MonitorError as failure:
        # Nothing of this poll was kept (not even its validators), so the next poll fetches and stores it all.
        log.error("%s: this poll was not stored; the feed is polled again at its next turn: %s", state.name, failure)
        return replace(report, outcome=FetchOutcome.ERROR, error=str(failure), store_failed=True)
    report = replace(report, counts=counts)
    _log(report, state, new_state)
    return report


def store_poll(
    store: Store,
    state: FeedState,
    report: FeedReport,
    parsed: ParsedFeed | None,
    now: datetime,
    matcher: Matching | None = None,
) -> ItemCounts:
    """One feed's poll stored atomically: its items reconciled with what is stored (read inside the write
    transaction) and the new and changed ones matched (none without a matcher), its state and fetch row."""
    decide = decider(parsed.items, iso(now), matcher) if parsed else None
    return items.record_poll(store, state, report, parsed, now, decide)


def _log(report: FeedReport, before: FeedState, after: FeedState) -> None:
    """One line per poll; a failing feed is told when it starts and stops failing, not at every poll."""
    if after.consecutive_failures and not before.consecutive_failures:
        log.warning("%s %s: started failing: %s", report.outcome.value, report.feed, report.error)
    elif after.consecutive_failures:
        log.debug(
            "%s %s: still failing (%d): %s", report.outcome.value, report.feed, after.consecutive_failures, report.error
        )
    elif before.consecutive_failures:
        log.info("%s %s: recovered after %d failure(s)", report.outcome.value, report.feed, before.consecutive_failures)
    else:
        counts = report.counts
        log.info(
            "%s %s: %d new, %d updated, %d seen, %d on themes",
            report.outcome.value,
            report.feed,
            counts.new,
            counts.updated,
            counts.seen,
            counts.matched,
        )


def _interpret(
    state: FeedState, source: FeedSource, result: FetchResult, now: datetime, parser: Parser
) -> Interpretation:
    """Outcome, parsed feed, error text and body hash of one fetch."""
    body_hash = hashlib.sha256(result.body).hexdigest() if result.body is not None else None
    outcome = classify(result, state, body_hash)
    if outcome is not None:
        error = result.error if outcome in (FetchOutcome.ERROR, FetchOutcome.GONE) else None
        if outcome is FetchOutcome.GONE:
            error = "410 Gone: the feed was removed; it is not polled again until revived"
        return Interpretation(outcome, None, error, body_hash)
    assert result.body is not None
    try:
        parsed = parser.parse(
            result.body,
            url=result.final_url,
            headers=result.headers,
            feed_id=state.id,
            now=now,
            language=source.language,
        )
    except Exception as crash:
        log.exception("parsing %s failed unexpectedly", state.url)
        return Interpretation(
            FetchOutcome.ERROR, None, f"internal error while parsing: {type(crash).__name__}: {crash}", None
        )
    if not parsed.items and not parsed.version:
        cut = f"; {result.error}" if result.truncated and result.error else ""
        return Interpretation(FetchOutcome.ERROR, None, f"not a readable feed: {parsed.bozo}{cut}", None)
    if result.truncated:
        return Interpretation(FetchOutcome.PARTIAL, parsed, result.error, body_hash)
    return Interpretation(FetchOutcome.OK, parsed, None, body_hash)


def _note(result: FetchResult, parsed: ParsedFeed | None) -> str | None:
    notes = []
    if result.permanent_redirect:
        notes.append(f"moved permanently to {result.permanent_redirect}; polling it there from now on")
    if parsed and parsed.bozo:
        notes.append(f"ill-formed, kept what could be read ({parsed.bozo})")
    return "; ".join(notes) or None


def interleave_hosts(states: Sequence[FeedState]) -> list[FeedState]:
    """Order feeds so that consecutive ones are on different hosts: workers then rarely wait for a
    host's `per_host` slot while feeds of other hosts are queued behind."""
    by_host: dict[str, list[FeedState]] = defaultdict(list)
    for state in states:
        by_host[(urlsplit(state.url).hostname or "").lower()].append(state)
    queues = list(by_host.values())
    ordered: list[FeedState] = []
    for index in range(max(len(q) for q in queues)):
        ordered.extend(q[index] for q in queues if index < len(q))
    return ordered
