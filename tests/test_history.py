"""`monitor import` (issue 15): saved feed documents and JSON lines stored as polls made when they were
captured, idempotently, unreadable files reported and the rest imported; past weeks digested from them,
written but not e-mailed unless --send."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from .helpers import THEMES, email_section, line_of
from .history_samples import SITE, W38, W39, WIRE_URL, at, json_line, nested, saved_rss, story
from .mailserver import MailServer
from .samples import SAMPLE_NOTE, Entry, rss


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A folder of saved documents, as wget or an archive download leaves them, and one in a subfolder."""
    folder = tmp_path / "saved"
    (folder / "later").mkdir(parents=True)
    (folder / "wire-2023-09-21.xml").write_bytes(saved_rss(W38, at(21, 6)))
    (folder / "later" / "wire-2023-09-28.xml").write_bytes(saved_rss(W39, at(28, 6)))
    return folder


@pytest.fixture
def config(write_config, tmp_path):
    return write_config(
        [{"name": "sample-wire", "url": WIRE_URL, "tags": ["wire"]}],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
    )


def test_import_stores_saved_documents_as_polls_made_when_they_were_captured(config, saved, run_cli, query):
    result = run_cli(config, "import", str(saved))
    assert (
        "imported 2 document(s) of 2 file(s) into sample-wire: 4 item(s) new, 0 updated, 1 already stored"
        in result.output
    )
    items = {r["title"]: r for r in query("SELECT title, first_seen, published, week FROM items")}
    # First seen when the document was captured (its lastBuildDate), never at the import.
    assert items["Sample: shelling reported near Stepanakert"]["first_seen"] == "2023-09-21T06:00:00Z"
    assert items["Sample: families fled Stepanakert overnight"]["first_seen"] == "2023-09-28T06:00:00Z"
    assert items["Sample: families fled Stepanakert overnight"]["week"] == "2023-W39"
    sightings = query(
        "SELECT s.first_seen, s.last_seen, m.origin, m.source, m.captured_at FROM item_sources s "
        "JOIN imports m ON m.id = s.import_id JOIN items i ON i.id = s.item_id "
        "WHERE i.title LIKE '%shelling%'"
    )
    assert sightings == [
        {
            "first_seen": "2023-09-21T06:00:00Z",
            "last_seen": "2023-09-28T06:00:00Z",
            "origin": "file",
            "source": str(saved / "wire-2023-09-21.xml"),
            "captured_at": "2023-09-21T06:00:00Z",
        }
    ]
    assert query("SELECT count(*) AS n FROM item_sources WHERE import_id IS NULL")[0]["n"] == 0
    # Matched and searchable as polled items are; an import is not a poll of the feed.
    assert {r["theme"] for r in query("SELECT theme FROM matches")} == {"exodus"}
    assert "families fled Stepanakert" in run_cli(config, "search", "Stepanakert").output
    feed = query("SELECT last_fetch_at, first_success_at, first_live_at FROM feeds")[0]
    assert feed == {"last_fetch_at": None, "first_success_at": "2023-09-21T06:00:00Z", "first_live_at": None}
    assert query("SELECT count(*) AS n FROM fetches")[0]["n"] == 0


