"""The CLI as a user meets it: check, feeds, search, help, exit codes, environment, a real subprocess."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import click
import pytest
from click.testing import CliRunner

from monitor.cli import cli

from .conftest import REPO
from .samples import headlines, rss


def test_check_accepts_the_shipped_config():
    result = CliRunner().invoke(cli, ["--config", str(REPO / "config" / "feeds.toml"), "check"])
    assert result.exit_code == 0, result.output
    assert "feeds      20" in result.output and "putin_blame" in result.output


def test_check_reports_every_problem_with_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[polling]\ninterval = "often"\n\n[[feeds]]\nname = "x"\nurl = "not a url"\ncolour = "red"\n')
    result = CliRunner().invoke(cli, ["--config", str(bad), "check"])
    assert result.exit_code == 2
    assert f"{bad}:2: polling.interval: expected a duration" in result.output
    assert f"{bad}:6: feeds[0].url: expected an http" in result.output
    assert f"{bad}:7: feeds[0].colour: unknown key" in result.output
    assert "Traceback" not in result.output


def test_commands_refuse_to_run_on_a_broken_config(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[feeds]]\nname = 1\n")
    for command in (["poll"], ["feeds"], ["search", "x"]):
        result = CliRunner().invoke(cli, ["--config", str(bad), "--db", str(tmp_path / "x.db"), *command])
        assert result.exit_code == 2 and "feeds[0].name" in result.output, command
    assert not (tmp_path / "x.db").exists()


def test_feeds_shows_health_as_table_and_json(feed_server, write_config, run_cli):
    config = write_config(
        [
            # Published now: the samples' 2023 stories would make the feed stale (test_stale.py).
            {"name": "sample-ok", "url": feed_server.add("/ok", body=rss(headlines(2, when=datetime.now(UTC))))},
            {"name": "sample-down", "url": feed_server.add("/down", status=503)},
            {"name": "sample-later", "url": feed_server.add("/later", body=rss(headlines(1)))},
        ]
    )
    run_cli(config, "poll", "--feed", "sample-ok", "--feed", "sample-down")
    table = run_cli(config, "feeds").output
    assert "sample-down" in table and "HTTP 503" in table and "1 failing, 1 new, 1 ok" in table
    rows = {row["name"]: row for row in json.loads(run_cli(config, "feeds", "--json").output)}
    assert rows["sample-ok"]["state"] == "ok" and rows["sample-ok"]["items"] == 2
    assert rows["sample-down"]["consecutive_failures"] == 1 and rows["sample-down"]["next_poll"] != "now"
    assert rows["sample-later"]["state"] == "new" and rows["sample-later"]["last_success_at"] is None


def test_search_prints_matches_and_json(feed_server, write_config, run_cli):
    entries = headlines(5)
    run_cli(config := write_config([{"name": "sample-wire", "url": feed_server.add("/f", body=rss(entries))}]), "poll")
    text = run_cli(config, "search", "Goris").output
    assert entries[3].title in text and entries[3].link in text and "sample-wire" in text
    lines = run_cli(config, "search", "sample", "--json", "--limit", "3").output.splitlines()
    assert len(lines) == 3 and {"title", "link", "published", "feed", "snippet"} <= set(json.loads(lines[0]))
    empty = run_cli(config, "search", "Zangezur")
    assert "no items match" in empty.output


def test_unknown_feed_to_revive_is_a_usage_error(feed_server, write_config, run_cli):
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/f", body=rss(headlines(1)))}])
    result = run_cli(config, "feeds", "revive", "nope", expect=2)
    assert "Error: no feed named 'nope'" in result.output


def test_unusable_database_is_one_error_line_and_exit_1(tmp_path, write_config):
    config = write_config([{"name": "sample-wire", "url": "http://127.0.0.1:9/f"}])
    (tmp_path / "blocker").write_text("a file where a folder should be")
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", str(tmp_path / "blocker" / "m.db"), "poll"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: database") and "Traceback" not in result.output


def commands(
    command: click.Command = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    """Every command and subcommand of the click group, with the words that name it."""
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, (*path, name))


COMMANDS = dict(commands())


def squeezed(text: str) -> str:
    """Text without its white space: help is re-wrapped to the terminal's width, hyphenated words included."""
    return "".join(text.split())


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda path: " ".join(("monitor", *path)))
def test_every_command_has_help(path):
    """`--help` and `-h` show the same help: the usage line, the docstring's first line (a sentence, not a
    placeholder), each option with its own help text, and for a group each subcommand."""
    command = COMMANDS[path]
    result = CliRunner().invoke(cli, [*path, "--help"], prog_name="monitor")
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, [*path, "-h"], prog_name="monitor").output == result.output
    assert result.output.startswith(f"Usage: {' '.join(('monitor', *path))} "), result.output
    first = (inspect.getdoc(command.callback) or "").splitlines()[0] if command.callback else ""
    assert len(first.split()) >= 6, f"`{' '.join(path)}` needs a docstring that says what it does: {first!r}"
    assert squeezed(first) in squeezed(result.output), result.output
    for param in command.get_params(click.Context(command)):  # -h/--help too
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help and len(param.help.split()) >= 2, f"{param.opts} of `{' '.join(path)}` has no help"
            for name in (*param.opts, *param.secondary_opts):
                assert name in result.output, f"{name} not listed in:\n{result.output}"
            assert squeezed(param.help) in squeezed(result.output), result.output
    if isinstance(command, click.Group):
        listed = result.output.split("\nCommands:\n", 1)[1]
        for name, sub in command.commands.items():
            assert re.search(rf"^  {re.escape(name)} ", listed, re.MULTILINE), f"{name} not listed:\n{listed}"
            assert sub.get_short_help_str().rstrip(".")[:20] in listed, listed


