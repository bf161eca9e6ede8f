"""`monitor train`, and what the other commands need of trained models: the matcher with the active ones, their
status for `monitor themes --quality`, and the model `monitor review` compares with the rules (where they
disagree is `learn.disagreements`'). Registered on the `cli` group as `cli_labels` is (imported at the end of
`cli.py`); the work is done by `train` (scikit-learn, only here), `model` (pure) and `model_store` (SQL).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import click

from ..errors import UsageError
from ..learn import train as train_
from ..match.model import ThemeModel, trainings, with_models
from ..match.rules import Matcher
from ..storage import Store, labels
from ..storage import models as model_store
from ..types import Matching, ThemeSpec
from ..units import iso
from .group import Context, cli, utc_now


@cli.command()
@click.argument("themes", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of lines.")
@click.pass_obj
def train(obj: Context, themes: tuple[str, ...], as_json: bool) -> None:
    """Train a model of each THEME (default: every theme) on its labelled items, and use it only where
    cross-validation shows the rules and the model together beat the rules alone. Needs scikit-learn
    (pip install 'monitor[learn]'); matching with the trained model does not."""
    config = obj.config
    unknown = [t for t in themes if t not in config.themes]
    if unknown:
        raise UsageError(
            f"no theme {', '.join(map(repr, unknown))} in {config.path}; themes: {', '.join(config.themes) or 'none'}"
        )
    train_.sklearn()  # before any work: a missing library is said at once
    results = []
    with obj.store(must_exist=True) as store:
        verdicts = labels.current(store)
        texts = labels.item_texts(store, {item_id for item_id, _ in verdicts})
        for key in themes or tuple(config.themes):
            trained = train_.train_theme(config.themes[key], train_.examples(key, verdicts, texts))
            model_store.save(store, trained.row(iso(utc_now())))
            results.append(trained)
            if not as_json:
                click.echo(
                    f"{key}: {trained.labels} label(s), {trained.positives} yes; "
                    f"CV F1 rules {trained.f1_rules:.3f}, rules+model {trained.f1_model:.3f}; {trained.why}"
                )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "themes": [
                        {
                            "theme": t.theme,
                            "labels": t.labels,
                            "positives": t.positives,
                            "cv_f1_rules": round(t.f1_rules, 3),
                            "cv_f1_model": round(t.f1_model, 3),
                            "cv_precision_model": round(t.precision_model, 3),
                            "active": t.active,
                            "why": t.why,
                        }
                        for t in results
                    ]
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    if any(t.active for t in results):
        click.echo(
            "polls use the active model(s) from now on (a running daemon: after `kill -HUP`); "
            "`monitor rematch` matches the stored items with them"
        )


def matcher(obj: Context, store: Store | None, themes: Mapping[str, ThemeSpec]) -> Matching:
    """The rules, with the active models where a database is given."""
    rules = Matcher(themes)
    return with_models(rules, themes, model_store.newest(store)) if store is not None else rules


def matcher_if_stored(obj: Context, themes: Mapping[str, ThemeSpec]) -> Matching:
    """For commands that need no database (`monitor match`): the models of one where it exists."""
    if not os.path.exists(obj.db_path):
        return Matcher(themes)
    with obj.store() as store:
        return matcher(obj, store, themes)


def status_lines(store: Store, themes: Mapping[str, ThemeSpec]) -> list[str]:
    """Per theme, whether a trained model is used, and why (for `monitor themes --quality`)."""
    found = trainings(model_store.newest(store), themes)
    lines = []
    for key in themes:
        training = found.get(key)
        if training is None:
            lines.append(f"model of {key}: none (`monitor train {key}`)")
        elif training.problem:
            lines.append(f"model of {key}: not used, {training.problem}")
        else:
            lines.append(
                f"model of {key}: {'ACTIVE' if training.row.active else 'not used'}, trained "
                f"{training.row.trained_at} on {training.row.labels_used} label(s); {training.row.why}"
            )
    return lines


def status_json(store: Store, themes: Mapping[str, ThemeSpec]) -> dict[str, Any]:
    found = trainings(model_store.newest(store), themes)
    return {
        key: {
            "active": training.row.active and training.problem is None,
            "trained_at": training.row.trained_at,
            "labels_used": training.row.labels_used,
            "cv_f1_rules": training.row.f1_rules,
            "cv_f1_model": training.row.f1_model,
            "why": training.problem or training.row.why,
        }
        for key, training in found.items()
    }


def review_model(store: Store, spec: ThemeSpec) -> ThemeModel | None:
    """The theme's newest model, active or not, for `monitor review` to find where it and the rules disagree;
    none where the theme has no usable one."""
    row = trainings(model_store.newest(store), {spec.key: spec}).get(spec.key)
    return None if row is None or row.model is None or row.problem else row.model