def test_importing_the_same_files_again_stores_nothing_and_says_so(config, saved, run_cli, query):
    run_cli(config, "import", str(saved))
    before = [query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("items", "item_sources", "imports", "matches")]
    again = run_cli(config, "import", str(saved))
    assert "2 document(s) were imported before: nothing new stored from them" in again.output
    assert "imported" not in again.output.replace("imported before", "")
    assert [
        query(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in ("items", "item_sources", "imports", "matches")
    ] == before


def test_an_unreadable_file_is_reported_with_path_and_reason_and_the_others_are_imported(
    config, saved, run_cli, query, tmp_path
):
    (saved / "error-page.xml").write_text("<html><body><h1>502 Bad Gateway</h1></body></html>")
    (saved / "other-site.xml").write_bytes(saved_rss(W38, at(21), self_link="https://elsewhere.example.org/rss"))
    (saved / "undated.xml").write_bytes(saved_rss([Entry("Sample: undated", f"{SITE}/undated")], None))
    result = run_cli(config, "import", str(saved), expect=2)
    assert f"{saved / 'error-page.xml'}: not imported: not a readable feed" in result.output
    assert (
        f"{saved / 'other-site.xml'}: not imported: no feed has this document's address (it names "
        "https://elsewhere.example.org/rss, https://sample-wire.example.org/)"
    ) in result.output
    assert f"{saved / 'undated.xml'}: not imported: nothing in it says when it was captured" in result.output
    assert "3 of 5 file(s) could not be imported (see above); the others were" in result.output
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 4
    # Told when it was captured, the undated one goes in, its item first seen then.
    run_cli(config, "import", str(saved / "undated.xml"), "--captured-at", "2023-09-22T08:00:00Z")
    assert query("SELECT published, date_source, first_seen FROM items WHERE title = 'Sample: undated'") == [
        {"published": "2023-09-22T08:00:00Z", "date_source": "first_seen", "first_seen": "2023-09-22T08:00:00Z"}
    ]


def test_json_lines_go_to_a_new_feed_that_is_stored_but_not_polled(config, run_cli, query, tmp_path):
    lines = tmp_path / "items.jsonl"
    records = [
        {
            "title": "Sample: Karabakh Armenians flee to Armenia",
            "summary": f"<p>{SAMPLE_NOTE}</p>",
            "link": "https://sample-desk.example.org/a?utm_source=x",
            "published": "2023-09-26 15:30:15+00:00",
            "source": "https://sample-desk.example.org/rss",
        },
        {
            "title": "Sample: markets steady",
            "summary": "",
            "link": "https://sample-desk.example.org/b",
            "published": "2023-09-27T08:00:00Z",
            "source": "https://sample-desk.example.org/rss",
        },
    ]
    lines.write_text("\n".join(json.dumps(r) for r in records) + "\nnot json\n", encoding="utf-8")
    unknown = run_cli(config, "import", str(lines), expect=2)
    assert (
        "lines 1, 2: no feed has the address of their source (https://sample-desk.example.org/rss): add the "
        "feed to the config, or give --feed NAME"
    ) in unknown.output
    missing = run_cli(config, "import", str(lines), "--feed", "sample-desk", expect=2)
    assert "give its address with --url" in missing.output
    result = run_cli(
        config, "import", str(lines), "--feed", "sample-desk", "--url", "https://sample-desk.example.org/rss", expect=2
    )
    assert f"{lines}: line 3: not JSON" in result.output
    assert "imported 2 document(s) of 1 file(s) into sample-desk: 2 item(s) new" in result.output
    rows = query(
        "SELECT i.link, i.first_seen, f.name, f.in_config FROM items i JOIN feeds f ON f.id = i.feed_id "
        "ORDER BY i.first_seen"
    )
    assert rows == [
        {
            "link": "https://sample-desk.example.org/a",
            "first_seen": "2023-09-26T15:30:15Z",
            "name": "sample-desk",
            "in_config": 0,
        },
        {
            "link": "https://sample-desk.example.org/b",
            "first_seen": "2023-09-27T08:00:00Z",
            "name": "sample-desk",
            "in_config": 0,
        },
    ]
    # Without --feed, each line's source decides: now a known feed's address.
    again = run_cli(config, "import", str(lines), expect=2)
    assert "2 document(s) were imported before" in again.output


def test_a_past_week_from_imports_is_written_as_if_polled_and_emailed_only_with_send(
    write_config, saved, run_cli, tmp_path
):
    mail = MailServer().start()
    try:
        config = write_config(
            [{"name": "sample-wire", "url": WIRE_URL, "tags": ["wire"]}],
            extra=THEMES + "\n" + email_section(mail.port) + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
        )
        run_cli(config, "import", str(saved))
        result = run_cli(config, "digest", "--week", "2023-W39")
        assert "2023-W39: not e-mailed: it is before the first live poll (--send sends it)" in result.output
        assert len(mail.messages) == 0
        text = (tmp_path / "digests" / "2023-W39.txt").read_text()
        assert "families fled Stepanakert overnight" in text
        assert "Nothing was polled during this week" not in text
        assert "Only part of this week was polled" not in text
        run_cli(config, "digest", "--week", "2023-W39", "--send")
        assert len(mail.messages) == 1
    finally:
        mail.stop()


def test_captured_at_must_be_a_date(config, saved, run_cli):
    result = run_cli(config, "import", str(saved), "--captured-at", "yesterday", expect=2)
    assert "--captured-at: expected a date and time" in result.output


def test_first_seen_moves_back_when_an_older_capture_is_imported_later(config, run_cli, query, tmp_path):
    late, early = tmp_path / "late.xml", tmp_path / "early.xml"
    late.write_bytes(saved_rss(W39, at(28, 6)))
    early.write_bytes(saved_rss(W38, at(21, 6)))
    run_cli(config, "import", str(late))
    run_cli(config, "import", str(early))
    row = query(
        "SELECT i.first_seen AS item, s.first_seen, s.last_seen FROM items i JOIN item_sources s "
        "ON s.item_id = i.id WHERE i.title LIKE '%shelling%'"
    )
    assert row == [
        {"item": "2023-09-21T06:00:00Z", "first_seen": "2023-09-21T06:00:00Z", "last_seen": "2023-09-28T06:00:00Z"}
    ]


def test_an_older_capture_imported_after_a_newer_one_never_overwrites_the_newer_copy(config, tmp_path, run_cli, query):
    """Backfill after live polling (or files imported out of order) brings captures older than what is stored:
    the older copy of a story edited since is history, not an update; the story was first seen then."""
    edited = Entry(
        title="Sample: shelling reported near Stepanakert, two dead",
        link=W38[0].link,
        guid=W38[0].guid,
        summary=W38[0].summary,
        published=W38[0].published,
    )
    newer, older = tmp_path / "newer.xml", tmp_path / "older.xml"
    newer.write_bytes(saved_rss([edited, *W39[:2]], at(28, 6)))
    older.write_bytes(saved_rss(W38, at(21, 6)))
    run_cli(config, "import", str(newer))
    result = run_cli(config, "import", str(older))
    assert "0 updated" in result.output
    stored = query(
        "SELECT i.title, i.first_seen, s.first_seen AS sighted, s.last_seen FROM items i "
        "JOIN item_sources s ON s.item_id = i.id WHERE i.link = ?",
        [W38[0].link],
    )
    assert stored == [
        {
            "title": "Sample: shelling reported near Stepanakert, two dead",
            "first_seen": "2023-09-21T06:00:00Z",
            "sighted": "2023-09-21T06:00:00Z",
            "last_seen": "2023-09-28T06:00:00Z",
        }
    ]


def test_an_import_parsed_in_helpers_and_in_the_storing_thread_stores_what_an_inline_import_stores(
    write_config, run_cli, query, db_path, tmp_path
):
    """With a parse helper, the storing thread parses the documents no helper has started yet (history.py
    `_next_prepared`): the files are still stored in their order, each as an inline import stores it."""
    folder = tmp_path / "many"
    folder.mkdir()
    start = at(1, 0)
    for n in range(24):  # enough for helpers (parsers.MIN_FEEDS_FOR_PROCESSES); each overlaps the one before
        entries = [
            story(k, f"Sample: story {k} on Stepanakert" + (" (updated)" if n - k == 3 else ""), start)
            for k in range(n, n + 5)
        ]
        (folder / f"capture-{n:02d}.xml").write_bytes(saved_rss(entries, start + timedelta(hours=6 * n)))
    tables = ("items", "item_sources", "imports", "matches")
    stored = {}
    for processes in (1, 0):
        db_path.unlink(missing_ok=True)
        config = write_config(
            [{"name": "sample-wire", "url": WIRE_URL}],
            polling={"parse_processes": processes},
            extra=THEMES,
            name=f"feeds-{processes}.toml",
        )
        assert "24 document(s) of 24 file(s)" in run_cli(config, "import", str(folder)).output
        stored[processes] = {
            t: [
                {k: v for k, v in row.items() if k != "imported_at"}
                for row in query(f"SELECT * FROM {t} ORDER BY 1, 2, 3")
            ]
            for t in tables
        }
    assert stored[1] == stored[0]
    assert len(stored[1]["items"]) == 28 and len(stored[1]["imports"]) == 24


def test_two_imports_of_the_same_files_at_once_store_each_document_once(config, saved, query, db_path):
    """An analyst runs `monitor import` twice by mistake (two terminals, a cron job and a hand): each
    document's check and its writing are one transaction, so whichever comes second stores nothing."""
    # No database yet: the three also race to create it (migrations are claimed inside the write lock).
    command = [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db_path), "import", str(saved)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert query("SELECT count(*) AS n FROM imports")[0]["n"] == 2
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 4
    assert query("SELECT count(*) AS n FROM item_sources")[0]["n"] == 4
    assert sum("imported before" in out for out in outputs) >= 2, outputs


# --- Issue 20: dates an import must not believe, and files it must not read


@pytest.fixture
def live(feed_server, write_config, tmp_path):
    """The sample wire polled live with `monitor poll`: one story published an hour ago (this week)."""
    entry = Entry(
        title="Sample: families fled Stepanakert overnight",
        link=f"{SITE}/live/1",
        guid=f"{SITE}/live/1",
        summary=f"<p>{SAMPLE_NOTE}</p>",
        published=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1),
    )
    url = feed_server.add("/rss", body=rss([entry]))
    config = write_config(
        [{"name": "sample-wire", "url": url}], extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n'
    )
    return SimpleNamespace(config=config, entry=entry, server=feed_server)


