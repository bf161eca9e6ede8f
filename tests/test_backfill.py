"""`monitor backfill` (issue 15) against a small web archive on 127.0.0.1 (tests/archiveserver.py): captures
of two feeds over several days, a duplicate, a failed capture, a 429 with Retry-After, an HTML error page
where a feed should be; a run killed with SIGKILL and resumed, nothing stored twice."""

from __future__ import annotations

import gzip
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest

from monitor.fetch.netguard import Watchdog, getaddrinfo

from .archiveserver import ArchiveServer, Generated, Stored
from .helpers import THEMES
from .history_samples import W38, W39, WIRE_URL, at, saved_rss, story
from .samples import Entry

DESK = "https://sample-desk.example.org"
DESK_URL = f"{DESK}/rss"
ERROR_PAGE = (
    b"<!DOCTYPE html><html><head><title>Wayback Machine</title></head><body>Hrm. Got an HTTP 502.</body></html>"
)


def desk_story(n: int, title: str, when: datetime) -> Entry:
    return Entry(
        title=title, link=f"{DESK}/2023/{n}", guid=f"{DESK}/2023/{n}", summary="<p>Sample item.</p>", published=when
    )


def stamp(day: int, hour: int) -> str:
    return f"202309{day:02d}{hour:02d}0000"


def wire_captures() -> list[Stored]:
    first = saved_rss(W38, at(20, 6))
    return [
        Stored(stamp(20, 6), WIRE_URL, first),
        Stored(stamp(20, 18), WIRE_URL, first),  # the same body again: the index collapses it
        Stored(
            stamp(21, 12),
            WIRE_URL,
            saved_rss(W38 + [story(5, "Sample: aid convoy waits at Lachin", at(21))], at(21, 12)),
            busy=1,
        ),  # 429, Retry-After: 1
        Stored(stamp(22, 6), WIRE_URL, first),  # identical to an earlier body: kept once
        Stored(stamp(26, 6), WIRE_URL, saved_rss(W39[:1], at(26, 6))),
        Stored(stamp(27, 6), WIRE_URL, b"", status=404),  # a failed capture
        Stored(stamp(28, 6), WIRE_URL, ERROR_PAGE, content_type="text/html"),  # an error page saved as the feed
        Stored(stamp(28, 12), WIRE_URL, saved_rss(W39, at(28, 12))),
    ]


def desk_captures() -> list[Stored]:
    # Five captures on one day: backfill.per_day = 2 takes the first and the last.
    return [
        Stored(
            stamp(29, hour),
            DESK_URL,
            saved_rss(
                [desk_story(hour, f"Sample: Karabakh refugees register in Goris, update {hour}", at(29, hour))],
                at(29, hour),
                self_link=DESK_URL,
            ),
        )
        for hour in (1, 5, 9, 13, 17)
    ]


@pytest.fixture
def archive():
    with ArchiveServer() as server:
        server.add(*wire_captures(), *desk_captures())
        yield server


def config_for(write_config, archive, tmp_path, pace: str = "200ms"):
    return write_config(
        [
            {"name": "sample-wire", "url": WIRE_URL, "tags": ["wire"]},
            {"name": "sample-desk", "url": DESK_URL, "tags": ["desk"]},
        ],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n'
        f'\n[backfill]\narchive_url = "{archive.base_url}"\npace = "{pace}"\nper_day = 2\n'
        'timeout = "5s"\nretries = 2\n',
    )


