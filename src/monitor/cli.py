"""The command line: parse arguments, build the real config, store and fetcher, call `pipeline`.

Exit codes: 0 success; 1 an operational failure (the database cannot be opened or written, including a
poll round whose results could not all be stored); 2 a usage or configuration error. A poll round in
which some feeds failed still exits 0: failing feeds are normal for a monitor and are reported per feed
(see `monitor feeds`).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from . import __version__, clock
from .config import opml
from .config.load import Config, load_config, parse_config
from .config.locate import PROJECT_CONFIG, STARTER, Found, find_config
from .config.settings import http_url
from .demo import SAMPLE_WEEK, run_demo
from .digest.deliver import SmtpSender
from .digest.publish import claim_gone, delivery_warning, publish, retry_failed, week_over
from .errors import MonitorError, StoreError, UsageError
from .fetch.http import Fetcher
from .match.rules import matches_json
from .parse.feed import plain_text, summary_text
from .report import (
    feed_line,
    health_problems,
    health_rows,
    match_lines,
    round_summary,
    search_lines,
    shown_row,
    status_lines,
)
from .storage import Matching, Store, clock_figures, health_figures
from .storage import digests as store_digest
from .storage.history import live_since
from .textsafe import redact, shown, shown_block
from .units import format_duration, iso
from .update.policy import CLOCK_SLACK, revive
from .update.poll import poll_round
from .update.schedule import digest_send_moment
from .weeks import last_complete_week, parse_week, week_coverage, week_end, week_label, week_start

DEFAULT_CONFIG = PROJECT_CONFIG
F = TypeVar("F", bound=Callable[..., Any])


utc_now = clock.utc_now  # the real time, plus MONITOR_CLOCK_OFFSET in tests (clock.py)


@dataclass
class Context:
    config_path: str
    db_override: str | None
    _config: Config | None = None
    using_starter: bool = False  # no config file was found: the packaged starter config stands in
    found: Found | None = None  # how the config search went (locate.py); None: config_path was given as is

    @property
    def config(self) -> Config:
        if self._config is None:
            if self.found and self.found.path is None:
                raise UsageError(
                    f"{self.found.reason}. `monitor init` writes a starter config here (`monitor "
                    "init --user`: for every folder), or give one with --config or MONITOR_CONFIG"
                )
            self._config = load_config(self.config_path)
        return self._config

    @property
    def themes_config(self) -> Config:
        """The config, for a command that needs only its themes: with no config file found (an installed
        monitor run from any folder), the starter config shipped in the package."""
        if self._config is None and self.found and self.found.path is None:
            starter = str(resources.files("monitor").joinpath(*STARTER))
            click.echo(f"{self.found.reason}: using the starter config shipped with monitor ({starter})", err=True)
            self._config = load_config(starter)
            self.using_starter = True
        return self.config

    @property
    def db_path(self) -> str:
        return self.db_override or self.config.database

    @contextmanager
    def store(self, *, must_exist: bool = False) -> Iterator[Store]:
        self.config  # noqa: B018 - a broken config stops every command, even one that needs only the db
        if must_exist and not os.path.exists(self.db_path):
            raise UsageError(f"no database at {self.db_path} yet: `monitor poll` creates it")
        store = Store.open(self.db_path, self.config.busy_timeout)
        try:
            yield store
        finally:
            store.close()


def setup_logging(log_format: str, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLines() if log_format == "json" else SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("httpx", "apscheduler"):  # a line per request or per job run would drown ours
        logging.getLogger(noisy).setLevel(logging.WARNING)


class SafeFormatter(logging.Formatter):
    """Log lines quote feed URLs, errors and feed text: whatever a call site passed, no credentials and no
    terminal controls reach the log (`textsafe.shown_block`)."""

    def format(self, record: logging.LogRecord) -> str:
        return shown_block(super().format(record))


class JsonLines(SafeFormatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return shown_block(json.dumps(line, ensure_ascii=False))


def handle_errors(function: F) -> F:
    """Print a MonitorError as one clear `Error:` line (no traceback) and exit with its code."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except MonitorError as error:
            click.echo(f"Error: {shown_block(str(error))}", err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="Config file (also MONITOR_CONFIG; else ./config/feeds.toml, else $XDG_CONFIG_HOME/monitor/feeds.toml).",
)
@click.option(
    "--db",
    "db_path",
    envvar="MONITOR_DB",
    metavar="FILE",
    help="SQLite database, overriding the config's monitor.database (also MONITOR_DB).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log details to standard error.")
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None, verbose: bool) -> None:
    """Follow news feeds, match them to tracked themes, and keep everything in one SQLite file."""
    setup_logging("text", verbose)
    try:
        clock.offset()  # a bad test setting stops every command here, not a job inside the daemon
    except MonitorError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
    found = find_config(config_path, os.environ, os.path.exists)
    ctx.obj = Context(config_path=found.path or DEFAULT_CONFIG, db_override=db_path, found=found)