def _live_row(query, link: str) -> dict[str, Any]:
    return query(
        "SELECT i.title, i.week, i.published, s.last_seen FROM items i JOIN item_sources s ON s.item_id = i.id "
        "WHERE i.link = ?",
        (link,),
    )[0]


def test_an_import_dated_in_the_future_never_overwrites_a_live_item_and_later_edits_still_apply(
    live, run_cli, query, tmp_path
):
    """A typo of 2032 for 2023 in an import made it the newest copy: the live title and text replaced, the item
    moved to 2032's week, and every later live edit ignored ("0 updated"). Dates are bounded as a poll's are."""
    run_cli(live.config, "poll")
    polled = _live_row(query, live.entry.link)
    stale = "Sample: an old draft of the families story"
    lines = tmp_path / "typo.jsonl"
    lines.write_text(json_line(stale, live.entry.link, "2032-11-30T10:00:00Z") + "\n", encoding="utf-8")
    result = run_cli(live.config, "import", str(lines), "--feed", "sample-wire", expect=2)
    assert (
        f"{lines}: line 1: published '2032-11-30T10:00:00Z' is more than 2 days after the import's clock"
    ) in result.output
    assert "not when it was seen: give --captured-at" in result.output
    assert _live_row(query, live.entry.link) == polled
    # A saved copy said to be captured in 2032 is refused before anything is read.
    saved = tmp_path / "stale.xml"
    saved.write_bytes(saved_rss([replace(live.entry, title=stale)], None))
    future = run_cli(live.config, "import", str(saved), "--captured-at", "2032-09-25T12:00:00Z", expect=2)
    assert "--captured-at 2032-09-25T12:00:00Z: a capture time cannot be more than 2 days after" in future.output
    assert _live_row(query, live.entry.link) == polled
    # With a capture time, the line goes in undated (as a poll stores an item dated years ahead), and, older
    # than the live poll, it is history: the live copy stays.
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    told = run_cli(live.config, "import", str(lines), "--feed", "sample-wire", "--captured-at", yesterday)
    assert f"{lines}: line 1: published '2032-11-30T10:00:00Z' is more than 2 days" in told.output
    assert "stored as undated" in told.output and "0 updated" in told.output
    assert _live_row(query, live.entry.link) == polled
    # The feed edits the story: the next poll applies the edit.
    edited = replace(live.entry, title="Sample: families fled Stepanakert overnight, thousands on the road")
    live.server.add("/rss", body=rss([edited]))
    assert "1 updated" in line_of(run_cli(live.config, "poll").output, "sample-wire")
    assert _live_row(query, live.entry.link)["title"] == edited.title


