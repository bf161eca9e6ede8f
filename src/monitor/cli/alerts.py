"""`monitor alerts`: what the subscriptions alerted and why, what they would have alerted over the stored data
(`--dry-run --since`), a check now (`--check`, as each `monitor poll` does), and a message sent again on request
(`--resend`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import click

from ..config.load import Config
from ..digest import alerting
from ..digest.deliver import SmtpSender
from ..errors import UsageError
from ..storage import alerts as store_alerts
from ..text.safe import shown
from ..types import AlertFound
from .group import Context, cli, utc_now


def _date(value: str | None, config: Config, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r}: expected a date such as 2023-09-25 or 2023-09-25T18:00") from None
    if parsed.tzinfo is None:
        parsed = (
            parsed.replace(tzinfo=ZoneInfo(config.timezone))
            if len(value) > 10
            else datetime.combine(parsed.date(), time(), ZoneInfo(config.timezone))
        )
    return parsed.astimezone(UTC)


@cli.command()
@click.option(
    "--dry-run", is_flag=True, help="Show what would have alerted over the stored data; record, send nothing."
)
@click.option("--since", metavar="DATE", help="With --dry-run: from this date or time (monitor.timezone).")
@click.option("--until", metavar="DATE", help="With --dry-run: up to this date or time (default: now).")
@click.option("--check", is_flag=True, help="Find, record and send alerts and daily digests now, as a poll does.")
@click.option("--resend", "resend_id", type=int, metavar="ID", help="Send alert message ID again, whatever its state.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@click.pass_obj
def alerts(
    obj: Context,
    dry_run: bool,
    since: str | None,
    until: str | None,
    check: bool,
    resend_id: int | None,
    as_json: bool,
) -> None:
    """List what the subscriptions alerted: when, the event or spike, the threshold it met, and whether its
    message went out. Alerts are found after each poll round ([[subscriptions]] with cadence = "alerts")."""
    config = obj.config
    now = utc_now()
    if dry_run:
        start = _date(since, config, "--since")
        if start is None:
            raise UsageError("--dry-run needs --since DATE: the stored data to go over")
        end = _date(until, config, "--until") or now
        with obj.store(must_exist=True) as store:
            found = alerting.dry_run(config, store, start, end)
            seen, hours = alerting.observed_hours(store, start, end)
        _show_found(found, config.timezone, as_json)
        if seen * 2 < hours and any(s.cadence == "alerts" for s in config.subscriptions):
            # "0 spikes" over a span nobody observed says nothing of the themes: the analyst is told so
            # (stderr with --json, whose lines stay JSON).
            click.echo(
                f"dry run: spikes need observed hours: {seen} of {hours} hours observed from {start:%Y-%m-%d %H:%M} "
                f"to {end:%Y-%m-%d %H:%M} UTC, so spikes could hardly be found (an import observes only the "
                f"moments of its documents); events are found all the same",
                err=as_json,
            )
        return
    if since or until:
        raise UsageError("--since and --until go with --dry-run")
    if check or resend_id is not None:
        sender = SmtpSender(config.email) if config.email.enabled else None
        with obj.store() as store:
            if resend_id is not None:
                if sender is None:
                    raise UsageError(f"--resend needs e-mail: set email.enabled = true in {config.path}")
                outcomes = [alerting.resend(config, store, resend_id, now, sender)]
            else:
                outcomes = alerting.check(config, store, now, sender)
        for outcome in outcomes:
            click.echo(shown(outcome.line), err=outcome.error)
        if not outcomes:
            click.echo("nothing to alert or send")
        return
    with obj.store(must_exist=True) as store:
        rows = store_alerts.alerts(store)
    zone = ZoneInfo(config.timezone)
    if as_json:
        for a in rows:
            click.echo(
                json.dumps(
                    {
                        "id": a.id,
                        "subscription": a.subscription,
                        "kind": a.kind,
                        "theme": a.theme,
                        "headline": a.headline,
                        "reason": a.reason,
                        "crossed_at": a.crossed_at.isoformat(),
                        "found_at": a.found_at.isoformat(),
                        "status": a.status,
                        "message": a.message,
                        "message_state": a.message_state,
                    },
                    ensure_ascii=False,
                )
            )
        return
    if not rows:
        click.echo("no alerts yet")
        return
    for a in rows:
        state = f"message #{a.message} {a.message_state}" if a.message else a.status
        click.echo(
            shown(
                f"{a.found_at.astimezone(zone):%Y-%m-%d %H:%M}  {a.subscription}  {a.kind:<9} {a.theme}  "
                f"{a.headline}\n    why: {a.reason}; crossed by the report of "
                f"{a.crossed_at.astimezone(zone):%Y-%m-%d %H:%M}; {state}"
            )
        )


def _show_found(found: list[AlertFound], timezone: str, as_json: bool) -> None:
    zone = ZoneInfo(timezone)
    if as_json:
        for f in found:
            click.echo(
                json.dumps(
                    {
                        "subscription": f.subscription,
                        "kind": f.kind,
                        "theme": f.theme,
                        "headline": f.headline,
                        "reason": f.reason,
                        "crossed_at": f.crossed_at.isoformat(),
                        "found_at": f.detail.get("found_at"),
                        "outlets": f.outlets,
                    },
                    ensure_ascii=False,
                )
            )
        return
    if not found:
        click.echo("dry run: nothing would have alerted")
        return
    days = {datetime.fromisoformat(f.detail["found_at"]).astimezone(zone).date() for f in found}
    for f in found:
        at = datetime.fromisoformat(f.detail["found_at"]).astimezone(zone)
        delay = (at - f.crossed_at).total_seconds() / 60
        click.echo(
            shown(
                f"{at:%Y-%m-%d %H:%M}  {f.subscription}  {f.kind:<9} {f.theme}  {f.headline}\n"
                f"    why: {f.reason}; crossing report {f.crossed_at.astimezone(zone):%Y-%m-%d %H:%M}, "
                f"found {delay:.0f} min after it"
            )
        )
    click.echo(f"dry run: {len(found)} alert(s) on {len(days)} day(s); nothing recorded or sent")
