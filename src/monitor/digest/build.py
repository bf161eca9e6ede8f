"""One week's matches -> a `Digest`: what was said about each theme, by whom, how it changed, and why
each item is there. Pure: the week's data and `now` come in, a record goes out; `render.py` turns it into
text and HTML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..types import EventRow, EventTheme, Evidence, FeedTrouble, Outage, ThemedItem, ThemeSpec, WeekData
from . import observed as seen
from .groups import OTHER, GroupCoverage, coverage, group_names, group_troubles, memberships, output
from .stories import COMPACT_AFTER, SUMMARY_CHARS, Report, WeekEvent, glance, week_of

CONTEXT_CHARS = 70
EVIDENCE_SHOWN = 2
CHART_HEIGHT = 48  # pixels of the week's busiest day's bar
BUSIEST = 5
PALETTE = ("#b03a2e", "#1f618d", "#b9770e", "#117864", "#6c3483", "#515a5a")


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of text, marked when it is matched evidence (highlighted by the templates, escaped)."""

    text: str
    marked: bool = False


@dataclass(frozen=True, slots=True)
class Quote:
    """One field of the item (title or summary) around a piece of evidence's spans in it, the spans marked."""

    field: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Why:
    kind: str  # phrase | rule
    name: str
    score: int
    quotes: tuple[Quote, ...]  # every field the evidence stands in, title first (as `monitor match` shows it)

    # A template written when evidence showed one field (an override in `digest.templates_dir`) still works.
    @property
    def field(self) -> str:
        return self.quotes[0].field

    @property
    def segments(self) -> tuple[Segment, ...]:
        return self.quotes[0].segments


@dataclass(frozen=True, slots=True)
class Story:
    """A week's event as a theme's section shows it (stories.py): the same number, headline and reports in
    every section it is in, with the section's own score and evidence, and the other themes it is in. Its
    headline is the report that best represents it; `first` is the earliest report; `reports` every report,
    the first published first."""

    title: str
    link: str | None
    outlet: str
    also: tuple[str, ...]  # the other outlets that reported it
    published: datetime  # in the digest's time zone
    date_known: bool  # False when the feed gave no date and the first-seen time stands in
    score: int  # the best of its reports' scores for the section's theme
    late: bool
    summary: str
    why: tuple[Why, ...]  # the evidence of its best report for the section's theme
    items: int  # its reports, whatever their themes
    outlets: int = 1  # how many outlets reported it
    first: Report | None = None  # the earliest report (perhaps the headline)
    reports: tuple[Report, ...] = ()  # every report, the first published first
    more: int = 0  # reports not listed: none since issue 21 (kept for override templates that print it)
    item_ids: tuple[int, ...] = ()  # every report, earliest first
    headline_item: int = 0
    number: int = 0  # the event's number in the week (1 = the most widely reported), the same in every section
    also_in: tuple[str, ...] = ()  # the labels of the other themes whose sections show it
    theme_items: tuple[int, ...] = ()  # its reports matched to the section's theme, earliest first
    compact: bool = False  # so many reports that they are listed one line each
    model_only: bool = False  # its evidence's report was matched by the theme's learned model, not its rules
    model_items: tuple[int, ...] = ()  # its reports the learned model matched to the theme where the rules did not


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    label: str
    description: str
    color: str
    stories: tuple[Story, ...]
    items: int
    previous: int
    per_day: tuple[int, ...]
    # "+2 on last week (1)", "as last week", or why a figure would mislead: "last week: not observed"
    compared: str = ""
    groups: tuple[GroupCoverage, ...] = ()  # who says what: its coverage by outlet group
    observed_days: tuple[bool, ...] = ()  # whether any feed was observed on each day (empty: every day)

    @property
    def change(self) -> int:
        return self.items - self.previous

    @property
    def marks(self) -> str:
        """Its days as a sparkline, "?" on a day nothing was observed (not a zero: unknown)."""
        line = sparkline(self.per_day)
        return "".join("?" if not self._seen(n) else c for n, c in enumerate(line))

    @property
    def figures(self) -> tuple[str, ...]:
        """Its figure of each day, "?" on a day nothing was observed."""
        return tuple(str(n) if self._seen(day) else "?" for day, n in enumerate(self.per_day))

    def _seen(self, day: int) -> bool:
        return not self.observed_days or self.observed_days[day]

    @property
    def by_group(self) -> tuple[GroupCoverage, ...]:
        """Its coverage by outlet group, none when no feed is tagged ("other" alone tells nothing)."""
        return () if [g.name for g in self.groups] == [OTHER] else self.groups


