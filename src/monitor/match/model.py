"""PURE: the learned second stage of a theme: features of an item, a linear model's score, and how the model
and the rules decide together.

A theme's rules say why they match, but an analyst's labels can say more: that items holding "fate" and
"Karabakh Armenians" belong though no rule fires, or that a rule's match is a trap. A `ThemeModel` is a
logistic model over features of one (item, theme):

- `rules:match`, `rules:score`: the theme's own decision and score (the rules are a feature, not a rival);
- `rule:NAME`, `phrase:TEXT`: each rule and phrase that fired, weighted by its score; where the theme did not
  match, those of a loosened copy of it (rules' groups anywhere in the item, no gate, a threshold 15 lower);
- `near:match`, `near:score`: the loosened copy matched where the theme did not, and its score;
- `require:title`, `require:summary`, `exclude:title`, `exclude:summary`: the gate's terms, by field;
- `w:STEM`, `b:STEM STEM`: the item's words and two-word phrases, folded and stemmed (`stemming.stem`).

Its weights are plain numbers (stored as JSON by `model_store`), scored here in pure Python: matching never
needs the library that trained them (`learn/train.py`, scikit-learn). The model and the rules combine thus: an item
matches when the rules match it and the model's probability is not under `veto`, or when the probability
reaches `threshold` whatever the rules say. Both are chosen in training, by cross-validation, for the best F1
at a precision of at least 0.90; a `veto` of 0 never drops a rules match.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..text.stemming import stem
from ..text.terms import fold
from ..types import Evidence, ModelRow, RuleSpec, Span, ThemeMatch, ThemeSpec
from .rules import NEAR, WIDE, Matcher

FEATURES_VERSION = 1  # bump when `Features` changes what it extracts: stored models then need training again
EVIDENCE_SHOWN = 5  # the features that weighed most, shown as a model match's evidence
_FIELDS = ("title", "summary")
_WORD = re.compile(r"\w+")
_STOP = frozenset(
    """a an the of in on at to for from by with and or but not no is are was were be been has have
had it its this that these those as into over after before about than their his her they them he she we you i
our your will would can could should may might do does did so if then there here who which what when where
why how all any more most other some such only also said says
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот от
еще нет о из ему когда даже ли если уже или ни быть был до вас там они где есть для мы их чем была под будет
кто этот того это при после над через эти нас про них""".split()
)


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
        return json.dumps(
            {
                "theme": self.theme,
                "weights": self.weights,
                "bias": self.bias,
                "threshold": self.threshold,
                "veto": self.veto,
                "theme_fingerprint": self.theme_fingerprint,
                "features_version": self.features_version,
            },
            sort_keys=True,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> ThemeModel:
        """Raises ValueError saying what is wrong with a stored model."""
        try:
            obj: dict[str, Any] = json.loads(text)
            return cls(
                str(obj["theme"]),
                {str(k): float(v) for k, v in obj["weights"].items()},
                float(obj["bias"]),
                float(obj["threshold"]),
                float(obj["veto"]),
                str(obj["theme_fingerprint"]),
                int(obj["features_version"]),
            )
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
    """Everything feature extraction needs of some themes, compiled once; `features` is then called per item
    and gives every theme's at once: the item is tokenised and each loosened matcher run once, not per theme."""

    def __init__(self, specs: Mapping[str, ThemeSpec]):
        self.specs = dict(specs)
        self.real = Matcher(self.specs)
        # One loosened copy of each theme: rules' groups may stand anywhere, no gate, a lower threshold. What it
        # finds where the theme found nothing is a near miss (`teach.NearMisses` tells the reasons apart; one
        # matcher here, as this runs on every item of every poll).
        loose = {
            key: replace(
                spec,
                require=(),
                exclude=(),
                threshold=max(1, spec.threshold - NEAR),
                rules=tuple(replace(r, within=WIDE) for r in spec.rules),
            )
            for key, spec in self.specs.items()
        }
        for key, spec in self.specs.items():
            for name, terms in (("require", spec.require), ("exclude", spec.exclude)):
                if terms:  # one rule of one group: it fires where any of the terms stands, the title first
                    loose[f"{name}\0{key}"] = ThemeSpec(
                        f"{name}\0{key}",
                        name,
                        threshold=1,
                        rules=(RuleSpec(name, (tuple(terms),), within=1, score=100, ordered=False),),
                    )
        self.loose = Matcher(loose)  # one matcher: the item is read once for the loosened themes and the gates

    def rules(self, title: str, summary: str) -> dict[str, ThemeMatch]:
        return {m.theme: m for m in self.real.match(title, summary)}

    def features(self, title: str, summary: str, matched: Mapping[str, ThemeMatch]) -> dict[str, Features]:
        """Each theme's features of an item; `matched`: the themes' own matches of it, as `rules` gives them."""
        words: dict[str, float] = {}
        word_spans: dict[str, tuple[Span, ...]] = {}
        _ngrams(title, summary, words, word_spans)
        loose: dict[str, ThemeMatch] = {}
        gated: dict[str, list[tuple[str, tuple[Span, ...]]]] = {}
        for m in self.loose.match(title, summary):
            if "\0" in m.theme:  # a gate: where its term stands, the title if it does there
                name, key = m.theme.split("\0", 1)
                spans_ = tuple(sp for e in m.evidence for sp in e.spans)
                gated.setdefault(key, []).append((f"{name}:{spans_[0].field}", spans_))
            else:
                loose[m.theme] = m
        out = {}
        for key in self.specs:
            values, spans = dict(words), dict(word_spans)
            if key in matched:
                values["rules:match"] = 1.0
                values["rules:score"] = matched[key].score / 100
                _evidence(matched[key].evidence, values, spans)
            elif key in loose:
                values["near:match"] = 1.0
                values["near:score"] = loose[key].score / 100
                _evidence(loose[key].evidence, values, spans)
            for name, where in gated.get(key, ()):
                values[name] = 1.0
                spans[name] = where
            out[key] = Features(values, spans)
        return out


