"""The README stays complete: every command, option, setting, table and column is documented there, and it
opens with the two commands that set everything up. The pages docs/generate.py writes from the code are what
it writes now. Each failure names what is missing and where.

The code is read through docs/generate.py, the one place that imports the monitor modules the docs describe.
"""

from __future__ import annotations

import re
from typing import Any

import click
import pytest

from generate import DOCUMENTED, REQUIRED, cli, contexts, migrated_schema, pages

from .conftest import REPO

README = REPO / "README.md"
DOCS = REPO / "docs"
REGENERATE = "run `make docs` (or `python docs/generate.py`) and commit what it writes"


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def part(text: str, heading: str, level: int) -> str:
    """The text under the first heading of `level` (2 for ##, 3 for ###) whose title contains `heading`,
    up to the next heading of the same or a higher level."""
    marks = "#" * level
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if re.match(rf"{marks} ", line) and heading in line), None)
    if start is None:
        return ""
    end = next((n for n in range(start + 1, len(lines)) if re.match(rf"#{{1,{level}}} ", lines[n])), len(lines))
    return "\n".join(lines[start:end])


def table_rows(text: str) -> dict[str, str]:
    """Markdown table rows keyed by the backquoted name in their first cell."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if match:
            rows.setdefault(match.group(1), line)
    return rows


# --- the opening ----------------------------------------------------------------------------------


def test_readme_opens_with_the_title_and_the_two_make_commands(readme: str) -> None:
    lines = [line for line in readme.splitlines() if line.strip()]
    assert lines[0].startswith("# "), f"the README must start with a `# title` line, not {lines[0]!r}"
    assert lines[1].startswith("```"), f"the first thing after the title must be a code block, not {lines[1]!r}"
    block = re.search(r"```[^\n]*\n(.*?)```", readme, re.DOTALL)
    assert block, "the README has no code block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    commands = [c for c in commands if c]
    assert commands == ["make run", "make test"], (
        f"the README's first code block must hold exactly `make run` and `make test`, found {commands}"
    )


# --- commands and options -------------------------------------------------------------------------


COMMANDS = list(contexts())  # (path of names, the context the command runs in)


def test_every_command_is_documented(readme: str) -> None:
    missing = [
        " ".join(("monitor", *path)) for path, _ in COMMANDS if path and " ".join(("monitor", *path)) not in readme
    ]
    assert not missing, f"commands missing from README.md: {', '.join(missing)}"


def options_of(ctx: click.Context) -> list[str]:
    names: list[str] = []
    for param in ctx.command.get_params(ctx):
        if isinstance(param, click.Option):
            names += [*param.opts, *param.secondary_opts]
    return names


def test_every_option_of_every_command_is_documented(readme: str) -> None:
    missing = []
    for path, ctx in COMMANDS:
        for option in options_of(ctx):
            # `-v` must appear on its own, not as part of `--verbose` or `-vv`
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", readme):
                missing.append(f"{option} (of `{' '.join(('monitor', *path))}`)")
    assert not missing, f"options missing from README.md: {', '.join(missing)}"


def test_the_commands_are_found_at_all() -> None:
    # guards the walk itself: a change in click must not make the test above vacuous
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"check", "poll", "feeds", "feeds revive", "search"} <= paths
    assert "--limit" in options_of(dict(COMMANDS)[("search",)])
    assert dict(COMMANDS)[()].command is cli
    assert "-h" in options_of(dict(COMMANDS)[("search",)])  # the help option as a user types it


# --- settings ---------------------------------------------------------------------------------------


def documented_default(default: Any) -> str | None:
    """How a default shows in the README's table row, or None when any wording will do."""
    if default is REQUIRED:
        return "required"
    if default is None:
        return None
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple) and not default:
        return "[]"
    return str(default)


def test_every_setting_is_documented_with_its_default(readme: str) -> None:
    configuration = part(readme, "Configuration", 2)
    assert configuration, "README.md has no `## Configuration` section"
    problems = []
    for section, settings in DOCUMENTED.items():
        text = part(configuration, f"[{section}", 3)  # [monitor], [[feeds]], [themes.<key>] ...
        if not text:
            problems.append(f"no `### ... [{section}...]` heading in the Configuration section")
            continue
        rows = table_rows(text)
        for setting in settings:
            row = rows.get(setting.key)
            if row is None:
                problems.append(f"{section}.{setting.key} has no `| `{setting.key}` | ...` row")
                continue
            default = documented_default(setting.default)
            if default is not None and default not in row:
                problems.append(f"{section}.{setting.key}: the row does not give the default {default!r}")
    assert not problems, "settings missing from README.md:\n  " + "\n  ".join(problems)


# --- the database ------------------------------------------------------------------------------------


def test_every_table_and_column_is_documented(readme: str) -> None:
    tables = migrated_schema()
    assert {"feeds", "items", "item_sources", "fetches", "items_fts", "schema_migrations"} <= set(tables)
    database = part(readme, "The database", 2)
    assert database, "README.md has no `## The database` section"
    problems = []
    for table, columns in tables.items():
        text = part(database, f"`{table}`", 3)
        if not text:
            problems.append(f"table {table}: no `### `{table}`` heading in the database section")
            continue
        rows = table_rows(text)
        for column in columns:
            # a column is documented by a table row, or (for the FTS table) named in backquotes
            if column not in rows and f"`{column}`" not in text:
                problems.append(f"column {table}.{column}")
    assert not problems, "missing from the database section of README.md:\n  " + "\n  ".join(problems)


# --- generated pages ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return pages()


@pytest.mark.parametrize("name", ["reference/settings.md", "reference/schema.md", "reference/cli.md"])
def test_a_generated_page_is_what_the_generator_writes_now(generated: dict[str, str], name: str) -> None:
    assert name in generated, f"docs/generate.py no longer writes docs/{name}"
    page = DOCS / name
    assert page.exists(), f"docs/{name} is missing: {REGENERATE}"
    assert page.read_text(encoding="utf-8") == generated[name], (
        f"docs/{name} is out of date with the code: {REGENERATE}"
    )