@dataclass(frozen=True, slots=True)
class Bar:
    """One day's matches of one theme: the value printed under a bar drawn as a table cell, which every
    e-mail client shows (Gmail and Outlook desktop drop inline SVG)."""

    count: int
    height: int  # pixels, CHART_HEIGHT for the week's busiest day; at least 1 for a day with any
    observed: bool = True  # False: no feed was observed that day, the count is no figure


@dataclass(frozen=True, slots=True)
class ChartRow:
    label: str
    color: str
    bars: tuple[Bar, ...]  # a day each, the week's first day first


@dataclass(frozen=True, slots=True)
class Digest:
    week: str
    timezone: str
    first_day: date
    last_day: date
    days: tuple[date, ...]
    generated: datetime
    subject: str
    sections: tuple[Section, ...]
    total_items: int
    matched_items: int
    late_items: int
    outlets: tuple[tuple[str, int], ...]
    troubled: tuple[FeedTrouble, ...]
    chart: tuple[ChartRow, ...]
    chart_max: int
    late_since: datetime | None = None  # in the digest's time zone: due then, delivery failed until `generated`
    # How much of the week, and of the week before, was polled: full | partial | none (see weeks.week_coverage),
    # and since when (the first successful poll, in the digest's time zone; None: none yet).
    coverage: str = "full"
    previous_coverage: str = "full"
    polled_since: datetime | None = None
    events: tuple[WeekEvent, ...] = ()  # the week's events, across themes, the most widely reported first
    glance: tuple[WeekEvent, ...] = ()  # the week's main events: the first few that several outlets reported
    # What of the week was not observed, in words ("observed only from Thursday 28 September 02:30"), of
    # the week before, and the feeds that failed and came back with part of their output perhaps missing.
    unobserved: str = ""
    previous_unobserved: str = ""
    gaps: tuple[seen.Gap, ...] = ()
    many_gaps: tuple[seen.Gaps, ...] = ()  # feeds with too many gaps to name, counted
    recovered: tuple[Outage, ...] = ()  # feeds that failed and came back carrying all they published meanwhile
    day_observed: tuple[bool, ...] = ()  # whether any feed was observed on each day of the week (of a day: each mark)
    span: str = "week"  # week | day: what the digest covers, as its text words it (a daily digest's is one day)

    @property
    def columns(self) -> tuple[str, ...]:
        """The chart's columns: a week's days, or a day's stretches of DAY_MARK hours."""
        if self.span == "day":
            return tuple(f"{hour:02d}:00" for hour in range(0, 24, DAY_MARK_HOURS))
        return tuple(day.strftime("%a %d") for day in self.days)

    @property
    def empty(self) -> bool:
        return self.matched_items == 0 and self.late_items == 0

    @property
    def caveat(self) -> str:
        """What this week's figures miss, said beside them: the part of the week not polled, failing feeds."""
        parts = []
        if self.coverage == "none":
            parts.append(f"this {self.span} not observed")
        elif self.coverage == "partial" and self.unobserved:
            parts.append(f"this {self.span} {self.unobserved}")
        # A stale feed answered: it costs no coverage that polling could have had, but its silence is news.
        failing = sum(1 for t in self.troubled if not t.stale)
        stale = len(self.troubled) - failing
        if failing:
            parts.append(f"{failing} feed{'s' if failing > 1 else ''} failing")
        if stale:
            parts.append(f"{stale} feed{'s' if stale > 1 else ''} stale")
        return "; ".join(parts)

    @property
    def dark_days(self) -> bool:
        """Whether a day of the week had no observation (the chart marks it)."""
        return bool(self.day_observed) and not all(self.day_observed)

    @property
    def trouble_heading(self) -> str:
        """The heading of the feeds in trouble: failing ones, stale ones (they answer, with nothing new), or both."""
        stale = any(t.stale for t in self.troubled)
        failing = any(not t.stale for t in self.troubled)
        return "Failing and stale feeds" if stale and failing else "Stale feeds" if stale else "Failing feeds"


