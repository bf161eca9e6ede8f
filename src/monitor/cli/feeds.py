"""The feeds: `monitor check` (the config), `monitor poll` (one round, as cron runs it) and `monitor feeds` (health,
revive, OPML export and import)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import click

from ..config import opml
from ..config import save as config_file
from ..config.load import Config, parse_config
from ..config.settings import http_url
from ..digest import alerting
from ..digest.deliver import SmtpSender
from ..errors import ConfigError, MonitorError, StoreError, UsageError
from ..fetch.http import Fetcher
from ..storage import Store, status
from ..storage import feeds as feed_store
from ..text.safe import redact, shown
from ..units import format_duration
from ..update.policy import revive
from ..update.poll import poll_round
from . import models as cli_model
from .group import Context, cli, utc_now
from .report import (
    feed_line,
    health_rows,
    round_summary,
)


@cli.command()
@click.pass_obj
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
    for sub in config.subscriptions:
        themes = ", ".join(sub.themes) or "every theme"
        sent = "" if email.enabled else " (e-mail off: found and listed by `monitor alerts`, not sent)"
        click.echo(f"  subscription {sub.name}: {sub.cadence} of {themes} to {', '.join(sub.to)}{sent}")


@cli.command()
@click.option("--feed", "names", multiple=True, metavar="NAME", help="Poll only this feed (repeatable).")
@click.option("--force", is_flag=True, help="Poll even feeds that are dead, backing off or told to wait.")
@click.pass_obj
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
        _alerts(config, store)
        try:  # upkeep for polls run by cron, without the daemon; best effort: the round is stored
            status.prune_fetches(store, utc_now() - config.polling.keep_fetches, utc_now())
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


def _alerts(config: Config, store: Store) -> None:
    """After the round, as the daemon does after each poll: the subscriptions' alerts and daily digests."""
    if not any(s.cadence in ("alerts", "daily") for s in config.subscriptions):
        return
    try:
        sender = SmtpSender(config.email) if config.email.enabled else None
        outcomes = alerting.check(config, store, utc_now(), sender)
    except MonitorError as error:  # the round is stored; the next poll finds the alerts again
        click.echo(f"warning: alerts not checked: {error}", err=True)
        return
    for outcome in outcomes:
        click.echo(shown(outcome.line), err=outcome.error)


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def feeds(ctx: click.Context, as_json: bool) -> None:
    """Feed health: state (ok, stale, failing, dead, new), newest item's age, last success, next poll, last
    error. Subcommands manage feeds."""
    if ctx.invoked_subcommand is not None:
        return
    obj: Context = ctx.obj
    with obj.store() as store:
        feed_store.sync_feeds(store, obj.config.feeds, utc_now())
        rows = health_rows(feed_store.feed_health(store), utc_now(), obj.config.polling.stale_after)
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
def feeds_revive(obj: Context, names: tuple[str, ...]) -> None:
    """Let dead or backed-off feeds be polled again at the next round."""
    unknown = [n for n in names if obj.config.feed(n) is None]
    if unknown:
        raise UsageError(f"no feed named {', '.join(map(repr, unknown))} in {obj.config.path}")
    with obj.store() as store:
        feed_store.sync_feeds(store, obj.config.feeds, utc_now())
        feed_store.revive(store, [revive(state) for state in feed_store.feed_states(store, names)])
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
def feeds_export(obj: Context, out_file: Any, with_credentials: bool) -> None:
    """The configured feeds as OPML, for any feed reader."""
    out_file.write(opml.export(obj.config.feeds, with_credentials=with_credentials))


@feeds.command("import")
@click.argument("source", type=click.File("rb"), metavar="FILE.opml")
@click.option("--dry-run", is_flag=True, help="Say what would be added; change nothing.")
@click.pass_obj
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
    candidates, present = opml.new_feeds(usable, config.feeds)
    added, unloadable = _loadable(candidates, source.name)
    for line in refused:
        click.echo(f"  skipped, not an http(s) feed: {line}")
    for line in unloadable:
        click.echo(f"  skipped, {line}")
    for feed in present:
        click.echo(f"  already configured: {shown(feed.url)}")
    if not added or dry_run:
        for feed in added:
            click.echo(f"  would add: {feed.name}  {shown(feed.url)}")
        click.echo(f"{len(added)} feed(s) {'would be ' if dry_run else ''}added to {config.path}")
        return
    try:
        updated = opml.appended(config_file.read_text(config.path), Path(source.name).name, added)
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{config.path}: cannot be read again to add the feeds: {error}") from None
    parse_config(updated, config.path)  # never write a config that would not load
    config_file.write_text(config.path, updated)
    for feed in added:  # only now: "added" is never said of a feed that did not reach the file
        click.echo(f"  added: {feed.name}  {shown(feed.url)}")
    click.echo(f"{len(added)} feed(s) added to {config.path}; a running daemon picks them up on `monitor reload`")


def _loadable(feeds: list[opml.OpmlFeed], source: str) -> tuple[list[opml.OpmlFeed], list[str]]:
    """(the feeds the config loader takes as they would be written, a line for each outline it would refuse):
    one odd outline is named and left out, and the others are still imported."""
    good, bad = [], []
    for feed in feeds:
        try:
            parse_config(opml.as_toml([feed]), source)
            good.append(feed)
        except ConfigError as error:
            problems = "; ".join(p.message for p in error.problems)
            bad.append(f"{shown(source)}: the outline {shown(feed.title or feed.url)!r} ({shown(problems)})")
    return good, bad
