"""After a poll round: the subscriptions' alerts found, recorded and sent, and daily digests produced, each
message sent at most once (issue 24).

The order of a check: interrupted sends settled (`uncertain`); each alerts subscription's events and spikes
found and recorded (once per happening: storage.alerts); its pending alerts composed into one message unless
its quiet hours hold them, or a message went out less than `batch` ago (they go together `batch` after it);
max_per_day leaves the rest of the day's out (`capped`, listed by `monitor alerts`); each daily subscription's
last day produced once after its send_time; failed messages retried with backoff. A message is claimed
(compare-and-set) before the SMTP exchange, as a weekly digest is: of two processes one sends, a server that
may have accepted it leaves it `uncertain`, and nothing is sent twice unless asked (`monitor alerts --resend`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..config.load import Config, Subscription
from ..storage import Store
from ..storage import alerts as store_alerts
from ..storage import digests as store_digest
from ..storage import observed as store_observed
from ..storage.history import live_since
from ..types import AlertFound, KnownAlert
from . import alert_mail
from .alerts import SPIKE_HISTORY, event_alerts, levels, spike_alerts, window
from .build import build
from .deliver import Delivery, DeliveryError, DeliveryUncertain, Sender, build_message, new_message_id
from .groups import group_names, memberships
from .observed import union
from .publish import RETRY_FIRST, RETRY_MAX, claim_gone, claimant, delivery_warning, mark_html
from .render import environment, render_html, render_text

log = logging.getLogger("monitor.alerts")

KNOWN_FOR = timedelta(days=7)  # an alert this old no longer stands for its event (a week on, it is news again)
DAILY_SUBJECT = "Daily digest {week}"
STALE_AFTER = timedelta(hours=24)  # longer than any quiet hours hold an alert


@dataclass(frozen=True, slots=True)
class Outcome:
    """One line of what a check did, for the log or the CLI."""

    line: str
    error: bool = False


def check(config: Config, store: Store, now: datetime, sender: Sender | None) -> list[Outcome]:
    """One check after a poll round. Without a sender, alerts are found and recorded, nothing is composed."""
    subscriptions = [s for s in config.subscriptions if s.cadence in ("alerts", "daily")]
    if not subscriptions:
        return []
    out = settle_interrupted(store, now)
    for sub in subscriptions:
        if sub.cadence == "alerts":
            out += find(config, store, sub, now)
    if sender is None:
        return out
    for sub in subscriptions:
        out += (
            deliver(config, store, sub, now, sender)
            if sub.cadence == "alerts"
            else daily(config, store, sub, now, sender)
        )
    for message in store_alerts.due_retries(store, now):
        out.append(send(config, store, message, now, sender))
    return out


# -- finding ----------------------------------------------------------------------------------------


def find(config: Config, store: Store, sub: Subscription, now: datetime) -> list[Outcome]:
    known = store_alerts.known(store, sub.name, now - KNOWN_FOR)
    found, again = found_now(config, store, sub, now, known)
    store_alerts.still_seen(store, again, now)
    return [
        Outcome(f"alert {sub.name}: {a.kind} on {a.theme}: {a.headline} ({a.reason})")
        for a in store_alerts.record_found(store, found, now)
    ]


def found_now(
    config: Config, store: Store, sub: Subscription, now: datetime, known: Sequence[KnownAlert]
) -> tuple[list[AlertFound], list[int]]:
    """What `sub` would alert now over the stored data, and the known spikes seen again."""
    themes = [t for t in config.themes if sub.wants(t)]
    items = store_digest.themed_items(store, window(sub, now), now + timedelta(seconds=1), themes)
    found = event_alerts(sub, items, known, _labels(config), _member(config, store), now)
    times = store_alerts.theme_times(store, now - SPIKE_HISTORY, now + timedelta(seconds=1))
    observed = union(store_observed.spans(store, now - SPIKE_HISTORY, now))
    spikes, again = spike_alerts(sub, levels(times, observed, sub.within, now), known, _labels(config), now)
    return found + spikes, again


def _labels(config: Config) -> dict[str, str]:
    return {key: theme.label for key, theme in config.themes.items()}


def _member(config: Config, store: Store) -> dict[str, tuple[str, ...]]:
    tags = store_digest.feed_tags(store)
    return memberships(group_names(config.digest.groups, tags), tags)


def dry_run(config: Config, store: Store, since: datetime, until: datetime) -> list[AlertFound]:
    """What the alerts subscriptions would have alerted from `since` to `until` over the stored data (imported
    history included), checked as the poll rounds would have (every polling.interval), nothing recorded.
    Quiet hours, batches and max_per_day change when an alert is sent, not whether it is found: not applied."""
    out: list[AlertFound] = []
    step = max(config.polling.interval, timedelta(minutes=1))
    tags = store_digest.feed_tags(store)
    member = memberships(group_names(config.digest.groups, tags), tags)
    labels = _labels(config)
    observed = union(store_observed.spans(store, since - SPIKE_HISTORY, until))
    all_times = store_alerts.theme_times(store, since - SPIKE_HISTORY, until)
    for sub in (s for s in config.subscriptions if s.cadence == "alerts"):
        themes = [t for t in config.themes if sub.wants(t)]
        every = store_digest.themed_items(store, window(sub, since), until, themes)
        known: list[KnownAlert] = []
        moment = since
        while moment <= until:
            items = [i for i in every if window(sub, moment) <= i.published <= moment]
            found = event_alerts(sub, items, known, labels, member, moment)
            times = {t: [m for m in ms if m <= moment] for t, ms in all_times.items()}
            spikes, again = spike_alerts(sub, levels(times, observed, sub.within, moment), known, labels, moment)
            known = [replace(k, last_seen=moment) if k.id in again else k for k in known]
            for alert in found + spikes:
                known.append(
                    KnownAlert(-len(known) - 1, alert.kind, alert.key, alert.theme, frozenset(alert.items), moment)
                )
                out.append(replace(alert, detail={**alert.detail, "found_at": moment.isoformat()}))
            moment += step
    return out


def observed_hours(store: Store, since: datetime, until: datetime) -> tuple[int, int]:
    """Hours of [since, until) when at least one feed was observed, and hours in all: a dry run over history
    observed only at its documents' moments (an import) can find no spike, and must say why (issue 24)."""
    pieces = union(store_observed.spans(store, since, until))
    seen = sum((min(b, until) - max(a, since)).total_seconds() for a, b in pieces if b > since and a < until)
    return round(seen / 3600), math.ceil((until - since).total_seconds() / 3600)