def test_a_capture_time_just_ahead_of_the_clock_never_outlives_the_next_live_poll(live, run_cli, query, tmp_path):
    """A capture time up to two days ahead is accepted (a time zone slip), but no capture is made after the
    import: stored at the import's clock, so the live polls after it still apply their edits."""
    run_cli(live.config, "poll")
    saved = tmp_path / "copy.xml"
    saved.write_bytes(saved_rss([replace(live.entry, title="Sample: a copy saved by hand")], None))
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_cli(live.config, "import", str(saved), "--feed", "sample-wire", "--captured-at", tomorrow)
    assert _live_row(query, live.entry.link)["last_seen"] < tomorrow
    edited = replace(live.entry, title="Sample: families fled Stepanakert overnight, thousands on the road")
    live.server.add("/rss", body=rss([edited]))
    assert "1 updated" in line_of(run_cli(live.config, "poll").output, "sample-wire")
    assert _live_row(query, live.entry.link)["title"] == edited.title


def test_years_one_and_9999_are_named_with_their_line_or_file_and_the_rest_imported(config, run_cli, query, tmp_path):
    """Dates at the ends of Python's range crashed the whole import with OverflowError or ValueError."""
    lines = tmp_path / "ends.jsonl"
    rows = [
        json_line("Sample: dated year one, east of UTC", f"{SITE}/ends/1", "0001-01-01T00:00:00+05:00"),
        json_line("Sample: dated year 9999, west of UTC", f"{SITE}/ends/2", "9999-12-31T23:00:00-05:00"),
        json_line("Sample: dated year 9999", f"{SITE}/ends/3", "9999-12-31T23:00:00Z"),
        json_line("Sample: dated year one", f"{SITE}/ends/4", "0001-01-01T00:00:00Z"),
        json_line("Sample: families fled Stepanakert overnight", f"{SITE}/ends/5", "2023-09-26T10:00:00Z"),
    ]
    lines.write_text("\n".join(rows) + "\n", encoding="utf-8")
    document = tmp_path / "year-one.xml"
    document.write_bytes(
        saved_rss([Entry("Sample: year one", f"{SITE}/ends/6")], None).replace(
            b"</description>", b"</description><lastBuildDate>0001-01-01T00:00:00+05:00</lastBuildDate>", 1
        )
    )
    result = run_cli(config, "import", str(lines), str(document), expect=2)
    assert f"{lines}: line 1: published '0001-01-01T00:00:00+05:00' is out of the range of dates" in result.output
    assert f"{lines}: line 2: published '9999-12-31T23:00:00-05:00' is out of the range of dates" in result.output
    assert f"{lines}: line 3: published '9999-12-31T23:00:00Z' is more than 2 days after" in result.output
    assert f"{lines}: line 4: published '0001-01-01T00:00:00Z' is before 1990" in result.output
    assert f"{document}: not imported: nothing in it says when it was captured" in result.output
    assert [r["link"] for r in query("SELECT link FROM items")] == [f"{SITE}/ends/5"]
    for moment, reason in (
        ("9999-12-31T23:00:00-05:00", "expected a date and time"),
        ("0001-01-01T00:00:00Z", "before 1990"),
    ):
        refused = run_cli(config, "import", str(lines), "--captured-at", moment, expect=2)
        assert reason in refused.output and "Traceback" not in refused.output


