"""Soak: `monitor run` (a real subprocess) for minutes against local sample feeds that change every few
seconds; its resident memory, open file descriptors and threads are sampled every polling interval.

    python bench/soak.py [--seconds 300] [--feeds 50] [--hosts 5] [--interval 5] [--change 3]

Prints first / last / max of each, the polls and items stored, and exits 1 on clear growth after the
warm-up (the first fifth of the run), comparing medians of thirds of the samples: resident memory 25%
higher in the last third than in the first; file descriptors or threads rising through the run (by more
than 8 descriptors or 4 threads from each third to the next); or when the daemon does not stop cleanly
on SIGTERM. A leak of one descriptor or thread per poll shows within a minute.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO

sys.path.insert(0, str(REPO))
from tests.feedserver import FeedServer, Route

# Memory may creep without leaking (caches, fragmentation): a clear rise between the first and last third
# is growth. Thread and connection pools may fill up once and then stay flat: only a count that rises
# through the run (second third over the first, and last over the second) is a leak.
GROWTH = {"rss_mb": (0.25, 0.0, False), "fds": (0.0, 8, True), "threads": (0.0, 4, True)}


def sample_feed(number: int, version: int, items: int = 10) -> bytes:
    """A rolling window of sample items: each new version adds one item and drops the oldest."""
    entries = "".join(
        f"<item><title>Sample Wire {number}: bulletin {v}</title>"
        f"<link>https://sample-wire.example.org/soak-{number}/{v}</link>"
        f"<description>Sample Wire bulletin {v} of feed {number}; families leave Stepanakert for Goris.</description>"
        f"</item>"
        for v in range(version, max(-1, version - items), -1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Sample Wire</title>'
        f"<link>https://sample-wire.example.org/</link>{entries}</channel></rss>"
    ).encode()


def proc_figures(pid: int) -> dict[str, float]:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {
        "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
        "fds": len(list(Path(f"/proc/{pid}/fd").iterdir())),
        "threads": int(status["Threads"]),
    }


def grew(series: list[float], relative: float, absolute: float, steadily: bool) -> bool:
    n = len(series)
    first, middle, last = (
        statistics.median(part) for part in (series[: n // 3], series[n // 3 : 2 * n // 3], series[2 * n // 3 :])
    )
    if steadily:
        return middle > first * (1 + relative) + absolute and last > middle * (1 + relative) + absolute
    return last > first * (1 + relative) + absolute


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=5)
    parser.add_argument("--interval", type=int, default=5, help="polling interval of every feed, seconds")
    parser.add_argument("--change", type=float, default=3, help="seconds between new versions of the feeds")
    args = parser.parse_args()
    servers = [FeedServer(f"127.0.0.{2 + h}").start() for h in range(args.hosts)]
    paths = [f"/soak/{n}" for n in range(args.feeds)]
    urls = [
        servers[n % args.hosts].add(path, Route(body=sample_feed(n, 0), etag='"v0"')) for n, path in enumerate(paths)
    ]
    stop = threading.Event()

    def change() -> None:  # new items and a new ETag, so every poll after a change stores something
        version = 0
        while not stop.wait(args.change):
            version += 1
            for n, path in enumerate(paths):
                servers[n % args.hosts].add(path, Route(body=sample_feed(n, version), etag=f'"v{version}"'))

    threading.Thread(target=change, daemon=True).start()
    folder = Path(tempfile.mkdtemp(prefix="monitor-soak-"))
    # digests_dir: the daemon writes last week's digest at start-up; it belongs with the throw-away database.
    lines = [
        "[monitor]",
        f'digests_dir = "{folder / "digests"}"',
        "",
        "[polling]",
        f'interval = "{args.interval}s"',
        "allow_short_intervals = true",
        "concurrency = 10",
        'deadline = "10s"',
        "",
    ]
    for n, url in enumerate(urls):
        lines += ["[[feeds]]", f'name = "soak-{n}"', f'url = "{url}"', ""]
    themes = (REPO / "config" / "feeds.toml").read_text()
    lines.append("[terms]" + themes.split("\n[terms]", 1)[1].split("# --- Digests")[0])
    (folder / "feeds.toml").write_text("\n".join(lines))
    log = (folder / "daemon.log").open("w")
    daemon = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(folder / "feeds.toml"), "--db", str(folder / "m.db"), "run"],
        stdout=log,
        stderr=log,
    )
    samples: list[dict[str, float]] = []
    start = time.monotonic()
    try:
        while time.monotonic() - start < args.seconds and daemon.poll() is None:
            time.sleep(args.interval)
            if daemon.poll() is None:
                samples.append(proc_figures(daemon.pid))
        crashed = daemon.poll()
        daemon.send_signal(signal.SIGTERM)
        exit_code = daemon.wait(timeout=60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        stop.set()
        for server in servers:
            server.stop()
        log.close()
    conn = sqlite3.connect(folder / "m.db")
    polls, items, errors = conn.execute(
        "SELECT (SELECT count(*) FROM fetches), (SELECT count(*) FROM items), "
        "(SELECT count(*) FROM fetches WHERE outcome = 'error')"
    ).fetchone()
    conn.close()
    elapsed = time.monotonic() - start
    print(
        f"soak: {elapsed:.0f} s, {args.feeds} feeds on {args.hosts} hosts polled every {args.interval} s, "
        f"changing every {args.change:g} s: {polls:,} polls ({polls / max(1, args.feeds):.0f} rounds), "
        f"{errors} errors, {items:,} items stored; {len(samples)} samples"
    )
    warm = samples[len(samples) // 5 :]
    failures = []
    if crashed is not None or exit_code != 0:
        code = crashed if crashed is not None else exit_code
        failures.append(f"daemon exit code {code} (log: {folder / 'daemon.log'})")
    for key, (relative, absolute, steadily) in GROWTH.items():
        series = [s[key] for s in samples]
        if not series:
            failures.append("no samples")
            break
        after = [s[key] for s in warm]
        growing = len(after) >= 3 and grew(after, relative, absolute, steadily)
        n = len(after)
        thirds = " / ".join(
            f"{statistics.median(p):.1f}"
            for p in (after[: n // 3], after[n // 3 : 2 * n // 3], after[2 * n // 3 :])
            if p
        )
        print(
            f"  {key:8s} first {series[0]:7.1f}  last {series[-1]:7.1f}  max {max(series):7.1f}"
            f"  (after warm-up, medians of thirds: {thirds}){'  GROWING' if growing else ''}"
        )
        if growing:
            failures.append(f"{key} grew after the warm-up")
    if failures:
        print("FAILED: " + "; ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
