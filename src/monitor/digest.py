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

from .cluster import events
from .types import EventRow, Evidence, FeedTrouble, ThemedItem, ThemeSpec, WeekData
from .weeks import week_coverage

SUMMARY_CHARS = 280
CONTEXT_CHARS = 70
EVIDENCE_SHOWN = 2
REPORTS_SHOWN = 8  # other outlets' reports listed under an event; the rest are counted
PALETTE = ("#b03a2e", "#1f618d", "#b9770e", "#117864", "#6c3483", "#515a5a")


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of text, marked when it is matched evidence (highlighted by the templates, escaped)."""

    text: str
    marked: bool = False


@dataclass(frozen=True, slots=True)
class Why:
    kind: str  # phrase | rule
    name: str
    score: int
    field: str
    segments: tuple[Segment, ...]


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
    """An event: the same happening, reported by one outlet or several in their own words (cluster.py).
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
    compared: str = ""  # "+2 on last week", or why that figure means less: "last week not polled"

    @property
    def change(self) -> int:
        return self.items - self.previous


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str


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
    chart: tuple[Bar, ...]
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


def build(data: WeekData, themes: Mapping[str, ThemeSpec], *, timezone: str, now: datetime,
          subject_template: str, delivery_late_since: datetime | None = None) -> Digest:
    zone = ZoneInfo(timezone)
    first_day = data.start.astimezone(zone).date()
    polled_since = data.polled_since.astimezone(zone) if data.polled_since else None
    previous_coverage = week_coverage(data.start - (data.end - data.start), data.start, data.polled_since)
    days = tuple(first_day + timedelta(days=n) for n in range(7))
    sections = []
    for index, (key, theme) in enumerate(themes.items()):
        items = [i for i in data.items if i.theme == key]
        current = [i for i in items if not i.late]
        per_day = Counter(i.published.astimezone(zone).date() for i in current)
        # Widely reported first: an event five outlets covered matters more than one outlet's best match.
        stories = sorted((_story(group, zone) for group in events(items)),
                         key=lambda s: (-s.outlets, -s.score, -s.published.timestamp()))
        sections.append(Section(key=key, label=theme.label, description=theme.description,
                                color=PALETTE[index % len(PALETTE)], stories=tuple(stories), items=len(current),
                                previous=data.previous.get(key, 0), per_day=tuple(per_day[d] for d in days),
                                compared=_compared(len(current) - data.previous.get(key, 0), previous_coverage,
                                                   polled_since)))
    chart, chart_max = _chart(sections)
    return Digest(
        week=data.week, timezone=timezone, first_day=first_day, last_day=days[-1], days=days,
        generated=now.astimezone(zone), subject=subject_line(subject_template, data.week),
        sections=tuple(sections), total_items=data.total_items,
        matched_items=len({i.item_id for i in data.items if not i.late}),
        late_items=len({i.item_id for i in data.items if i.late}), outlets=data.outlets[:5],
        troubled=tuple(replace(t, since=t.since.astimezone(zone)) if t.since else t for t in data.troubled),
        chart=chart, chart_max=chart_max,
        late_since=delivery_late_since.astimezone(zone) if delivery_late_since else None,
        coverage=week_coverage(data.start, data.end, data.polled_since), previous_coverage=previous_coverage,
        polled_since=polled_since)


def _compared(change: int, previous_coverage: str, polled_since: datetime | None) -> str:
    """The change on last week, unless last week was not polled: then a figure would compare with nothing."""
    if previous_coverage == "none":
        return "last week not polled"
    signed = f"+{change}" if change > 0 else str(change)
    if previous_coverage == "partial" and polled_since:
        return f"{signed} on last week, polled only from {polled_since:%A}"
    return f"{signed} on last week"


def subject_line(template: str, week: str) -> str:
    """The subject with {week} filled in; line breaks cannot reach the header."""
    return " ".join(template.replace("{week}", week).split())


