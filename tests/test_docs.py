"""The documentation stays complete and true to the code. The README is the front door: it opens with the two
commands that set everything up, stays short and links only to pages that exist. The reference in docs/
names every command, option, exit code, setting, table, column and module, its generated pages are what the
generator writes now, and the site builds with strict checks. Each failure names what is missing and where.

The code is read through docs/generate.py, the one place that imports the monitor modules the docs describe.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import click
import pytest

from generate import DOCUMENTED, REQUIRED, SOURCE, cli, contexts, migrated_schema, pages, toml_heading

from .conftest import REPO

README = REPO / "README.md"
DOCS = REPO / "docs"
README_MAX_LINES = 400
REGENERATE = "run `make docs` (or `python docs/generate.py`) and commit what it writes"


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def where(path: Path) -> str:
    return str(path.relative_to(REPO))


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


# --- the README: the front door ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def readme() -> str:
    return read(README)


def test_readme_opens_with_the_title_and_the_two_make_commands(readme: str) -> None:
    lines = [line for line in readme.splitlines() if line.strip()]
    assert lines[0] == "# monitor", f"the README must start with the line `# monitor`, not {lines[0]!r}"
    assert lines[1].startswith("```"), f"the first thing after the title must be a code block, not {lines[1]!r}"
    block = re.search(r"```[^\n]*\n(.*?)```", readme, re.DOTALL)
    assert block, "the README has no code block"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    commands = [c for c in commands if c]
    assert commands == ["make run", "make test"], (
        f"the README's first code block must hold exactly `make run` and `make test`, found {commands}"
    )


def test_readme_stays_a_front_door(readme: str) -> None:
    count = len(readme.splitlines())
    assert count < README_MAX_LINES, (
        f"README.md has {count} lines; keep it under {README_MAX_LINES}: move reference material to a page of docs/"
    )


def slug(heading: str) -> str:
    """The anchor MkDocs (Python-Markdown's toc) gives a heading; GitHub gives the same for plain titles."""
    text = unicodedata.normalize("NFKD", heading.replace("`", "")).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", read(path), flags=re.DOTALL)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, flags=re.MULTILINE)}


def test_readme_links_only_to_pages_that_exist(readme: str) -> None:
    links = list(dict.fromkeys(re.findall(r"\]\(([^)\s]+)\)", readme)))
    local = [link for link in links if not re.match(r"[a-z]+:", link)]
    assert any(link.startswith("docs/") for link in local), "README.md links to no page of docs/"
    problems = []
    for link in local:
        target, _, anchor = link.partition("#")
        path = REPO / target if target else README
        if not path.exists():
            problems.append(f"{link}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            problems.append(f"{link}: {target or 'README.md'} has no heading with the anchor #{anchor}")
    assert not problems, "broken links in README.md:\n  " + "\n  ".join(problems)


def test_make_docs_is_named_where_make_targets_are_listed(readme: str) -> None:
    header = "\n".join(line for line in read(REPO / "Makefile").splitlines() if line.startswith("#"))
    assert re.search(r"^\s*docs:", read(REPO / "Makefile"), re.MULTILINE), "the Makefile has no `docs` target"
    assert "make docs" in header, "the Makefile's comment header does not name `make docs`"
    assert "make docs" in readme, "README.md does not name `make docs`"


# --- generated pages ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated() -> dict[str, str]:
    return pages()


@pytest.mark.parametrize("name", ["reference/settings.md", "reference/schema.md", "reference/cli.md"])
def test_a_generated_page_is_what_the_generator_writes_now(generated: dict[str, str], name: str) -> None:
    assert name in generated, f"docs/generate.py no longer writes docs/{name}"
    page = DOCS / name
    assert page.exists(), f"docs/{name} is missing: {REGENERATE}"
    assert read(page) == generated[name], f"docs/{name} is out of date with the code: {REGENERATE}"


# --- commands, options and exit codes ---------------------------------------------------------------------

COMMANDS_PAGE = DOCS / "commands.md"
COMMANDS = list(contexts())  # (path of names, the context the command runs in)


@pytest.fixture(scope="module")
def commands_page() -> str:
    return read(COMMANDS_PAGE)


def test_every_command_is_documented(commands_page: str) -> None:
    names = [" ".join(("monitor", *path)) for path, _ in COMMANDS if path]
    missing = [name for name in names if name not in commands_page]
    assert not missing, f"commands missing from {where(COMMANDS_PAGE)}: {', '.join(missing)}"


def options_of(ctx: click.Context) -> list[str]:
    names: list[str] = []
    for param in ctx.command.get_params(ctx):
        if isinstance(param, click.Option):
            names += [*param.opts, *param.secondary_opts]
    return names


def test_every_option_of_every_command_is_documented(commands_page: str) -> None:
    missing = []
    for path, ctx in COMMANDS:
        for option in options_of(ctx):
            # `-v` must appear on its own, not as part of `--verbose` or `-vv`
            if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", commands_page):
                missing.append(f"{option} (of `{' '.join(('monitor', *path))}`)")
    assert not missing, f"options missing from {where(COMMANDS_PAGE)}: {', '.join(missing)}"


def test_the_commands_are_found_at_all() -> None:
    # guards the walk itself: a change in click must not make the tests above vacuous
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"check", "poll", "feeds", "feeds revive", "search"} <= paths
    assert "--limit" in options_of(dict(COMMANDS)[("search",)])
    assert dict(COMMANDS)[()].command is cli
    assert "-h" in options_of(dict(COMMANDS)[("search",)])  # the help option as a user types it


def exit_codes_in_the_code() -> dict[int, list[str]]:
    """Every exit code the code names, literally, with where: `exit_code = N` of an error class, `sys.exit(N)`,
    `ctx.exit(N)`, `SystemExit(N)`."""
    found: dict[int, list[str]] = {}
    pattern = re.compile(r"exit_code\s*=\s*(\d+)|(?:\.exit|SystemExit)\((\d+)\)")
    for path in sorted(SOURCE.rglob("*.py")):
        for number, line in enumerate(read(path).splitlines(), start=1):
            for match in pattern.finditer(line):
                code = int(match.group(1) or match.group(2))
                found.setdefault(code, []).append(f"{path.relative_to(SOURCE)}:{number}")
    return found


def test_every_exit_code_the_code_uses_is_documented(commands_page: str) -> None:
    codes = exit_codes_in_the_code()
    assert {1, 2, 3} <= set(codes), f"the search for exit codes found only {sorted(codes)}"  # guards the search
    section = part(commands_page, "Exit codes", 2)
    assert section, f"{where(COMMANDS_PAGE)} has no `## Exit codes` section"
    documented = {int(m) for m in re.findall(r"^\|\s*(\d+)\s*\|", section, re.MULTILINE)}
    missing = [f"{code} (used at {', '.join(places)})" for code, places in codes.items() if code not in documented]
    missing += ["0 (success)"] if 0 not in documented else []
    assert not missing, f"exit codes missing from the table of {where(COMMANDS_PAGE)}, Exit codes: {'; '.join(missing)}"


# --- settings ---------------------------------------------------------------------------------------------

SETTINGS_PAGE = DOCS / "reference" / "settings.md"
CONFIGURATION_PAGE = DOCS / "configuration.md"


def documented_default(default: object) -> str | None:
    """How a default shows in the reference's table row, or None when any wording will do."""
    if default is REQUIRED:
        return "required"
    if default is None:
        return None
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, tuple) and not default:
        return "[]"
    return str(default)