@cli.command()
@click.pass_obj
@handle_errors
def check(obj: Context) -> None:
    """Validate the config and print a summary of it (exit 2 when it is invalid)."""
    config = obj.config
    click.echo(f"{config.path}: OK ({obj.found.reason if obj.found else 'given'})")
    click.echo(f"  database   {obj.db_path}")
    click.echo(f"  digests    {config.digests_dir}/ (timezone {config.timezone})")
    polling = config.polling
    click.echo(
        f"  polling    every {format_duration(polling.interval)}, {polling.concurrency} at a time "
        f"({polling.per_host} per host), deadline {format_duration(polling.deadline)} per feed"
    )
    click.echo(f"  feeds      {len(config.feeds)}")
    for feed in config.feeds:
        extra = ", ".join(filter(None, [feed.language, " ".join(feed.tags)]))
        click.echo(
            f"    {feed.name:<28} every {format_duration(feed.interval):<6} {redact(feed.url)}"
            + (f"  [{extra}]" if extra else "")
        )
    click.echo(f"  themes     {len(config.themes)}" + (f": {', '.join(config.themes)}" if config.themes else ""))
    email = config.email
    if email.enabled:
        click.echo(f"  e-mail     to {', '.join(email.to)} via {email.host}:{email.port} ({email.security})")
        if email.password_env and not os.environ.get(email.password_env):
            click.echo(f"  warning: email.password_env names {email.password_env}, which is not set", err=True)
    else:
        click.echo("  e-mail     off")


