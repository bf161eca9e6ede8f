"""One week's digest: built, written, recorded and, when e-mail is on, sent, never twice.

The guarantee is *at most once*: the week is claimed for sending (`sending`, committed) before the SMTP
exchange and marked `sent` after it. The claim is a compare-and-set in the database: of two processes
sending the same week at once, one sends and the other says who is sending. A message the server accepted
for at least one recipient is `sent`, even if it refused others or answered QUIT badly (both are recorded
and warned about: a retry would give the others a second copy). A delivery the server refused outright,
or that could not reach it, is `failed` and retried with backoff; one whose whole message went out and
whose answer never came is `uncertain` at once. A process that died between the two
marks leaves `sending`; the next run turns it into `uncertain` once that process is gone (same host, pid
no longer alive) or its claim is older than any delivery takes (CLAIM_BOUND): it may have gone out, so it
is not sent again unless someone asks with `--resend` (the copy then carries the same Message-ID, so mail
clients and archives can tell it is the same message).

A week that has not ended can only be previewed: written to `YYYY-Www.preview.txt/.html`, marked as a
preview at the top, never recorded, and e-mailed only when the caller passes a sender (`--send`), with
"Preview" in its subject. The week's real digest is produced once it is over.
"""

from __future__ import annotations

import html
import logging
import os
import re
import socket
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from ..config.load import Config
from ..storage import Store
from ..storage import digests as store_digest
from ..storage.history import live_since
from ..weeks import week_end, week_label
from .build import build, event_rows
from .decide import DigestFacts
from .deliver import (
    SMTP_TIMEOUT,
    Delivery,
    DeliveryError,
    DeliveryUncertain,
    Sender,
    build_message,
    new_message_id,
    write_files,
)
from .render import environment, render_html, render_text

log = logging.getLogger("monitor.digest")

RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)
# A claim older than this is settled even when its process cannot be seen (another host): an SMTP exchange
# is a dozen replies at most, each waited for at most SMTP_TIMEOUT.
CLAIM_BOUND = timedelta(seconds=SMTP_TIMEOUT * 20)
PREVIEW_SUBJECT = "Preview: "


