"""The commands that start the record in the past: `monitor import` (saved feed documents and JSON lines)
and `monitor backfill` (a web archive's captures of the configured feeds), registered on the group by
`cli/__init__.py`; the work is done by `update.importing`, `update.backfill` and `fetch.archive`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from ..config.settings import http_url
from ..errors import UsageError
from ..fetch.archive import Archive
from ..match.rules import Matcher
from ..parse.pool import make_parser
from ..parse.saved import implausible, parse_date, plausible
from ..storage import Store
from ..storage import feeds as feed_store
from ..storage.history import add_feed, feed_addresses, feed_id
from ..text.safe import shown
from ..types import FeedSource
from ..update.backfill import BackfillReport, import_capture, plan
from ..update.importing import Feed, FileReport, Target, import_files
from ..update.poll import record_settings
from .group import Context, cli, utc_now


@cli.command("import")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option(
    "--feed",
    "feed_name",
    metavar="NAME",
    help="Attribute every item to this feed (a configured one, or a "
    "new one that is stored but not polled: give its --url).",
)
@click.option("--url", metavar="URL", help="The address of a new --feed.")
@click.option(
    "--captured-at",
    metavar="WHEN",
    help="When the documents were captured (ISO 8601, such as 2023-09-25T12:00:00Z), if they do not say so themselves.",
)
@click.pass_obj
def import_(
    obj: Context, paths: tuple[str, ...], feed_name: str | None, url: str | None, captured_at: str | None
) -> None:
    """Import saved feed documents (RSS, Atom, RDF), folders of them, and JSON lines files (.jsonl: title,
    summary, link, published, source), each stored as a poll made when it was captured. Importing the same
    files again stores nothing."""
    config = obj.config
    when = _when(captured_at, utc_now())
    files = list(_files(paths))
    matcher = Matcher(config.themes)
    with obj.store() as store:
        feed_store.sync_feeds(store, config.feeds, utc_now())
        record_settings(store, config)
        feed = _target_feed(obj, store, feed_name, url)
        target = Target(_feeds(store), feed_addresses(store), feed, when, config.polling.max_bytes)
        # Parsed in helper processes ahead of the storing, as a poll round is, when there are enough files.
        parser = make_parser(config.polling.parse_processes, len(files))
        reports = []
        try:
            with _progress(files, "importing") as bar:
                for report in import_files(store, bar, target, matcher, utc_now, parser):
                    reports.append(report)
        finally:
            parser.close()
        store.checkpoint()
    _summary(reports, len(files))


def _when(text: str | None, now: datetime) -> datetime | None:
    """--captured-at, bounded as a poll bounds an item's date: a capture in the future is a typo."""
    if text is None:
        return None
    moment = parse_date(text)
    if moment is None:
        raise UsageError(f"--captured-at: expected a date and time such as 2023-09-25T12:00:00Z, got {text!r}")
    if not plausible(moment, now):
        raise UsageError(f"--captured-at {text}: a capture time cannot be {implausible(moment, now)}")
    return moment


def _files(paths: Iterable[str]) -> Iterator[Path]:
    """The files named, and those in the folders named (recursively, hidden ones left out), in name order."""
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise UsageError(f"{name}: no such file or folder")
        if not path.is_dir():
            yield path
            continue
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            yield from (Path(folder) / n for n in sorted(names) if not n.startswith("."))


def _feeds(store: Store) -> dict[int, Feed]:
    return {row[0]: Feed(*row) for row in feed_store.feed_rows(store)}


def _target_feed(obj: Context, store: Store, name: str | None, url: str | None) -> int | None:
    """The feed --feed names: configured, stored by an earlier import, or new (stored, not polled)."""
    if name is None:
        if url is not None:
            raise UsageError("--url names the address of a new --feed NAME; give --feed too")
        return None
    configured = obj.config.feed(name)
    if configured is not None and url is not None and url != configured.url:
        raise UsageError(f"feed {name!r} is configured with the address {configured.url}; --url is only for a new feed")
    found = feed_id(store, name)
    if found is not None:
        return found
    if url is None:
        raise UsageError(
            f"no feed {name!r} in {obj.config.path} or the database: give its address with --url "
            "to store it as a feed that is not polled"
        )
    try:
        address = http_url(url)
    except ValueError as error:
        raise UsageError(f"--url: {error}") from None
    return add_feed(store, FeedSource(name=name, url=address, interval=obj.config.polling.interval), utc_now())


def _progress(items: list[Any], label: str) -> Any:
    """A progress bar on stderr when it is a terminal: a long import shows it is moving; logs stay clean."""
    if sys.stderr.isatty() and len(items) > 1:
        return click.progressbar(items, label=label, file=sys.stderr)
    return nullcontext(items)


def _summary(reports: list[FileReport], total: int) -> None:
    failed = [r for r in reports if r.error]
    for report in reports:
        if report.error:
            click.echo(f"{shown(report.path)}: not imported: {shown(report.error)}", err=True)
        for line in report.problems + report.notes:
            click.echo(f"{shown(report.path)}: {shown(line)}", err=True)
        if report.more_problems or report.more_notes:
            click.echo(
                f"{shown(report.path)}: and {report.more_problems} more line(s) skipped, "
                f"{report.more_notes} more noted (only the first are named)",
                err=True,
            )
    documents = sum(r.documents for r in reports)
    already = sum(r.already for r in reports)
    new = sum(r.counts.new for r in reports)
    updated = sum(r.counts.updated for r in reports)
    seen = sum(r.counts.seen for r in reports)
    matched = sum(r.counts.matched for r in reports)
    feeds = sorted(set().union(*(r.feeds for r in reports))) if reports else []
    if documents:
        click.echo(
            f"imported {documents} document(s) of {total} file(s) into {', '.join(feeds)}: {new} item(s) new, "
            f"{updated} updated, {seen} already stored; {matched} on themes"
        )
    if already:
        click.echo(f"{already} document(s) were imported before: nothing new stored from them")
    if not documents and not already and not failed:
        click.echo("nothing to import")
    if failed:
        click.echo(f"{len(failed)} of {total} file(s) could not be imported (see above); the others were", err=True)
    skipped = sum(len(r.problems) + r.more_problems for r in reports)  # each a line, or the lines of one source
    if skipped:
        click.echo(
            f"{skipped} problem(s) in files (see above): the lines named were skipped, the rest imported", err=True
        )
    if failed or skipped:
        sys.exit(2)  # input refused (files or lines named above), as `match --jsonl` says of its lines


