"""PURE: the learned second stage of a theme: features of an item, a linear model's score, and how the model
and the rules decide together.

A theme's rules say why they match, but an analyst's labels can say more: that items holding "fate" and
"Karabakh Armenians" belong though no rule fires, or that a rule's match is a trap. A `ThemeModel` is a
logistic model over features of one (item, theme):

- `rules:match`, `rules:score`: the theme's own decision and score (the rules are a feature, not a rival);
- `rule:NAME`, `phrase:TEXT`: each rule and phrase that fired, really or in a loosened copy of the theme
  (`teach.NearMisses`), weighted by its score;
- `near:REASON`: why a loosened copy matched where the theme did not (far apart, gate, excluded, under
  threshold);
- `require:title`, `require:summary`, `exclude:title`, `exclude:summary`: the gate's terms, by field;
- `w:STEM`, `b:STEM STEM`: the item's words and two-word phrases, folded and stemmed (`stemming.stem`).

Its weights are plain numbers (stored as JSON by `model_store`), scored here in pure Python: matching never
needs the library that trained them (`train.py`, scikit-learn). The model and the rules combine thus: an item
matches when the rules match it and the model's probability is not under `veto`, or when the probability
reaches `threshold` whatever the rules say. Both are chosen in training, by cross-validation, for the best F1
at a precision of at least 0.90; a `veto` of 0 never drops a rules match.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .match import Matcher
from .stemming import stem
from .teach import NearMisses
from .terms import tokens
from .types import Evidence, RuleSpec, Span, ThemeMatch, ThemeSpec

FEATURES_VERSION = 1  # bump when `Features` changes what it extracts: stored models then need training again
EVIDENCE_SHOWN = 5  # the features that weighed most, shown as a model match's evidence
_FIELDS = ("title", "summary")
_STOP = frozenset("""a an the of in on at to for from by with and or but not no is are was were be been has have
had it its this that these those as into over after before about than their his her they them he she we you i
our your will would can could should may might do does did so if then there here who which what when where
why how all any more most other some such only also said says
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от
еще нет о из ему когда даже ли если уже или ни быть был до вас там они где есть для мы их чем была под будет
кто этот того это при после над через эти нас про них""".split())


@dataclass(frozen=True, slots=True)
class Features:
    """One item's features for one theme: name -> value, and where in the text each one stands."""

    values: dict[str, float]
    spans: dict[str, tuple[Span, ...]]


@dataclass(frozen=True, slots=True)
class ThemeModel:
    """A trained model of one theme, as stored in `theme_models.weights` (JSON). Made by `train`, read by
    `model_store`, scored by `ModelMatcher`."""

    theme: str
    weights: dict[str, float]
    bias: float
    threshold: float  # probability at which the model matches an item on its own
    veto: float  # probability under which a rules match is dropped (0: never)
    theme_fingerprint: str  # of the theme's definition it was trained with
    features_version: int = FEATURES_VERSION

    @property
    def version(self) -> str:
        """Changes with any weight or setting, so `rematch` knows items matched with another model."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:8]

    def to_json(self) -> str:
        return json.dumps({"theme": self.theme, "weights": self.weights, "bias": self.bias,
                           "threshold": self.threshold, "veto": self.veto,
                           "theme_fingerprint": self.theme_fingerprint,
                           "features_version": self.features_version}, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ThemeModel:
        """Raises ValueError saying what is wrong with a stored model."""
        try:
            obj: dict[str, Any] = json.loads(text)
            return cls(str(obj["theme"]), {str(k): float(v) for k, v in obj["weights"].items()},
                       float(obj["bias"]), float(obj["threshold"]), float(obj["veto"]),
                       str(obj["theme_fingerprint"]), int(obj["features_version"]))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a stored theme model ({error})") from None

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in values.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def decide(self, rules_matched: bool, probability: float) -> bool:
        return (rules_matched and probability >= self.veto) or probability >= self.threshold


def theme_fingerprint(spec: ThemeSpec) -> str:
    """A model is valid for the theme definition it was trained with (its features name the rules)."""
    return hashlib.sha256(repr(spec).encode()).hexdigest()[:12]


class FeatureProbe:
    """Everything feature extraction needs of one theme, compiled once; `features` is then called per item."""

    def __init__(self, spec: ThemeSpec):
        self.spec = spec
        self.near = NearMisses(spec)
        gates = {}
        for name, terms in (("require", spec.require), ("exclude", spec.exclude)):
            if terms:  # one rule of one group: it fires where any of the terms stands
                gates[name] = ThemeSpec(name, name, rules=(RuleSpec(name, (tuple(terms),), within=1, score=100),),
                                        threshold=1)
        self.gates = Matcher(gates) if gates else None

    def rules(self, title: str, summary: str) -> ThemeMatch | None:
        found = self.near.real.match(title, summary)
        return found[0] if found else None

    def features(self, title: str, summary: str, matched: ThemeMatch | None) -> Features:
        """`matched`: the theme's own match of the item (or None), as `Matcher.match` gave it."""
        values: dict[str, float] = {}
        spans: dict[str, tuple[Span, ...]] = {}
        if matched is not None:
            values["rules:match"] = 1.0
            values["rules:score"] = matched.score / 100
            _evidence(matched.evidence, values, spans)
        else:
            for reason, probe in self.near.probes:
                found = probe.match(title, summary)
                if found:
                    values[f"near:{reason}"] = 1.0
                    values["near:score"] = max(values.get("near:score", 0.0), found[0].score / 100)
                    _evidence(found[0].evidence, values, spans)
        if self.gates is not None:
            for field, (t, s) in zip(_FIELDS, ((title, ""), ("", summary)), strict=True):
                for gate in self.gates.match(t, s):
                    values[f"{gate.theme}:{field}"] = 1.0
                    spans[f"{gate.theme}:{field}"] = tuple(sp for e in gate.evidence for sp in e.spans)
        _ngrams(title, summary, values, spans)
        return Features(values, spans)