def test_a_folder_of_hostile_files_imports_the_good_ones_and_names_each_refused_one(write_config, tmp_path, db_path):
    """A named pipe hung the import forever, a link to /dev/zero read until memory ran out, a file of any
    size was read whole; a JSON line nested 100,000 deep or not UTF-8 ended the import with a traceback."""
    config = write_config(
        [{"name": "sample-wire", "url": WIRE_URL}], polling={"max_bytes": "8KB"}, extra=THEMES, name="small.toml"
    )
    folder = tmp_path / "hostile"
    folder.mkdir()
    os.mkfifo(folder / "pipe.xml")
    (folder / "zero.xml").symlink_to("/dev/zero")
    (folder / "big.xml").write_bytes(saved_rss([story(n, f"Sample: story {n}", at(20)) for n in range(100)], at(21)))
    (folder / "good.xml").write_bytes(saved_rss(W38, at(21, 6)))
    good_line = json_line("Sample: refugees from Karabakh reach Goris", f"{SITE}/2023/09/4", "2023-09-27T10:00:00Z")
    (folder / "lines.jsonl").write_bytes(
        nested(100_000).encode() + b"\n" + b'{"title": "Sample: caf\xe9"}\n' + good_line.encode() + b"\n"
    )
    command = [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db_path), "import", str(folder)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"{folder / 'pipe.xml'}: not imported: not a regular file (named pipe)" in run.stderr
    assert f"{folder / 'zero.xml'}: not imported: not a regular file (character device)" in run.stderr
    assert f"{folder / 'big.xml'}: not imported: larger than 8.0 kB (polling.max_bytes)" in run.stderr
    assert f"{folder / 'lines.jsonl'}: line 1: not JSON (nested too deeply)" in run.stderr
    assert f"{folder / 'lines.jsonl'}: line 2: not UTF-8 (byte 0xe9 at column 23)" in run.stderr
    assert "Traceback" not in run.stderr
    assert "imported 2 document(s) of 5 file(s) into sample-wire: 3 item(s) new" in run.stdout
    # A named pipe or device named on the command line is refused the same way.
    alone = subprocess.run([*command[:-1], str(folder / "pipe.xml")], capture_output=True, text=True, timeout=60)
    assert alone.returncode == 2 and "not a regular file (named pipe)" in alone.stderr