@cli.command()
@click.option("--since", required=True, metavar="DATE", help="First day of the period, such as 2023-09-01.")
@click.option("--until", metavar="DATE", help="Last day of the period (default: today).")
@click.option("--feed", "names", multiple=True, metavar="NAME", help="Only this configured feed (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object (for scripts).")
@click.pass_obj
def backfill(obj: Context, since: str, until: str | None, names: tuple[str, ...], as_json: bool) -> None:
    """Import the configured feeds' past from a web archive that speaks the CDX API ([backfill] archive_url,
    the Wayback Machine by default): each capture in the period downloaded as it was and stored as a poll
    made at its time. One request at a time, at backfill.pace; interrupted, it goes on where it stopped."""
    config = obj.config
    first, last = _day(since, "--since"), _day(until, "--until") if until else utc_now().date()
    if last < first:
        raise UsageError(f"--until {last} is before --since {first}")
    unknown = [n for n in names if config.feed(n) is None]
    if unknown:
        raise UsageError(f"no feed {', '.join(map(repr, unknown))} in {config.path}")
    sources = [f for f in config.feeds if not names or f.name in names]
    matcher = Matcher(config.themes)
    started = time.monotonic()
    reports: list[BackfillReport] = []
    with obj.store() as store, Archive(config.backfill, config.polling, clock=utc_now) as archive:
        feed_store.sync_feeds(store, config.feeds, utc_now())
        record_settings(store, config)
        feeds = _feeds(store)
        target = Target(feeds, feed_addresses(store))
        try:
            for source in sources:
                found = feed_id(store, source.name)
                assert found is not None  # sync_feeds stored every configured feed
                feed = Feed(found, source.name, source.url, source.language)
                report = BackfillReport(feed.name)
                reports.append(report)
                todo = plan(store, archive, feed, first, last, config.backfill.per_day, report)
                with _progress(todo, feed.name) as bar:
                    for capture in bar:
                        import_capture(store, archive, feed, capture, target, matcher, utc_now, report)
                if not as_json:
                    click.echo(_feed_line(report))
        except KeyboardInterrupt:
            # The summary of what was done before the interrupt: the rerun's figures make sense against it.
            _backfill_summary(reports, archive.requests, started, as_json, interrupted=True)
            click.echo("interrupted: what was imported is kept; run the same command again to go on", err=True)
            sys.exit(130)
        finally:
            store.checkpoint()
    _backfill_summary(reports, archive.requests, started, as_json)
    if any(r.failed for r in reports):
        click.echo("failed captures are tried again by the next run", err=True)
        sys.exit(1)


def _backfill_summary(
    reports: list[BackfillReport], requests: int, started: float, as_json: bool, interrupted: bool = False
) -> None:
    minutes = max(time.monotonic() - started, 1e-9) / 60
    cut = [r.feed for r in reports if r.cut]
    cut_answers = sum(r.cut_answers for r in reports)
    if as_json:
        totals = {k: sum(getattr(r, k) for r in reports) for k in ("found", "fetched", "skipped", "failed", "new")}
        summary = {
            **totals,
            "cut": cut,
            "cut_answers": cut_answers,
            "requests": requests,
            "interrupted": interrupted,
            "feeds": [r.as_dict() for r in reports],
        }
        click.echo(json.dumps(summary, sort_keys=True))
        return
    click.echo(
        f"{'interrupted after ' if interrupted else ''}"
        f"{sum(r.found for r in reports)} capture(s) found, {sum(r.fetched for r in reports)} fetched, "
        f"{sum(r.skipped for r in reports)} skipped, {sum(r.failed for r in reports)} failed; "
        f"{sum(r.new for r in reports)} item(s) new; {requests} request(s) to the archive, "
        f"{requests / minutes:.0f} a minute"
    )
    if cut_answers:
        click.echo(
            f"the archive cut {cut_answers} answer(s) of its index without a key to go on: read on from the last "
            "capture's time"
        )
    if cut:
        click.echo(f"the archive's answer was cut for {', '.join(cut)}: some captures may be missing", err=True)
    for report in reports:
        for error in report.errors:
            click.echo(f"{report.feed}: {shown(error)}", err=True)


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option}: expected a date such as 2023-09-01, got {text!r}") from None


def _feed_line(report: BackfillReport) -> str:
    notes = [
        f"{report.redirects} redirect(s) or failed capture(s) listed" if report.redirects else "",
        f"{report.elsewhere} of another address" if report.elsewhere else "",
        f"{report.pages} index pages" if report.pages > 1 else "",
        f"{report.cut_answers} answer(s) cut without a key, read on by date" if report.cut_answers else "",
        "the archive's answer was cut: captures may be missing" if report.cut else "",
    ]
    extra = "; ".join(n for n in notes if n)
    return (
        f"{report.feed}: {report.found} capture(s) found, {report.fetched} fetched, {report.skipped} skipped, "
        f"{report.failed} failed; {report.new} item(s) new" + (f" ({extra})" if extra else "")
    )
