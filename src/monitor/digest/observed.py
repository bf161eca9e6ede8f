"""What of a week the monitor observed: the feeds' observed spans (storage/observed.py) -> the week's
coverage, its days without any observation, the feeds not observed at all and each feed's gaps. Pure.

One rule for every case: time is observed for a feed when a document it stored (a poll, an imported capture)
carried the feed back to then. A week is observed where at least one feed was; a feed's week is unknown
where it was not. Breaks shorter than GRACE are none: polls minutes apart reach back over them, and the
minutes after a week's last poll are observed by the next one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..types import ObservedSpan, Outage

GRACE = timedelta(hours=1)
NAMED_HOLES = 3  # more stretches not observed (or gaps of one feed) than this are counted, not named
FOREVER = datetime.max.replace(tzinfo=ZoneInfo("UTC")) - timedelta(days=2)

Spans = Mapping[str, Sequence[ObservedSpan]]


@dataclass(frozen=True, slots=True)
class Gap:
    """A feed not observed from `since` (its last observation) until `until` (the one that came back),
    whose feed then reached back to `reach`: what it published from `since` to `reach` and dropped before
    it came back may be missing."""

    feed: str
    since: datetime
    until: datetime
    reach: datetime

    @property
    def missing_hours(self) -> int:
        return max(1, math.ceil((self.reach - self.since).total_seconds() / 3600))


@dataclass(frozen=True, slots=True)
class Gaps:
    """A feed with more gaps in a week than can be read one by one (a week of imported captures, a feed
    that failed off and on): how many, and how many hours of what it published may be missing in all."""

    feed: str
    count: int
    missing_hours: int


def named(gaps: Sequence[Gap]) -> tuple[tuple[Gap, ...], tuple[Gaps, ...]]:
    """The gaps to name one by one, and each feed with more than NAMED_HOLES of them, counted instead."""
    by_feed: dict[str, list[Gap]] = {}
    for gap in gaps:
        by_feed.setdefault(gap.feed, []).append(gap)
    one_by_one = tuple(g for mine in by_feed.values() if len(mine) <= NAMED_HOLES for g in mine)
    counted = tuple(
        Gaps(feed, len(mine), sum(g.missing_hours for g in mine))
        for feed, mine in by_feed.items()
        if len(mine) > NAMED_HOLES
    )
    return one_by_one, counted


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of [start, end) was observed: full | partial | none, and the stretches not observed."""

    state: str
    holes: tuple[tuple[datetime, datetime], ...]


def since_polled(polled_since: datetime | None) -> dict[str, tuple[ObservedSpan, ...]]:
    """The spans the first-poll rule assumed (every feed observed from the first successful poll on), for
    week data read without spans."""
    if polled_since is None:
        return {}
    return {"": (ObservedSpan(polled_since, FOREVER, polled_since),)}


def union(spans: Spans) -> list[tuple[datetime, datetime]]:
    """Every feed's spans merged: when at least one feed was observed, breaks under GRACE closed."""
    pieces = sorted((s.since, s.until) for found in spans.values() for s in found)
    merged: list[tuple[datetime, datetime]] = []
    for since, until in pieces:
        if merged and since <= merged[-1][1] + GRACE:
            merged[-1] = (merged[-1][0], max(merged[-1][1], until))
        else:
            merged.append((since, until))
    return merged


def coverage(observed: Sequence[tuple[datetime, datetime]], start: datetime, end: datetime) -> Coverage:
    """The part of [start, end) that `observed` (merged, sorted) misses."""
    holes: list[tuple[datetime, datetime]] = []
    position = start
    for since, until in observed:
        if until <= position or since >= end:
            continue
        if since > position:
            holes.append((position, since))
        position = max(position, until)
    if position < end:
        holes.append((position, end))
    holes = [(since, until) for since, until in holes if until - since > GRACE or (since, until) == (start, end)]
    state = "full" if not holes else "none" if holes == [(start, end)] else "partial"
    return Coverage(state, tuple(holes))


def days_observed(
    observed: Sequence[tuple[datetime, datetime]], days: Sequence[date], zone: ZoneInfo
) -> tuple[bool, ...]:
    """Whether any feed was observed at any time of each day (in the digest's time zone)."""
    out = []
    for day in days:
        start = datetime(day.year, day.month, day.day, tzinfo=zone)
        end = start + timedelta(days=1)
        out.append(any(since < end and until > start for since, until in observed))
    return tuple(out)


def by_group(spans: Spans, member: Mapping[str, Sequence[str]], start: datetime, end: datetime) -> dict[str, str]:
    """How much of [start, end) each outlet group was observed (full | partial | none): where any of its
    feeds was (`member`: each feed's groups)."""
    feeds: dict[str, list[str]] = {}
    for feed, groups in member.items():
        for group in groups:
            feeds.setdefault(group, []).append(feed)
    return {
        group: coverage(union({f: spans.get(f, ()) for f in mine}), start, end).state for group, mine in feeds.items()
    }


def gaps(spans: Spans, start: datetime, end: datetime) -> tuple[Gap, ...]:
    """Each feed's breaks in observation that touch [start, end) and after which it came back: a span
    ended, and the next began (reached back) more than GRACE later."""
    found = []
    for feed, mine in sorted(spans.items()):
        ordered = sorted(mine, key=lambda s: s.since)
        for before, after in zip(ordered, ordered[1:], strict=False):
            if after.since - before.until > GRACE and before.until < end and after.since > start:
                found.append(Gap(feed, before.until, after.resumed, after.since))
    return tuple(found)


def described(coverage: Coverage, start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """The stretches not observed, in words: "observed only from Thursday 28 September 02:30"."""
    holes = list(coverage.holes)
    if holes == [(start, end)]:
        return "not observed"
    first = holes.pop(0)[1] if holes and holes[0][0] == start else None
    last = holes.pop()[0] if holes and holes[-1][1] == end else None
    parts = []
    if first and last:
        parts.append(f"observed only from {moment(first, zone)} to {moment(last, zone)}")
    elif first:
        parts.append(f"observed only from {moment(first, zone)}")
    elif last:
        parts.append(f"observed only until {moment(last, zone)}")
    if len(holes) > NAMED_HOLES:
        # A week rebuilt from imported items is observed at each item's moment: dozens of holes, which a
        # reader cannot take in, and the digest repeats for each theme. Their number and length say it.
        hours = sum((until - since for since, until in holes), timedelta()) / timedelta(hours=1)
        parts.append(f"not observed in {len(holes)} stretches between ({hours:.0f} hours in all)")
    else:
        parts += [f"not observed {moment(since, zone)} to {moment(until, zone)}" for since, until in holes]
    return "; ".join(parts)


def moment(when: datetime, zone: ZoneInfo) -> str:
    local = when.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %H:%M}"


def whole_again(outages: Sequence[Outage], gaps: Sequence[Gap]) -> tuple[Outage, ...]:
    """The outages after which the feed came back still carrying what it published meanwhile: no gap of
    that feed overlaps them, so nothing is missing, and the digest says so rather than leave the failure
    unsaid."""
    return tuple(
        o for o in outages if not any(g.feed == o.feed and g.since <= o.back and g.until >= o.since for g in gaps)
    )
