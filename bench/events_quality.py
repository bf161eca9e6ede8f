"""How well events (digest/events.py) match editors' events, and each threshold chosen by cross-validation.

    python bench/events_quality.py [--titles-only] [--no-cv]

Two labelled sets:
- ../shared/eval/events.jsonl: 125 real items grouped by two editors (skipped, with a message, where ../shared
  is absent). Scored exactly as ../shared/eval/score_events.py scores it: pairwise precision, recall and F1
  on the pairs both editors agree on. Its items carry titles only; their summaries (as the feeds gave them)
  are joined from ../shared/eval/*items.jsonl by link, as the digest has them (--titles-only: without).
- tests/data/events_samples.jsonl: invented SAMPLE reports labelled from the editors' definition (the
  project's own, written from the definition, never from the eval sentences).

Each threshold (SIMILAR, the least mean similarity of an event's pairs; DECAY, what a day more apart costs;
SUMMARY, the weight of the summary's words) is chosen by leave-one-month-out cross-validation: for each
month, the grid point with the best F1 on the pairs of the other months is chosen and scored on every pair
of the held-out month (no event spans two months; pairs across months are in neither). The held-out
figures are the pooled counts of every month; the chosen values are shown per month, so a threshold that
only fits one month shows itself.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import itertools
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from common import EVAL, REPO

sys.path.insert(0, str(REPO / "src"))
from monitor.digest import events as grouping
from monitor.types import ThemedItem

SAMPLES = REPO / "tests" / "data" / "events_samples.jsonl"
WEEKS = REPO / "bench" / "data" / "events_weeks.jsonl"
GRID = {
    "SIMILAR": [round(0.05 + 0.025 * n, 3) for n in range(19)],
    "DECAY": [0.0, 0.3, 0.6],
    "SUMMARY": [0.0, 0.15, 0.3, 0.5],
    "KIND_APART": [0.25, 0.5, 0.75, 1.0],
    "OPPOSED": [0.0, 0.25, 0.5, 1.0],
    "ANSWER": [0.0, 0.25, 0.5, 1.0],
    "KIND_SAME": [0.0, 0.1, 0.15, 0.2, 0.25, 0.3],
}
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Labelled:
    items: list[ThemedItem]
    truth: dict[str, tuple[str, str]]  # link -> (editor 1's event, editor 2's event)
    batches: dict[str, str] | None = None  # link -> its week: grouped week by week, as the digest groups, held out so


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    def figures(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        return p, r, 2 * p * r / (p + r) if p + r else 0.0

    def __str__(self) -> str:
        p, r, f = self.figures()
        counts = f"grouped right {self.tp}, wrongly {self.fp}, missed {self.fn}"
        return f"precision {p:.3f} recall {r:.3f} F1 {f:.3f} ({counts})"


def when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load(path: Path, summaries: dict[str, str]) -> Labelled:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    summary = {row["link"]: row.get("summary") or summaries.get(row["link"], "") for row in rows}
    items = [item_of(row, n + 1, when(row["published"]), summary[row["link"]]) for n, row in enumerate(rows)]
    return Labelled(items, {row["link"]: (row["editor_1"], row["editor_2"]) for row in rows})


def item_of(row: dict[str, str], number: int, published: datetime, summary: str) -> ThemedItem:
    """A labelled row as the digest's grouping sees an item."""
    return ThemedItem(
        item_id=number,
        theme="t",
        score=90,
        evidence=(),
        title=row["title"],
        link=row["link"],
        summary=summary,
        published=published,
        date_source="published",
        outlets=(row["source"],),
    )