def test_backfill_imports_each_capture_as_a_poll_at_its_time_politely(write_config, archive, run_cli, query, tmp_path):
    config = config_for(write_config, archive, tmp_path)
    result = run_cli(config, "backfill", "--since", "2023-09-18", "--until", "2023-09-30", expect=1)
    # 7 in the index (one collapsed there); one identical body kept once; 2 failed.
    assert "sample-wire: 7 capture(s) found, 5 fetched, 1 skipped, 2 failed; 5 item(s) new" in result.output
    assert "sample-desk: 5 capture(s) found, 2 fetched, 3 skipped, 0 failed; 2 item(s) new" in result.output
    assert "an HTML page of its own" in result.output and "HTTP 404" in result.output
    assert "failed captures are tried again by the next run" in result.output
    assert "13 request(s) to the archive" in result.output  # 2 index requests a feed: the second finds no more
    # Each item first seen at the capture that first carried it.
    seen = {r["title"]: r["first_seen"] for r in query("SELECT title, first_seen FROM items")}
    assert seen["Sample: shelling reported near Stepanakert"] == "2023-09-20T06:00:00Z"
    assert seen["Sample: aid convoy waits at Lachin"] == "2023-09-21T12:00:00Z"
    assert seen["Sample: families fled Stepanakert overnight"] == "2023-09-26T06:00:00Z"
    assert seen["Sample: refugees from Karabakh reach Goris"] == "2023-09-28T12:00:00Z"
    assert sorted(t for t in seen if "update" in t) == [
        "Sample: Karabakh refugees register in Goris, update 1",
        "Sample: Karabakh refugees register in Goris, update 17",
    ]
    imports = query("SELECT origin, source, captured_at FROM imports ORDER BY captured_at LIMIT 1")
    assert imports == [
        {
            "origin": "archive",
            "source": f"{archive.base_url}/web/{stamp(20, 6)}id_/{WIRE_URL}",
            "captured_at": "2023-09-20T06:00:00Z",
        }
    ]
    assert query("SELECT count(*) AS n FROM item_sources WHERE import_id IS NULL")[0]["n"] == 0
    states = {(r["timestamp"], r["state"]) for r in query("SELECT timestamp, state FROM captures")}
    assert (stamp(27, 6), "failed") in states and (stamp(28, 6), "failed") in states
    # One request at a time, at the pace; the 429's Retry-After honoured before asking again.
    starts = [t for t, _ in archive.requests]
    # Measured where the server sees them: each arrival may be late by the machine's load, not early on average.
    assert (starts[-1] - starts[0]) / (len(starts) - 1) >= 0.2
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 0.1
    retried = [t for t, path in archive.requests if path.endswith(f"{stamp(21, 12)}id_/{WIRE_URL}")]
    assert len(retried) == 2 and retried[1] - retried[0] >= 0.99
    # Run again: what was imported is skipped; only the failed captures are asked for again.
    before = len(archive.fetched())
    again = run_cli(config, "backfill", "--since", "2023-09-18", "--until", "2023-09-30", expect=1)
    assert "sample-wire: 7 capture(s) found, 1 fetched, 5 skipped, 2 failed; 0 item(s) new" in again.output
    assert sorted(archive.fetched()[before:]) == sorted(f"/web/{s}id_/{WIRE_URL}" for s in (stamp(27, 6), stamp(28, 6)))


def test_a_past_week_from_the_archive_is_digested_and_not_emailed(write_config, archive, run_cli, tmp_path):
    config = config_for(write_config, archive, tmp_path, pace="50ms")
    run_cli(config, "backfill", "--since", "2023-09-18", "--until", "2023-09-30", "--feed", "sample-wire", expect=1)
    run_cli(config, "digest", "--week", "2023-W39")
    text = (tmp_path / "digests" / "2023-W39.txt").read_text()
    assert "families fled Stepanakert overnight" in text and "Not observed" not in text
    # The captures of 27 and 28 September failed: the record ends with the one before (issue 22).
    assert "observed only until Thursday 28 September 12:00" in text and "not compared with last week" in text


def test_backfill_settings_are_validated(write_config, run_cli, tmp_path):
    config = write_config([], extra='[backfill]\narchive_url = "ftp://archive"\nper_day = 0\npace = "soon"\n')
    result = run_cli(config, "backfill", "--since", "2023-09-01", expect=2)
    for key in ("backfill.archive_url", "backfill.per_day", "backfill.pace"):
        assert key in result.output