def test_a_file_of_many_bad_lines_names_the_first_hundred_and_counts_the_rest(config, run_cli, query, tmp_path):
    """Every skipped line was kept to be named at the end: a file of a million bad lines held a million
    messages. The first hundred are named, the rest counted."""
    lines = tmp_path / "garbage.jsonl"
    good = json_line("Sample: families fled Stepanakert overnight", f"{SITE}/many/1", "2023-09-26T10:00:00Z")
    lines.write_text("not json\n" * 250 + good + "\n", encoding="utf-8")
    result = run_cli(config, "import", str(lines), expect=2)
    assert f"{lines}: line 100: not JSON" in result.output and f"{lines}: line 101: not JSON" not in result.output
    assert f"{lines}: and 150 more line(s) skipped, 0 more noted (only the first are named)" in result.output
    assert "250 problem(s) in files (see above)" in result.output
    assert [r["link"] for r in query("SELECT link FROM items")] == [f"{SITE}/many/1"]


@pytest.mark.slow
def test_a_large_json_lines_file_imports_in_the_memory_of_a_batch(config, tmp_path, db_path):
    """A JSON lines file was read whole, decoded and split: 50 MB held three or four times over. Read line by
    line and stored a batch at a time, its size costs no memory."""

    def peak_kib(path: Path) -> int:
        """ru_maxrss of a `monitor import` run in a fresh interpreter of its own."""
        script = (
            "import resource, sys\nfrom monitor.cli import cli\n"
            "try:\n    cli(sys.argv[1:])\nexcept SystemExit as done:\n    code = done.code\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, code, file=sys.stderr)\n"
        )
        args = [
            "--config",
            str(config),
            "--db",
            str(db_path),
            "import",
            str(path),
            "--captured-at",
            "2023-09-27T10:00:00Z",
        ]
        run = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=600)
        peak, code = run.stderr.split()[-2:]
        assert code == "0", run.stdout + run.stderr
        return int(peak)

    filler = "Sample text about the road out of Karabakh. " * 20  # ~1 kB a line
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_text(json_line("Sample: one line", f"{SITE}/one", "2023-09-27T10:00:00Z") + "\n", encoding="utf-8")
    with large.open("w", encoding="utf-8") as out:
        n = 0
        while out.tell() < 50_000_000:
            out.write(
                json.dumps(
                    {"title": f"Sample: story {n}", "summary": filler, "link": f"{SITE}/big/{n}", "source": WIRE_URL}
                )
                + "\n"
            )
            n += 1
    baseline = peak_kib(small)
    grown = peak_kib(large) - baseline
    assert grown < 25_000, f"peak memory grew by {grown} KiB for a 50 MB file: half of it or more"
