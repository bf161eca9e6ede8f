"""The commands by which analysts teach the themes: `monitor label` (one judgement, or a file of them),
`monitor review`, `monitor suggest` (its --apply is `apply`'s), and the `--quality` of `monitor themes` and
`--dry-run` of `monitor rematch`. Kept beside `cli.py`, which imports this module at its end to register them
on the `cli` group; the work is done by `labels` (SQL), `quality`, `teach`, `suggestions` and `disagreements`
(pure), and `report` (printing).
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from ..errors import UsageError
from ..jsonlines import json_lines
from ..learn import disagreements, suggestions
from ..learn import quality as quality_
from ..storage import labels
from ..text.safe import shown
from ..types import ThemeSpec, evidence_records
from . import apply as cli_apply
from . import models as cli_model
from . import report as report_
from .group import Context, cli, utc_now

# An item id is a positive SQLite integer: a bigger number can name no item and would not even reach the query.
ITEM_ID = click.IntRange(1, labels.MAX_ID)


@cli.command()
@click.argument("item_id", required=False, type=ITEM_ID)
@click.argument("theme", required=False)
@click.argument("verdict", required=False, type=click.Choice(["yes", "no"]))
@click.option("--note", metavar="TEXT", help="Why, in your words (kept with the judgement).")
@click.option("--by", "who", metavar="NAME", help="Who judges (default: the user running monitor).")
@click.option(
    "--import",
    "source",
    type=click.File("rb"),
    metavar="FILE.jsonl",
    help='Store the judgements of a label file, one {"link": ..., "themes": [...]} a line: yes for '
    "the themes named, no for every other configured theme.",
)
@click.pass_obj
def label(
    obj: Context,
    item_id: int | None,
    theme: str | None,
    verdict: str | None,
    note: str | None,
    who: str | None,
    source: Any,
) -> None:
    """Judge whether a stored item is about a theme (yes or no), or import a file of judgements; judging
    again replaces your earlier verdict. `monitor themes --quality` then measures the themes on them."""
    who = who or _os_user()
    if source is not None:
        if item_id is not None:
            raise UsageError("give ITEM_ID THEME yes|no, or --import FILE, not both")
        _label_import(obj, source, who, note)
        return
    if item_id is None or theme is None or verdict is None:
        raise UsageError(
            "give ITEM_ID THEME yes|no (`monitor search` shows items' ids with --json), or --import FILE.jsonl"
        )
    if theme not in obj.config.themes:
        raise UsageError(f"no theme {theme!r} in {obj.config.path}; themes: {', '.join(obj.config.themes) or 'none'}")
    with obj.store(must_exist=True) as store:
        if not labels.item_ids(store, [item_id]):
            raise UsageError(f"no item {item_id} in {obj.db_path}")
        saved = labels.save(store, [labels.Judgement(item_id, theme, verdict == "yes", who, note)], utc_now())
    state = "stored" if saved.new else "changed" if saved.changed else "unchanged (the same verdict was stored)"
    click.echo(f"item {item_id}, {theme}: {verdict} by {who}, {state}")


@cli.command()
@click.argument("theme")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Most items shown.")
@click.option(
    "--scan",
    default=10_000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    metavar="N",
    help="Look among the N most recently published items not yet judged for THEME.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines, one per item; ask nothing.")
@click.option("--by", "who", metavar="NAME", help="Who judges (default: the user running monitor).")
@click.pass_obj
def review(obj: Context, theme: str, limit: int, scan: int, as_json: bool, who: str | None) -> None:
    """The items most worth a judgement for THEME: near misses, with the terms that nearly matched marked.
    In a terminal it asks, item by item: y (about the theme), n (not), s (skip) or q (quit)."""
    spec = _theme(obj, theme)
    who = who or _os_user()
    with obj.store(must_exist=True) as store:
        judged = {item_id for (item_id, t) in labels.current(store) if t == theme}
        items = labels.recent_items(store, scan, judged)
        # Where a model exists, the items it and the rules disagree on come first: a judgement there teaches most.
        misses = disagreements.worth_judging(spec, cli_model.review_model(store, spec), items, limit)
        texts = {item_id: (title, summary) for item_id, title, summary in items}
        if as_json:
            for miss in misses:
                title, summary = texts[miss.item_id]
                click.echo(
                    json.dumps(
                        {
                            "item_id": miss.item_id,
                            "theme": theme,
                            "score": miss.score,
                            "reasons": list(miss.reasons),
                            "title": shown(title),
                            "evidence": evidence_records(miss.evidence),
                        },
                        ensure_ascii=False,
                    )
                )
            return
        ask = sys.stdin.isatty() and sys.stdout.isatty()
        mark = (lambda s: click.style(s, bold=True, underline=True)) if sys.stdout.isatty() else (lambda s: f"[{s}]")
        stored = 0
        for number, miss in enumerate(misses, start=1):
            for line in report_.review_lines(number, miss, *texts[miss.item_id], mark):
                click.echo(line)
            if not ask:
                continue
            answer = click.prompt(
                f"   about {theme}? y/n/s(kip)/q(uit)",
                type=click.Choice(["y", "n", "s", "q"]),
                show_choices=False,
                default="s",
            )
            if answer == "q":
                break
            if answer in "yn":
                labels.save(
                    store, [labels.Judgement(miss.item_id, theme, answer == "y", who, "monitor review")], utc_now()
                )
                stored += 1
    if not misses:
        click.echo(f"no near misses for {theme} among the {len(items)} item(s) not yet judged for it")
    elif ask:
        click.echo(f"{stored} judgement(s) stored by {who}; `monitor themes --quality` measures {theme} on them")


@cli.command()
@click.argument("theme")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Most terms shown.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--apply",
    "number",
    type=click.IntRange(1, 10_000),
    metavar="N",
    help="Write suggestion N (as numbered in the list) into the config file as a new rule of THEME.",
)
@click.pass_obj
def suggest(obj: Context, theme: str, limit: int, as_json: bool, number: int | None) -> None:
    """Rules THEME lacks, from the labelled positives it misses: a word or two of theirs near one of the
    theme's own places or actors, each measured on the stored labels (labelled yes it would add, labelled no
    it would catch, the theme's precision and F1 with it and without). Those that raise the labelled F1 come
    first. Nothing changes unless --apply N writes one into the config, where it can be seen and undone."""
    spec = _theme(obj, theme)
    with obj.store(must_exist=True) as store:
        verdicts = {item_id: v for (item_id, t), v in labels.current(store).items() if t == theme}
        texts = labels.item_texts(store, verdicts)
    path = obj.config.path
    others = [t for key, t in obj.config.themes.items() if key != theme]
    found = suggestions.suggest(spec, verdicts, texts, cli_apply.written_theme(path, theme), others)
    if number is not None:
        cli_apply.apply(path, found, number, utc_now())
        return
    if as_json:
        click.echo(json.dumps(report_.suggestions_json(found, limit), indent=2, ensure_ascii=False))
        return
    for line in report_.suggestion_lines(found, limit):
        click.echo(line)


def _theme(obj: Context, theme: str) -> ThemeSpec:
    spec = obj.config.themes.get(theme)
    if spec is None:
        raise UsageError(f"no theme {theme!r} in {obj.config.path}; themes: {', '.join(obj.config.themes) or 'none'}")
    return spec


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no USER variable and no passwd entry, as in some containers
        return "unknown"


def _refuse(problems: list[str]) -> NoReturn:
    raise UsageError(
        "nothing imported:\n  "
        + "\n  ".join(problems[:20])
        + (f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else "")
    )


def _judged_twice(
    lines: list[quality_.LabelLine], name: str, what: str, key: Callable[[quality_.LabelLine], object | None]
) -> list[str]:
    """A problem for each line that judges `what` an earlier line judged (lines with the same `key`): keeping
    either silently would drop a judgement the file's author made."""
    first: dict[object, int] = {}
    problems = []
    for line in lines:
        found = key(line)
        if found is None:
            continue
        if found in first:
            problems.append(f"{name}:{line.number}: judges {what} as line {first[found]} ({shown(line.link)})")
        else:
            first[found] = line.number
    return problems