@pytest.mark.slow  # a kill mid-run and a resumed run: some seconds
def test_a_backfill_killed_midway_resumes_and_stores_nothing_twice(write_config, archive, tmp_path, db_path):
    config = config_for(write_config, archive, tmp_path, pace="300ms")
    command = [
        sys.executable,
        "-m",
        "monitor",
        "--config",
        str(config),
        "--db",
        str(db_path),
        "backfill",
        "--since",
        "2023-09-18",
        "--until",
        "2023-09-30",
    ]
    archive.hold_after = 4  # the kill lands mid-download of the fifth capture, never after the run's end
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert archive.holding.wait(timeout=60), "the backfill never reached its fifth capture"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(10)
        archive.release.set()
    assert process.returncode == -signal.SIGKILL
    first_count = len(archive.fetched())
    first_run = set(archive.fetched())
    imported_before = _imported(db_path)
    assert 3 <= imported_before < 6
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1, finished.stdout + finished.stderr  # the two failed captures
    second_run = archive.fetched()[first_count:]
    refetched = [p for p in second_run if p in first_run and "20230927" not in p and "20230928060000" not in p]
    assert len(refetched) <= 1, refetched  # at most the capture in flight at the kill
    conn = sqlite3.connect(db_path)
    try:
        items = conn.execute("SELECT count(*), count(DISTINCT key) FROM items").fetchone()
        sightings = conn.execute("SELECT count(*) FROM item_sources").fetchone()[0]
        imported = conn.execute("SELECT count(*) FROM captures WHERE state = 'imported'").fetchone()[0]
    finally:
        conn.close()
    assert items == (7, 7) and sightings == 7
    assert imported == 6
    print(
        f"killed after {imported_before} of 6 captures imported; the resumed run re-fetched {len(refetched)} "
        f"already-requested capture(s) besides the failed ones: {refetched}"
    )


