"""One week's matches -> a `Digest`: what was said about each theme, by whom, how it changed, and why
each item is there. Pure: the week's data and `now` come in, a record goes out; `render.py` turns it into
text and HTML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from ..types import EventRow, Evidence, FeedTrouble, ThemedItem, ThemeSpec, WeekData
from ..weeks import week_coverage
from .events import events
from .groups import OTHER, GroupCoverage, coverage, group_names, group_troubles, memberships, output

SUMMARY_CHARS = 280
CONTEXT_CHARS = 70
EVIDENCE_SHOWN = 2
REPORTS_SHOWN = 8  # other outlets' reports listed under an event; the rest are counted
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
class Report:
    """One outlet's report of an event: its own headline and link, and when it was published."""

    outlet: str
    title: str
    link: str | None  # http(s) only
    published: datetime  # in the digest's time zone
    date_known: bool


@dataclass(frozen=True, slots=True)
class Story:
    """An event: the same happening, reported by one outlet or several in their own words (events.py).
    Its headline is its best-scoring report; `first` is the earliest report, `reports` the other outlets'
    (the headline's outlet excluded)."""

    title: str
    link: str | None
    outlet: str
    also: tuple[str, ...]  # the other outlets that reported it
    published: datetime  # in the digest's time zone
    date_known: bool  # False when the feed gave no date and the first-seen time stands in
    score: int
    late: bool
    summary: str
    why: tuple[Why, ...]
    items: int
    outlets: int = 1  # how many outlets reported it
    first: Report | None = None  # the earliest report (perhaps the headline's outlet's)
    reports: tuple[Report, ...] = ()  # each other outlet's first report, earliest first, REPORTS_SHOWN at most
    more: int = 0  # other outlets' reports not listed
    item_ids: tuple[int, ...] = ()  # every report, earliest first
    headline_item: int = 0


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
    # "+2 on last week (1)", "as last week", or why a figure would mislead: "last week not polled"
    compared: str = ""
    groups: tuple[GroupCoverage, ...] = ()  # who says what: its coverage by outlet group

    @property
    def change(self) -> int:
        return self.items - self.previous

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

    @property
    def empty(self) -> bool:
        return self.matched_items == 0 and self.late_items == 0

    @property
    def caveat(self) -> str:
        """What this week's figures miss, said beside them: the part of the week not polled, failing feeds."""
        parts = []
        if self.coverage == "none":
            parts.append("only what feeds still carried after the week")
        elif self.coverage == "partial" and self.polled_since:
            since = self.polled_since
            parts.append(f"this week polled only from {since:%A} {since.day} {since:%B %H:%M}")
        # A stale feed answered: it costs no coverage that polling could have had, but its silence is news.
        failing = sum(1 for t in self.troubled if not t.stale)
        stale = len(self.troubled) - failing
        if failing:
            parts.append(f"{failing} feed{'s' if failing > 1 else ''} failing")
        if stale:
            parts.append(f"{stale} feed{'s' if stale > 1 else ''} stale")
        return "; ".join(parts)

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
) -> Digest:
    zone = ZoneInfo(timezone)
    first_day = data.start.astimezone(zone).date()
    polled_since = data.polled_since.astimezone(zone) if data.polled_since else None
    previous_coverage = week_coverage(data.start - (data.end - data.start), data.start, data.polled_since)
    days = tuple(first_day + timedelta(days=n) for n in range(7))
    names = group_names(groups, data.feed_tags)
    member = memberships(names, data.feed_tags)
    published = output(data.carried, member)
    troubles = group_troubles(((t.name, _trouble_note(t, zone)) for t in data.troubled), member)
    sections = []
    for index, (key, theme) in enumerate(themes.items()):
        items = [i for i in data.items if i.theme == key]
        current = [i for i in items if not i.late]
        per_day = Counter(i.published.astimezone(zone).date() for i in current)
        grouped = events(items)
        # Widely reported first: an event five outlets covered matters more than one outlet's best match.
        stories = sorted(
            (_story(group, zone) for group in grouped), key=lambda s: (-s.outlets, -s.score, -s.published.timestamp())
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
                per_day=tuple(per_day[d] for d in days),
                compared=_compared(len(current), previous, previous_coverage, polled_since),
                groups=coverage(grouped, names, member, published, troubles),
            )
        )
    chart, chart_max = _chart(sections)
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
        coverage=week_coverage(data.start, data.end, data.polled_since),
        previous_coverage=previous_coverage,
        polled_since=polled_since,
    )


