"""`monitor import` (issue 15): saved feed documents and JSON lines stored as polls made when they were
captured, idempotently, unreadable files reported and the rest imported; past weeks digested from them,
written but not e-mailed unless --send."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from .helpers import THEMES, email_section
from .history_samples import SITE, W38, W39, WIRE_URL, at, saved_rss, story
from .mailserver import MailServer
from .samples import SAMPLE_NOTE, Entry


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
    result = run_cli(config, "import", str(saved), expect=1)
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
    unknown = run_cli(config, "import", str(lines), expect=1)
    assert (
        "lines 1, 2: no feed has the address of their source (https://sample-desk.example.org/rss): add the "
        "feed to the config, or give --feed NAME"
    ) in unknown.output
    missing = run_cli(config, "import", str(lines), "--feed", "sample-desk", expect=2)
    assert "give its address with --url" in missing.output
    result = run_cli(
        config, "import", str(lines), "--feed", "sample-desk", "--url", "https://sample-desk.example.org/rss", expect=1
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
    again = run_cli(config, "import", str(lines), expect=1)
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
