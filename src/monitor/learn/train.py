"""Training a theme's model (`model.ThemeModel`) on analysts' labels, and judging by cross-validation whether it
earns its place. The only module that uses scikit-learn, an optional extra (`pip install 'monitor[learn]'`),
imported only when a model is trained: scoring a stored model needs nothing of it.

Per theme: the features of every labelled item are extracted once (`model.FeatureProbe`); a stratified k-fold
split with a fixed seed trains on k-1 folds and decides the held-out one with rules and model together, and
the pooled held-out decisions give the F1 of rules + model, against the rules' own F1 on the same items (the
rules learn nothing from the labels). The model's `threshold`, `veto` (and the penalty of its weights, where
`CS` offers several) are chosen inside each training part by a further cross-validation, so the held-out fold
never tunes anything. A model is active only where rules + model beat the rules alone and keep a precision of
at least `MIN_PRECISION`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..match.model import ThemeModel, theme_features, theme_fingerprint
from ..types import ModelRow, ThemeSpec

SEED = 12
FOLDS = 5
MIN_EACH = 3  # labels of each verdict a theme needs before a model is trained
MIN_PRECISION = 0.90
CS = (1.0,)  # inverse strengths of the L2 penalty tried, ties to the first (0.1-3 chosen per theme gained nothing)
THRESHOLDS = (0.9, 0.8, 0.7, 0.6, 0.5)  # most cautious first: ties go to it
VETOES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)  # a veto up to the threshold: the model alone
MIN_WEIGHT = 1e-4  # smaller weights are not stored


@dataclass(frozen=True, slots=True)
class Trained:
    """One theme's training: its cross-validated figures, and the model trained on all its labels."""

    theme: str
    labels: int
    positives: int
    f1_rules: float
    f1_model: float
    precision_rules: float
    precision_model: float
    active: bool
    why: str
    model: ThemeModel | None

    def row(self, trained_at: str) -> ModelRow:
        """This training as `theme_models` stores it (figures to four places)."""
        return ModelRow(
            self.theme,
            self.model.to_json() if self.model else None,
            trained_at,
            self.labels,
            self.positives,
            round(self.f1_rules, 4),
            round(self.f1_model, 4),
            self.active,
            self.why,
            round(self.precision_model, 4),
        )


def sklearn() -> Any:
    """scikit-learn's modules, or a UsageError saying how to install it."""
    try:
        from sklearn.feature_extraction import DictVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
    except ImportError:
        raise UsageError(
            "training a model needs scikit-learn: pip install 'monitor[learn]' (matching with a trained model does not)"
        ) from None
    return DictVectorizer, LogisticRegression, StratifiedKFold


def examples(
    theme: str, verdicts: Mapping[tuple[int, str], bool], texts: Mapping[int, tuple[str, str]]
) -> list[tuple[str, str, bool]]:
    """The (title, summary, verdict) examples a model of `theme` learns from: its verdicts (by item and theme)
    on the items whose texts are given, in the order of the items' ids, so that a training is repeatable."""
    return [
        (*texts[item_id], verdict)
        for (item_id, judged), verdict in sorted(verdicts.items())
        if judged == theme and item_id in texts
    ]


def train_theme(
    spec: ThemeSpec, examples: Sequence[tuple[str, str, bool]], seed: int = SEED, folds: int = FOLDS
) -> Trained:
    """Cross-validate and train a model of `spec` on (title, summary, verdict) examples."""
    rules, values = theme_features(spec, [(title, summary) for title, summary, _ in examples])
    verdicts = [verdict for _, _, verdict in examples]
    positives = sum(verdicts)
    f1_rules, p_rules = f1(verdicts, rules)
    if min(positives, len(verdicts) - positives) < MIN_EACH:
        return Trained(
            spec.key,
            len(verdicts),
            positives,
            f1_rules,
            0.0,
            p_rules,
            0.0,
            False,
            f"not trained: {positives} yes and {len(verdicts) - positives} no label(s); "
            f"at least {MIN_EACH} of each are needed",
            None,
        )
    decided = cross_decisions(spec, values, rules, verdicts, seed, folds)
    f1_model, p_model = f1(verdicts, decided)
    model = fit(spec, values, rules, verdicts, seed)
    k = min(folds, positives, len(verdicts) - positives)
    figures = f"{k}-fold CV F1 rules+model {f1_model:.3f} vs rules {f1_rules:.3f}"
    if f1_model <= f1_rules:
        active, why = False, f"inactive: {figures}: the model does not beat the rules"
    elif p_model < MIN_PRECISION:
        active, why = False, f"inactive: {figures}, but precision {p_model:.3f} < {MIN_PRECISION:.2f}"
    else:
        active, why = True, f"active: {figures}, precision {p_model:.3f}"
    return Trained(spec.key, len(verdicts), positives, f1_rules, f1_model, p_rules, p_model, active, why, model)