def _label_import(obj: Context, source: Any, who: str, note: str | None) -> None:
    config = obj.config
    lines, problems = quality_.read_label_lines(json_lines(source), source.name)
    problems += _judged_twice(lines, source.name, "the same link", lambda line: labels.link_key(line.link) or line.link)
    unknown = sorted({t for line in lines for t in line.themes} - set(config.themes))
    if unknown:
        problems.append(f"{source.name}: theme(s) not in {config.path}: {', '.join(unknown)}")
    if problems:  # nothing is stored from a file with mistakes: fixed, it is imported whole
        _refuse(problems)
    with obj.store(must_exist=True) as store:
        by_link = labels.items_by_link(store)
        found = [(line, by_link.get(labels.link_key(line.link) or "")) for line in lines]
        item_of = {line.number: item_id for line, item_id in found}
        same_item = _judged_twice(lines, source.name, "the same stored item", lambda line: item_of[line.number])
        if same_item:
            _refuse(same_item)
        judgements = [
            labels.Judgement(
                item_id, theme, theme in line.themes, who, note or f"imported from {Path(source.name).name}"
            )
            for line, item_id in found
            if item_id is not None
            for theme in config.themes
        ]
        saved = labels.save(store, judgements, utc_now())
    missing = [line for line, item_id in found if item_id is None]
    click.echo(
        f"{len(lines) - len(missing)} of {len(lines)} link(s) matched stored items; "
        f"{len(judgements)} judgement(s) by {who}: {saved.new} new, {saved.changed} changed, "
        f"{saved.unchanged} unchanged"
    )
    if missing:
        click.echo(
            f"{len(missing)} link(s) not found among stored items, e.g. "
            + ", ".join(f"line {line.number} {shown(line.link)}" for line in missing[:3]),
            err=True,
        )


def themes_quality(obj: Context, as_json: bool) -> None:
    config = obj.config
    with obj.store(must_exist=True) as store:
        verdicts = {key: v for key, v in labels.current(store).items() if key[1] in config.themes}
        texts = labels.item_texts(store, {item_id for item_id, _ in verdicts})
        models = (cli_model.status_json if as_json else cli_model.status_lines)(store, config.themes)
    figures, version = quality_.measure(config.themes, verdicts, texts)
    if as_json:
        click.echo(
            json.dumps(
                {
                    **quality_.quality_json(figures),
                    "matched_with": version,
                    "labelled_items": len(texts),
                    "models": models,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    for line in report_.quality_lines(figures, len(texts)):
        click.echo(line)
    # The figures above are the rules'; a model's own are cross-validated (it learnt from these very labels).
    click.echo("")
    for line in models:
        click.echo(line)


def rematch_dry_run(obj: Context, batch: int) -> None:
    found: list[quality_.Change] = []
    with obj.store(must_exist=True) as store:
        matcher = cli_model.matcher(obj, store, obj.config.themes)
        for rows in labels.all_items(store, batch):
            found += quality_.changes(
                (item_id, title, stored, {m.theme: m.score for m in matcher.match(title, summary)})
                for item_id, title, summary, stored in rows
            )
    for line in report_.change_lines(found, list(obj.config.themes)):
        click.echo(line)
