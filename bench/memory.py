"""Benchmark: resident memory of `monitor run` while it polls many feeds (a real subprocess), against the
same interpreter with monitor imported and idle, measured in the same run.

    python bench/memory.py [--feeds 1000] [--seconds 40]

Goal (issue 6): under 150 MB while polling 1,000 feeds.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polling
from common import REPO, document

sys.path.insert(0, str(REPO / "src"))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def tree_rss_mb(pid: int) -> tuple[float, float]:
    """Resident MB of the daemon and of its helper processes (parse_processes): both are its cost, so
    they are added up (shared pages counted twice: an upper bound)."""
    try:
        return rss_mb(pid), sum(rss_mb(child) for child in children(pid))
    except OSError:
        return 0.0, 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    polling.BODY = document(50)
    servers = [polling.Server(f"127.0.0.{n + 2}") for n in range(args.hosts)]
    folder = Path(tempfile.mkdtemp(prefix="monitor-memory-"))
    # digests_dir: the daemon writes last week's digest at start-up; it belongs with the throw-away database.
    lines = [
        "[monitor]",
        f'digests_dir = "{folder / "digests"}"',
        "",
        "[polling]",
        "concurrency = 20",
        'interval = "1m"',
        "",
    ]
    for n in range(args.feeds):
        lines += ["[[feeds]]", f'name = "feed-{n}"', f'url = "{servers[n % len(servers)].url}/feed/{n}"', ""]
    themes = (REPO / "config" / "feeds.toml").read_text()
    lines.append("[terms]" + themes.split("\n[terms]", 1)[1].split("# --- Digests")[0])
    (folder / "feeds.toml").write_text("\n".join(lines))
    idle = subprocess.Popen([sys.executable, "-c", "import monitor.service.daemon, monitor.cli, time; time.sleep(30)"])
    time.sleep(3)
    baseline = rss_mb(idle.pid)
    idle.kill()
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(folder / "feeds.toml"), "--db", str(folder / "m.db"), "run"],
        stderr=subprocess.DEVNULL,
    )
    peak = peak_main = peak_helpers = 0.0
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        main_mb, helpers_mb = tree_rss_mb(daemon.pid)
        peak, peak_main, peak_helpers = (
            max(peak, main_mb + helpers_mb),
            max(peak_main, main_mb),
            max(peak_helpers, helpers_mb),
        )
        time.sleep(0.2)
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=60)
    conn = sqlite3.connect(folder / "m.db")
    fetches, items = conn.execute("SELECT (SELECT count(*) FROM fetches), (SELECT count(*) FROM items)").fetchone()
    conn.close()
    print(
        f"feeds: {args.feeds} on {args.hosts} hosts (50 items each), run for {args.seconds:.0f} s: "
        f"{fetches} polls, {items} items stored"
    )
    print(f"idle interpreter with monitor imported: {baseline:6.1f} MB  (baseline)")
    print(
        f"monitor run, peak resident:             {peak:6.1f} MB  ratio {peak / baseline:.2f} "
        f"(daemon {peak_main:.1f} MB, parse helpers {peak_helpers:.1f} MB at their peaks)"
    )


if __name__ == "__main__":
    main()