def _imported(db_path) -> int:
    if not db_path.exists():
        return 0
    conn = sqlite3.connect(db_path, timeout=5)
    try:
        return int(conn.execute("SELECT count(*) FROM captures WHERE state = 'imported'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


# Issue 15, second part: a long period read page after page, the shapes real archives answer, Ctrl-C.

PERIOD = ("--since", "2023-09-18", "--until", "2023-09-30")


def test_a_long_period_is_read_page_after_page(write_config, archive, run_cli, tmp_path):
    archive.max_rows = 3  # the Wayback Machine caps one answer: here at 3 rows, so the 7 need 3 pages
    config = config_for(write_config, archive, tmp_path, pace="20ms")
    result = run_cli(config, "backfill", *PERIOD, "--feed", "sample-wire", expect=1)
    assert "sample-wire: 7 capture(s) found, 5 fetched, 1 skipped, 2 failed; 5 item(s) new (3 index pages)" in (
        result.output
    )
    assert len(archive.indexed()) == 3 and "cut" not in result.output


def test_answers_cut_without_a_key_are_read_on_by_date_and_said(write_config, archive, run_cli, tmp_path):
    archive.max_rows, archive.resume_keys = 3, False  # an archive that cuts and gives no key to go on
    config = config_for(write_config, archive, tmp_path, pace="20ms")
    result = run_cli(config, "backfill", *PERIOD, "--feed", "sample-wire", "--json", expect=1)
    summary = json.loads(result.output.splitlines()[0])
    assert summary["found"] == 7 and summary["new"] == 5 and summary["cut_answers"] == 2 and summary["cut"] == []
    assert summary["feeds"][0]["index_pages"] == 4 and summary["interrupted"] is False
    assert "failed captures are tried again" in result.output


def test_an_answer_cut_with_no_way_on_is_said(write_config, archive, run_cli, tmp_path):
    archive.max_rows, archive.resume_keys = 3, "stuck"  # the same key again and again
    config = config_for(write_config, archive, tmp_path, pace="20ms")
    result = run_cli(config, "backfill", *PERIOD, "--feed", "sample-wire", expect=None)
    assert "the archive's answer was cut for sample-wire: some captures may be missing" in result.output
    assert "run again with shorter periods" in result.output and len(archive.indexed()) == 2


ABOUT_WAYBACK = story(8, "Sample: pages of Karabakh news in the Wayback Machine", at(26))
TOOLBAR_PAGE = (
    b'<!DOCTYPE html><html><head><script src="//web.archive.org/_static/js/bundle-playback.js"></script>'
    b"<title>Sample Wire</title></head><body><!-- BEGIN WAYBACK TOOLBAR INSERT -->Wayback Machine"
    b"<!-- END WAYBACK TOOLBAR INSERT --><pre>&lt;rss&gt;...</pre></body></html>"
)


def test_the_shapes_real_archives_answer(write_config, run_cli, query, tmp_path):
    http_slash = "http://sample-wire.example.org/rss/"  # the feed is configured as https, without the slash
    with ArchiveServer() as server:
        server.loose, server.filtering, server.empty = True, False, b"[]"
        server.add(
            Stored(stamp(20, 6), http_slash, saved_rss(W38, at(20, 6))),
            Stored(stamp(21, 6), WIRE_URL, b"moved", statuscode="301", status=302),  # a redirect, listed
            Stored(stamp(22, 6), WIRE_URL, b"", statuscode="503", status=503),  # a failed capture, listed
            Stored(stamp(23, 6), f"{WIRE_URL}/comments", saved_rss([story(9, "Sample: a comment", at(23))], None)),
            Stored(stamp(26, 6), WIRE_URL, gzip.compress(saved_rss(W39[:1] + [ABOUT_WAYBACK], at(26, 6)))),  # as served
            Stored(stamp(27, 6), WIRE_URL, TOOLBAR_PAGE, content_type="text/html"),  # id_ not honoured
            Stored(stamp(28, 6), WIRE_URL, gzip.compress(b"<" * 12_000_000)),  # over polling.max_bytes unpacked
        )
        config = config_for(write_config, server, tmp_path, pace="20ms")
        result = run_cli(config, "backfill", *PERIOD, expect=1)
        fetched = server.fetched()
    assert (
        "sample-wire: 7 capture(s) found, 4 fetched, 3 skipped, 2 failed; 4 item(s) new "
        "(2 redirect(s) or failed capture(s) listed; 1 of another address; 2 index pages)" in result.output
    )
    assert "sample-desk: 0 capture(s) found, 0 fetched, 0 skipped, 0 failed; 0 item(s) new" in result.output
    assert f"/web/{stamp(20, 6)}id_/{http_slash}" in fetched  # asked for as the archive filed it
    assert not any(stamp(21, 6) in p or stamp(22, 6) in p or "comments" in p for p in fetched)
    assert "an HTML page of its own" in result.output and "id_" in result.output
    assert "its gzip-compressed bytes hold more than polling.max_bytes" in result.output
    titles = {r["title"] for r in query("SELECT title FROM items")}
    assert "Sample: families fled Stepanakert overnight" in titles and "Sample: a comment" not in titles
    assert ABOUT_WAYBACK.title in titles  # a feed that names the archive is still a feed


@pytest.mark.slow  # an interrupt mid-run and a resumed run: some seconds
def test_ctrl_c_keeps_what_was_stored_exits_130_and_a_rerun_goes_on(write_config, archive, tmp_path, db_path):
    config = config_for(write_config, archive, tmp_path, pace="300ms")
    command = [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db_path), "backfill", *PERIOD]
    # The interrupt lands mid-run for sure: the archive answers three captures, then holds the fourth
    # download until the backfill is gone (a run that raced to its end before the signal once failed CI).
    archive.hold_after = 3
    # As from a terminal: a test run started in the background by a non-interactive shell (as CI scripts
    # are) has SIGINT ignored, and a child inherits that across exec; Python then never turns it into
    # KeyboardInterrupt. The child gets the default disposition, whatever this process was given.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    finally:
        signal.signal(signal.SIGINT, ignored)
    try:
        assert archive.holding.wait(timeout=60), "the backfill never reached its fourth capture"
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=15)
    finally:
        archive.release.set()
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 130, output
    assert "interrupted after" in output and "run the same command again to go on" in output
    kept = _imported(db_path)
    assert kept >= 2
    finished = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert finished.returncode == 1, finished.stdout + finished.stderr  # the two failed captures
    conn = sqlite3.connect(db_path)
    try:
        items = conn.execute("SELECT count(*), count(DISTINCT key) FROM items").fetchone()
        sightings = conn.execute("SELECT count(*) FROM item_sources").fetchone()[0]
    finally:
        conn.close()
    assert items == (7, 7) and sightings == 7 and _imported(db_path) == 6
    print(f"interrupted with {kept} of 6 captures imported; exit {process.returncode}; the rerun imported the rest")


