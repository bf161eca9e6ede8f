"""Config values past any sane bound are refused before anything runs (exit 2, file, line and key), and a
server's absurd Retry-After is capped: the operator's typo or a hostile server never becomes a flood of
requests, a traceback or a feed that is never polled again."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.service import metrics

from .samples import headlines, rss


def monitor(config: Path, *args: str, db: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m monitor ...` as an operator runs it."""
    extra = ["--db", str(db)] if db else []
    return subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *extra, *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_typo_of_1ms_for_1m_is_refused_by_check_and_poll_and_sends_nothing(feed_server, write_config, tmp_path):
    url = feed_server.add("/wire", body=rss(headlines(2)))
    config = write_config(
        [{"name": "sample-wire", "url": url}], polling={"interval": "1ms", "allow_short_intervals": False}
    )
    checked = monitor(config, "check")
    assert checked.returncode == 2, checked.stdout + checked.stderr
    line = config.read_text().splitlines().index('interval = "1ms"') + 1
    assert f"{config}:{line}: polling.interval: '1ms' is shorter than a minute" in checked.stderr
    assert "allow_short_intervals" in checked.stderr and "Traceback" not in checked.stderr
    polled = monitor(config, "poll", db=tmp_path / "monitor.db")
    assert polled.returncode == 2 and "shorter than a minute" in polled.stderr
    assert feed_server.hits("/wire") == []


def test_a_feed_of_its_own_under_a_minute_is_refused_too_and_accepted_when_the_operator_means_it(
    feed_server, write_config, run_cli
):
    url = feed_server.add("/wire", body=rss(headlines(2)))
    config = write_config(
        [{"name": "sample-wire", "url": url, "interval": "5s"}], polling={"allow_short_intervals": False}
    )
    result = run_cli(config, "check", expect=2)
    assert "feeds[0].interval: '5s' is shorter than a minute" in result.output
    meant = write_config(
        [{"name": "sample-wire", "url": url, "interval": "5s"}], polling={"allow_short_intervals": True}
    )
    assert "2 new" in run_cli(meant, "poll").output


ABSURD = [
    ('[polling]\ninterval = "999999999999d"\n', 2, "polling.interval: expected a duration of at most 365d"),
    ('[polling]\nbackoff_max = "99999999999999999999w"\n', 2, "polling.backoff_max: expected a duration of at most"),
    ('[polling]\ndeadline = "2d"\n', 2, "polling.deadline: expected a duration of at most 1h"),
    ('[monitor]\nbusy_timeout = "9999999999d"\n', 2, "monitor.busy_timeout: expected a duration of at most 1d"),
    ('[polling]\nmax_bytes = "1e30MB"\n', 2, "polling.max_bytes: expected a size"),
    ('[polling]\nmax_bytes = "99999999999999999999999GB"\n', 2, "polling.max_bytes: expected a size of at most 1.0 GB"),
    ("[polling]\nmax_bytes = 99999999999999\n", 2, "polling.max_bytes: expected a size of at most 1.0 GB"),
    ("[polling]\nmax_bytes = -5\n", 2, "polling.max_bytes: expected a size greater than zero"),
    ('[polling]\nread_timeout = "-1s"\n', 2, "polling.read_timeout: expected a duration"),
    ('[polling]\nconnect_timeout = "0s"\n', 2, "polling.connect_timeout: expected a duration greater than zero"),
    ('[polling]\nkeep_fetches = "1d"\n', 2, "polling.keep_fetches: expected at least 14d"),
    (
        '[themes.t]\nlabel = "T"\n\n[[themes.t.rules]]\nname = "blame"\nall = ["Putin", []]\n',
        6,
        "themes.t.rules[0].all: entry 2 is an empty list, so the rule could never match",
    ),
    (
        '[terms]\nnobody = []\n\n[themes.t]\nlabel = "T"\nrules = [{ all = ["Putin", "@nobody"] }]\n',
        2,
        "terms.nobody: a term set needs at least one term",
    ),
    (
        '[themes.t]\nlabel = "T"\nphrases = ["Lachin corridor", "--"]\n',
        3,
        "themes.t.phrases: phrase '--' has no words in it",
    ),
    ('[metrics]\naddress = "::1:9464"\n', 2, "metrics.address: expected host:port"),
]


@pytest.mark.parametrize(("text", "line", "message"), ABSURD, ids=[m.split(":")[0] for _, _, m in ABSURD])
def test_absurd_values_are_config_errors_with_file_and_line(tmp_path, text, line, message):
    # In-process, as `monitor` runs its click group (a process each took 1 s, 15 s in all, to import monitor);
    # the typo test above checks the same refusal from a real `python -m monitor` process.
    config = tmp_path / "feeds.toml"
    config.write_text(text, encoding="utf-8")
    done = CliRunner().invoke(cli, ["--config", str(config), "check"], prog_name="monitor")
    assert done.exit_code == 2, done.output
    assert isinstance(done.exception, SystemExit), done.exception  # exited as planned: no traceback
    assert f"{config}:{line}: {message}" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_ipv6_metrics_address_is_accepted_and_served(write_config, run_cli):
    probe = socket.socket(socket.AF_INET6)
    probe.bind(("::1", 0))
    port = probe.getsockname()[1]
    probe.close()
    config = write_config([], extra=f'[metrics]\nenabled = true\naddress = "[::1]:{port}"\n')
    run_cli(config, "check")
    served = metrics.start(True, f"[::1]:{port}")
    assert served is not None
    try:
        assert "monitor_polls" in httpx.get(f"http://[::1]:{port}/metrics", timeout=10).text
    finally:
        served.close()


@pytest.mark.parametrize("retry_after", [str(10**12), str(10**20), "Fri, 31 Dec 9999 23:59:59 GMT"])
def test_a_huge_retry_after_is_capped_at_a_week_and_the_round_ends_normally(
    feed_server, write_config, tmp_path, query, retry_after
):
    busy = feed_server.add("/busy", status=503, headers={"Retry-After": retry_after})
    fine = feed_server.add("/fine", body=rss(headlines(2)))
    config = write_config([{"name": "sample-busy", "url": busy}, {"name": "sample-fine", "url": fine}])
    done = monitor(config, "poll", db=tmp_path / "data" / "monitor.db")
    assert done.returncode == 0, done.stdout + done.stderr  # one feed of two failing is an ordinary round
    assert "Traceback" not in done.stderr and "2 new items" in done.stdout
    wait = query(
        "SELECT (julianday(retry_not_before) - julianday(last_fetch_at)) AS days FROM feeds WHERE name = 'sample-busy'"
    )[0]["days"]
    assert abs(wait - 7) < 0.001