@dataclass(frozen=True, slots=True)
class Published:
    week: str
    state: str  # the week's state afterwards; "dry-run" when nothing was changed, "preview" for a week not over
    subject: str
    text: str
    message: str  # one line for the user
    files: tuple[Path, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Edition:
    """One weekly digest: the [email] one (`subscription` None: every theme, email.to and the weekly subscriptions
    to every theme), or a weekly subscription's to some themes, built by the same code from `config`, a view of
    the config with its themes, recipients, time zone and folder (digests/<name>/), recorded apart (issue 24)."""

    subscription: str | None
    config: Config

    def key(self, week: str) -> str:
        return store_digest.key(self.subscription, week)


def editions(config: Config) -> list[Edition]:
    out = [Edition(None, config)]
    for sub in config.subscriptions:
        if sub.cadence == "weekly" and sub.themes:
            view = replace(
                config,
                themes={key: theme for key, theme in config.themes.items() if sub.wants(key)},
                email=replace(config.email, to=sub.to),
                digests_dir=str(Path(config.digests_dir) / sub.name),
                timezone=sub.timezone,
            )
            out.append(Edition(sub.name, view))
    return out


def digest_facts(
    config: Config, store: Store, *, email_enabled: bool | None = None, subscription: str | None = None
) -> DigestFacts:
    """What `decide` needs, read from `config` and `store`. `email_enabled`: the caller's own answer (the daemon:
    whether its sender could be built), instead of email.enabled. `subscription`: the digest series whose
    recorded weeks count (None: the [email] digest's)."""
    recorded = {}
    for r in store_digest.records(store):
        scope, week = store_digest.split(r.week)
        if scope == subscription:
            recorded[week] = r.state
    return DigestFacts(
        timezone=config.timezone,
        week_start=config.digest.week_start,
        send_day=config.digest.send_day,
        send_time=config.digest.send_time,
        email_enabled=config.email.enabled if email_enabled is None else email_enabled,
        recipients=bool(config.email.to),
        polled_since=store_digest.polled_since(store),
        live_since=live_since(store),
        recorded=recorded,
    )


def week_over(start: datetime, now: datetime, timezone: str) -> bool:
    return week_end(start, timezone) <= now


def publish(
    config: Config,
    store: Store,
    start: datetime,
    now: datetime,
    *,
    out_dir: str | None = None,
    sender: Sender | None = None,
    resend: bool = False,
    dry_run: bool = False,
    subscription: str | None = None,
) -> Published:
    """`subscription`: the weekly subscription whose digest this is (`config` its edition's view), None for the
    [email] digest."""
    label = week_label(start, config.timezone)
    week = store_digest.key(subscription, label)
    if not week_over(start, now, config.timezone):
        ahead = preview(config, store, start, now, out_dir=out_dir, sender=sender, dry_run=dry_run)
        return replace(ahead, week=week, message=f"{subscription}/{ahead.message}") if subscription else ahead
    if not dry_run:
        settle_interrupted(store, now)
    existing = store_digest.record(store, week)
    went_out = existing is not None and existing.state in store_digest.WENT_OUT
    if existing and not dry_run:
        if existing.state == "sending":  # a live claim: settle_interrupted left it
            return _busy(existing)
        if went_out and sender is not None and not resend:
            return _already(existing)
    copy = store_digest.copy_of(store, week) if existing and went_out else None
    if existing and copy:
        # What went out is a record: its files and a resend are the copy claimed for sending, whatever the
        # themes, matches or templates say since.
        return _publish_copy(config, store, existing, copy, now, out_dir=out_dir, sender=sender, dry_run=dry_run)
    data = store_digest.week_data(
        store,
        week,
        start,
        week_end(start, config.timezone),
        list(config.themes),
        now=now,
        stale_after=config.polling.stale_after,
    )
    if went_out:
        # A week sent before copies were kept is rebuilt from the items it reported; items stored for it
        # since are the next digest's late ones.
        shown = store_digest.reported(store, week)
        data = replace(data, items=tuple(i for i in data.items if (i.item_id, i.theme) in shown))
    # A week whose deliveries failed says, when it finally goes out, that it is late and since when.
    late_since = existing.failing_since if existing and existing.state == "failed" and sender else None
    digest = build(
        data,
        config.themes,
        timezone=config.timezone,
        now=now,
        subject_template=config.email.subject,
        delivery_late_since=late_since,
        groups=config.digest.groups,
    )
    env = environment(config.digest.templates_dir)
    text, html_ = render_text(digest, env), render_html(digest, env)
    if dry_run:
        return Published(week, "dry-run", digest.subject, text, f"{week}: dry run, nothing written or sent")
    files = write_files(out_dir or config.digests_dir, label, text, html_)
    message_id = existing.message_id if existing else new_message_id(config.email.sender)
    if sender is None:
        if existing and went_out:
            return _rewritten(existing, text, files)
        store_digest.save_rendered(store, data, digest.subject, message_id, now, event_rows(digest))
        state = existing.state if existing and existing.state != "rendered" else "rendered"
        return Published(week, state, digest.subject, text, f"{week}: written to {files[0].parent}/", files)
    won, claimed = store_digest.claim(
        store,
        data,
        digest.subject,
        message_id,
        now,
        claimant(now),
        resend=resend,
        events=event_rows(digest),
        copy=store_digest.Copy(digest.subject, text, html_),
    )
    if not won:
        return _busy(claimed) if claimed.state == "sending" else _already(claimed)
    return _send(config, store, claimed, digest.subject, text, html_, now, sender, files)


def _publish_copy(
    config: Config,
    store: Store,
    existing: store_digest.DigestRecord,
    copy: store_digest.Copy,
    now: datetime,
    *,
    out_dir: str | None,
    sender: Sender | None,
    dry_run: bool,
) -> Published:
    """A week that went out, written again or resent (`--resend`) as the copy it was claimed with."""
    if dry_run:
        return Published(existing.week, "dry-run", copy.subject, copy.text, f"{existing.week}: dry run, as sent")
    files = write_files(out_dir or config.digests_dir, store_digest.split(existing.week)[1], copy.text, copy.html)
    if sender is None:
        return _rewritten(existing, copy.text, files)
    won, claimed = store_digest.resend_claim(store, existing.week, claimant(now))
    if not won:
        return _busy(claimed) if claimed.state == "sending" else _already(claimed)
    return _send(config, store, claimed, copy.subject, copy.text, copy.html, now, sender, files)


def _rewritten(existing: store_digest.DigestRecord, text: str, files: tuple[Path, ...]) -> Published:
    return Published(
        existing.week,
        existing.state,
        existing.subject,
        text,
        f"{existing.week}: files rewritten in {files[0].parent}/; the week stays {existing.state} as recorded, "
        f"nothing sent",
        files,
    )


def _send(
    config: Config,
    store: Store,
    claimed: store_digest.DigestRecord,
    subject: str,
    text: str,
    html_: str,
    now: datetime,
    sender: Sender,
    files: tuple[Path, ...],
) -> Published:
    week = claimed.week
    try:
        delivery = sender.send(build_message(config.email, subject, text, html_, claimed.message_id, now)) or Delivery()
    except DeliveryUncertain as error:
        store_digest.mark_uncertain(store, week, str(error))
        log.error("digest %s: %s; marked uncertain, not sent again without --resend", week, error)
        return Published(
            week,
            "uncertain",
            subject,
            text,
            f"{week}: written; delivery UNCERTAIN: {error} (not sent again without --resend)",
            files,
            str(error),
        )
    except DeliveryError as error:
        retry_at = now + min(RETRY_FIRST * 2 ** (claimed.attempts - 1), RETRY_MAX)
        store_digest.mark_failed(store, week, str(error), retry_at, now)
        log.error("digest %s: %s; retried after %s", week, error, f"{retry_at:%Y-%m-%d %H:%M} UTC")
        return Published(
            week,
            "failed",
            subject,
            text,
            f"{week}: written, NOT sent: {error} (retried after {retry_at:%H:%M} UTC)",
            files,
            str(error),
        )
    refused = dict(delivery.refused)
    store_digest.mark_sent(store, week, now, refused, delivery.note)
    got = [address for address in config.email.to if address not in refused]
    warning = delivery_warning(refused, delivery.note)
    if warning:
        log.warning("digest %s: sent to %s; %s", week, ", ".join(got), warning)
    else:
        log.info("digest %s: sent to %s", week, ", ".join(got))
    return Published(
        week,
        "sent",
        subject,
        text,
        f"{week}: written and sent to {', '.join(got)}" + (f"; {warning}" if warning else ""),
        files,
    )


def delivery_warning(refused: dict[str, str] | None, note: str | None) -> str:
    """What went wrong with a delivery that went out, in one line ("" when nothing did)."""
    parts = [
        f"REFUSED {address} ({reply}): not sent to them, and not sent again to the others (--resend sends to everyone)"
        for address, reply in (refused or {}).items()
    ]
    return "; ".join([*parts, *([note] if note else [])])


def _busy(record: store_digest.DigestRecord) -> Published:
    return Published(record.week, "sending", record.subject, "", busy_message(record))


def busy_message(record: store_digest.DigestRecord) -> str:
    since = f" since {record.claimed_at:%Y-%m-%d %H:%M:%S} UTC" if record.claimed_at else ""
    return f"{record.week}: being sent by pid {record.claimed_pid} on {record.claimed_host}{since}; nothing done here"


def _already(record: store_digest.DigestRecord) -> Published:
    when = f" on {record.sent_at:%Y-%m-%d %H:%M} UTC" if record.sent_at else ""
    return Published(
        record.week,
        record.state,
        record.subject,
        "",
        f"{record.week}: already {record.state}{when}; nothing sent (--resend sends it again)",
    )


def _unrecorded(
    config: Config, store: Store, start: datetime, now: datetime, subject_template: str, banner: str
) -> tuple[str, str, str]:
    """A week's digest built from today's matches and themes for a version that is never recorded (a preview,
    a rebuild): its subject, and its text and HTML, each opening with `banner`, which says what it is."""
    week, end = week_label(start, config.timezone), week_end(start, config.timezone)
    data = store_digest.week_data(
        store, week, start, end, list(config.themes), now=now, stale_after=config.polling.stale_after
    )
    digest = build(
        data,
        config.themes,
        timezone=config.timezone,
        now=now,
        subject_template=subject_template,
        groups=config.digest.groups,
    )
    env = environment(config.digest.templates_dir)
    return digest.subject, f"{banner}\n\n{render_text(digest, env)}", mark_html(render_html(digest, env), banner)


def rebuild(
    config: Config,
    store: Store,
    start: datetime,
    now: datetime,
    *,
    out_dir: str | None = None,
    dry_run: bool = False,
    subscription: str | None = None,
) -> Published:
    """A past week built again with today's matches and themes, as a version of its own
    (`YYYY-Www.rebuilt.*`, marked so at the top): never recorded, never sent, and never written over the
    week's digest, whose files stay what was recorded (and e-mailed). `subscription`: as for `publish` (`config`
    its edition's view, whose folder the files go to)."""
    week = week_label(start, config.timezone)
    record = store_digest.record(store, store_digest.key(subscription, week))
    recorded = f"the digest recorded as {record.state} is {week}.txt" if record else "no digest of it is recorded"
    local_now = now.astimezone(ZoneInfo(config.timezone))
    banner = (
        f"REBUILT: week {week} built again on {local_now.day} {local_now:%B %Y %H:%M} with the matches and themes "
        f"of that day; {recorded}."
    )
    subject, text, html_ = _unrecorded(config, store, start, now, config.email.subject, banner)
    shown = store_digest.key(subscription, week)
    if dry_run:
        return Published(shown, "dry-run", subject, text, f"{shown}: rebuilt, dry run, nothing written")
    files = write_files(out_dir or config.digests_dir, f"{week}.rebuilt", text, html_)
    state = record.state if record else "rebuilt"
    message = f"{shown}: REBUILT with today's matches, written to {files[0]} and .html; nothing recorded or sent"
    return Published(shown, state, subject, text, message, files)


def preview(
    config: Config,
    store: Store,
    start: datetime,
    now: datetime,
    *,
    out_dir: str | None = None,
    sender: Sender | None = None,
    dry_run: bool = False,
) -> Published:
    """A week not over: written as `YYYY-Www.preview.*`, marked so at the top, never recorded; e-mailed only
    with a sender, "Preview" in the subject."""
    week = week_label(start, config.timezone)
    local_end = week_end(start, config.timezone).astimezone(ZoneInfo(config.timezone))
    banner = (
        f"PREVIEW: week {week} is not over (it ends {local_end:%A} {local_end.day} {local_end:%B %Y %H:%M} "
        f"{config.timezone}). This is not the week's digest, which is produced once the week has ended."
    )
    subject, text, html_ = _unrecorded(config, store, start, now, PREVIEW_SUBJECT + config.email.subject, banner)
    if dry_run:
        return Published(week, "dry-run", subject, text, f"{week}: preview, dry run, nothing written or sent")
    files = write_files(out_dir or config.digests_dir, f"{week}.preview", text, html_)
    where = f"{week}: PREVIEW (the week is not over) written to {files[0]} and .html, not recorded"
    if sender is None:
        return Published(week, "preview", subject, text, f"{where}; not e-mailed (--send e-mails it)", files)
    try:
        sender.send(build_message(config.email, subject, text, html_, new_message_id(config.email.sender), now))
    except DeliveryError as error:
        return Published(week, "failed", subject, text, f"{where}; NOT e-mailed: {error}", files, str(error))
    return Published(
        week, "preview", subject, text, f"{where}; e-mailed to {', '.join(config.email.to)} as a preview", files
    )


def mark_html(page: str, banner: str) -> str:
    """The banner first thing in the body (or the page, for a template without one)."""
    mark = (
        f'<div style="padding:12px 24px;background:#fff3cd;border:2px solid #b9770e;'
        f'font:bold 15px Arial,sans-serif;">{html.escape(banner)}</div>'
    )
    body = re.search(r"<body[^>]*>", page, re.IGNORECASE)
    return page[: body.end()] + mark + page[body.end() :] if body else mark + page


# -- claims ---------------------------------------------------------------------------------------


def claimant(now: datetime) -> store_digest.Claimant:
    return store_digest.Claimant(os.getpid(), socket.gethostname(), now)


def settle_interrupted(store: Store, now: datetime) -> list[str]:
    """Weeks whose sending process is gone become `uncertain` (never sent again without --resend); a live
    process's claim is left alone."""
    weeks = []
    for claimed in store_digest.sending(store):
        why = claim_gone(claimed, now)
        if why and store_digest.settle(
            store, claimed, f"the process stopped during delivery ({why}); it may or may not have been sent"
        ):
            weeks.append(claimed.week)
            log.warning(
                "digest %s: delivery was interrupted; marked uncertain (%s; --resend sends it again)", claimed.week, why
            )
    return weeks


class Claimed(Protocol):
    """A claim for sending as a record keeps it: a weekly digest's, or an alert message's."""

    @property
    def claimed_pid(self) -> int | None: ...
    @property
    def claimed_host(self) -> str | None: ...
    @property
    def claimed_at(self) -> datetime | None: ...


def claim_gone(claimed: Claimed, now: datetime) -> str | None:
    """Why the claim's process can no longer be sending; None when it may still be."""
    pid, host = claimed.claimed_pid, claimed.claimed_host
    if pid is None or claimed.claimed_at is None:
        return "claimed by a version that did not record who"
    if now - claimed.claimed_at > CLAIM_BOUND:
        return (
            f"claimed by pid {pid} on {host} at {claimed.claimed_at:%Y-%m-%d %H:%M:%S} UTC, longer ago than "
            f"any delivery takes"
        )
    if host != socket.gethostname():
        return None
    # Our own pid: a process sends one week at a time, and this one is not sending now, so the claim was left
    # by an earlier process that had the same pid (a container's daemon is pid 1 at every start).
    if pid == os.getpid() or not _alive(pid):
        return f"pid {pid} is gone"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:  # a zombie has finished; only its parent has not collected it yet
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def retry_failed(
    config: Config, store: Store, now: datetime, sender: Sender, *, out_dir: str | None = None, skip: str | None = None
) -> list[Published]:
    """Send again the weeks whose delivery failed and whose backoff has passed, each as its digest series (the
    [email] one or a subscription's) builds it; a removed subscription's are left as they are."""
    results = []
    views = {edition.subscription: edition.config for edition in editions(config)}
    for week in store_digest.due_retries(store, now):
        subscription, _ = store_digest.split(week)
        if week == skip or subscription not in views:
            continue
        start = store_digest.week_start_of(store, week)
        folder = str(Path(out_dir) / subscription) if out_dir and subscription else out_dir
        view = views[subscription]
        results.append(publish(view, store, start, now, out_dir=folder, sender=sender, subscription=subscription))
    return results