def test_the_help_test_walks_every_command():
    # guards the walk above: a change in click must not leave it with only the root to check
    assert len(COMMANDS) >= 24 and {("feeds", "revive"), ("feeds", "import"), ("label",), ("train",)} <= set(COMMANDS)


def test_python_m_monitor_polls_with_config_and_db_from_the_environment(feed_server, write_config, tmp_path):
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/f", body=rss(headlines(3)))}])
    db = tmp_path / "env.db"
    env = {**os.environ, "MONITOR_CONFIG": str(config), "MONITOR_DB": str(db)}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "poll"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "3 new" in done.stdout and db.exists()
    again = subprocess.run(
        [sys.executable, "-m", "monitor", "poll"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "unchanged" in again.stdout and "0 new items" in again.stdout


def test_search_without_a_database_says_so_and_creates_nothing(write_config, tmp_path):
    config = write_config([{"name": "sample-wire", "url": "http://127.0.0.1:9/f"}])
    missing = tmp_path / "nowhere.db"
    result = CliRunner().invoke(cli, ["--config", str(config), "--db", str(missing), "search", "Lachin"])
    assert result.exit_code == 2 and "monitor poll" in result.output and not missing.exists()


def test_revive_checks_every_name_before_changing_anything(feed_server, write_config, run_cli, query):
    config = write_config([{"name": "sample-gone", "url": feed_server.add("/gone", status=410)}])
    run_cli(config, "poll")
    run_cli(config, "feeds", "revive", "sample-gone", "nope", expect=2)
    assert query("SELECT dead FROM feeds")[0]["dead"] == 1
    run_cli(config, "feeds", "revive", "sample-gone")
    assert query("SELECT dead FROM feeds")[0]["dead"] == 0


def test_verbose_logs_one_line_per_feed(feed_server, write_config, tmp_path):
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/f", body=rss(headlines(2)))}])
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(tmp_path / "v.db"), "-v", "poll"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert [line for line in done.stderr.splitlines() if "sample-wire" in line] == [
        next(line for line in done.stderr.splitlines() if "ok sample-wire: 2 new" in line)
    ]
