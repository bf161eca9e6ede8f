"""PURE: which items are most worth an analyst's judgement for a theme, and which words the theme lacks.

Near misses are found through `Matcher`'s public face only, by matching with loosened copies of the theme:
each loosening that lets an item in names one reason it stayed out.

- `far apart`: every rule's `within` widened to the whole item: each group's term is there, too far apart;
- `gate`: without `require`: the evidence is there, none of the required terms;
- `excluded`: without `exclude`: an exclude term kept it out;
- `under threshold`: with the threshold lowered: its best score is at most NEAR below the threshold.

Suggestions come from labelled positives the theme misses: their words and two-word phrases, each with how
many of those items it would catch, and how many labelled negatives it would wrongly catch, were it a term
on its own (an upper bound for a rule that uses it: a rule also needs its other groups).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from ..match.rules import NEAR, WIDE, Matcher
from ..text.terms import tokens
from ..types import Evidence, ThemeSpec

_STOP = frozenset(
    """a an the of in on at to for from by with and or but not no is are was were be been has have
had it its this that these those as into over after before about than their his her they them he she we you
i our your will would can could should may might do does did so if then there here who which what when where
why how all any more most other some such only also said says after new one two
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня
еще нет о из ему когда даже ли если уже или ни быть был до вас там они где есть для мы их чем была под будет кто
этот того это при после над через эти нас про них""".split()
)


@dataclass(frozen=True, slots=True)
class NearMiss:
    """An item the theme does not match, why it came close, and the evidence of the loosened theme."""

    item_id: int
    score: int  # the loosened theme's score
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...]


class NearMisses:
    """The probes of one theme, compiled once; `check` is then called per item."""

    def __init__(self, spec: ThemeSpec):
        self.spec = spec
        self.real = Matcher({spec.key: spec})
        loose_rules = tuple(replace(rule, within=WIDE) for rule in spec.rules)
        self.probes = (
            ("far apart", Matcher({spec.key: replace(spec, rules=loose_rules)})),
            ("gate", Matcher({spec.key: replace(spec, require=())})),
            ("excluded", Matcher({spec.key: replace(spec, exclude=())})),
            ("under threshold", Matcher({spec.key: replace(spec, threshold=max(1, spec.threshold - NEAR))})),
        )

    def check(self, item_id: int, title: str, summary: str) -> NearMiss | None:
        if self.real.match(title, summary):
            return None
        reasons, best = [], None
        for reason, probe in self.probes:
            found = probe.match(title, summary)
            if found:
                reasons.append(reason)
                if best is None or found[0].score > best.score:
                    best = found[0]
        if best is None:
            return None
        return NearMiss(item_id, best.score, tuple(reasons), best.evidence)


def near_misses(spec: ThemeSpec, items: Iterable[tuple[int, str, str]], limit: int) -> list[NearMiss]:
    """The `limit` nearest misses among `items` (id, title, summary): highest loosened score first."""
    probes = NearMisses(spec)
    found = [miss for item_id, title, summary in items if (miss := probes.check(item_id, title, summary))]
    return sorted(found, key=lambda m: (-m.score, -len(m.reasons), -m.item_id))[:limit]


@dataclass(frozen=True, slots=True)
class Suggestion:
    term: str
    catches: int  # missed labelled positives that hold it
    wrongly: int  # labelled negatives that hold it
    examples: tuple[int, ...]  # ids of missed positives that hold it, a few


def candidates(title: str, summary: str) -> set[str]:
    """The words (4 letters or more, not function words) and two-word phrases of an item, folded. A phrase
    does not cross from title to summary, nor begin or end with a function word."""
    out: set[str] = set()
    for text in (title, summary):
        words = [word for word, _, _ in tokens(text)]
        out.update(w for w in words if len(w) >= 4 and w not in _STOP and not w.isdigit())
        out.update(
            f"{a} {b}"
            for a, b in zip(words, words[1:], strict=False)
            if a not in _STOP and b not in _STOP and not (a.isdigit() or b.isdigit())
        )
    return out


def missed_and_negatives(
    spec: ThemeSpec, verdicts: Mapping[int, bool], texts: Mapping[int, tuple[str, str]]
) -> tuple[dict[int, tuple[str, str]], list[tuple[str, str]]]:
    """What `suggest` learns from: the labelled positives the theme's rules miss (id -> title, summary), and
    the labelled negatives. `verdicts` are of this theme, by item; an item without text is left out."""
    matcher = Matcher({spec.key: spec})
    missed = {
        item_id: texts[item_id]
        for item_id, v in verdicts.items()
        if v and item_id in texts and not matcher.match(*texts[item_id])
    }
    negatives = [texts[item_id] for item_id, v in verdicts.items() if not v and item_id in texts]
    return missed, negatives


def suggest(
    missed: Mapping[int, tuple[str, str]], negatives: Sequence[tuple[str, str]], limit: int, least: int = 2
) -> list[Suggestion]:
    """Terms that would catch missed positives (`missed`: id -> title, summary), best first: most caught
    for fewest wrongly caught. A term must catch at least `least` items (or all, when fewer are missed)."""
    holders: dict[str, list[int]] = {}
    for item_id, (title, summary) in sorted(missed.items()):
        for term in candidates(title, summary):
            holders.setdefault(term, []).append(item_id)
    need = min(least, len(missed))
    kept = {term: ids for term, ids in holders.items() if len(ids) >= need}
    wrong: Counter[str] = Counter()
    for title, summary in negatives:
        wrong.update(candidates(title, summary) & kept.keys())
    ranked = sorted(kept.items(), key=lambda kv: (-(len(kv[1]) - 2 * wrong[kv[0]]), -len(kv[1]), kv[0]))
    return [Suggestion(term, len(ids), wrong[term], tuple(ids[:3])) for term, ids in ranked[:limit]]
