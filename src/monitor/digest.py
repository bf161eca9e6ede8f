"""One week's matches -> a `Digest`: what was said about each theme, by whom, how it changed, and why
each item is there. Pure: the week's data and `now` come in, a record goes out; `render.py` turns it into
text and HTML.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .cluster import cluster
from .types import Evidence, FeedTrouble, ThemedItem, ThemeSpec, WeekData
from .weeks import week_coverage

SUMMARY_CHARS = 280
CONTEXT_CHARS = 70
EVIDENCE_SHOWN = 2
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
class Story:
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
        stories = sorted((_story(group, zone) for group in cluster(items)),
                         key=lambda s: (-s.score, -(len(s.also) + 1), -s.published.timestamp()))
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
        troubled=tuple(replace(t, since=t.since and t.since.astimezone(zone),
                               stale=t.stale and t.stale.astimezone(zone)) for t in data.troubled),
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
    lead = max(group, key=lambda i: (i.score, -i.published.timestamp()))
    outlets = list(dict.fromkeys(o for item in group for o in item.outlets if o))
    outlet = lead.outlets[0] if lead.outlets and lead.outlets[0] else "unknown feed"
    summary = lead.summary if len(lead.summary) <= SUMMARY_CHARS else lead.summary[:SUMMARY_CHARS].rsplit(" ", 1)[0] + "…"
    return Story(title=lead.title, link=lead.link if _safe_link(lead.link) else None, outlet=outlet,
                 also=tuple(o for o in outlets if o != outlet), published=lead.published.astimezone(zone),
                 date_known=lead.date_source != "first_seen", score=max(i.score for i in group),
                 late=all(i.late for i in group), summary=summary,
                 why=tuple(_why(e, lead) for e in lead.evidence[:EVIDENCE_SHOWN]), items=len(group))


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