def test_every_setting_is_documented_with_its_default() -> None:
    reference = read(SETTINGS_PAGE)
    problems = []
    for section, settings in DOCUMENTED.items():
        text = part(reference, toml_heading(section), 2)  # [monitor], [[feeds]], [themes.<key>] ...
        if not text:
            problems.append(f"no `## {toml_heading(section)}` heading")
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
    assert not problems, f"settings missing from {where(SETTINGS_PAGE)} ({REGENERATE}):\n  " + "\n  ".join(problems)


def test_the_configuration_guide_has_every_section_and_notes_only_settings_that_exist() -> None:
    guide = read(CONFIGURATION_PAGE)
    problems = []
    for section, settings in DOCUMENTED.items():
        text = part(guide, toml_heading(section), 3)
        if not text:
            problems.append(f"no `### ... {toml_heading(section)}` heading")
            continue
        keys = {s.key for s in settings}
        problems += [
            f"{toml_heading(section)} has a row for `{key}`, which is no setting of that section"
            for key in table_rows(text)
            if key not in keys
        ]
    assert not problems, f"in {where(CONFIGURATION_PAGE)}:\n  " + "\n  ".join(problems)


# --- the database -------------------------------------------------------------------------------------------

DATABASE_PAGE = DOCS / "database.md"


