"""EDGE: the SQL of trained theme models (`theme_models`, schema migration 13), and the matcher that uses them.

Beside `items` as `labels` is: the same connection and transactions. Every training adds a row; the newest row of a
theme decides, and matching uses its model only where that row is active and was trained with the theme as it is
defined now (a model's features name the theme's rules: after an edit of the theme it is stale, and unused until
`monitor train` runs again).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..learn.train import Trained
from ..match.model import FEATURES_VERSION, ModelMatcher, ThemeModel, theme_fingerprint
from ..match.rules import Matcher
from ..types import ThemeSpec
from ..units import iso
from .connection import Connection, Matching


@dataclass(frozen=True, slots=True)
class StoredModel:
    """The newest training of a theme, as `monitor themes --quality` reports it."""

    theme: str
    trained_at: str
    labels_used: int
    positives: int
    f1_rules: float
    f1_model: float
    active: bool
    why: str
    model: ThemeModel | None
    problem: str | None = None  # why an active model is not used: stale or unreadable


def save(store: Connection, trained: Trained, now: datetime) -> None:
    """Connection a training as the theme's newest: the theme's earlier models stop being used."""
    with store.transaction():
        store.conn.execute("UPDATE theme_models SET active = 0 WHERE theme = ?", (trained.theme,))
        store.conn.execute(
            "INSERT INTO theme_models (theme, weights, trained_at, labels_used, positives, cv_f1_rules, cv_f1_model,"
            " cv_precision_model, active, why) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                trained.theme,
                trained.model.to_json() if trained.model else None,
                iso(now),
                trained.labels,
                trained.positives,
                round(trained.f1_rules, 4),
                round(trained.f1_model, 4),
                round(trained.precision_model, 4),
                int(trained.active),
                trained.why,
            ),
        )


def newest(store: Connection, themes: Mapping[str, ThemeSpec]) -> dict[str, StoredModel]:
    """theme -> its newest training, for the configured themes that have one."""
    rows = store.conn.execute(
        "SELECT theme, weights, trained_at, labels_used, positives, cv_f1_rules, cv_f1_model, active, why "
        "FROM theme_models WHERE id IN (SELECT max(id) FROM theme_models GROUP BY theme)"
    ).fetchall()
    out = {}
    for theme, weights, trained_at, labels_used, positives, f1_rules, f1_model, active, why in rows:
        if theme not in themes:
            continue
        model, problem = None, None
        if weights is not None:
            try:
                model = ThemeModel.from_json(weights)
            except ValueError as error:
                problem = f"theme_models row of {theme} unreadable: {error}"
        if active and model is not None and problem is None:
            if model.theme_fingerprint != theme_fingerprint(themes[theme]):
                problem = "stale: the theme was edited since; run `monitor train` again"
            elif model.features_version != FEATURES_VERSION:
                problem = "stale: trained by another version of monitor; run `monitor train` again"
        out[theme] = StoredModel(
            theme, trained_at, labels_used, positives, f1_rules, f1_model, bool(active), why, model, problem
        )
    return out


def active_models(store: Connection, themes: Mapping[str, ThemeSpec]) -> dict[str, ThemeModel]:
    """The models matching uses: active, readable, and trained with the theme as defined now."""
    return {
        theme: row.model
        for theme, row in newest(store, themes).items()
        if row.active and row.model is not None and row.problem is None
    }


def with_models(matcher: Matcher, themes: Mapping[str, ThemeSpec], store: Connection) -> Matching:
    """The rules, and the active models of the themes that have one (the rules alone where none has)."""
    models = active_models(store, themes)
    return ModelMatcher(matcher, themes, models) if models else matcher
