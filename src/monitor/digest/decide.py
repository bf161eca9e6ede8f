"""Which week a digest is for, whether it is written, skipped as unpolled, e-mailed: decided once (issue 19).

`monitor digest` and the daemon's digest round read the facts (settings, the first polls, the weeks'
recorded states), call `decide`, and do what the decision says. Pure: `now` is an argument.

The rules:
- The week: the one named (`--week`); else, for the command, the last complete week, and for the daemon's
  round, the latest week whose digest is due by `digest.send_day`/`send_time`.
- A week that ended before anything was observed is not digested unless named (issue 11; observed since
  issue 22: a first poll observes back to the oldest item its feed still carried). The daemon
  names no week, and goes further: a week before the first *live* poll is not produced by it even when
  imports filled it (issue 15); the command writes such a week, and e-mails it only on --send.
- E-mail: a week over is e-mailed as `email.enabled` says, or as --send/--no-send says; a week not over (a
  preview) only on --send. A week before the first live poll is not e-mailed unless --send says so. A dry run
  e-mails nothing. E-mail asked for with no recipients is a usage error.
- The daemon produces its week once: when it has no record yet, or was only written (`rendered`) and can now
  be e-mailed. Failed deliveries of earlier weeks are retried (`retry`) whenever e-mail is on for this run,
  even when its own week is skipped or held back from e-mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..weeks import due_digest_week, last_complete_week, week_coverage, week_end, week_label


@dataclass(frozen=True, slots=True)
class DigestRequest:
    """What was asked: by `monitor digest` (its options), or the daemon's scheduled round (`scheduled`)."""

    week: datetime | None = None  # the start of the week named with --week; None: the default week
    send: bool | None = None  # --send (True), --no-send (False); None: as email.enabled says
    resend: bool = False  # passed on to publish: send even a week that went out
    dry_run: bool = False
    scheduled: bool = False  # the daemon's round: the week due by the send schedule, produced once


DAEMON_ROUND = DigestRequest(scheduled=True)


@dataclass(frozen=True, slots=True)
class DigestFacts:
    """What the caller read: settings from the config, the first polls and the weeks' states from the store."""

    timezone: str
    week_start: str  # digest.week_start: the weekday weeks begin on
    send_day: str  # digest.send_day
    send_time: str  # digest.send_time, "HH:MM"
    email_enabled: bool  # email.enabled (the daemon: and its sender could be built)
    recipients: bool  # email.to is not empty
    polled_since: datetime | None  # where observation began, imports included (None: nothing observed yet)
    live_since: datetime | None  # the first successful live poll (None: none yet)
    recorded: Mapping[str, str] = field(default_factory=dict)  # week label -> its digest's state


@dataclass(frozen=True, slots=True)
class DigestDecision:
    week: datetime  # the week's start
    label: str  # `2023-W39`
    over: bool  # the week has ended: a digest, else a preview
    write: bool  # publish it: write the files, record it and, with `mail`, send it
    skipped: str | None  # why it is not written ("nothing was observed that week (...)"), when it is not
    mail: bool  # e-mail it (and retry the failed deliveries)
    not_mailed: str | None  # why it is not e-mailed though e-mail is on, when the user should be told
    needs_recipients: bool = False  # e-mail was asked for and email.to is empty: a usage error, nothing done
    # Send the due retries of earlier weeks' failed deliveries: e-mail is on for this run, even when its own
    # week is skipped or held back from e-mail (a cron job is often the only thing that sends them).
    retry: bool = False


def decide(request: DigestRequest, facts: DigestFacts, now: datetime) -> DigestDecision:
    zone, first_day = facts.timezone, facts.week_start
    if request.week is not None:
        week = request.week
    elif request.scheduled:
        week = due_digest_week(now, zone, first_day, facts.send_day, facts.send_time)
    else:
        week = last_complete_week(now, zone, first_day)
    label, end = week_label(week, zone), week_end(week, zone)
    over = end <= now
    unpolled = week_coverage(week, end, facts.polled_since) == "none"
    before_live = week_coverage(week, end, facts.live_since) == "none"
    reason = "nothing was observed that week" if unpolled else "it is before the first live poll"
    if unpolled:
        since = (
            f"observation began {facts.polled_since:%Y-%m-%d %H:%M} UTC"
            if facts.polled_since
            else "no successful poll yet"
        )
    else:
        since = f"live polling began {facts.live_since:%Y-%m-%d %H:%M} UTC" if facts.live_since else "no live poll yet"
    why = f"{reason} ({since})"
    if request.scheduled:
        mail = facts.email_enabled and facts.recipients
        state = facts.recorded.get(label)
        write = not before_live and (state is None or (state == "rendered" and mail))
        return DigestDecision(week, label, over, write, why if before_live else None, mail, None, retry=mail)
    # A week not over is only previewed, and e-mailed only when asked for in so many words.
    wanted = (facts.email_enabled if request.send is None else request.send) if over else request.send is True
    if wanted and not facts.recipients:
        return DigestDecision(week, label, over, False, None, False, None, needs_recipients=True)
    if unpolled and request.week is None:  # not written; failed deliveries of other weeks are retried all the same
        retry = wanted and not request.dry_run
        return DigestDecision(week, label, over, False, why, retry, None, retry=retry)
    held = before_live and request.send is None  # imports filled it: e-mailed only on --send
    not_mailed = f"{reason} (--send sends it)" if held and wanted else None
    mail = wanted and not held and not request.dry_run
    return DigestDecision(week, label, over, True, None, mail, not_mailed, retry=wanted and not request.dry_run)
