"""What a round alerts, for one subscription: events that crossed its threshold, alerted events grown past the
follow-up threshold, and themes that spiked. Pure: `now` is an argument (issue 24).

- An event is grouped as the digest groups a week (`stories.week_of`: `events.events`, `representative`), over
  the subscribed themes' items of the last few `within`s. It crosses the threshold at the first report by which
  `outlets` outlets, or outlets of `outlet_groups` outlet groups, had reported it within `within`: that report
  is the crossing one, and an alert is only for a crossing at most `within` old (old news imported late is not
  breaking).
- Identity across rounds is decided by reports, not by the grouping's numbering, which changes as a week
  grows: an event that holds at least half of an earlier alert's reports, or whose reports are half that
  alert's, is that alert's event, and never alerts again; a new event counts only the reports no alert of
  the subscription counted. One follow-up at most, when it reaches `follow_up_outlets`.
- A spike: a theme's items in the last `within` at least `spike_ratio` times its usual level there, measured
  on the hours of the last SPIKE_HISTORY that were observed (at least SPIKE_MIN_HISTORY of them), and at least
  `spike_min` items. One alert per spike: a theme still above its level, or back above it within `within`
  of the last round that saw it so, is the same spike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..config.load import Subscription
from ..types import AlertFound, KnownAlert, ThemedItem
from .groups import groups_of
from .stories import Report, WeekEvent, week_of

CONTEXT = 3  # events are grouped over this many `within`s back, so a grown event finds its earlier reports
SPIKE_HISTORY = timedelta(days=14)
SPIKE_MIN_HISTORY = timedelta(hours=48)  # observed hours of history below which a theme has no usual level yet
REPORTS_SHOWN = 8
EVIDENCE_SHOWN = 3


def window(subscription: Subscription, now: datetime) -> datetime:
    """The earliest publication time a round reads for `subscription`'s events."""
    return now - subscription.within * CONTEXT


def event_alerts(
    subscription: Subscription,
    items: Sequence[ThemedItem],
    known: Sequence[KnownAlert],
    labels: Mapping[str, str],
    member: Mapping[str, tuple[str, ...]],
    now: datetime,
) -> list[AlertFound]:
    """The events and follow-ups `items` (the subscribed themes' matched items of the window) make alert now."""
    mine = [i for i in items if subscription.wants(i.theme) and i.published <= now]
    if not mine:
        return []
    zone = ZoneInfo(subscription.timezone)
    by_id = {i.item_id: i for i in sorted(mine, key=lambda i: i.score)}  # the best-scoring theme of each last
    grouped, _ = week_of(mine, labels, member, zone)
    counted = frozenset().union(*(k.items for k in known))
    found: list[AlertFound] = []
    for event in grouped:
        reports = set(event.item_ids)
        earlier = same_event(reports, [k for k in known if k.kind == "event"])
        if earlier is not None:
            grown = subscription.follow_up_outlets and len(event.outlets) >= subscription.follow_up_outlets
            followed = any(k.kind == "follow_up" and k.key == earlier.key for k in known)
            if grown and not followed:
                reason = f"grew to {len(event.outlets)} outlets (follow_up_outlets = {subscription.follow_up_outlets})"
                found.append(_found(subscription, "follow_up", earlier.key, event, by_id, reason, event.reports[-1]))
            continue
        fresh = [r for r in event.reports if r.item_id not in counted]
        crossing = crossed(fresh, subscription, member)
        if crossing is None or crossing[0].published < now - subscription.within:
            continue
        report, reason = crossing
        key = f"event:{fresh[0].item_id}"
        found.append(_found(subscription, "event", key, event, by_id, reason, report))
    return found


def same_event(reports: set[int], known: Sequence[KnownAlert]) -> KnownAlert | None:
    """The earlier alert whose event this is: the one sharing most reports with it, if they share at least half
    of the alert's reports or of the event's."""
    best: KnownAlert | None = None
    shared_best = 0
    for alert in known:
        shared = len(reports & alert.items)
        if shared and shared * 2 >= min(len(alert.items), len(reports)) and shared > shared_best:
            best, shared_best = alert, shared
    return best


def crossed(
    reports: Sequence[Report], subscription: Subscription, member: Mapping[str, tuple[str, ...]]
) -> tuple[Report, str] | None:
    """The report by which the event met the threshold (in order of publication), and the threshold in words."""
    ordered = sorted(reports, key=lambda r: (r.published, r.item_id))
    for end, report in enumerate(ordered):
        recent = [r for r in ordered[: end + 1] if report.published - r.published <= subscription.within]
        outlets = tuple(dict.fromkeys(o for r in recent for o in r.carried))
        groups = groups_of(outlets, member)
        hours = _hours(subscription.within)
        if len(outlets) >= subscription.outlets:
            return report, f"{len(outlets)} outlets within {hours} (outlets = {subscription.outlets})"
        if subscription.outlet_groups and len(groups) >= subscription.outlet_groups:
            return report, (
                f"outlets of {len(groups)} groups ({', '.join(sorted(groups))}) within {hours} "
                f"(outlet_groups = {subscription.outlet_groups})"
            )
    return None


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g}h" if hours >= 1 else f"{span.total_seconds() / 60:g}m"