def _blocked_signals(thread: threading.Thread) -> set[int]:
    status = Path(f"/proc/self/task/{thread.native_id}/status").read_text()
    mask = int(next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16)
    return {number for number in range(1, 65) if mask & (1 << (number - 1))}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads thread signal masks from /proc (Linux)")
def test_the_threads_that_watch_a_download_leave_ctrl_c_to_the_main_thread():
    """Why Ctrl-C stops a backfill mid-download at once: the kernel hands a signal to any thread that does not
    block it, and Python acts on it only in the main thread; the deadline's timer and the DNS lookup's thread
    block SIGINT, SIGTERM and SIGHUP, so the main thread's read is the one interrupted."""
    wanted = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
    before = set(threading.enumerate())
    with Watchdog(30):
        [timer] = set(threading.enumerate()) - before
        assert wanted <= _blocked_signals(timer)
    release = threading.Event()

    def slow_resolver(host: str, port: int | None, type: int = 0) -> list[object]:
        release.wait(10)
        return []

    waiter = threading.Thread(target=lambda: getaddrinfo("sample.example.org", 80, 5.0, slow_resolver))
    waiter.start()
    try:
        resolving = None
        for _ in range(200):
            resolving = next((t for t in threading.enumerate() if t.name == "resolve sample.example.org"), None)
            if resolving and resolving.native_id is not None:  # started, not only being started
                break
            threading.Event().wait(0.01)
        assert resolving is not None and wanted <= _blocked_signals(resolving)
    finally:
        release.set()
        waiter.join(10)
    assert not wanted & signal.pthread_sigmask(signal.SIG_BLOCK, set())  # the starting thread's mask is back


# Issue 20: hostile input. A huge index is chosen from page by page, in bounded memory.