def _story(group: Sequence[ThemedItem], zone: ZoneInfo) -> Story:
    """An event from its items (in order of publication)."""
    lead = max(group, key=lambda i: (i.score, -i.published.timestamp()))
    outlet = _outlet(lead)
    summary = lead.summary if len(lead.summary) <= SUMMARY_CHARS else lead.summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    reports = _reports(group, zone)
    first = reports[0] if reports else None
    others = [r for r in reports if r.outlet != outlet]
    return Story(title=lead.title, link=lead.link if _safe_link(lead.link) else None, outlet=outlet,
                 also=tuple(r.outlet for r in others), published=lead.published.astimezone(zone),
                 date_known=lead.date_source != "first_seen", score=max(i.score for i in group),
                 late=all(i.late for i in group), summary=summary,
                 why=tuple(_why(e, lead) for e in lead.evidence[:EVIDENCE_SHOWN]), items=len(group),
                 outlets=max(1, len(reports)), first=first, reports=tuple(others[:REPORTS_SHOWN]),
                 more=max(0, len(others) - REPORTS_SHOWN), item_ids=tuple(i.item_id for i in group),
                 headline_item=lead.item_id)


def _outlet(item: ThemedItem) -> str:
    return item.outlets[0] if item.outlets and item.outlets[0] else "unknown feed"


def _reports(group: Sequence[ThemedItem], zone: ZoneInfo) -> list[Report]:
    """Each outlet's first report of the event, earliest first. An item several feeds carried is each one's
    report, under the same link."""
    seen: dict[str, Report] = {}
    for item in group:
        for outlet in [o for o in item.outlets if o] or ["unknown feed"]:
            if outlet not in seen:
                seen[outlet] = Report(outlet, item.title, item.link if _safe_link(item.link) else None,
                                      item.published.astimezone(zone), item.date_source != "first_seen")
    return list(seen.values())


def event_rows(digest: Digest) -> list[EventRow]:
    """The digest's events as the `events` table keeps them."""
    rows = []
    for section in digest.sections:
        for number, story in enumerate(section.stories, start=1):
            first = story.first or Report(story.outlet, story.title, story.link, story.published, story.date_known)
            rows.append(EventRow(theme=section.key, event=number, headline_item=story.headline_item,
                                 headline=story.title, outlets=story.outlets, items=story.item_ids,
                                 first_outlet=first.outlet, first_item=story.item_ids[0] if story.item_ids else 0,
                                 first_published=first.published.astimezone(UTC), score=story.score))
    return rows


def _safe_link(link: str | None) -> bool:
    return bool(link) and link.split(":", 1)[0].lower() in ("http", "https")  # type: ignore[union-attr]


def _why(evidence: Evidence, item: ThemedItem) -> Why:
    """The evidence in its context: the field's text around the spans, the spans marked."""
    field = evidence.spans[0].field if evidence.spans else "title"
    text = item.title if field == "title" else item.summary
    spans = sorted({(s.start, s.end) for s in evidence.spans if s.field == field and s.end <= len(text)})
    if not spans:
        return Why(evidence.kind, evidence.name, evidence.score, field, (Segment(text[:SUMMARY_CHARS]),))
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
    return Why(evidence.kind, evidence.name, evidence.score, field, tuple(segments))


def _chart(sections: Sequence[Section], width: float = 560, height: float = 120) -> tuple[tuple[Bar, ...], int]:
    """Bars of matches per day per theme, grouped by day, for the inline SVG."""
    peak = max((n for s in sections for n in s.per_day), default=0)
    if not sections or peak == 0:
        return (), 0
    group = width / 7
    bar = (group - 8) / len(sections)
    bars = []
    for day in range(7):
        for index, section in enumerate(sections):
            count = section.per_day[day]
            h = height * count / peak
            bars.append(Bar(x=round(day * group + 4 + index * bar, 1), y=round(height - h, 1),
                            width=round(bar - 1, 1), height=round(h, 1), color=section.color,
                            label=f"{section.label}: {count}"))
    return tuple(bars), peak


def sparkline(counts: Sequence[int]) -> str:
    """Counts as a one-line bar chart for the text digest: ▁▂▃▄▅▆▇█ (a space for zero)."""
    blocks = "▁▂▃▄▅▆▇█"
    peak = max(counts, default=0)
    if not peak:
        return "·" * len(counts)
    return "".join("·" if n == 0 else blocks[min(7, (n * 8 - 1) // peak)] for n in counts)
