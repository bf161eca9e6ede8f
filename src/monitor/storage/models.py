"""EDGE: the SQL of trained theme models (`theme_models`, schema migration 13): rows written and read, nothing built.

Beside `items` as `labels` is: the same connection and transactions. Every training adds a row; the newest row of a
theme decides. Which of them matching uses, and the matcher made of them, is `match.model`'s (`trainings`,
`with_models`): storage only reads and writes the rows.
"""

from __future__ import annotations

from ..types import ModelRow
from .connection import Connection


def save(store: Connection, row: ModelRow) -> None:
    """Store a training as the theme's newest: the theme's earlier models stop being used."""
    with store.transaction():
        store.conn.execute("UPDATE theme_models SET active = 0 WHERE theme = ?", (row.theme,))
        store.conn.execute(
            "INSERT INTO theme_models (theme, weights, trained_at, labels_used, positives, cv_f1_rules, cv_f1_model,"
            " cv_precision_model, active, why) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                row.theme,
                row.weights,
                row.trained_at,
                row.labels_used,
                row.positives,
                row.f1_rules,
                row.f1_model,
                row.precision_model,
                int(row.active),
                row.why,
            ),
        )


def newest(store: Connection) -> list[ModelRow]:
    """Each theme's newest training (of every theme ever trained, configured or not)."""
    rows = store.conn.execute(
        "SELECT theme, weights, trained_at, labels_used, positives, cv_f1_rules, cv_f1_model, active, why, "
        "cv_precision_model FROM theme_models WHERE id IN (SELECT max(id) FROM theme_models GROUP BY theme)"
    ).fetchall()
    return [
        ModelRow(theme, weights, trained_at, labels_used, positives, f1_rules, f1_model, bool(active), why, precision)
        for theme, weights, trained_at, labels_used, positives, f1_rules, f1_model, active, why, precision in rows
    ]