def _found(
    subscription: Subscription,
    kind: str,
    key: str,
    event: WeekEvent,
    by_id: Mapping[int, ThemedItem],
    reason: str,
    crossing: Report,
) -> AlertFound:
    theme = next((t for t in event.themes if subscription.wants(t)), event.themes[0])
    label = event.labels[event.themes.index(theme)]
    lead = by_id.get(event.headline.item_id)
    evidence = [
        {"name": e.name, "quote": " … ".join(s.text for s in e.spans)}
        for e in (lead.evidence if lead else ())[:EVIDENCE_SHOWN]
    ]
    return AlertFound(
        subscription=subscription.name,
        kind=kind,
        key=key,
        theme=theme,
        headline=event.headline.title,
        reason=reason,
        outlets=len(event.outlets),
        outlet_groups=event.groups,
        items=event.item_ids,
        crossed_at=crossing.published,
        detail={
            "label": label,
            "link": event.headline.link,
            "summary": event.summary,
            "first": _report(event.first),
            "crossing": _report(crossing),
            "reports": [_report(r) for r in event.reports[:REPORTS_SHOWN]],
            "more": max(0, len(event.reports) - REPORTS_SHOWN),
            "outlets": list(event.outlets),
            "evidence": evidence,
        },
    )


def _report(report: Report) -> dict[str, str | None]:
    return {
        "outlet": report.outlets,
        "title": report.title,
        "link": report.link,
        "published": report.published.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class Level:
    """A theme's items in the last `within` (`recent`), and over the observed hours of its history."""

    theme: str
    recent: int
    history_items: int
    history_hours: float  # observed hours of the history, the recent window not included


def spike_alerts(
    subscription: Subscription,
    levels: Sequence[Level],
    known: Sequence[KnownAlert],
    labels: Mapping[str, str],
    now: datetime,
) -> tuple[list[AlertFound], list[int]]:
    """New spikes, and the known spikes seen again (still above their level: their `last_seen` moves on)."""
    if not subscription.spike_ratio:
        return [], []
    found: list[AlertFound] = []
    again: list[int] = []
    window_hours = subscription.within.total_seconds() / 3600
    for level in levels:
        if not subscription.wants(level.theme) or level.history_hours < SPIKE_MIN_HISTORY.total_seconds() / 3600:
            continue
        usual = level.history_items / level.history_hours * window_hours
        if level.recent < subscription.spike_min or level.recent < subscription.spike_ratio * usual:
            continue
        ongoing = [
            k
            for k in known
            if k.kind == "spike" and k.theme == level.theme and now - k.last_seen <= subscription.within
        ]
        if ongoing:
            again.append(ongoing[-1].id)
            continue
        hours = _hours(subscription.within)
        reason = (
            f"{level.recent} items in {hours}, {level.recent / max(usual, 0.01):.1f} times its usual {usual:.1f} "
            f"(spike_ratio = {subscription.spike_ratio}, over {level.history_hours:.0f} observed hours)"
        )
        label = labels.get(level.theme, level.theme)
        found.append(
            AlertFound(
                subscription=subscription.name,
                kind="spike",
                key=f"spike:{level.theme}:{now.isoformat(timespec='minutes')}",
                theme=level.theme,
                headline=f"{label}: {level.recent} items in {hours}",
                reason=reason,
                outlets=0,
                outlet_groups=0,
                items=(),
                crossed_at=now,
                detail={"label": label, "count": level.recent, "usual": round(usual, 2)},
            )
        )
    return found, again


def levels(
    times: Mapping[str, Sequence[datetime]],
    observed: Sequence[tuple[datetime, datetime]],
    within: timedelta,
    now: datetime,
) -> list[Level]:
    """Each theme's level now: its items of the last `within`, and its items and observed hours over the
    SPIKE_HISTORY before that (`observed`: when any feed was observed, merged): an hour no feed was observed
    counts neither as quiet nor as busy."""
    start, cut = now - SPIKE_HISTORY, now - within
    pieces = [(max(a, start), min(b, cut)) for a, b in observed if b > start and a < cut]
    hours = sum((b - a).total_seconds() for a, b in pieces) / 3600
    out = []
    for theme, moments in times.items():
        recent = sum(1 for t in moments if cut < t <= now)
        past = sum(1 for t in moments if any(a <= t < b for a, b in pieces))
        out.append(Level(theme, recent, past, hours))
    return out
