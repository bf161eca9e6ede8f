"""The week's events as the digest shows them. Pure.

Events are the week's, not a theme's: the week's items are grouped once (`events.events`), each item once
whatever its themes, so one happening in two themes' sections is one event there, under one number and
one headline, each section naming the other themes it is in. Events are numbered in the week by how
widely they were reported (outlets, then outlet groups, then reports): the first few that several outlets
reported open the digest (the week at a glance). Every report of an event is listed, so no report counted
in the week's figures is hidden behind another of its outlet's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from ..types import ThemedItem
from .events import events, representative
from .groups import groups_of

SUMMARY_CHARS = 280
GLANCE_MOST = 7  # events at the top of the digest, at most
GLANCE_OUTLETS = 2  # an event there was reported by this many outlets at least: one outlet's item is no story
COMPACT_AFTER = 8  # an event of more reports lists them one line each, links only in the HTML
UNKNOWN = "unknown feed"  # an item whose feeds are all gone


@dataclass(frozen=True, slots=True)
class Report:
    """One report of an event: an item, with its own headline and link, and when it was published."""

    outlet: str  # the first feed that carried it
    title: str
    link: str | None  # http(s) only
    published: datetime  # in the digest's time zone
    date_known: bool
    item_id: int = 0
    carried: tuple[str, ...] = ()  # every feed that carried it, the first first
    late: bool = False  # published in an earlier week, reported now

    @property
    def outlets(self) -> str:
        """The feeds that carried it, as the digest names them ("sample-wire, sample-dispatch")."""
        return ", ".join(self.carried) or self.outlet


@dataclass(frozen=True, slots=True)
class WeekEvent:
    """One happening of the week, across themes: every report of it, the one that best represents it (its
    headline, `events.representative`), the first published, and the themes it touches."""

    number: int  # in the week: 1 = the most widely reported
    headline: Report
    first: Report
    reports: tuple[Report, ...]  # every report, the first published first
    outlets: tuple[str, ...]  # every outlet that reported it, in order of their first report
    groups: int  # outlet groups among those outlets
    themes: tuple[str, ...]  # the keys of the themes it touches, in the digest's order
    labels: tuple[str, ...]  # those themes' labels
    late: bool  # every report was published in an earlier week
    score: int  # the best of its items' scores, for any theme
    summary: str  # the headline's, cut at SUMMARY_CHARS

    @property
    def item_ids(self) -> tuple[int, ...]:
        return tuple(r.item_id for r in self.reports)


def week_of(
    items: Sequence[ThemedItem], labels: Mapping[str, str], member: Mapping[str, tuple[str, ...]], zone: ZoneInfo
) -> tuple[tuple[WeekEvent, ...], dict[int, dict[str, list[ThemedItem]]]]:
    """The week's events, its items grouped once (each item once, whatever its themes; late ones with the
    rest, as before), and each event's items by theme (an item of two themes is in both)."""
    best: dict[int, ThemedItem] = {}
    themes_of: dict[int, list[str]] = {}
    for item in items:
        themes_of.setdefault(item.item_id, []).append(item.theme)
        if item.item_id not in best or item.score > best[item.item_id].score:
            best[item.item_id] = item
    week = week_events(events(list(best.values()), zone=zone), themes_of, labels, member, zone)
    number_of = {item_id: event.number for event in week for item_id in event.item_ids}
    members: dict[int, dict[str, list[ThemedItem]]] = {event.number: {} for event in week}
    for item in sorted(items, key=lambda i: (i.published, i.item_id)):
        members[number_of[item.item_id]].setdefault(item.theme, []).append(item)
    return week, members


def week_events(
    groups: Sequence[Sequence[ThemedItem]],
    themes_of: Mapping[int, Sequence[str]],
    labels: Mapping[str, str],
    member: Mapping[str, tuple[str, ...]],
    zone: ZoneInfo,
) -> tuple[WeekEvent, ...]:
    """The week's events, numbered from the most widely reported: by outlets, then outlet groups, then
    reports; then the earliest. Events of late items only (published in earlier weeks) come last.
    `groups`: the week's items grouped (each item once, in order of publication); `themes_of`: each item's
    themes; `labels`: each theme's label, in the digest's order."""
    order = {key: n for n, key in enumerate(labels)}
    made = [_event(group, themes_of, labels, order, member, zone) for group in groups]
    made.sort(
        key=lambda e: (
            e.late,
            -len(e.outlets),
            -e.groups,
            -len(e.reports),
            e.first.published,
            e.first.item_id,
        )
    )
    return tuple(replace(event, number=n) for n, event in enumerate(made, start=1))


def glance(events: Sequence[WeekEvent]) -> tuple[WeekEvent, ...]:
    """The week's main events: the first few (GLANCE_MOST at most) that GLANCE_OUTLETS outlets reported.
    Never padded with one outlet's items: a week with fewer such events shows fewer."""
    return tuple(e for e in events if not e.late and len(e.outlets) >= GLANCE_OUTLETS)[:GLANCE_MOST]


def _event(
    group: Sequence[ThemedItem],
    themes_of: Mapping[int, Sequence[str]],
    labels: Mapping[str, str],
    order: Mapping[str, int],
    member: Mapping[str, tuple[str, ...]],
    zone: ZoneInfo,
) -> WeekEvent:
    group = sorted(group, key=lambda i: (i.published, i.item_id))
    reports = tuple(report(item, zone) for item in group)
    lead = representative(group)
    outlets = tuple(dict.fromkeys(o for r in reports for o in r.carried))
    themes = sorted({t for item in group for t in themes_of.get(item.item_id, ())}, key=lambda t: order.get(t, 0))
    summary = lead.summary
    if len(summary) > SUMMARY_CHARS:
        summary = summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    return WeekEvent(
        number=0,
        headline=report(lead, zone),
        first=reports[0],
        reports=reports,
        outlets=outlets,
        groups=len(groups_of(outlets, member)),
        themes=tuple(themes),
        labels=tuple(labels.get(t, t) for t in themes),
        late=all(i.late for i in group),
        score=max(i.score for i in group),
        summary=summary,
    )


def report(item: ThemedItem, zone: ZoneInfo) -> Report:
    carried = tuple(dict.fromkeys(o for o in item.outlets if o)) or (UNKNOWN,)
    return Report(
        outlet=carried[0],
        title=item.title,
        link=item.link if safe_link(item.link) else None,
        published=item.published.astimezone(zone),
        date_known=item.date_source != "first_seen",
        item_id=item.item_id,
        carried=carried,
        late=item.late,
    )


def safe_link(link: str | None) -> bool:
    return bool(link) and link.split(":", 1)[0].lower() in ("http", "https")  # type: ignore[union-attr]