# -- sending alerts ---------------------------------------------------------------------------------


def quiet(sub: Subscription, moment: datetime) -> bool:
    """Whether `moment` falls in the subscription's quiet hours (its time zone; they may run past midnight)."""
    if sub.quiet_hours is None:
        return False
    local = moment.astimezone(ZoneInfo(sub.timezone)).strftime("%H:%M")
    start, end = sub.quiet_hours
    return start <= local < end if start < end else local >= start or local < end


def day_start(sub: Subscription, moment: datetime) -> datetime:
    local = moment.astimezone(ZoneInfo(sub.timezone))
    return datetime.combine(local.date(), time(), ZoneInfo(sub.timezone)).astimezone(UTC)


def deliver(config: Config, store: Store, sub: Subscription, now: datetime, sender: Sender) -> list[Outcome]:
    pending = store_alerts.alerts(store, subscription=sub.name, status="pending")
    # Found while e-mail was off, or a daemon was down for days: no longer news, so not sent (still listed).
    stale = [a.id for a in pending if now - a.found_at > STALE_AFTER]
    store_alerts.expire(store, stale)
    pending = [a for a in pending if a.id not in stale]
    if not pending:
        return []
    if quiet(sub, now):
        return []  # held: the first check after the quiet hours sends them
    last = store_alerts.last_composed(store, sub.name)
    if last is not None and now - last < sub.batch:
        return []  # they go together, `batch` after the last message
    room = max(0, sub.max_per_day - store_alerts.alerted_since(store, sub.name, day_start(sub, now)))
    carries, capped = pending[:room], pending[room:]
    held = sum(1 for a in carries if quiet(sub, a.found_at))
    out = [
        Outcome(f"alert {sub.name}: NOT sent, max_per_day ({sub.max_per_day}) reached: {a.headline}") for a in capped
    ]
    if not carries:
        store_alerts.compose(
            store,
            store_alerts.Composed(sub.name, "alerts", "", sub.to, "", "", "", "", (), tuple(a.id for a in capped)),
            now,
        )
        return out
    message = store_alerts.Composed(
        subscription=sub.name,
        kind="alerts",
        label=now.isoformat(timespec="seconds"),
        recipients=sub.to,
        subject=alert_mail.subject(carries, sub.name),
        text=alert_mail.text(carries, sub.timezone, held, len(capped)),
        html=alert_mail.page(carries, sub.timezone, held, len(capped)),
        message_id=new_message_id(config.email.sender),
        carries=tuple(a.id for a in carries),
        capped=tuple(a.id for a in capped),
    )
    record = store_alerts.compose(store, message, now)
    if record is None:
        return out  # another process composed them first, and sends them
    return [*out, send(config, store, record, now, sender)]


# -- daily digests ----------------------------------------------------------------------------------


def due_day(sub: Subscription, now: datetime) -> date:
    """The day whose digest is due: yesterday once today's send_time has passed, else the day before."""
    zone = ZoneInfo(sub.timezone)
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in sub.send_time.split(":"))
    back = 1 if (local.hour, local.minute) >= (hour, minute) else 2
    return local.date() - timedelta(days=back)


