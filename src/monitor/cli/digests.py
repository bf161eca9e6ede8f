"""The weekly digests: `monitor digest` (write, record, e-mail one week) and `monitor digests` (their states)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from ..digest.decide import DigestRequest, decide
from ..digest.deliver import SmtpSender
from ..digest.publish import (
    Edition,
    claim_gone,
    delivery_warning,
    digest_facts,
    editions,
    publish,
    rebuild,
    retry_failed,
    week_over,
)
from ..errors import UsageError
from ..storage import digests as store_digest
from ..text.safe import shown
from ..weeks import parse_week, week_label
from .group import Context, cli, utc_now


@cli.command()
@click.option("--week", metavar="YYYY-Www", help="The week, such as 2023-W39 (default: the last complete week).")
@click.option("--out", "out_dir", metavar="DIR", help="Folder for the files (default: monitor.digests_dir).")
@click.option("--send/--no-send", default=None, help="Send by e-mail or not (default: as email.enabled says).")
@click.option("--resend", is_flag=True, help="Send even a week that was sent already (the only way to).")
@click.option("--dry-run", is_flag=True, help="Print the subject and text digest; write and send nothing.")
@click.option(
    "--subscription",
    metavar="NAME",
    help="Only the digest of this weekly subscription to some themes (default: every weekly digest).",
)
@click.option(
    "--rebuild",
    is_flag=True,
    help="Build a past --week again with today's matches and themes, as YYYY-Www.rebuilt.txt and .html beside "
    "each digest's files (a subscription's in digests/<name>/, --subscription: only its); the week's recorded "
    "digests and their files stay as they are, nothing is sent.",
)
@click.pass_obj
def digest(
    obj: Context,
    week: str | None,
    out_dir: str | None,
    send: bool | None,
    resend: bool,
    dry_run: bool,
    subscription: str | None,
    rebuild: bool,
) -> None:
    """Write a week's digest to digests/ as YYYY-Www.txt and .html, and e-mail it when e-mail is on. A week
    not over yet is only previewed (YYYY-Www.preview.txt and .html), never recorded, e-mailed only on --send.
    A week that went out stays what was sent: --rebuild writes a separate version with today's matches. A weekly
    subscription to some themes has a digest of its own, in digests/<name>/, recorded as <name>/YYYY-Www."""
    config = obj.config
    now = utc_now()
    try:
        if week:
            parse_week(week, config.timezone, config.digest.week_start)  # a bad --week fails before anything runs
    except ValueError as error:
        raise UsageError(str(error)) from None
    chosen = editions(config)
    if subscription is not None:
        chosen = [e for e in chosen if e.subscription == subscription]
        if not chosen:
            names = [e.subscription for e in editions(config) if e.subscription]
            raise UsageError(
                f"no weekly subscription {subscription!r} to some themes in {config.path}; "
                f"expected one of: {', '.join(map(str, names)) or '(none)'}"
            )
    if rebuild:
        _rebuild(obj, chosen, week, out_dir, send=bool(send) or resend, dry_run=dry_run)
        return
    with obj.store(must_exist=True) as store:
        runs = []
        for edition in chosen:
            view = edition.config
            start = parse_week(week, view.timezone, view.digest.week_start) if week else None
            request = DigestRequest(week=start, send=send, resend=resend, dry_run=dry_run)
            facts = digest_facts(view, store, subscription=edition.subscription)
            runs.append((edition, decide(request, facts, now)))
        if any(decision.needs_recipients for edition, decision in runs if edition.subscription is None):
            raise UsageError(f"--send needs recipients: set email.to in {config.path}")
        # A skipped week needs a sender only for due retries: a run with nothing to send does not fail on the
        # e-mail settings (a password variable cron does not set).
        retrying = any(d.retry for _, d in runs) and bool(store_digest.due_retries(store, now))
        mailing = any(d.mail and not d.skipped for _, d in runs)
        sender = SmtpSender(config.email) if mailing or retrying else None
        results = []
        for edition, decision in runs:
            if decision.skipped:
                continue
            folder = str(Path(out_dir) / edition.subscription) if out_dir and edition.subscription else out_dir
            results.append(
                publish(
                    edition.config,
                    store,
                    decision.week,
                    now,
                    out_dir=folder,
                    sender=sender if decision.mail else None,
                    resend=resend,
                    dry_run=dry_run,
                    subscription=edition.subscription,
                )
            )
        # Also when this run's own week is skipped or held back from e-mail: a cron job is often the only
        # thing that sends them.
        done = {result.week for result in results}
        retried = (
            [r for r in retry_failed(config, store, now, sender, out_dir=out_dir) if r.week not in done]
            if sender and retrying
            else []
        )
    if dry_run and results:
        for result in results:
            click.echo(f"Subject: {result.subject}\n")
            click.echo(result.text, nl=False)
        return
    for edition, decision in runs:
        if decision.skipped:
            label = edition.key(decision.label)
            click.echo(
                f"{label}: no digest: {decision.skipped}; `monitor digest --week {decision.label}` writes it anyway"
            )
    outcomes = results + retried
    for outcome in outcomes:
        click.echo(outcome.message)
    for edition, decision in runs:
        if decision.not_mailed:
            click.echo(f"{edition.key(decision.label)}: not e-mailed: {decision.not_mailed}")
    if any(outcome.error for outcome in outcomes):  # failed, or uncertain, in this run
        sys.exit(1)


def _rebuild(
    obj: Context, chosen: list[Edition], week: str | None, out_dir: str | None, *, send: bool, dry_run: bool
) -> None:
    """Each chosen digest's week built again beside its own files (a subscription's in digests/<name>/)."""
    if week is None:
        raise UsageError("--rebuild needs the --week to build again")
    if send:
        raise UsageError("--rebuild never sends: a rebuilt week is not the digest that went out (drop --send/--resend)")
    now = utc_now()
    starts = [parse_week(week, e.config.timezone, e.config.digest.week_start) for e in chosen]
    for edition, start in zip(chosen, starts, strict=True):
        if not week_over(start, now, edition.config.timezone):
            label = edition.key(week_label(start, edition.config.timezone))
            raise UsageError(f"{label} is not over: `monitor digest --week` previews it")
    with obj.store(must_exist=True) as store:
        results = [
            rebuild(
                edition.config,
                store,
                start,
                now,
                out_dir=str(Path(out_dir) / edition.subscription) if out_dir and edition.subscription else out_dir,
                dry_run=dry_run,
                subscription=edition.subscription,
            )
            for edition, start in zip(chosen, starts, strict=True)
        ]
    for result in results:
        click.echo(result.text if dry_run else result.message, nl=not dry_run)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_obj
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
