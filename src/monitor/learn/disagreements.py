"""PURE: the items `monitor review` shows for a theme, and in what order.

First the items where the theme's model and its rules disagree, the model surest first: a judgement there
teaches the model most. Then the rules' near misses (`teach.near_misses`), up to the limit. An item of
either kind that names none of the theme's places or actors (`teach.Names`) comes after every item that
names one: the analyst judges the conflict first, the off-topic near misses last. The model is
given (the CLI reads the newest one from the database); the items are (id, title, summary).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..match.model import ModelMatcher, ThemeModel
from ..match.rules import Matcher
from ..types import ThemeSpec
from .teach import OFF_TOPIC, Names, NearMiss, near_misses

DISAGREE = 0.5  # the model's own even odds: where it and the rules part, a judgement teaches it most


def disagreements(
    spec: ThemeSpec, model: ThemeModel, items: Sequence[tuple[int, str, str]], limit: int
) -> list[NearMiss]:
    """Items where `model` and the theme's rules disagree, the model surest first (the newest item first
    between equals), at most `limit`; each says which way each of them went, with the model's evidence."""
    both = ModelMatcher(Matcher({spec.key: spec}), {spec.key: spec}, {spec.key: model})
    found = []
    for item_id, title, summary in items:
        parted = both.disagreement(spec.key, title, summary)
        if parted is None:
            continue
        rules, probability, evidence = parted
        reason = (
            f"rules match, model says no (p={probability:.2f})"
            if rules
            else f"model says yes (p={probability:.2f}), rules do not"
        )
        found.append((abs(probability - DISAGREE), NearMiss(item_id, round(100 * probability), (reason,), evidence)))
    found.sort(key=lambda pair: (-pair[0], -pair[1].item_id))
    return [miss for _, miss in found[:limit]]


def worth_judging(
    spec: ThemeSpec, model: ThemeModel | None, items: Sequence[tuple[int, str, str]], limit: int
) -> list[NearMiss]:
    """At most `limit` items for `monitor review`: the disagreements of `model` (none without one), then the
    near misses of the rules that are not among them."""
    misses = disagreements(spec, model, items, limit) if model is not None else []
    if misses:
        names, texts = Names(spec), {item_id: (title, summary) for item_id, title, summary in items}
        misses = [
            m if names.named(*texts[m.item_id]) else replace(m, about=False, reasons=(*m.reasons, OFF_TOPIC))
            for m in misses
        ]
    seen = {miss.item_id for miss in misses}
    found = misses + [m for m in near_misses(spec, items, limit) if m.item_id not in seen]
    return sorted(found, key=lambda m: not m.about)[:limit]  # stable: each kind keeps its own order