def build(
    data: WeekData,
    themes: Mapping[str, ThemeSpec],
    *,
    timezone: str,
    now: datetime,
    subject_template: str,
    delivery_late_since: datetime | None = None,
    groups: Sequence[str] = (),
    span: str = "week",
) -> Digest:
    """`span` "day": the digest of one day ([data.start, data.end) a day), its figures compared with the day
    before and its chart a mark every DAY_MARK_HOURS, as a daily subscription gets it (issue 24)."""
    zone = ZoneInfo(timezone)
    first_day = data.start.astimezone(zone).date()
    polled_since = data.polled_since.astimezone(zone) if data.polled_since else None
    days = tuple(first_day + timedelta(days=n) for n in range(7))
    spans = data.observed if data.observed is not None else seen.since_polled(data.polled_since)
    observed = seen.union(spans)
    upto = max(data.start, min(data.end, now))  # a week not over is observed up to now, at most
    this_week = seen.coverage(observed, data.start, upto) if upto > data.start else seen.Coverage("none", ())
    previous_start = data.start - (data.end - data.start)
    last_week = seen.coverage(observed, previous_start, data.start)
    so_far = [(since, min(until, upto)) for since, until in observed if since < upto]
    day_observed = seen.days_observed(so_far, days, zone)
    marks: list[tuple[datetime, datetime]] = []
    if span == "day":
        days = (first_day,)
        marks = _day_marks(first_day, zone)
        day_observed = tuple(any(since < b and until > a for since, until in so_far) for a, b in marks)
    unobserved = seen.described(this_week, data.start, upto, zone)
    gaps = seen.gaps(spans, data.start, upto)
    previous_unobserved = seen.described(last_week, previous_start, data.start, zone)
    names = group_names(groups, data.feed_tags)
    member = memberships(names, data.feed_tags)
    published = output(data.carried, member)
    dark = seen.by_group(spans, member, data.start, upto) if data.observed is not None else {}
    troubles = group_troubles(((t.name, _trouble_note(t, zone)) for t in data.troubled), member)
    labels = {key: theme.label for key, theme in themes.items()}
    week, members = week_of(data.items, labels, member, zone)
    sections = []
    for index, (key, theme) in enumerate(themes.items()):
        items = [i for i in data.items if i.theme == key]
        current = [i for i in items if not i.late]
        per_day = Counter(i.published.astimezone(zone).date() for i in current)
        touched = [(event, members[event.number][key]) for event in week if key in members[event.number]]
        # Widely reported first: an event five outlets covered matters more than one outlet's best match.
        stories = sorted(
            (_story(event, mine, key) for event, mine in touched),
            key=lambda s: (-s.outlets, -s.score, -s.published.timestamp()),
        )
        previous = data.previous.get(key, 0)
        sections.append(
            Section(
                key=key,
                label=theme.label,
                description=theme.description,
                color=PALETTE[index % len(PALETTE)],
                stories=tuple(stories),
                items=len(current),
                previous=previous,
                per_day=(
                    tuple(sum(1 for i in current if a <= i.published < b) for a, b in marks)
                    if span == "day"
                    else tuple(per_day[d] for d in days)
                ),
                compared=_compared(
                    len(current),
                    previous,
                    this_week.state,
                    last_week.state,
                    previous_unobserved,
                    "the day before" if span == "day" else "last week",
                ),
                groups=coverage([mine for _, mine in touched], names, member, published, troubles, dark),
                observed_days=day_observed,
            )
        )
    chart, chart_max = _chart(sections, day_observed)
    return Digest(
        week=data.week,
        timezone=timezone,
        first_day=first_day,
        last_day=days[-1],
        days=days,
        generated=now.astimezone(zone),
        subject=subject_line(subject_template, data.week),
        sections=tuple(sections),
        total_items=data.total_items,
        matched_items=len({i.item_id for i in data.items if not i.late}),
        late_items=len({i.item_id for i in data.items if i.late}),
        outlets=_busiest(data.items),
        troubled=tuple(_local(t, zone) for t in data.troubled),
        chart=chart,
        chart_max=chart_max,
        late_since=delivery_late_since.astimezone(zone) if delivery_late_since else None,
        coverage=this_week.state,
        previous_coverage=last_week.state,
        polled_since=polled_since,
        events=week,
        glance=glance(week),
        unobserved=unobserved,
        previous_unobserved=previous_unobserved,
        gaps=tuple(
            replace(g, since=g.since.astimezone(zone), until=g.until.astimezone(zone), reach=g.reach.astimezone(zone))
            for g in seen.named(gaps)[0]
        ),
        many_gaps=seen.named(gaps)[1],
        recovered=tuple(
            replace(o, since=o.since.astimezone(zone), back=o.back.astimezone(zone))
            for o in seen.whole_again(data.outages, gaps)
        ),
        day_observed=day_observed,
        span=span,
    )


