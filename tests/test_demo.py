"""`monitor demo`: what a new user runs first, offline, with the shipped config."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO


def test_demo_polls_the_bundled_samples_matches_and_writes_a_digest(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(REPO / "config" / "feeds.toml"),
            "demo",
            "--out",
            str(tmp_path / "digests"),
            "--dir",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "sample-wire" in done.stdout and "sample-dispatch" in done.stdout and "Try next:" in done.stdout
    assert "armenian_exodus" in done.stdout and "putin_blame" in done.stdout and "baku_promises" in done.stdout
    text = (tmp_path / "digests" / "2023-W39.txt").read_text()
    assert "Exodus of Karabakh Armenians" in text and "2 outlets" in text and "   - sample-dispatch, " in text
    assert (tmp_path / "digests" / "2023-W39.html").exists() and (tmp_path / "work" / "demo.db").exists()
    search = subprocess.run(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(REPO / "config" / "feeds.toml"),
            "--db",
            str(tmp_path / "work" / "demo.db"),
            "search",
            "Stepanakert",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Stepanakert" in search.stdout


def test_demo_match_and_themes_work_from_an_empty_folder_with_the_packaged_starter_config(tmp_path):
    """An installed monitor run where there is no config/feeds.toml (was: exit 2, "file not found")."""
    env = {k: v for k, v in os.environ.items() if k != "MONITOR_CONFIG"}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "no-user-config")  # a config of the tester's own would be found

    def monitor(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
        )

    demo = monitor("demo", "--out", str(tmp_path / "out"), "--dir", str(tmp_path / "work"))
    assert demo.returncode == 0, demo.stderr
    assert "using the starter config shipped with monitor" in demo.stderr
    assert "Try next:" in demo.stdout and "init` writes a config of your own (config/feeds.toml here)" in demo.stdout
    assert (tmp_path / "out" / "2023-W39.txt").exists()
    matched = monitor("match", "Sample: Armenians flee Karabakh as Russian peacekeepers stand by")
    assert matched.returncode == 0 and "putin_blame" in matched.stdout, matched.stdout + matched.stderr
    assert monitor("themes").returncode == 0
    assert monitor("feeds").returncode == 2  # the user's own feeds: no stand-in for those
