"""`monitor demo`: what a new user runs first, offline, with the shipped config."""

from __future__ import annotations

import subprocess
import sys

from .conftest import REPO


def test_demo_polls_the_bundled_samples_matches_and_writes_a_digest(tmp_path):
    done = subprocess.run([sys.executable, "-m", "monitor", "--config", str(REPO / "config" / "feeds.toml"), "demo",
                           "--out", str(tmp_path / "digests"), "--dir", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sample-wire" in done.stdout and "sample-dispatch" in done.stdout and "Try next:" in done.stdout
    assert "armenian_exodus" in done.stdout and "putin_blame" in done.stdout and "baku_promises" in done.stdout
    text = (tmp_path / "digests" / "2023-W39.txt").read_text()
    assert "Exodus of Karabakh Armenians" in text and "also reported by" in text
    assert (tmp_path / "digests" / "2023-W39.html").exists() and (tmp_path / "work" / "demo.db").exists()
    search = subprocess.run([sys.executable, "-m", "monitor", "--config", str(REPO / "config" / "feeds.toml"),
                             "--db", str(tmp_path / "work" / "demo.db"), "search", "Stepanakert"],
                            capture_output=True, text=True, timeout=60)
    assert "Stepanakert" in search.stdout