DAY_MARK_HOURS = 4  # a day's chart: six marks, night, morning, midday, afternoon, evening, late


def _day_marks(day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The day's stretches of DAY_MARK_HOURS, in its time zone."""
    starts = [datetime.combine(day, time(hour), zone) for hour in range(0, 24, DAY_MARK_HOURS)]
    return list(zip(starts, [*starts[1:], datetime.combine(day + timedelta(days=1), time(), zone)], strict=True))


def _compared(
    items: int, previous: int, this_week: str, last_week: str, previously: str, before: str = "last week"
) -> str:
    """The change on last week, with last week's figure, only when both weeks were observed throughout:
    else a figure would compare what was observed with what was not. No change is "as last week": "(0 on
    last week)" read as "none last week". `before`: the period compared with (a day's: "the day before")."""
    if last_week == "none":
        return f"{before}: not observed"
    if last_week == "partial":
        return f"not compared with {before} ({previous}): {before} {previously}"
    if this_week != "full":  # the caveat beside it says what of this week was not observed
        return f"not compared with {before} ({previous})"
    change = items - previous
    if change == 0:
        return f"as {before}"
    signed = f"+{change}" if change > 0 else str(change)
    return f"{signed} on {before} ({previous})"


def _busiest(items: Sequence[ThemedItem]) -> tuple[tuple[str, int], ...]:
    """The outlets that carried most of the week's matched items (each item once, whatever its themes):
    an outlet's sport and weather do not make it busy on the themes."""
    carried: dict[int, tuple[str, ...]] = {i.item_id: i.outlets for i in items if not i.late}
    counts = Counter(o for outlets in carried.values() for o in dict.fromkeys(outlets) if o)
    return tuple(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:BUSIEST])


def _local(trouble: FeedTrouble, zone: ZoneInfo) -> FeedTrouble:
    return replace(
        trouble,
        since=trouble.since.astimezone(zone) if trouble.since else None,
        failing_from=trouble.failing_from.astimezone(zone) if trouble.failing_from else None,
        stale=trouble.stale.astimezone(zone) if trouble.stale else None,
    )


def _trouble_note(trouble: FeedTrouble, zone: ZoneInfo) -> str:
    """A failing feed's note, beside its group's figures (the digest's list of feeds in trouble says the error)."""
    if trouble.dead:
        return "dead (410 Gone)"
    if trouble.stale:
        newest = trouble.stale.astimezone(zone)
        return f"stale: nothing new since {newest:%A} {newest.day} {newest:%B}"
    if trouble.failing_from:
        start = trouble.failing_from.astimezone(zone)
        return f"failing since {start:%A} {start.day} {start:%B}"
    if trouble.since:
        since = trouble.since.astimezone(zone)
        return f"failing since it was added on {since:%A} {since.day} {since:%B}"
    return "failed all week"


def subject_line(template: str, week: str) -> str:
    """The subject with {week} filled in; line breaks cannot reach the header."""
    return " ".join(template.replace("{week}", week).split())


def _story(event: WeekEvent, mine: Sequence[ThemedItem], theme: str) -> Story:
    """An event as the section of `theme` shows it; `mine`: its items matched to the theme. Its evidence is
    the headline's when the headline matched the theme, else the theme's best-matching report's."""
    lead = max(mine, key=lambda i: (i.item_id == event.headline.item_id, i.score, -i.published.timestamp()))
    headline = event.headline
    return Story(
        title=headline.title,
        link=headline.link,
        outlet=headline.outlet,
        also=tuple(o for o in event.outlets if o != headline.outlet),
        published=headline.published,
        date_known=headline.date_known,
        score=max(i.score for i in mine),
        late=event.late,
        summary=event.summary,
        why=tuple(_why(e, lead) for e in lead.evidence[:EVIDENCE_SHOWN]),
        model_only=_model_only(lead),
        model_items=tuple(i.item_id for i in mine if _model_only(i)),
        items=len(event.reports),
        outlets=max(1, len(event.outlets)),
        first=event.first,
        reports=event.reports,
        item_ids=event.item_ids,
        headline_item=headline.item_id,
        number=event.number,
        also_in=tuple(label for key, label in zip(event.themes, event.labels, strict=True) if key != theme),
        theme_items=tuple(i.item_id for i in mine),
        compact=len(event.reports) > COMPACT_AFTER,
    )