def theme_features(spec: ThemeSpec, examples: Sequence[tuple[str, str]]) -> tuple[list[bool], list[dict[str, float]]]:
    """For training: whether the theme's rules match each (title, summary), and its features."""
    probe = FeatureProbe({spec.key: spec})
    rules, values = [], []
    for title, summary in examples:
        matched = probe.rules(title, summary)
        rules.append(spec.key in matched)
        values.append(probe.features(title, summary, matched)[spec.key].values)
    return rules, values


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
        lowered = text.lower()
        same = len(lowered) == len(text)  # then offsets in the lower-cased text are those of the text
        for found in _WORD.finditer(lowered if same else text):
            word = found.group()
            if not same or not word.isascii():
                word = fold(word)
            if word in _STOP or len(word) < 3 or word.isdigit():
                previous = None
                continue
            start, end = found.span()
            stemmed = stem(word)
            name = f"w:{stemmed}"
            if name not in values:
                values[name] = 1.0
                spans[name] = (Span(field, start, end, text[start:end]),)
            if previous is not None:
                name = f"b:{previous[0]} {stemmed}"
                if name not in values:
                    values[name] = 1.0
                    spans[name] = (Span(field, previous[1], end, text[previous[1] : end]),)
            previous = (stemmed, start)


def weighed_most(model: ThemeModel, features: Features, limit: int = EVIDENCE_SHOWN) -> tuple[Evidence, ...]:
    """The features that pushed the item towards the theme most, as evidence: kind "model", the feature's
    name, and its share (0-100) of all the positive weight the item got."""
    pushes = sorted(
        ((model.weights.get(name, 0.0) * value, name) for name, value in features.values.items()), reverse=True
    )
    positive = [(w, name) for w, name in pushes if w > 0]
    total = sum(w for w, _ in positive) or 1.0
    return tuple(
        Evidence("model", name, round(100 * w / total), features.spans.get(name, ())) for w, name in positive[:limit]
    )


@dataclass(frozen=True, slots=True)
class Overrule:
    """A theme on which a learned model overruled the rules: `rules_score` None where the rules did not match
    and the model did, a score where the rules matched and the model dropped it."""

    theme: str
    rules_score: int | None
    probability: float

    def __str__(self) -> str:
        if self.rules_score is None:
            return f"rules no match, model says yes (p={self.probability:.2f})"
        return f"rules {self.rules_score}, model says no (p={self.probability:.2f})"


