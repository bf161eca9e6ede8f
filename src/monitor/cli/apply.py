"""`monitor suggest --apply N`: suggestion N written into the config file as a new rule of its theme, a file
edit the analyst sees (what changed, file:line) and undoes by deleting those lines. The text is edited by
`config.edit` (pure), checked to load with the rule as suggested, and written by `config.save` (atomically,
mode, owner, symlink and BOM kept). A config that cannot be written is refused before anything is done.
"""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ..config import edit, save
from ..config.load import parse_config
from ..errors import ConfigError, UsageError
from ..learn.suggestions import Suggestion, Suggestions


def written_theme(path: str, theme: str) -> dict[str, Any] | None:
    """The theme's table as the config file writes it (its @sets), or None where it cannot be read."""
    try:
        data = tomllib.loads(save.read_text(path).removeprefix("\ufeff"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    table = data.get("themes", {}).get(theme)
    return table if isinstance(table, dict) else None


def apply(path: str, found: Suggestions, number: int, now: datetime) -> None:
    if not found.found:
        raise UsageError(f"no suggestion for {found.theme}: nothing to apply (`monitor suggest {found.theme}`)")
    if number > len(found.found):
        raise UsageError(
            f"no suggestion {number} for {found.theme}: there are {len(found.found)} "
            f"(`monitor suggest {found.theme}` numbers them)"
        )
    chosen = found.found[number - 1]
    _writable(path)
    lines = edit.rule_lines(found.theme, _comment(found.theme, number, chosen, now), chosen.fields())
    try:
        text = save.read_text(path)
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot be read: {error}; nothing was changed") from None
    added = edit.add_rule(text, found.theme, lines)
    if added is None:
        raise UsageError(
            f"{path}: theme {found.theme} has no [themes.{found.theme}] table to add a rule after; "
            "nothing was changed. Add it by hand:\n" + "\n".join(lines)
        )
    _loads_as_suggested(path, added.text, found.theme, chosen, lines)
    written = save.write_text(path, added.text)
    where = f"{path}:{added.first}-{added.last}" + (f" (the file {written})" if str(written) != path else "")
    click.echo(f"added to {where}:")
    for line in lines:
        click.echo(f"  {line}")
    click.echo(
        f"{found.theme} on the labels: +{chosen.catches} labelled yes, +{chosen.wrongly} labelled no; "
        f"precision {chosen.without.precision:.3f} -> {chosen.with_it.precision:.3f}, "
        f"F1 {chosen.without.f1:.3f} -> {chosen.with_it.f1:.3f}"
        + ("" if chosen.helps else " (this suggestion was not one that helps)")
    )
    click.echo(
        f"undo: delete lines {added.first}-{added.last} of {path}. `monitor themes --quality` measures the "
        "theme with it; `monitor rematch` matches the stored items with it (a running daemon: `monitor reload`)"
    )


def _writable(path: str) -> None:
    """Refuse before any work where the file, or its folder (where the new text is written first), cannot
    be written by this user."""
    target = Path(os.path.realpath(path))
    for what, place in (("file", target), ("folder", target.parent)):
        if not os.access(place, os.W_OK):
            raise UsageError(f"{path}: the config {what} {place} is not writable by this user; nothing was changed")


def _comment(theme: str, number: int, chosen: Suggestion, now: datetime) -> list[str]:
    return [
        f"Added by `monitor suggest {theme} --apply {number}` on {now:%Y-%m-%d}: on the labels then",
        f"+{chosen.catches} labelled yes, +{chosen.wrongly} labelled no, F1 {chosen.without.f1:.3f} -> "
        f"{chosen.with_it.f1:.3f}. Delete this rule to undo it.",
    ]


def _loads_as_suggested(path: str, text: str, theme: str, chosen: Suggestion, lines: list[str]) -> None:
    """Never write a config that would not load, or whose new rule is not the one measured (a theme whose
    rules are an inline array cannot take a table after them): the analyst gets the rule to place by hand."""
    by_hand = "; nothing was changed. Add it by hand:\n" + "\n".join(lines)
    try:
        rules = parse_config(text, path).themes[theme].rules
    except ConfigError as error:
        raise UsageError(f"the rule, added after the theme's last key, would not load: {error}{by_hand}") from None
    if not rules or rules[-1] != chosen.rule:
        raise UsageError(f"{path}: the rule added after the theme's last key would not read back as measured{by_hand}")
