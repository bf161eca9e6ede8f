"""PURE: which items are most worth an analyst's judgement for a theme, and what a theme names.

Near misses are found through `Matcher`'s public face only, by matching with loosened copies of the theme:
each loosening that lets an item in names one reason it stayed out.

- `far apart`: every rule's `within` widened to the whole item: each group's term is there, too far apart;
- `gate`: without `require`: the evidence is there, none of the required terms;
- `excluded`: without `exclude`: an exclude term kept it out;
- `under threshold`: with the threshold lowered: its best score is at most NEAR below the threshold.

A judgement teaches most about the conflict itself: an item that names one of the theme's places or actors
(`Names`: its `require` terms and its rules' agents) comes before every item that names none, whatever its
score. A near miss with no such name (UK weather, Mexican cartels near a word of the theme) is marked
`OFF_TOPIC` and comes last. Suggestions of new terms are `suggestions`'.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..match.rules import NEAR, WIDE, Matcher
from ..types import Evidence, RuleSpec, ThemeSpec

OFF_TOPIC = "names none of the theme's places or actors"


@dataclass(frozen=True, slots=True)
class NearMiss:
    """An item the theme does not match, why it came close, and the evidence of the loosened theme."""

    item_id: int
    score: int  # the loosened theme's score
    reasons: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    about: bool = True  # it names one of the theme's places or actors (`Names`)


class Names:
    """The places and actors a theme names: its `require` terms and the agents of its rules, as the matcher
    reads them (prefixes, near spellings of names), and those of the `others` given (the region's names, for
    `suggestions`). Where none is named, every text is about the theme."""

    def __init__(self, spec: ThemeSpec, others: Iterable[ThemeSpec] = ()):
        terms = tuple(
            dict.fromkeys(t for s in (spec, *others) for t in (*s.require, *(t for r in s.rules for t in r.agent)))
        )
        self.terms = terms
        names = RuleSpec("names", (terms,), within=WIDE, score=100, ordered=False)
        self._probe = Matcher({"names": ThemeSpec("names", "", rules=(names,), threshold=1)}) if terms else None

    def named(self, title: str, summary: str = "") -> bool:
        """Whether the text is about the theme's places or actors: always, where the theme names none."""
        return self._probe is None or self.holds(title, summary)

    def holds(self, title: str, summary: str = "") -> bool:
        """Whether the text holds one of the names: never, where there are none."""
        return self._probe is not None and bool(self._probe.match(title, summary))


class NearMisses:
    """The probes of one theme, compiled once; `check` is then called per item."""

    def __init__(self, spec: ThemeSpec):
        self.spec = spec
        self.real = Matcher({spec.key: spec})
        self.names = Names(spec)
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
        about = self.names.named(title, summary)
        if not about:
            reasons.append(OFF_TOPIC)
        return NearMiss(item_id, best.score, tuple(reasons), best.evidence, about)


def near_misses(spec: ThemeSpec, items: Iterable[tuple[int, str, str]], limit: int) -> list[NearMiss]:
    """The `limit` nearest misses among `items` (id, title, summary): those about the theme's places or
    actors first, then the highest loosened score."""
    probes = NearMisses(spec)
    found = [miss for item_id, title, summary in items if (miss := probes.check(item_id, title, summary))]
    return sorted(found, key=lambda m: (not m.about, -m.score, -len(m.reasons), -m.item_id))[:limit]