def test_every_table_and_column_is_documented() -> None:
    tables = migrated_schema()
    assert {"feeds", "items", "item_sources", "fetches", "items_fts", "schema_migrations"} <= set(tables)
    database = read(DATABASE_PAGE)
    problems = []
    for table, columns in tables.items():
        text = part(database, f"`{table}`", 3)
        if not text:
            problems.append(f"table {table}: no `### `{table}`` heading")
            continue
        rows = table_rows(text)
        for column in columns:
            # a column is documented by a table row, or (for the FTS tables) named in backquotes
            if column not in rows and f"`{column}`" not in text:
                problems.append(f"column {table}.{column}")
    assert not problems, f"missing from {where(DATABASE_PAGE)}:\n  " + "\n  ".join(problems)


# --- the module map -----------------------------------------------------------------------------------------

ARCHITECTURE_PAGE = DOCS / "architecture.md"


def mapped_paths(text: str) -> list[str]:
    """The paths the module map names, relative to src/monitor/ (`storage/`, `storage/items.py`): the code
    block that starts with `src/monitor/`, where an entry is a line's first word ending in `.py` or `/`, and
    an entry indented under a folder is in it."""
    block = re.search(r"```[^\n]*\nsrc/monitor/\n(.*?)```", text, re.DOTALL)
    assert block, "no code block starting with `src/monitor/` (the module map)"
    paths: list[str] = []
    folders: list[tuple[int, str]] = []  # (indent, path) of the folders the lines are in
    for line in block.group(1).splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        word = line.split()[0]
        if not word.endswith((".py", "/")):
            continue  # a description carried over to the next line
        while folders and folders[-1][0] >= indent:
            folders.pop()
        path = (folders[-1][1] if folders else "") + word
        paths.append(path)
        if word.endswith("/"):
            folders.append((indent, path))
    return paths


def modules_and_packages() -> set[str]:
    """Every module file and package under src/monitor/, as the map spells them; __init__.py aside."""
    found = set()
    for path in SOURCE.rglob("*.py"):
        if "__pycache__" in path.parts or path.name == "__init__.py":
            continue
        found.add(path.relative_to(SOURCE).as_posix())
    for init in SOURCE.rglob("__init__.py"):
        if init.parent != SOURCE and "__pycache__" not in init.parts:
            found.add(init.parent.relative_to(SOURCE).as_posix() + "/")
    return found


def test_the_module_map_names_every_module_and_only_what_exists() -> None:
    named = mapped_paths(read(ARCHITECTURE_PAGE))
    expected = modules_and_packages()
    assert "cli.py" in named or any(p.startswith("cli") for p in named)  # guards the parsing
    missing = sorted(expected - set(named) - {"__main__.py"})
    absent = sorted(p for p in named if not (SOURCE / p).exists())
    problems = [f"{p} is not in the map" for p in missing] + [
        f"{p} is in the map but not in src/monitor/" for p in absent
    ]
    assert not problems, f"the module map of {where(ARCHITECTURE_PAGE)}:\n  " + "\n  ".join(problems)


# --- the site -----------------------------------------------------------------------------------------------


def test_every_page_is_in_the_site_navigation() -> None:
    listed = set(re.findall(r"[\w./-]+\.md", read(REPO / "mkdocs.yml")))
    missing = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    missing = [p for p in missing if p not in listed]
    assert not missing, f"pages of docs/ missing from the `nav` of mkdocs.yml: {', '.join(missing)}"


@pytest.mark.slow
def test_the_site_builds_with_strict_checks(tmp_path: Path) -> None:
    for module in ("mkdocs", "material"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e '.[docs]'): the docs site was not built")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    warnings = [line for line in done.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert done.returncode == 0, "mkdocs build --strict failed:\n" + "\n".join(warnings or [done.stdout, done.stderr])
