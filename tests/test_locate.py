"""Where monitor finds its config, and where that config's files go (issue 14), run as an operator would: the
CLI in a subprocess, from a folder of the test's choosing, with HOME and the XDG folders pointed at tmp."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

import monitor
from monitor.config.settings import SECTIONS

from .samples import headlines, rss


@pytest.fixture
def sandbox(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An empty folder to stand in, and an environment with no config of the tester's own in reach."""
    folder = tmp_path / "here"
    folder.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONITOR_", "XDG_"))}
    env |= {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "home" / "config"),
        "XDG_DATA_HOME": str(tmp_path / "home" / "data"),
    }
    return folder, env


def monitor_in(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_user_config_folder_is_read_from_anywhere_and_keeps_its_files_in_the_data_folder(sandbox):
    folder, env = sandbox
    made = monitor_in(folder, env, "init", "--user")
    assert made.returncode == 0, made.stderr
    user_config = Path(env["XDG_CONFIG_HOME"]) / "monitor" / "feeds.toml"
    assert user_config.is_file() and (Path(env["XDG_DATA_HOME"]) / "monitor" / "digests").is_dir()
    checked = monitor_in(folder, env, "check")
    assert checked.returncode == 0, checked.stderr
    assert f"{user_config}: OK (the user's config folder" in checked.stdout
    data = Path(env["XDG_DATA_HOME"]) / "monitor"
    assert f"database   {data / 'data' / 'monitor.db'}" in checked.stdout, checked.stdout
    assert f"digests    {data / 'digests'}/" in checked.stdout, checked.stdout


def test_a_project_folder_config_comes_before_the_users_and_keeps_its_relative_paths(sandbox):
    folder, env = sandbox
    assert monitor_in(folder, env, "init", "--user").returncode == 0
    assert monitor_in(folder, env, "init").returncode == 0
    checked = monitor_in(folder, env, "check")
    assert "config/feeds.toml: OK (./config/feeds.toml in this folder)" in checked.stdout, checked.stdout
    assert "database   data/monitor.db" in checked.stdout and "digests    digests/" in checked.stdout


def test_monitor_config_and_the_option_come_first_and_check_says_so(sandbox, tmp_path):
    folder, env = sandbox
    assert monitor_in(folder, env, "init").returncode == 0
    other = tmp_path / "elsewhere"
    assert monitor_in(tmp_path, env, "init", str(other)).returncode == 0
    env["MONITOR_CONFIG"] = str(other / "config" / "feeds.toml")
    checked = monitor_in(folder, env, "check")
    assert f"{other / 'config' / 'feeds.toml'}: OK (from MONITOR_CONFIG)" in checked.stdout, checked.stdout
    checked = monitor_in(folder, env, "--config", "config/feeds.toml", "check")
    assert "config/feeds.toml: OK (from --config)" in checked.stdout, checked.stdout


def test_commands_that_need_the_users_feeds_say_how_to_make_a_config(sandbox):
    folder, env = sandbox
    for command in ("check", "poll", "feeds"):
        done = monitor_in(folder, env, command)
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "no config found" in done.stderr and "`monitor init`" in done.stderr, (command, done.stderr)
    assert not any(folder.iterdir()), "a command that found no config left files behind"


def test_init_never_overwrites_a_file(sandbox):
    folder, env = sandbox
    config = folder / "config" / "feeds.toml"
    config.parent.mkdir()
    config.write_text("# mine\n", encoding="utf-8")
    done = monitor_in(folder, env, "init")
    assert done.returncode == 0, done.stderr
    assert "exists, kept as it is" in done.stdout
    assert config.read_text(encoding="utf-8") == "# mine\n" and (folder / "digests").is_dir()
    assert monitor_in(folder, env, "init", "x", "--user").returncode == 2


def test_the_starter_config_comments_every_section():
    text = resources.files("monitor").joinpath("starter", "feeds.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    uncommented = []
    for section in SECTIONS:
        header = next((n for n, line in enumerate(lines) if re.match(rf"\[\[?{section}[.\]]", line)), None)
        assert header is not None, f"the starter config has no [{section}] section"
        above = next((lines[n] for n in range(header - 1, -1, -1) if lines[n].strip()), "")
        if not above.startswith("#"):
            uncommented.append(section)
    assert not uncommented, f"sections of the starter config without a comment above them: {uncommented}"


def test_the_user_agent_names_the_installed_version(feed_server, write_config, sandbox):
    folder, env = sandbox
    url = feed_server.add("/ua", body=rss(headlines(1)))
    config = write_config([{"name": "sample-ua", "url": url}])
    done = monitor_in(folder, env, "--config", str(config), "--db", str(folder / "m.db"), "poll")
    assert done.returncode == 0, done.stderr
    agent = feed_server.hits("/ua")[0].headers["user-agent"]
    assert agent.startswith(f"monitor/{monitor.__version__} ("), agent
    assert monitor.__version__ not in ("0+unknown", ""), monitor.__version__