class ModelMatcher:
    """The rules (`Matcher`) and, for the themes that have one, their active model. Same face as `Matcher`:
    a `version` and a pure `match`."""

    def __init__(self, matcher: Matcher, themes: Mapping[str, ThemeSpec], models: Mapping[str, ThemeModel]):
        self.matcher = matcher
        self.models = {key: model for key, model in models.items() if key in themes}
        self.probe = FeatureProbe({key: themes[key] for key in self.models})
        tag = ",".join(f"{key}={model.version}" for key, model in sorted(self.models.items()))
        self.version = (
            f"{matcher.version}+models:{hashlib.sha256(tag.encode()).hexdigest()[:8]}" if tag else matcher.version
        )

    def match(self, title: str, summary: str = "") -> list[ThemeMatch]:
        """Every theme the item matches, best first. A rules match the model keeps keeps its score and
        evidence, the model's added; an item only the model matches scores its probability (0-100)."""
        return self.decisions(title, summary)[0]

    def decisions(self, title: str, summary: str = "") -> tuple[list[ThemeMatch], list[Overrule]]:
        """`match`, and each theme on which the model overruled the rules: dropped their match, or matched
        where they did not."""
        found = {m.theme: m for m in self.matcher.match(title, summary)}
        overruled = []
        if self.models:
            features = self.probe.features(title, summary, found)
            for key, model in self.models.items():
                rules = found.pop(key, None)
                probability = model.probability(features[key].values)
                matched = model.decide(rules is not None, probability)
                if matched != (rules is not None):
                    overruled.append(Overrule(key, rules.score if rules else None, probability))
                if not matched:
                    continue
                evidence = weighed_most(model, features[key])
                found[key] = (
                    replace(rules, evidence=rules.evidence + evidence)
                    if rules is not None
                    else ThemeMatch(key, round(100 * probability), evidence)
                )
        return sorted(found.values(), key=lambda m: -m.score), overruled

    def disagreement(self, key: str, title: str, summary: str) -> tuple[bool, float, tuple[Evidence, ...]] | None:
        """(rules matched, model probability, what weighed most) where the rules and the model, on its own
        and at even odds, disagree on an item: where a judgement teaches the model most."""
        matched = self.probe.rules(title, summary)
        features = self.probe.features(title, summary, matched)[key]
        probability = self.models[key].probability(features.values)
        if (key in matched) == (probability >= 0.5):
            return None
        return key in matched, probability, weighed_most(self.models[key], features)


@dataclass(frozen=True, slots=True)
class StoredModel:
    """The newest training of a theme, as `monitor themes --quality` reports it: its stored row, the model read
    from it, and why an active model is not used (stale or unreadable), if it is not."""

    row: ModelRow
    model: ThemeModel | None
    problem: str | None = None


def trainings(rows: Sequence[ModelRow], themes: Mapping[str, ThemeSpec]) -> dict[str, StoredModel]:
    """theme -> its newest training (`storage.models.newest`), for the configured themes that have one. A model
    is used only where its row is active and it was trained with the theme as it is defined now (its features
    name the theme's rules: after an edit of the theme it is stale, and unused until `monitor train` runs again)."""
    out = {}
    for row in rows:
        theme = row.theme
        if theme not in themes:
            continue
        model, problem = None, None
        if row.weights is not None:
            try:
                model = ThemeModel.from_json(row.weights)
            except ValueError as error:
                problem = f"theme_models row of {theme} unreadable: {error}"
        if row.active and model is not None and problem is None:
            if model.theme_fingerprint != theme_fingerprint(themes[theme]):
                problem = "stale: the theme was edited since; run `monitor train` again"
            elif model.features_version != FEATURES_VERSION:
                problem = "stale: trained by another version of monitor; run `monitor train` again"
        out[theme] = StoredModel(row, model, problem)
    return out


def active_models(rows: Sequence[ModelRow], themes: Mapping[str, ThemeSpec]) -> dict[str, ThemeModel]:
    """The models matching uses: active, readable, and trained with the theme as defined now."""
    return {
        theme: found.model
        for theme, found in trainings(rows, themes).items()
        if found.row.active and found.model is not None and found.problem is None
    }


def with_models(matcher: Matcher, themes: Mapping[str, ThemeSpec], rows: Sequence[ModelRow]) -> Matcher | ModelMatcher:
    """The rules, and the active models of the themes that have one (the rules alone where none has)."""
    models = active_models(rows, themes)
    return ModelMatcher(matcher, themes, models) if models else matcher