def daily(config: Config, store: Store, sub: Subscription, now: datetime, sender: Sender) -> list[Outcome]:
    """The due day's digest, once: the weekly builder over one day of the subscribed themes. Only the latest due
    day, so a daemon back after a week away sends one digest, not seven; none for a day before the first
    live poll."""
    day = due_day(sub, now)
    label = day.isoformat()
    if store_alerts.daily_record(store, sub.name, label) is not None:
        return []
    zone = ZoneInfo(sub.timezone)
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    live = live_since(store)
    if live is None or live >= end:
        return []
    subject, text, html = daily_digest(config, store, sub, start, end, label, now)
    message = store_alerts.Composed(
        sub.name, "daily", label, sub.to, subject, text, html, new_message_id(config.email.sender)
    )
    record = store_alerts.compose(store, message, now)
    return [] if record is None else [send(config, store, record, now, sender)]


def daily_digest(
    config: Config, store: Store, sub: Subscription, start: datetime, end: datetime, label: str, now: datetime
) -> tuple[str, str, str]:
    """One day's digest of the subscribed themes: the weekly digest's builder and templates over [start, end)."""
    themes = {key: theme for key, theme in config.themes.items() if sub.wants(key)}
    data = store_digest.week_data(
        store, label, start, end, list(themes), now=now, stale_after=config.polling.stale_after
    )
    data = replace(data, items=tuple(i for i in data.items if not i.late))  # late ones are the weekly digest's
    digest = build(
        data,
        themes,
        timezone=sub.timezone,
        now=now,
        subject_template=DAILY_SUBJECT,
        groups=config.digest.groups,
        span="day",
    )
    env = environment(config.digest.templates_dir)
    local = start.astimezone(ZoneInfo(sub.timezone))
    banner = (
        f"DAILY DIGEST of {local:%A} {local.day} {local:%B %Y} ({sub.timezone}) for {sub.name}: "
        f"{', '.join(theme.label for theme in themes.values())}."
    )
    return digest.subject, f"{banner}\n\n{render_text(digest, env)}", mark_html(render_html(digest, env), banner)


# -- claims and sending -----------------------------------------------------------------------------


def send(
    config: Config,
    store: Store,
    record: store_alerts.MessageRecord,
    now: datetime,
    sender: Sender,
    *,
    resend: bool = False,
) -> Outcome:
    who = claimant(now)
    if not store_alerts.claim(store, record.id, who.pid, who.host, who.at, resend=resend):
        now_record = store_alerts.message_record(store, record.id)
        state = now_record.state if now_record else "gone"
        return Outcome(f"{record.name}: {state}, nothing sent here")
    settings = replace(config.email, to=record.recipients)
    message = build_message(settings, record.subject, record.text, record.html, record.message_id, now)
    try:
        delivery = sender.send(message) or Delivery()
    except DeliveryUncertain as error:
        store_alerts.mark_uncertain(store, record.id, str(error))
        log.error("%s: %s; marked uncertain, not sent again without --resend", record.name, error)
        return Outcome(f"{record.name}: delivery UNCERTAIN: {error} (not sent again without --resend)", True)
    except DeliveryError as error:
        retry_at = now + min(RETRY_FIRST * 2**record.attempts, RETRY_MAX)
        store_alerts.mark_failed(store, record.id, str(error), retry_at)
        return Outcome(f"{record.name}: NOT sent: {error} (retried after {retry_at:%H:%M} UTC)", True)
    refused = dict(delivery.refused)
    store_alerts.mark_sent(store, record.id, now, refused, delivery.note)
    got = [a for a in record.recipients if a not in refused]
    warning = delivery_warning(refused, delivery.note)
    return Outcome(f"{record.name}: sent to {', '.join(got)}" + (f"; {warning}" if warning else ""))


def settle_interrupted(store: Store, now: datetime) -> list[Outcome]:
    """Messages whose sending process is gone become `uncertain`: never sent again unless asked."""
    out = []
    for claimed in store_alerts.messages(store, state="sending"):
        why = claim_gone(claimed, now)
        if why and store_alerts.settle(
            store, claimed, f"the process stopped during delivery ({why}); it may or may not have been sent"
        ):
            out.append(Outcome(f"{claimed.name}: delivery was interrupted; marked uncertain ({why})", True))
    return out


def resend(config: Config, store: Store, number: int, now: datetime, sender: Sender) -> Outcome:
    """Send a message again as it was composed (the same Message-ID), whatever its state: asked for in so many
    words (`monitor alerts --resend ID`)."""
    record = store_alerts.message_record(store, number)
    if record is None:
        return Outcome(f"no alert message #{number}", True)
    return send(config, store, record, now, sender, resend=True)