MEMORY_LIMIT = 512 * 1024**2  # address space given to the backfill: ample for monitor (250 MB), not for the index


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _peak_rss(process: subprocess.Popen[str]) -> tuple[int, int]:
    """Wait for `process`: its exit status and its peak resident memory in bytes."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss * 1024


def generated_body(timestamp: str) -> bytes:
    when = datetime.strptime(timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    return saved_rss([story(int(timestamp[6:]), f"Sample: Karabakh news of {timestamp}", when)], when)


@pytest.mark.slow  # 160,000 captures in 64 index pages of 5 MB: about 10 s
def test_a_huge_index_is_chosen_from_page_by_page_in_bounded_memory(write_config, tmp_path, db_path):
    """An archive's index of fat pages (over the `limit` asked for), each with a fresh resume key, as one that
    exhausted a backfill's memory (2.8 GB after 123 requests): the captures are chosen as each page is read,
    and only what the choice needs is held, the first and last of each day here (per_day = 2)."""
    first = datetime(2023, 9, 18, tzinfo=UTC)
    generated = Generated(WIRE_URL, first, step=3, pages=64, rows=2500, pad=2000, body=generated_body)
    with ArchiveServer() as server:
        server.generated = generated
        config = write_config(
            [{"name": "sample-wire", "url": WIRE_URL, "tags": ["wire"]}],
            extra=THEMES + f'\n[backfill]\narchive_url = "{server.base_url}"\npace = "1ms"\nper_day = 2\n',
        )
        command = [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db_path), "backfill", *PERIOD]
        env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # each thread's malloc arena would reserve 64 MB of the limit
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=_limited, env=env
        )
        output = process.stdout.read() if process.stdout else ""
        code, peak = _peak_rss(process)
        asked = len(server.indexed())
    print(f"{asked} index pages read; peak resident memory {peak / 1024**2:.0f} MB")
    assert code == 0, output[-3000:]
    total = generated.pages * generated.rows
    assert f"sample-wire: {total} capture(s) found" in output and asked == generated.pages
    days: dict[str, list[str]] = {}
    for n in range(total):
        days.setdefault(generated.stamp(n)[:8], []).append(generated.stamp(n))
    wanted = sorted(s for stamps in days.values() for s in (stamps[0], stamps[-1]))
    conn = sqlite3.connect(db_path)
    try:
        got = [r[0] for r in conn.execute("SELECT timestamp FROM captures WHERE state = 'imported' ORDER BY 1")]
    finally:
        conn.close()
    assert got == wanted
    assert peak < 200 * 1024**2  # the index's rows alone are 330 MB: none of them is kept


# Issue 20: a feed's credentials are for its own host, never for the web archive.

SECRET, TOKEN = "S3cretPass", "T0kenValue42"
PUBLIC_URL = f"{WIRE_URL}?lang=en"  # what the archive has captured, and is asked for


def test_a_feeds_credentials_never_reach_the_archive_nor_what_is_stored(write_config, run_cli, db_path, tmp_path):
    """A feed behind basic authentication and a token in its query: the archive is asked for the address
    without them, the captures are downloaded under it, and no request the archive receives (line, headers,
    body) nor any row of any table but the feed's own configured address holds the password or the token."""
    feed_url = f"https://reader:{SECRET}@sample-wire.example.org/rss?token={TOKEN}&lang=en"
    with ArchiveServer() as server:
        server.add(*(Stored(c.timestamp, PUBLIC_URL, c.body, c.status) for c in wire_captures()[:5]))
        config = write_config(
            [{"name": "sample-wire", "url": feed_url, "tags": ["wire"]}],
            extra=THEMES + f'\n[backfill]\narchive_url = "{server.base_url}"\npace = "20ms"\nper_day = 2\n',
        )
        result = run_cli(config, "backfill", *PERIOD)
        received = list(server.received)
        indexed, fetched = server.indexed(), server.fetched()
    leaks = [request for request in received for secret in (SECRET, TOKEN, "reader") if secret in request]
    assert not leaks and len(received) == len(indexed) + len(fetched)
    assert "sample-wire: 4 capture(s) found, 3 fetched, 1 skipped, 0 failed; 4 item(s) new" in result.output
    assert f"url={quote(PUBLIC_URL, safe='')}&" in indexed[0]
    assert fetched and all(path.endswith(f"id_/{PUBLIC_URL}") for path in fetched)
    assert "Authorization" not in "".join(received)
    assert SECRET not in result.output and TOKEN not in result.output
    stored = _cells_holding(db_path, (SECRET, TOKEN))
    # The feed's own row keeps its address as configured (docs/configuration.md); nothing else holds it.
    assert stored and set(stored) <= {("feeds", "url"), ("feeds", "config_url")}, stored
    conn = sqlite3.connect(db_path)
    try:
        assert {r[0] for r in conn.execute("SELECT original FROM captures")} == {PUBLIC_URL}
        sources = {r[0] for r in conn.execute("SELECT source FROM imports")}
    finally:
        conn.close()
    assert sources and all(s.startswith(f"{server.base_url}/web/") and s.endswith(f"id_/{PUBLIC_URL}") for s in sources)


def _cells_holding(db_path: Path, secrets: tuple[str, ...]) -> list[tuple[str, str]]:
    """(table, column) of every cell of every table in the database that holds one of `secrets`."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = []
        for table in tables:
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    if any(secret in text for secret in secrets):
                        found.append((table, column))
        return found
    finally:
        conn.close()