@cli.command()
@click.option("--feed", "names", multiple=True, metavar="NAME", help="Poll only this feed (repeatable).")
@click.option("--force", is_flag=True, help="Poll even feeds that are dead, backing off or told to wait.")
@click.pass_obj
@handle_errors
def poll(obj: Context, names: tuple[str, ...], force: bool) -> None:
    """Poll every configured feed once and store what is new: one line per feed."""
    config = obj.config
    unknown = [n for n in names if config.feed(n) is None]
    if unknown:
        raise UsageError(f"no feed named {', '.join(map(repr, unknown))} in {config.path}; `monitor check` lists them")
    started = utc_now()
    with obj.store() as store, Fetcher(config.polling, clock=utc_now) as fetcher:
        matcher = cli_model.matcher(obj, store, config.themes)
        reports = poll_round(
            config,
            store,
            fetcher,
            utc_now,
            names=names or None,
            force=force,
            on_report=lambda report: click.echo(feed_line(report)),
            matcher=matcher,
        )
        try:  # upkeep for polls run by cron, without the daemon; best effort: the round is stored
            store.prune_fetches(utc_now() - config.polling.keep_fetches, utc_now())
            store.checkpoint()
        except StoreError as error:
            click.echo(f"warning: the fetches log was not pruned: {error}", err=True)
    click.echo(round_summary(reports, (utc_now() - started).total_seconds()))
    unstored = [r.feed for r in reports if r.store_failed]
    if unstored:
        raise StoreError(
            obj.db_path,
            f"the results of {len(unstored)} feed(s) could not be stored: "
            f"{', '.join(unstored[:5])}{' ...' if len(unstored) > 5 else ''}",
        )


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@handle_errors
def feeds(ctx: click.Context, as_json: bool) -> None:
    """Feed health: state (ok, stale, failing, dead, new), newest item's age, last success, next poll, last
    error. Subcommands manage feeds."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    with obj.store() as store:
        store.sync_feeds(obj.config.feeds, utc_now())
        rows = health_rows(store.feed_health(), utc_now(), obj.config.polling.stale_after)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    header = f"{'feed':<28} {'state':<12} {'items':>6} {'newest':>8}  {'last success':<17} {'next poll':<17} last error"
    click.echo(header)
    for row in rows:
        click.echo(
            f"{row['name'][:28]:<28} {row['state']:<12} {row['items']:>6} {row['newest_item_age'] or '':>8}  "
            f"{row['last_success_at'] or 'never':<17} {row['next_poll']:<17} {row['last_error'] or ''}"
        )
    states = Counter(row["state"] for row in rows)
    click.echo(", ".join(f"{count} {state}" for state, count in sorted(states.items())) or "no feeds configured")


@feeds.command("revive")
@click.argument("names", nargs=-1, required=True)
@click.pass_obj
@handle_errors
def feeds_revive(obj: Context, names: tuple[str, ...]) -> None:
    """Let dead or backed-off feeds be polled again at the next round."""
    unknown = [n for n in names if obj.config.feed(n) is None]
    if unknown:
        raise UsageError(f"no feed named {', '.join(map(repr, unknown))} in {obj.config.path}")
    with obj.store() as store:
        store.sync_feeds(obj.config.feeds, utc_now())
        store.revive([revive(state) for state in store.feed_states(names)])
    for name in names:
        click.echo(f"{name}: revived; it is polled at the next round")


@feeds.command("export")
@click.option(
    "--out",
    "out_file",
    type=click.File("w", encoding="utf-8"),
    default="-",
    metavar="FILE",
    help="Write to FILE instead of standard output.",
)
@click.option(
    "--with-credentials",
    is_flag=True,
    help="Keep the user:password of feed URLs (hidden by default: an OPML file is made to be shared).",
)
@click.pass_obj
@handle_errors
def feeds_export(obj: Context, out_file: Any, with_credentials: bool) -> None:
    """The configured feeds as OPML, for any feed reader."""
    out_file.write(opml.export(obj.config.feeds, with_credentials=with_credentials))


@feeds.command("import")
@click.argument("source", type=click.File("rb"), metavar="FILE.opml")
@click.option("--dry-run", is_flag=True, help="Say what would be added; change nothing.")
@click.pass_obj
@handle_errors
def feeds_import(obj: Context, source: Any, dry_run: bool) -> None:
    """Add the feeds of an OPML file to the config (appended as [[feeds]]; comments kept)."""
    config = obj.config
    try:
        found = opml.read(source.read())
    except ValueError as error:
        raise UsageError(f"{source.name}: {error}") from None
    usable, refused = [], []
    for feed in found:
        try:
            http_url(feed.url)
            usable.append(feed)
        except ValueError as error:
            refused.append(f"{shown(feed.url)} ({shown(str(error))})")
    added, present = opml.new_feeds(usable, config.feeds)
    for line in refused:
        click.echo(f"  skipped, not an http(s) feed: {line}")
    for feed in present:
        click.echo(f"  already configured: {shown(feed.url)}")
    for feed in added:
        click.echo(f"  {'would add' if dry_run else 'added'}: {feed.name}  {shown(feed.url)}")
    if not added or dry_run:
        click.echo(f"{len(added)} feed(s) {'would be ' if dry_run else ''}added to {config.path}")
        return
    path = Path(config.path)
    text = path.read_text(encoding="utf-8")
    updated = text + ("" if text.endswith("\n") else "\n") + "\n# Imported from " + Path(source.name).name + "\n"
    updated += opml.as_toml(added)
    parse_config(updated, config.path)  # never write a config that would not load
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(updated, encoding="utf-8")
    os.replace(temporary, path)
    click.echo(f"{len(added)} feed(s) added to {config.path}; a running daemon picks them up on `monitor reload`")


@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Most results.")
@click.option("--newest", is_flag=True, help="Newest first instead of best match first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines, one per item.")
@click.pass_obj
@handle_errors
def search(obj: Context, query: str, limit: int, newest: bool, as_json: bool) -> None:
    """Full-text search of titles and summaries (words, "exact phrases", OR, NOT, prefix*), among the 2,000
    most recently stored matches."""
    with obj.store(must_exist=True) as store:
        rows = store.search(query, limit=limit, newest_first=newest)
    if as_json:
        for row in rows:
            click.echo(json.dumps(shown_row(row), ensure_ascii=False))
        return
    for line in search_lines(rows):
        click.echo(line)
    if not rows:
        click.echo(f"no items match {query!r}", err=True)


@cli.command()
@click.argument("text", required=False)
@click.option("--summary", default="", metavar="TEXT", help="A summary to match along with TEXT as title.")
@click.option(
    "--jsonl",
    "jsonl",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Match every JSON line of FILE (- for standard input) with title, summary and link; "
    "print one JSON line per item.",
)
@click.pass_obj
@handle_errors
def match(obj: Context, text: str | None, summary: str, jsonl: Any) -> None:
    """Which themes a text matches, with score and highlighted evidence."""
    matcher = cli_model.matcher_if_stored(obj, obj.themes_config.themes)
    if jsonl is not None:
        _match_jsonl(matcher, jsonl)
        return
    if text is None:
        raise UsageError("give a TEXT to match, or --jsonl FILE")
    text, summary = unicodedata.normalize("NFC", text), unicodedata.normalize("NFC", summary)
    found = matcher.match(text, summary)
    color = sys.stdout.isatty()
    mark = (lambda s: click.style(s, bold=True, underline=True)) if color else (lambda s: f"[{s}]")
    labels = {key: theme.label for key, theme in obj.config.themes.items()}
    for line in match_lines(found, labels, text, summary, mark):
        click.echo(line)
    if not found:
        click.echo("no theme matches", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--quality",
    is_flag=True,
    help="Precision, recall and F1 of each theme on the labelled items "
    "(matched again in memory with the config's themes), and the items it gets wrong.",
)
@click.pass_obj
@handle_errors
def themes(obj: Context, as_json: bool, quality: bool) -> None:
    """The tracked themes, with how many items each matched this week and in all."""
    if quality:
        cli_labels.themes_quality(obj, as_json)
        return
    config = obj.themes_config
    since = week_start(utc_now(), config.timezone, config.digest.week_start)
    with obj.store() as store:
        matcher = cli_model.matcher(obj, store, config.themes)
        counts = store.theme_counts(since, week_end(since, config.timezone))
        stale = store.items_to_match(matcher.version)
    rows = [
        {
            "theme": key,
            "label": theme.label,
            "this_week": counts.get(key, (0, 0))[0],
            "total": counts.get(key, (0, 0))[1],
            "threshold": theme.threshold,
            "phrases": len(theme.phrases),
            "rules": len(theme.rules),
        }
        for key, theme in config.themes.items()
    ]
    if as_json:
        click.echo(
            json.dumps(
                {"themes": rows, "week_start": since.isoformat(), "items_not_matched_with_these_themes": stale},
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"{'theme':<20} {'this week':>9} {'in all':>7}  label")
    for row in rows:
        click.echo(f"{row['theme']:<20} {row['this_week']:>9} {row['total']:>7}  {row['label']}")
    click.echo(f"(week from {since.astimezone(ZoneInfo(config.timezone)):%Y-%m-%d %H:%M} {config.timezone})")
    if stale:
        click.echo(f"{stale} item(s) were matched with other theme definitions: run `monitor rematch`", err=True)


@cli.command()
@click.option(
    "--all", "everything", is_flag=True, help="Match every item, not only those the current themes have not seen."
)
@click.option(
    "--batch",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Items per transaction: a running daemon waits at most for one batch.",
)
@click.option("--dry-run", is_flag=True, help="List the items that would enter or leave each theme; change nothing.")
@click.pass_obj
@handle_errors
def rematch(obj: Context, everything: bool, batch: int, dry_run: bool) -> None:
    """Match stored items again after the themes changed, in batches, with a progress bar."""
    if dry_run:
        cli_labels.rematch_dry_run(obj, batch)
        return
    with obj.store(must_exist=True) as store:
        matcher = cli_model.matcher(obj, store, obj.config.themes)
        listed = store.items_to_clean()
        if listed:  # an archive an older monitor stored: its summaries cleaned first
            with click.progressbar(length=listed, label="cleaning", file=sys.stderr) as bar:
                cleaned = store.clean_pending(matcher, utc_now(), progress=bar.update)
            click.echo(f"cleaned stored summaries: {cleaned} of {listed} held boilerplate and were matched again")
        total = store.items_to_match(matcher.version, everything=everything)
        if not total:
            click.echo("every item is already matched with the current themes (--all matches them anyway)")
            return
        with click.progressbar(length=total, label="matching", file=sys.stderr) as bar:
            for done in store.rematch(matcher, utc_now(), everything=everything, batch=batch):
                bar.update(done)
        counts = store.theme_counts(utc_now(), utc_now())  # the totals only
    click.echo(
        f"matched {total} item(s); matches per theme: "
        + (", ".join(f"{theme} {total_}" for theme, (_, total_) in sorted(counts.items())) or "none")
    )


@cli.command()
@click.option("--week", metavar="YYYY-Www", help="The week, such as 2023-W39 (default: the last complete week).")
@click.option("--out", "out_dir", metavar="DIR", help="Folder for the files (default: monitor.digests_dir).")
@click.option("--send/--no-send", default=None, help="Send by e-mail or not (default: as email.enabled says).")
@click.option("--resend", is_flag=True, help="Send even a week that was sent already (the only way to).")
@click.option("--dry-run", is_flag=True, help="Print the subject and text digest; write and send nothing.")
@click.pass_obj
@handle_errors
def digest(obj: Context, week: str | None, out_dir: str | None, send: bool | None, resend: bool, dry_run: bool) -> None:
    """Write a week's digest to digests/ as YYYY-Www.txt and .html, and e-mail it when e-mail is on. A week
    not over yet is only previewed (YYYY-Www.preview.txt and .html), never recorded, e-mailed only on --send."""
    config = obj.config
    now = utc_now()
    try:
        start = (
            parse_week(week, config.timezone, config.digest.week_start)
            if week
            else last_complete_week(now, config.timezone, config.digest.week_start)
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    # A week not over is only previewed, and e-mailed only when asked for in so many words.
    over = week_over(start, now, config.timezone)
    wants_mail = (config.email.enabled if send is None else send) if over else send is True
    if wants_mail and not config.email.to:
        raise UsageError(f"--send needs recipients: set email.to in {config.path}")
    sender = SmtpSender(config.email) if wants_mail and not dry_run else None
    with obj.store(must_exist=True) as store:
        # A week that ended before the first successful poll (issue 11): not digested unless named, and
        # then e-mailed only when --send says so.
        since = store_digest.polled_since(store)
        unpolled = week_coverage(start, week_end(start, config.timezone), since) == "none"
        if unpolled and week is None:
            label = week_label(start, config.timezone)
            click.echo(
                f"{label}: no digest: nothing was polled that week ("
                + (f"polling began {since:%Y-%m-%d %H:%M} UTC" if since else "no successful poll yet")
                + f"); `monitor digest --week {label}` writes it anyway"
            )
            return
        # Nor is a week before the first live poll e-mailed unbidden, when imports filled it (issue 15).
        before_live = week_coverage(start, week_end(start, config.timezone), live_since(store)) == "none"
        if before_live and send is None:
            sender = None
        result = publish(config, store, start, now, out_dir=out_dir, sender=sender, resend=resend, dry_run=dry_run)
        retried = retry_failed(config, store, now, sender, out_dir=out_dir, skip=result.week) if sender else []
    if dry_run:
        click.echo(f"Subject: {result.subject}\n")
        click.echo(result.text, nl=False)
        return
    for outcome in (result, *retried):
        click.echo(outcome.message)
    if unpolled and send is None and wants_mail:
        click.echo(f"{result.week}: not e-mailed: nothing was polled that week (--send sends it)")
    elif before_live and send is None and wants_mail:
        click.echo(f"{result.week}: not e-mailed: it is before the first live poll (--send sends it)")
    if any(outcome.error for outcome in (result, *retried)):  # failed, or uncertain, in this run
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
@handle_errors
def digests(obj: Context, as_json: bool) -> None:
    """The weeks with a digest and their state: rendered, sending, sent, failed or uncertain; for a sent one,
    any recipient the server refused."""
    now = utc_now()
    with obj.store(must_exist=True) as store:
        records = store_digest.records(store)
    gone = {r.week: claim_gone(r, now) for r in records if r.state == "sending"}
    rows = [asdict(r) for r in records]
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        click.echo("no digest yet: `monitor digest` writes the last complete week's")
        return
    click.echo(f"{'week':<9} {'state':<10} {'items':>5} {'tries':>5}  {'sent':<16}  note")
    for r in rows:
        sent = f"{r['sent_at']:%Y-%m-%d %H:%M}" if r["sent_at"] else ""
        note = r["last_error"] or ""
        if r["state"] == "failed" and r["next_attempt_at"]:
            note += f" (retry after {r['next_attempt_at']:%Y-%m-%d %H:%M} UTC)"
        if r["state"] == "sending" and r["claimed_at"]:
            note = f"being sent by pid {r['claimed_pid']} on {r['claimed_host']} since {r['claimed_at']:%H:%M:%S} UTC"
            if gone.get(r["week"]):
                note += f", but {gone[r['week']]}: the next digest run marks it uncertain"
        if r["state"] == "sent":
            note = delivery_warning(r["refused"], r["delivery_note"])
        # A server's reply is text from outside, as a feed's is.
        click.echo(f"{r['week']:<9} {r['state']:<10} {r['items']:>5} {r['attempts']:>5}  {sent:<16}  {shown(note)}")


@cli.command()
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines for people, or JSON lines for a log collector.",
)
@click.pass_obj
@handle_errors
def run(obj: Context, log_format: str) -> None:
    """Run as a service: poll every feed on its schedule, write and send the weekly digest."""
    obj.config  # noqa: B018 - a broken config stops here, with every problem listed
    setup_logging(log_format, verbose=True)
    from .service.daemon import Daemon  # APScheduler costs a tenth of a second to import: only for the service

    sys.exit(Daemon(obj.config_path, obj.db_override, utc_now).run())


@cli.command()
@click.pass_obj
@handle_errors
def reload(obj: Context) -> None:
    """Tell the running daemon to re-read the config (as SIGHUP does); a broken config is refused."""
    obj.config  # noqa: B018 - check it here too, so the problem is shown to the person who asked
    from .service.pidlock import running_pid

    pid = running_pid(obj.db_path)
    if not pid or pid < 0:
        raise UsageError(f"no monitor daemon runs on {obj.db_path}")
    os.kill(pid, signal.SIGHUP)
    click.echo(f"asked the daemon (pid {pid}) to reload {obj.config_path}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
@handle_errors
def status(obj: Context, as_json: bool) -> None:
    """How the service is doing; exit 1 when unhealthy, so it serves as a container health check."""
    config, now = obj.config, utc_now()
    from .service.pidlock import running_pid

    pid = running_pid(obj.db_path)
    zone = ZoneInfo(config.timezone)
    local = now.astimezone(zone)
    day_start = datetime(local.year, local.month, local.day, tzinfo=zone)
    day_end = datetime.combine(day_start.date() + timedelta(days=1), day_start.timetz())  # 23 or 25 h at DST
    this_week = week_start(now, config.timezone, config.digest.week_start)
    with obj.store(must_exist=True) as store:
        figures = health_figures(
            store,
            (iso(day_start) or "", iso(day_end) or ""),
            (iso(this_week) or "", iso(week_end(this_week, config.timezone)) or ""),
            iso(now - config.polling.stale_after) or "",
        )
        figures |= clock_figures(store, iso(now + CLOCK_SLACK) or "")  # the last poll not in the future
    d = config.digest
    due = week_start(now, config.timezone, d.week_start)  # this week's digest comes next
    next_digest = digest_send_moment(due, config.timezone, d.week_start, d.send_day, d.send_time)
    problems = health_problems(pid, figures, config, now)
    report = {
        "daemon": {"running": bool(pid), "pid": pid},
        **figures,
        "next_digest": {"week": week_label(due, config.timezone), "due": next_digest.isoformat()},
        "healthy": not problems,
        "problems": problems,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        for line in status_lines(report, config.timezone, now):
            click.echo(line)
    if problems:
        sys.exit(1)


@cli.command()
@click.option("--out", "out_dir", metavar="DIR", help="Folder for the digest (default: monitor.digests_dir).")
@click.option(
    "--dir", "folder", metavar="DIR", help="Folder for the throw-away database (default: a new temporary folder)."
)
@click.pass_obj
@handle_errors
def demo(obj: Context, out_dir: str | None, folder: str | None) -> None:
    """The whole product, offline: sample feeds served on 127.0.0.1, polled, matched, and a digest written."""
    config = obj.themes_config
    click.echo('Serving the bundled sample feeds (invented, marked "Sample") on 127.0.0.1 and polling them:')
    result = run_demo(
        config, utc_now, out_dir=out_dir, folder=folder, on_report=lambda report: click.echo("  " + feed_line(report))
    )
    db = result.database
    # Commands the user can paste: `monitor` where it is on PATH, else the way this one was started.
    started = sys.argv[0]
    prog = (
        "monitor"
        if shutil.which("monitor")
        else _pasteable(started)
        if os.path.basename(started) == "monitor"
        else f"{sys.executable} -m monitor"
    )
    matched = ", ".join(f"{theme} {count}" for theme, count in sorted(result.matches.items())) or "none"
    files = " and ".join(str(path) for path in result.digest.files)
    # Shipped inside the package, the starter config is no place for a user's feeds: copy it out first.
    then = (
        f"Then `{prog} init` writes a config of your own ({DEFAULT_CONFIG} here): put your feeds in it and "
        f"start the service with `{prog} run`."
        if obj.using_starter
        else f"Then put your feeds in {config.path} and start the service with `make run` (monitor run)."
    )
    click.echo(f"""