def _model_only(item: ThemedItem) -> bool:
    """Matched by the theme's learned model where its rules did not: its evidence is the model's alone."""
    return bool(item.evidence) and all(e.kind == "model" for e in item.evidence)


def event_rows(digest: Digest) -> list[EventRow]:
    """The digest's events as the `events` and `event_themes` tables keep them: a row per event of the week,
    and where each theme's section shows it."""
    places: dict[int, list[EventTheme]] = {}
    for section in digest.sections:
        for place, story in enumerate(section.stories, start=1):
            places.setdefault(story.number, []).append(
                EventTheme(theme=section.key, place=place, items=story.theme_items, score=story.score)
            )
    at_glance = {event.number: place for place, event in enumerate(digest.glance, start=1)}
    return [
        EventRow(
            event=event.number,
            headline_item=event.headline.item_id,
            headline=event.headline.title,
            outlets=len(event.outlets),
            outlet_groups=event.groups,
            items=event.item_ids,
            first_outlet=event.first.outlet,
            first_item=event.first.item_id,
            first_published=event.first.published.astimezone(UTC),
            score=event.score,
            themes=tuple(places.get(event.number, ())),
            glance=at_glance.get(event.number),
        )
        for event in digest.events
    ]


def _why(evidence: Evidence, item: ThemedItem) -> Why:
    """The evidence in its context: each field it stands in, around its spans there, the spans marked. A rule
    may take terms from the title and from the summary; showing only one field made it look groundless."""
    fields = [f for f in ("title", "summary") if any(s.field == f for s in evidence.spans)] or ["title"]
    quotes = tuple(_quote(evidence, field, item.title if field == "title" else item.summary) for field in fields)
    return Why(evidence.kind, evidence.name, evidence.score, quotes)


def _quote(evidence: Evidence, field: str, text: str) -> Quote:
    spans = sorted({(s.start, s.end) for s in evidence.spans if s.field == field and s.end <= len(text)})
    if not spans:
        return Quote(field, (Segment(text[:SUMMARY_CHARS]),))
    start = max(0, spans[0][0] - CONTEXT_CHARS)
    end = min(len(text), spans[-1][1] + CONTEXT_CHARS)
    segments = [Segment("…")] if start > 0 else []
    position = start
    for span_start, span_end in spans:
        if span_start < position:
            continue
        if span_start > position:
            segments.append(Segment(text[position:span_start]))
        segments.append(Segment(text[span_start:span_end], marked=True))
        position = span_end
    segments.append(Segment(text[position:end] + ("…" if end < len(text) else "")))
    return Quote(field, tuple(segments))


def _chart(sections: Sequence[Section], observed: Sequence[bool] = ()) -> tuple[tuple[ChartRow, ...], int]:
    """Matches per day, a row of bars per theme, all on one scale (the week's busiest day); a day nothing
    was observed is marked, not drawn as a zero."""
    peak = max((n for s in sections for n in s.per_day), default=0)
    if not sections or peak == 0:
        return (), 0
    return tuple(
        ChartRow(
            label=s.label,
            color=s.color,
            bars=tuple(
                Bar(n, max(1, round(CHART_HEIGHT * n / peak)) if n else 0, not observed or observed[day])
                for day, n in enumerate(s.per_day)
            ),
        )
        for s in sections
    ), peak


def sparkline(counts: Sequence[int]) -> str:
    """Counts as a one-line bar chart for the text digest: ▁▂▃▄▅▆▇█ (a space for zero)."""
    blocks = "▁▂▃▄▅▆▇█"
    peak = max(counts, default=0)
    if not peak:
        return "·" * len(counts)
    return "".join("·" if n == 0 else blocks[min(7, (n * 8 - 1) // peak)] for n in counts)
