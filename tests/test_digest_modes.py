"""Digest files are as readable as the user's umask says (issue 13): analysts on the host of a Docker or
systemd install open them; the rename that makes them appear whole is kept."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from .helpers import THEMES
from .samples import headlines, rss


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_digest_files_take_the_umask_of_the_process_that_writes_them(
    feed_server, write_config, run_cli, db_path, tmp_path, umask, mode
):
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/f", body=rss(headlines(3)))}], extra=THEMES)
    run_cli(config, "poll")
    out = tmp_path / "digests"
    command = [
        sys.executable,
        "-m",
        "monitor",
        "--config",
        str(config),
        "--db",
        str(db_path),
        "digest",
        "--week",
        "2023-W39",
        "--no-send",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, preexec_fn=lambda: os.umask(umask))
    assert done.returncode == 0, done.stderr
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in out.iterdir()}
    assert modes == {"2023-W39.txt": mode, "2023-W39.html": mode}  # no temporary file left either
