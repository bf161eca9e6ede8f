"""What the themes find: `monitor search`, `monitor match`, `monitor themes` and `monitor rematch`."""

from __future__ import annotations

import json
import sys
import unicodedata
from typing import Any
from zoneinfo import ZoneInfo

import click

from ..errors import UsageError
from ..jsonlines import json_lines
from ..match.model import ModelMatcher
from ..match.rules import matches_json
from ..parse.feed import plain_text, summary_text
from ..storage import cleaning, items, status
from ..storage import search as search_store
from ..types import Matching
from ..update.rematch import clean_pending
from ..update.rematch import rematch as rematch_items
from ..weeks import week_end, week_start
from . import labels as cli_labels
from . import models as cli_model
from .group import Context, cli, utc_now
from .report import (
    match_lines,
    search_lines,
    shown_row,
)


@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000), help="Most results.")
@click.option("--newest", is_flag=True, help="Newest first instead of best match first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines, one per item.")
@click.pass_obj
def search(obj: Context, query: str, limit: int, newest: bool, as_json: bool) -> None:
    """Full-text search of titles and summaries (words, "exact phrases", OR, NOT, prefix*), among the 2,000
    most recently stored matches."""
    with obj.store(must_exist=True) as store:
        rows = search_store.search(store, query, limit=limit, newest_first=newest)
    if as_json:
        for row in rows:
            click.echo(json.dumps(shown_row(row), ensure_ascii=False))
        return
    for line in search_lines(rows):
        click.echo(line)
    if not rows:
        click.echo(f"no items match {query!r}", err=True)


@cli.command()
@click.argument("text", required=False)
@click.option("--summary", default="", metavar="TEXT", help="A summary to match along with TEXT as title.")
@click.option(
    "--jsonl",
    "jsonl",
    type=click.File("rb"),
    metavar="FILE",
    help="Match every JSON line of FILE (- for standard input) with title, summary and link; "
    "print one JSON line per item.",
)
@click.pass_obj
def match(obj: Context, text: str | None, summary: str, jsonl: Any) -> None:
    """Which themes a text matches, with score and highlighted evidence."""
    matcher = cli_model.matcher_if_stored(obj, obj.themes_config.themes)
    if jsonl is not None:
        _match_jsonl(matcher, jsonl)
        return
    if text is None:
        raise UsageError("give a TEXT to match, or --jsonl FILE")
    text, summary = unicodedata.normalize("NFC", text), unicodedata.normalize("NFC", summary)
    found, overruled = (
        matcher.decisions(text, summary) if isinstance(matcher, ModelMatcher) else (matcher.match(text, summary), [])
    )
    color = sys.stdout.isatty()
    mark = (lambda s: click.style(s, bold=True, underline=True)) if color else (lambda s: f"[{s}]")
    labels = {key: theme.label for key, theme in obj.config.themes.items()}
    for line in match_lines(found, labels, text, summary, mark):
        click.echo(line)
    for overrule in overruled:  # the analyst sees where the learned model, not the rules, decided
        click.echo(f"{overrule.theme}  {overrule}: {'matched' if overrule.rules_score is None else 'not matched'}")
    if not found:
        click.echo("no theme matches", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--quality",
    is_flag=True,
    help="Precision, recall and F1 of each theme on the labelled items "
    "(matched again in memory with the config's themes), and the items it gets wrong.",
)
@click.pass_obj
def themes(obj: Context, as_json: bool, quality: bool) -> None:
    """The tracked themes, with how many items each matched this week and in all."""
    if quality:
        cli_labels.themes_quality(obj, as_json)
        return
    config = obj.themes_config
    since = week_start(utc_now(), config.timezone, config.digest.week_start)
    with obj.store() as store:
        matcher = cli_model.matcher(obj, store, config.themes)
        counts = status.theme_counts(store, since, week_end(since, config.timezone))
        stale = items.items_to_match(store, matcher.version)
    rows = [
        {
            "theme": key,
            "label": theme.label,
            "this_week": counts.get(key, (0, 0))[0],
            "total": counts.get(key, (0, 0))[1],
            "threshold": theme.threshold,
            "phrases": len(theme.phrases),
            "rules": len(theme.rules),
        }
        for key, theme in config.themes.items()
    ]
    if as_json:
        click.echo(
            json.dumps(
                {"themes": rows, "week_start": since.isoformat(), "items_not_matched_with_these_themes": stale},
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"{'theme':<20} {'this week':>9} {'in all':>7}  label")
    for row in rows:
        click.echo(f"{row['theme']:<20} {row['this_week']:>9} {row['total']:>7}  {row['label']}")
    click.echo(f"(week from {since.astimezone(ZoneInfo(config.timezone)):%Y-%m-%d %H:%M} {config.timezone})")
    if stale:
        click.echo(f"{stale} item(s) were matched with other theme definitions: run `monitor rematch`", err=True)


@cli.command()
@click.option(
    "--all", "everything", is_flag=True, help="Match every item, not only those the current themes have not seen."
)
@click.option(
    "--batch",
    default=500,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Items per transaction: a running daemon waits at most for one batch.",
)
@click.option("--dry-run", is_flag=True, help="List the items that would enter or leave each theme; change nothing.")
@click.pass_obj
def rematch(obj: Context, everything: bool, batch: int, dry_run: bool) -> None:
    """Match stored items again after the themes changed, in batches, with a progress bar."""
    if dry_run:
        cli_labels.rematch_dry_run(obj, batch)
        return
    with obj.store(must_exist=True) as store:
        # The themes table names what the matches will carry: a renamed theme has its label at once in SQL.
        items.sync_themes(store, obj.config.themes.values())
        matcher = cli_model.matcher(obj, store, obj.config.themes)
        listed = cleaning.items_to_clean(store)
        if listed:  # an archive an older monitor stored: its summaries cleaned first
            with click.progressbar(length=listed, label="cleaning", file=sys.stderr) as bar:
                cleaned = clean_pending(store, matcher, utc_now(), progress=bar.update)
            click.echo(f"cleaned stored summaries: {cleaned} of {listed} held boilerplate and were matched again")
        total = items.items_to_match(store, matcher.version, everything=everything)
        if not total:
            click.echo("every item is already matched with the current themes (--all matches them anyway)")
            return
        with click.progressbar(length=total, label="matching", file=sys.stderr) as bar:
            for done in rematch_items(store, matcher, utc_now(), everything=everything, batch=batch):
                bar.update(done)
        counts = status.theme_counts(store, utc_now(), utc_now())  # the totals only
    click.echo(
        f"matched {total} item(s); matches per theme: "
        + (", ".join(f"{theme} {total_}" for theme, (_, total_) in sorted(counts.items())) or "none")
    )


def _match_jsonl(matcher: Matching, lines: Any) -> None:
    bad = 0
    for line in json_lines(lines):
        item = line.value
        title, summary = (item.get("title"), item.get("summary")) if isinstance(item, dict) else (None, None)
        readable = isinstance(item, dict) and isinstance(title, str | None) and isinstance(summary, str | None)
        problem = line.problem or (None if readable else "not a JSON object with title and summary")
        if problem is not None:
            bad += 1
            click.echo(f"{lines.name}:{line.number}: skipped, {problem}", err=True)
            continue
        title, summary = plain_text(title or ""), summary_text(summary or "")
        result = {"link": item.get("link"), **matches_json(matcher.match(title, summary))}
        click.echo(json.dumps(result, ensure_ascii=False))
    if bad:
        raise UsageError(f"{bad} line(s) of {lines.name} could not be read (see above)")