Stored in a throw-away database: {db}
Matches per theme: {matched}
Digest of {SAMPLE_WEEK} written: {files}

Try next:
  {prog} --db {db} search Stepanakert
  {prog} --db {db} themes
  {prog} match "Sample: Armenians feel betrayed as Russian peacekeepers stood by in Karabakh"
  sqlite3 {db} "SELECT m.theme, m.score, i.title FROM matches m JOIN items i ON i.id = m.item_id ORDER BY m.score DESC"
{then}""")


def _match_jsonl(matcher: Matching, lines: Any) -> None:
    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            title, summary = plain_text(item.get("title") or ""), summary_text(item.get("summary") or "")
        except (ValueError, AttributeError, TypeError) as error:
            bad += 1
            click.echo(f"{lines.name}:{number}: skipped, not a JSON object with title and summary ({error})", err=True)
            continue
        result = {"link": item.get("link"), **matches_json(matcher.match(title, summary))}
        click.echo(json.dumps(result, ensure_ascii=False))
    if bad:
        raise UsageError(f"{bad} line(s) of {lines.name} could not be read (see above)")


# The commands by which analysts teach the themes live beside this module; importing it registers them.
from . import cli_labels, cli_model  # noqa: E402, I001
from . import cli_init  # noqa: E402, F401, I001
from . import cli_history  # noqa: E402, I001, F401


def main() -> None:
    cli(prog_name="monitor")


def _pasteable(path: str) -> str:
    """A path to show in a command to paste: relative when it is below here, else absolute (not ../../x)."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else os.path.abspath(path)