def _evidence(evidence: Sequence[Evidence], values: dict[str, float], spans: dict[str, tuple[Span, ...]]) -> None:
    for e in evidence:
        name = f"{e.kind}:{e.name}"
        if e.score / 100 > values.get(name, 0.0):
            values[name] = e.score / 100
            spans[name] = e.spans


def _ngrams(title: str, summary: str, values: dict[str, float], spans: dict[str, tuple[Span, ...]]) -> None:
    """Words and two-word phrases (not across fields, nor through a function word), stemmed, each once."""
    for field, text in zip(_FIELDS, (title or "", summary or ""), strict=True):
        previous: tuple[str, int] | None = None
        for word, start, end in tokens(text):
            if word in _STOP or word.isdigit() or len(word) < 3:
                previous = None
                continue
            stemmed = stem(word)
            for name, first in ((f"w:{stemmed}", start),
                                *(((f"b:{previous[0]} {stemmed}", previous[1]),) if previous else ())):
                if name not in values:
                    values[name] = 1.0
                    spans[name] = (Span(field, first, end, text[first:end]),)
            previous = (stemmed, start)


def weighed_most(model: ThemeModel, features: Features, limit: int = EVIDENCE_SHOWN) -> tuple[Evidence, ...]:
    """The features that pushed the item towards the theme most, as evidence: kind "model", the feature's
    name, and its share (0-100) of all the positive weight the item got."""
    pushes = sorted(((model.weights.get(name, 0.0) * value, name) for name, value in features.values.items()),
                    reverse=True)
    positive = [(w, name) for w, name in pushes if w > 0]
    total = sum(w for w, _ in positive) or 1.0
    return tuple(Evidence("model", name, round(100 * w / total), features.spans.get(name, ()))
                 for w, name in positive[:limit])


class ModelMatcher:
    """The rules (`Matcher`) and, for the themes that have one, their active model. Same face as `Matcher`:
    a `version` and a pure `match`."""

    def __init__(self, matcher: Matcher, themes: Mapping[str, ThemeSpec], models: Mapping[str, ThemeModel]):
        self.matcher = matcher
        self.models = {key: model for key, model in models.items() if key in themes}
        self.probes = {key: FeatureProbe(themes[key]) for key in self.models}
        tag = ",".join(f"{key}={model.version}" for key, model in sorted(self.models.items()))
        self.version = f"{matcher.version}+models:{hashlib.sha256(tag.encode()).hexdigest()[:8]}" if tag \
            else matcher.version

    def match(self, title: str, summary: str = "") -> list[ThemeMatch]:
        found = {m.theme: m for m in self.matcher.match(title, summary)}
        for key, model in self.models.items():
            decided = self.decide(key, title, summary, found.get(key))
            if decided is None:
                found.pop(key, None)
            else:
                found[key] = decided
        return sorted(found.values(), key=lambda m: -m.score)

    def decide(self, key: str, title: str, summary: str, rules: ThemeMatch | None) -> ThemeMatch | None:
        """The theme's match of the item with its model, or None. A rules match the model keeps keeps its score
        and evidence, with the model's added; an item only the model matches scores its probability."""
        model = self.models[key]
        features = self.probes[key].features(title, summary, rules)
        probability = model.probability(features.values)
        if not model.decide(rules is not None, probability):
            return None
        evidence = weighed_most(model, features)
        if rules is not None:
            return replace(rules, evidence=rules.evidence + evidence)
        return ThemeMatch(key, round(100 * probability), evidence)

    def disagreement(self, key: str, title: str, summary: str) -> tuple[bool, float] | None:
        """(rules matched, model probability) where the rules and the model, on its own and at even odds,
        disagree on an item: where a judgement teaches the model most."""
        rules = self.probes[key].rules(title, summary)
        probability = self.models[key].probability(self.probes[key].features(title, summary, rules).values)
        return None if (rules is not None) == (probability >= 0.5) else (rules is not None, probability)