def _compared(items: int, previous: int, previous_coverage: str, polled_since: datetime | None) -> str:
    """The change on last week, with last week's figure, unless last week was not polled: then a figure would
    compare with nothing. No change is "as last week": "(0 on last week)" read as "none last week"."""
    if previous_coverage == "none":
        return "last week not polled"
    partly = f", polled only from {polled_since:%A}" if previous_coverage == "partial" and polled_since else ""
    change = items - previous
    if change == 0:
        return f"as last week{' (' + partly[2:] + ')' if partly else ''}"
    signed = f"+{change}" if change > 0 else str(change)
    return f"{signed} on last week ({previous}{partly})"


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


def _story(group: Sequence[ThemedItem], zone: ZoneInfo) -> Story:
    """An event from its items (in order of publication)."""
    lead = max(group, key=lambda i: (i.score, -i.published.timestamp()))
    outlet = _outlet(lead)
    summary = (
        lead.summary if len(lead.summary) <= SUMMARY_CHARS else lead.summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    )
    reports = _reports(group, zone)
    first = reports[0] if reports else None
    others = [r for r in reports if r.outlet != outlet]
    return Story(
        title=lead.title,
        link=lead.link if _safe_link(lead.link) else None,
        outlet=outlet,
        also=tuple(r.outlet for r in others),
        published=lead.published.astimezone(zone),
        date_known=lead.date_source != "first_seen",
        score=max(i.score for i in group),
        late=all(i.late for i in group),
        summary=summary,
        why=tuple(_why(e, lead) for e in lead.evidence[:EVIDENCE_SHOWN]),
        items=len(group),
        outlets=max(1, len(reports)),
        first=first,
        reports=tuple(others[:REPORTS_SHOWN]),
        more=max(0, len(others) - REPORTS_SHOWN),
        item_ids=tuple(i.item_id for i in group),
        headline_item=lead.item_id,
    )


def _outlet(item: ThemedItem) -> str:
    return item.outlets[0] if item.outlets and item.outlets[0] else "unknown feed"


def _reports(group: Sequence[ThemedItem], zone: ZoneInfo) -> list[Report]:
    """Each outlet's first report of the event, earliest first. An item several feeds carried is each one's
    report, under the same link."""
    seen: dict[str, Report] = {}
    for item in group:
        for outlet in [o for o in item.outlets if o] or ["unknown feed"]:
            if outlet not in seen:
                seen[outlet] = Report(
                    outlet,
                    item.title,
                    item.link if _safe_link(item.link) else None,
                    item.published.astimezone(zone),
                    item.date_source != "first_seen",
                )
    return list(seen.values())


def event_rows(digest: Digest) -> list[EventRow]:
    """The digest's events as the `events` table keeps them."""
    rows = []
    for section in digest.sections:
        for number, story in enumerate(section.stories, start=1):
            first = story.first or Report(story.outlet, story.title, story.link, story.published, story.date_known)
            rows.append(
                EventRow(
                    theme=section.key,
                    event=number,
                    headline_item=story.headline_item,
                    headline=story.title,
                    outlets=story.outlets,
                    items=story.item_ids,
                    first_outlet=first.outlet,
                    first_item=story.item_ids[0] if story.item_ids else 0,
                    first_published=first.published.astimezone(UTC),
                    score=story.score,
                )
            )
    return rows


def _safe_link(link: str | None) -> bool:
    return bool(link) and link.split(":", 1)[0].lower() in ("http", "https")  # type: ignore[union-attr]


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


def _chart(sections: Sequence[Section]) -> tuple[tuple[ChartRow, ...], int]:
    """Matches per day, a row of bars per theme, all on one scale (the week's busiest day)."""
    peak = max((n for s in sections for n in s.per_day), default=0)
    if not sections or peak == 0:
        return (), 0
    return tuple(
        ChartRow(
            label=s.label,
            color=s.color,
            bars=tuple(Bar(n, max(1, round(CHART_HEIGHT * n / peak)) if n else 0) for n in s.per_day),
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