def load_weeks(path: Path, folder: Path, summaries: dict[str, str]) -> Labelled:
    """Whole weeks of ../shared/eval/items.jsonl grouped by the project (bench/data/events_weeks.jsonl): each
    event's items by the first 12 hex digits of their link's SHA-1 (the items themselves are not the
    project's to copy); every other item of a labelled week is an event of its own."""
    weeks = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    event = {key: f"{week['week']}-{name}" for week in weeks for name, keys in week["events"].items() for key in keys}
    # A week of the feed items and a week of the pages' ledes are two weeks, each grouped on its own.
    wanted = {(name, week["week"]): n for n, week in enumerate(weeks) for name in week.get("files", ["items.jsonl"])}
    items: list[ThemedItem] = []
    truth: dict[str, tuple[str, str]] = {}
    batches: dict[str, str] = {}
    for name in sorted({name for name, _ in wanted}):
        for line in (folder / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            try:
                published = when(row["published"])
            except (KeyError, TypeError, ValueError):
                continue
            batch = wanted.get((name, published.strftime("%G-W%V")))
            if batch is not None and row["link"] not in truth:
                key = hashlib.sha1(row["link"].encode()).hexdigest()[:12]
                label = event.get(key, f"alone-{key}")
                truth[row["link"]] = (label, label)
                batches[row["link"]] = str(batch)
                # The eval's summaries as plain text (`eval_summaries`), not the row's HTML.
                items.append(item_of(row, len(items) + 1, published, summaries.get(row["link"], "")))
    return Labelled(items, truth, batches)


def eval_summaries(folder: Path = EVAL) -> dict[str, str]:
    """Each eval item's summary as plain text (the store keeps it sanitized; grouping reads it as text)."""
    found = {}
    for path in sorted(folder.glob("*items.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                text = " ".join(html.unescape(_TAG.sub(" ", row.get("summary") or "")).split())
                if text:
                    found.setdefault(row["link"], text)
    return found


def score(groups: Sequence[Sequence[ThemedItem]], truth: dict[str, tuple[str, str]], links: set[str]) -> Counts:
    """score_events.py's count on the pairs of `links`: a pair counts only where both editors agree."""
    event = {item.link: n for n, group in enumerate(groups) for item in group}
    counts = Counts()
    for x, y in itertools.combinations(sorted(links), 2):
        same_1, same_2 = truth[x][0] == truth[y][0], truth[x][1] == truth[y][1]
        if same_1 != same_2:
            continue
        grouped = event[x] == event[y]
        counts.tp += grouped and same_1
        counts.fp += grouped and not same_1
        counts.fn += same_1 and not grouped
    return counts


def group(data: Labelled, similar: float = grouping.SIMILAR) -> list[list[ThemedItem]]:
    if data.batches is None:
        return grouping.events(data.items, similar=similar)
    weeks: dict[str, list[ThemedItem]] = {}
    for item in data.items:
        weeks.setdefault(data.batches[item.link], []).append(item)
    return [event for week in sorted(weeks) for event in grouping.events(weeks[week], similar=similar)]


def run(data: Labelled, point: dict[str, float]) -> list[list[ThemedItem]]:
    """Grouping with the grid point's values (module settings, restored after: the bench's own knobs)."""
    saved = {name: getattr(grouping, name) for name in point}
    try:
        for name, value in point.items():
            setattr(grouping, name, value)
        return group(data, similar=point["SIMILAR"])
    finally:
        for name, value in saved.items():
            setattr(grouping, name, value)


def folds(data: Labelled) -> list[set[str]]:
    """The items of each month: a held-out month is as a held-out week is, unseen reports with every pair
    among them scored (two different events of one month wrongly joined count against it)."""
    months: dict[str, set[str]] = {}
    for item in data.items:
        part = data.batches[item.link] if data.batches else item.published.strftime("%Y-%m")
        months.setdefault(part, set()).add(item.link)
    return [months[m] for m in sorted(months)]


def cross_validate(data: Labelled) -> None:
    """Each knob in turn over its grid, the others at their shipped values: fewer choices per fold than a
    grid of every combination, so less room to fit a month by chance."""
    parts = folds(data)
    for knob, values in GRID.items():
        shipped = {name: getattr(grouping, name) for name in GRID}
        points = [{**shipped, knob: value} for value in values]
        runs = [run(data, point) for point in points]
        held = Counts()
        chosen = []
        for part in parts:
            train = set(data.truth) - part
            fits = [score(groups, data.truth, train).figures()[2] for groups in runs]
            # Between equal fits, the value nearest the shipped one: a tie is no reason to move.
            best = max(range(len(values)), key=lambda m: (fits[m], -abs(values[m] - shipped[knob])))
            held.add(score(runs[best], data.truth, part))
            chosen.append(str(values[best]))
        whole = [score(groups, data.truth, set(data.truth)).figures()[2] for groups in runs]
        best = max(range(len(values)), key=lambda m: (whole[m], -abs(values[m] - shipped[knob])))
        print(f"  {knob} (shipped {shipped[knob]}): chosen per held-out month {', '.join(chosen)}; held out: {held}")
        print(f"    on all of it {values[best]} (F1 {whole[best]:.3f}); F1 by value: ", end="")
        print(" ".join(f"{v}:{f:.2f}" for v, f in zip(values, whole, strict=True)))


def report(name: str, data: Labelled) -> None:
    groups = group(data)
    several = sum(len(g) > 1 for g in groups)
    print(f"{name}: {len(data.items)} items, {len(groups)} events ({several} of several reports): ", end="")
    print(score(groups, data.truth, set(data.truth)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--titles-only", action="store_true", help="the eval items without their summaries")
    parser.add_argument("--no-cv", action="store_true", help="the figures at the shipped settings only")
    parser.add_argument("--eval", type=Path, default=EVAL, help="the folder of events.jsonl (../shared/eval)")
    args = parser.parse_args()
    if SAMPLES.exists():
        samples = load(SAMPLES, {})
        report("samples (tests/data/events_samples.jsonl)", samples)
        if not args.no_cv:
            cross_validate(samples)
    events = args.eval / "events.jsonl"
    if not events.exists():
        print(f"skipped the editors' set: {events} is absent (it lives in ../shared, beside the repository)")
        return
    summaries = {} if args.titles_only else eval_summaries(args.eval)
    editors = load(events, summaries)
    report(f"editors ({events}{', titles only' if args.titles_only else ''})", editors)
    if not args.no_cv:
        cross_validate(editors)
    weeks = load_weeks(WEEKS, args.eval, summaries)
    report(f"whole weeks of {args.eval / 'items.jsonl'} grouped by the project ({WEEKS.name})", weeks)
    if not args.no_cv:
        cross_validate(weeks)


if __name__ == "__main__":
    main()
