"""PURE: how well the themes agree with the analysts' labels, and what a theme edit would change.

Labels in, figures out: per theme precision, recall and F1 over the items judged for that theme, with the
items it gets wrong; the items that would enter or leave each theme if the stored ones were matched again;
and the reading of label files in the format of `../shared/eval/` (`{"link": ..., "themes": [...]}`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..jsonlines import JsonLine
from ..match.rules import Matcher
from ..types import ThemeSpec


@dataclass(frozen=True, slots=True)
class Wrong:
    """An item a theme gets wrong: matched though judged "no" (a false positive) or missed though judged
    "yes" (a false negative, with its best score below the threshold: 0 when nothing of the theme stood)."""

    item_id: int
    title: str
    score: int
    verdict: bool


@dataclass(frozen=True, slots=True)
class Figures:
    """A theme's decisions on its labelled items."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class ThemeQuality(Figures):
    theme: str
    tn: int
    wrong: tuple[Wrong, ...]

    @property
    def judged(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


def quality(
    themes: Sequence[str],
    verdicts: Mapping[tuple[int, str], bool],
    scores: Mapping[int, Mapping[str, int]],
    titles: Mapping[int, str],
    near: Mapping[int, Mapping[str, int]] | None = None,
) -> list[ThemeQuality]:
    """Per theme, the matcher's decisions (`scores`: item -> {theme: score} of its matches) against the
    analysts' `verdicts`. `near` gives a missed item's best score below the threshold, where known."""
    out = []
    for theme in themes:
        counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
        wrong = []
        for (item_id, judged_theme), verdict in sorted(verdicts.items()):
            if judged_theme != theme:
                continue
            matched = theme in scores.get(item_id, {})
            counts[("t" if matched == verdict else "f") + ("p" if matched else "n")] += 1
            if matched != verdict:
                score = scores[item_id][theme] if matched else (near or {}).get(item_id, {}).get(theme, 0)
                wrong.append(Wrong(item_id, titles.get(item_id, ""), score, verdict))
        out.append(ThemeQuality(theme=theme, wrong=tuple(wrong), **counts))
    return out


def macro_f1(figures: Sequence[ThemeQuality]) -> float:
    judged = [f for f in figures if f.judged]
    return sum(f.f1 for f in judged) / len(judged) if judged else 0.0


def measure(
    themes: Mapping[str, ThemeSpec],
    verdicts: Mapping[tuple[int, str], bool],
    texts: Mapping[int, tuple[str, str]],
) -> tuple[list[ThemeQuality], str]:
    """The rules of `themes` measured on the `verdicts` of the items whose (title, summary) `texts` are given
    (a verdict on another item, or another theme, is left out), and the version of the rules that measured."""
    verdicts = {key: v for key, v in verdicts.items() if key[0] in texts and key[1] in themes}
    matcher = Matcher(themes)
    scores = {item_id: {m.theme: m.score for m in matcher.match(*text)} for item_id, text in texts.items()}
    # A missed item's best score under the threshold says how near it came (phrases weaker than the
    # threshold count here, so this matcher is only asked about misses).
    relaxed = Matcher({key: replace(spec, threshold=1) for key, spec in themes.items()})
    missed = {item_id for (item_id, theme), verdict in verdicts.items() if verdict and theme not in scores[item_id]}
    near = {item_id: {m.theme: m.score for m in relaxed.match(*texts[item_id])} for item_id in missed}
    figures = quality(list(themes), verdicts, scores, {i: t[0] for i, t in texts.items()}, near)
    return figures, matcher.version


def quality_json(figures: Sequence[ThemeQuality]) -> dict[str, Any]:
    return {
        "themes": [
            {
                "theme": f.theme,
                "precision": round(f.precision, 3),
                "recall": round(f.recall, 3),
                "f1": round(f.f1, 3),
                "tp": f.tp,
                "fp": f.fp,
                "fn": f.fn,
                "tn": f.tn,
                "judged": f.judged,
                "wrong": [
                    {
                        "item_id": w.item_id,
                        "title": w.title,
                        "score": w.score,
                        "error": "missed" if w.verdict else "wrongly matched",
                    }
                    for w in f.wrong
                ],
            }
            for f in figures
        ],
        "macro_f1": round(macro_f1(figures), 3),
    }


@dataclass(frozen=True, slots=True)
class Change:
    """An item that would enter (score now) or leave (score stored) a theme on `monitor rematch`."""

    item_id: int
    title: str
    theme: str
    entering: bool
    score: int


def changes(items: Iterable[tuple[int, str, Mapping[str, int], Mapping[str, int]]]) -> list[Change]:
    """From (id, title, stored {theme: score}, now {theme: score}): who enters and who leaves each theme."""
    out = []
    for item_id, title, stored, now in items:
        out += [Change(item_id, title, theme, True, score) for theme, score in now.items() if theme not in stored]
        out += [Change(item_id, title, theme, False, score) for theme, score in stored.items() if theme not in now]
    return sorted(out, key=lambda c: (c.theme, not c.entering, c.item_id))


@dataclass(frozen=True, slots=True)
class LabelLine:
    number: int
    link: str
    themes: frozenset[str]


def read_label_lines(lines: Iterable[JsonLine], name: str) -> tuple[list[LabelLine], list[str]]:
    """The lines of a label file, and a problem (file:line: what) for each line that is not
    `{"link": "...", "themes": ["...", ...]}`."""
    good, problems = [], []
    for line in lines:
        if line.problem is not None:
            problems.append(f"{name}:{line.number}: {line.problem}")
            continue
        obj = line.value if isinstance(line.value, dict) else {}
        link, themes = obj.get("link"), obj.get("themes") or []
        if not isinstance(link, str) or not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
            problems.append(f'{name}:{line.number}: not a JSON object with "link" and "themes" (a list of strings)')
            continue
        good.append(LabelLine(line.number, link, frozenset(themes)))
    return good, problems