def cross_decisions(
    spec: ThemeSpec,
    values: Sequence[dict[str, float]],
    rules: Sequence[bool],
    verdicts: Sequence[bool],
    seed: int,
    folds: int,
) -> list[bool]:
    """Each item decided by rules + a model trained without its fold."""
    _, _, StratifiedKFold = sklearn()
    k = min(folds, sum(verdicts), len(verdicts) - sum(verdicts))
    decided = [False] * len(verdicts)
    for train_at, test_at in StratifiedKFold(k, shuffle=True, random_state=seed).split(values, verdicts):
        model = fit(
            spec, [values[i] for i in train_at], [rules[i] for i in train_at], [verdicts[i] for i in train_at], seed
        )
        for i in test_at:
            decided[i] = model.decide(rules[i], model.probability(values[i]))
    return decided


def fit(
    spec: ThemeSpec, values: Sequence[dict[str, float]], rules: Sequence[bool], verdicts: Sequence[bool], seed: int
) -> ThemeModel:
    """A model trained on all of `values`; its penalty, threshold and veto chosen by an inner cross-validation."""
    c, threshold, veto = _choose(values, rules, verdicts, seed)
    weights, bias = _weights(values, verdicts, c)
    return ThemeModel(spec.key, weights, bias, threshold, veto, theme_fingerprint(spec))


def _weights(values: Sequence[dict[str, float]], verdicts: Sequence[bool], c: float) -> tuple[dict[str, float], float]:
    DictVectorizer, LogisticRegression, _ = sklearn()
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(values)
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    classifier.fit(x, list(verdicts))
    names = vectorizer.get_feature_names_out()
    weights = {
        str(name): round(float(w), 6)
        for name, w in zip(names, classifier.coef_[0], strict=True)
        if abs(w) >= MIN_WEIGHT
    }
    return weights, round(float(classifier.intercept_[0]), 6)


def _choose(
    values: Sequence[dict[str, float]], rules: Sequence[bool], verdicts: Sequence[bool], seed: int
) -> tuple[float, float, float]:
    """(penalty C, threshold, veto) with the best F1 on held-out parts of the training items at a precision of
    at least MIN_PRECISION, or the rules' own where theirs is lower; the most cautious choice (the rules
    alone, nearly) where none reaches it."""
    _, _, StratifiedKFold = sklearn()
    k = min(3, sum(verdicts), len(verdicts) - sum(verdicts))
    if k < 2:
        return CS[0], THRESHOLDS[0], VETOES[0]
    best, chosen = -1.0, (CS[0], THRESHOLDS[0], VETOES[0])
    floor = min(MIN_PRECISION, f1(verdicts, rules)[1])
    splits = list(StratifiedKFold(k, shuffle=True, random_state=seed).split(values, verdicts))
    for c in CS:
        probability = [0.0] * len(verdicts)
        for train_at, test_at in splits:
            weights, bias = _weights([values[i] for i in train_at], [verdicts[i] for i in train_at], c)
            scorer = ThemeModel("", weights, bias, 1.0, 0.0, "")
            for i in test_at:
                probability[i] = scorer.probability(values[i])
        for threshold in THRESHOLDS:
            for veto in (v for v in VETOES if v <= threshold):
                decided = [(r and p >= veto) or p >= threshold for r, p in zip(rules, probability, strict=True)]
                score, precision = f1(verdicts, decided)
                if precision >= floor and score > best:
                    best, chosen = score, (c, threshold, veto)
    return chosen


def f1(verdicts: Sequence[bool], decided: Sequence[bool]) -> tuple[float, float]:
    """(F1, precision) of decisions against verdicts."""
    tp = sum(v and d for v, d in zip(verdicts, decided, strict=True))
    fp = sum(d and not v for v, d in zip(verdicts, decided, strict=True))
    fn = sum(v and not d for v, d in zip(verdicts, decided, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return (2 * precision * recall / (precision + recall) if precision + recall else 0.0), precision
