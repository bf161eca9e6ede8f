"""One week's digest: built, written, recorded and, when e-mail is on, sent, never twice.

The guarantee is *at most once*: the week is marked `sending` (and committed) before the SMTP exchange
and `sent` after it. A delivery the server refused, or that could not reach it, is `failed` and retried
with backoff; a process that died between the two marks leaves `sending`, which the next run turns into
`uncertain`: it may have gone out, so it is not sent again unless someone asks with `--resend` (the copy
then carries the same Message-ID, so mail clients and archives can tell it is the same message).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from . import store_digest
from .config import Config
from .deliver import DeliveryError, Sender, build_message, new_message_id, write_files
from .digest import build
from .render import environment, render_html, render_text
from .store import Store
from .weeks import week_end, week_label

log = logging.getLogger("monitor.digest")

RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class Published:
    week: str
    state: str  # the week's state afterwards; "dry-run" when nothing was changed
    subject: str
    text: str
    message: str  # one line for the user
    files: tuple[Path, ...] = ()
    error: str | None = None


def publish(config: Config, store: Store, start: datetime, now: datetime, *, out_dir: str | None = None,
            sender: Sender | None = None, resend: bool = False, dry_run: bool = False) -> Published:
    week = week_label(start, config.timezone)
    if not dry_run:
        settle_interrupted(store)
    existing = store_digest.record(store, week)
    if existing and existing.state in ("sent", "uncertain") and not resend and not dry_run:
        when = f" on {existing.sent_at:%Y-%m-%d %H:%M} UTC" if existing.sent_at else ""
        return Published(week, existing.state, existing.subject, "",
                         f"{week}: already {existing.state}{when}; nothing sent (--resend sends it again)")
    data = store_digest.week_data(store, week, start, week_end(start, config.timezone), list(config.themes))
    # A week whose deliveries failed says, when it finally goes out, that it is late and since when.
    late_since = existing.failing_since if existing and existing.state == "failed" and sender else None
    digest = build(data, config.themes, timezone=config.timezone, now=now, subject_template=config.email.subject,
                   delivery_late_since=late_since)
    env = environment(config.digest.templates_dir)
    text, html = render_text(digest, env), render_html(digest, env)
    if dry_run:
        return Published(week, "dry-run", digest.subject, text, f"{week}: dry run, nothing written or sent")
    files = write_files(out_dir or config.digests_dir, week, text, html)
    message_id = existing.message_id if existing else new_message_id(config.email.sender)
    store_digest.save_rendered(store, data, digest.subject, message_id, now)
    if sender is None:
        state = existing.state if existing and existing.state != "rendered" and not resend else "rendered"
        return Published(week, state, digest.subject, text, f"{week}: written to {files[0].parent}/", files)
    store_digest.mark_sending(store, week)
    try:
        sender.send(build_message(config.email, digest.subject, text, html, message_id, now))
    except DeliveryError as error:
        attempts = (existing.attempts if existing else 0) + 1
        retry_at = now + min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)
        store_digest.mark_failed(store, week, str(error), retry_at, now)
        log.error("digest %s: %s; retried after %s", week, error, f"{retry_at:%Y-%m-%d %H:%M} UTC")
        return Published(week, "failed", digest.subject, text,
                         f"{week}: written, NOT sent: {error} (retried after {retry_at:%H:%M} UTC)", files, str(error))
    store_digest.mark_sent(store, week, now)
    log.info("digest %s: sent to %s", week, ", ".join(config.email.to))
    return Published(week, "sent", digest.subject, text,
                     f"{week}: written and sent to {', '.join(config.email.to)}", files)


def settle_interrupted(store: Store) -> list[str]:
    """Weeks a dead process left `sending` become `uncertain` (never sent again without --resend)."""
    weeks = store_digest.settle_interrupted(store)
    for week in weeks:
        log.warning("digest %s: delivery was interrupted; marked uncertain (--resend sends it again)", week)
    return weeks


def retry_failed(config: Config, store: Store, now: datetime, sender: Sender, *, out_dir: str | None = None,
                 skip: str | None = None) -> list[Published]:
    """Send again the weeks whose delivery failed and whose backoff has passed."""
    results = []
    for week in store_digest.due_retries(store, now):
        if week == skip:
            continue
        start = store_digest.week_start_of(store, week)
        results.append(publish(config, store, start, now, out_dir=out_dir, sender=sender))
    return results
