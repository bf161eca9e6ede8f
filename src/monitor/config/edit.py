"""PURE: a rule added to a theme in the text of a config file, as an analyst would type it (`monitor suggest
--apply`): every other byte stays as it was (comments, layout, BOM, line ends), so the edit shows in a diff
and is undone by deleting the lines it names. `save.write_text` writes the result.

The rule goes right after the last key of the theme's last table (`[themes.KEY]` or `[[themes.KEY.rules]]`):
comments standing before the next table belong to that table and stay with it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

# A table header at the start of a line: `[a.b]` or `[[a.b.c]]`, maybe with a comment after it. A line of a
# multi-line array that begins with `[` holds a string or a comma, which no header has.
_HEADER = re.compile(r"""^\[(\[?)\s*([A-Za-z0-9_\-."' ]+?)\s*\]\1\s*(#.*)?$""")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class Added:
    text: str  # the whole new config text
    first: int  # the lines (1-based) the rule and its comment now hold in it
    last: int


def toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(value, ensure_ascii=False)


def rule_lines(theme: str, comment: Sequence[str], fields: Sequence[tuple[str, object]]) -> list[str]:
    """A `[[themes.THEME.rules]]` table with `fields` (strings, lists of strings or lists of them, ints, bools)
    after `comment` lines."""
    key = theme if _BARE_KEY.match(theme) else toml_string(theme)
    lines = [f"# {line}" for line in comment] + [f"[[themes.{key}.rules]]"]
    lines += [f"{name} = {_value(value)}" for name, value in fields]
    return lines


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def add_rule(text: str, theme: str, lines: Sequence[str]) -> Added | None:
    """`text` with `lines` (a rule's table, from `rule_lines`) after the theme's last table; None when the
    theme has no table of its own to follow (it is written inline), where only a hand can place it."""
    newline = "\r\n" if "\r\n" in text else "\n"
    rows = text.splitlines(keepends=True)
    headers = [(i, path) for i, row in enumerate(rows) if (path := _table(row)) is not None]
    own = [i for i, path in headers if path[:2] == ("themes", theme)]
    if not own:
        return None
    start = own[-1]
    end = next((i for i, _ in headers if i > start), len(rows))
    last = max(i for i in range(start, end) if rows[i].strip() and not rows[i].lstrip().startswith("#"))
    if not rows[last].endswith(("\n", "\r")):
        rows[last] += newline
    block = [newline] + [line + newline for line in lines]
    new = rows[: last + 1] + block + rows[last + 1 :]
    first_line = last + 3  # 1-based, after the blank line
    return Added("".join(new), first_line, first_line + len(lines) - 1)


def _table(row: str) -> tuple[str, ...] | None:
    found = _HEADER.match(row.strip("\r\n").removeprefix("\ufeff"))
    if found is None:
        return None
    return tuple(part.strip().strip("\"'") for part in found.group(2).split("."))
