"""Analysts teach the themes, as a user does it: sample items polled from a real feed server into a real
SQLite file, judged one by one with `monitor label` or from a file in the eval format, then measured with
`monitor themes --quality` and previewed with `monitor rematch --dry-run`."""

from __future__ import annotations

import getpass
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from monitor.cli.demo import sample_feeds
from monitor.parse.feed import parse_feed

from .helpers import FLEEING, THEMES
from .samples import Entry, headlines, rss

LEAVING = headlines(1)[0]  # "Sample: families leave Stepanakert along the Lachin road": the theme misses it
OTHERS = headlines(4, start=1)


def polled(feed_server, write_config, run_cli, query) -> tuple[Path, dict[str, int]]:
    url = feed_server.add("/wire", body=rss([FLEEING, LEAVING, *OTHERS]))
    config = write_config([{"name": "sample-wire", "url": url}], extra=THEMES)
    run_cli(config, "poll")
    return config, {row["link"]: row["id"] for row in query("SELECT id, link FROM items")}


def write_labels(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_label_stores_a_judgement_and_judging_again_replaces_it(feed_server, write_config, run_cli, query):
    config, ids = polled(feed_server, write_config, run_cli, query)
    item = ids[FLEEING.link]
    result = run_cli(config, "label", str(item), "exodus", "yes", "--note", "families fled", "--by", "ana")
    assert f"item {item}, exodus: yes by ana, stored" in result.output
    run_cli(config, "label", str(item), "exodus", "no", "--by", "ana")
    run_cli(config, "label", str(item), "exodus", "yes")  # by whoever runs monitor
    rows = query("SELECT item_id, theme, verdict, who, note, labelled_at FROM labels ORDER BY who")
    assert [(r["who"], r["verdict"], r["note"]) for r in rows] == sorted(
        [("ana", "no", None), (getpass.getuser(), "yes", None)]
    )
    assert all(r["item_id"] == item and r["theme"] == "exodus" and r["labelled_at"].endswith("Z") for r in rows)


def test_label_refuses_an_unknown_item_or_theme_and_stores_nothing(feed_server, write_config, run_cli, query):
    config, ids = polled(feed_server, write_config, run_cli, query)
    result = run_cli(config, "label", "99999", "exodus", "yes", expect=2)
    assert "Error: no item 99999" in result.output
    result = run_cli(config, "label", str(ids[FLEEING.link]), "exodsu", "yes", expect=2)
    assert "Error: no theme 'exodsu'" in result.output and "exodus" in result.output
    assert "give ITEM_ID THEME yes|no" in run_cli(config, "label", expect=2).output
    assert query("SELECT count(*) AS n FROM labels")[0]["n"] == 0


def test_label_import_matches_canonical_links_and_is_idempotent(feed_server, write_config, run_cli, query, tmp_path):
    config, ids = polled(feed_server, write_config, run_cli, query)
    # The eval format: a link and the themes it is about; the link as another reader saw it (http, tracking).
    source = write_labels(
        tmp_path / "labels.jsonl",
        [
            {"link": FLEEING.link.replace("https:", "http:") + "?utm_source=rss", "themes": ["exodus"]},
            {"link": OTHERS[2].link, "themes": []},
            {"link": "https://sample-wire.example.org/never-polled", "themes": ["exodus"]},
        ],
    )
    result = run_cli(config, "label", "--import", str(source), "--by", "eval")
    assert "2 of 3 link(s) matched stored items; 2 judgement(s) by eval: 2 new, 0 changed, 0 unchanged" in result.output
    assert "1 link(s) not found" in result.output and "line 3" in result.output
    rows = query("SELECT item_id, verdict, note FROM labels ORDER BY item_id")
    assert {(r["item_id"], r["verdict"]) for r in rows} == {(ids[FLEEING.link], "yes"), (ids[OTHERS[2].link], "no")}
    assert rows[0]["note"] == "imported from labels.jsonl"
    again = run_cli(config, "label", "--import", str(source), "--by", "eval")
    assert "0 new, 0 changed, 2 unchanged" in again.output
    assert query("SELECT count(*) AS n FROM labels")[0]["n"] == 2


def test_label_import_of_a_bad_file_says_where_and_stores_nothing(feed_server, write_config, run_cli, query, tmp_path):
    config, _ = polled(feed_server, write_config, run_cli, query)
    source = tmp_path / "bad.jsonl"
    source.write_text(
        json.dumps({"link": FLEEING.link, "themes": ["exodus"]})
        + "\nnot json\n"
        + json.dumps({"link": LEAVING.link, "themes": ["exodos"]})
        + "\n"
    )
    result = run_cli(config, "label", "--import", str(source), expect=2)
    assert f"{source}:2: not JSON" in result.output and "theme(s) not in" in result.output
    assert "exodos" in result.output and "nothing imported" in result.output
    assert query("SELECT count(*) AS n FROM labels")[0]["n"] == 0


def test_label_import_names_each_unreadable_line_and_stores_nothing(
    feed_server, write_config, run_cli, query, tmp_path
):
    """A label file from elsewhere: bytes that are not UTF-8 and a line nested deeper than Python's stack are
    each named with their line, as a line that is not JSON is; the file is refused whole (exit 2)."""
    config, _ = polled(feed_server, write_config, run_cli, query)
    source = tmp_path / "hostile.jsonl"
    good = json.dumps({"link": FLEEING.link, "themes": ["exodus"]}).encode()
    source.write_bytes(b"\n".join([good, b'{"link": "caf\xe9", "themes": []}', b"[" * 100_000, good.upper()]) + b"\n")
    result = run_cli(config, "label", "--import", str(source), expect=2)
    assert "Traceback" not in result.output and "nothing imported" in result.output
    assert f"{source}:2: not UTF-8 (byte 0xe9 at column 14)" in result.output
    assert f"{source}:3: not JSON (nested too deeply)" in result.output
    assert query("SELECT count(*) AS n FROM labels")[0]["n"] == 0


def test_label_import_refuses_a_file_judging_one_item_twice(feed_server, write_config, run_cli, query, tmp_path):
    """The same link twice, or in two forms (http and https, a tracking parameter), with two verdicts: which
    one the author meant is unknown, so the file is refused naming both lines, not resolved by the last."""
    config, _ = polled(feed_server, write_config, run_cli, query)
    source = write_labels(
        tmp_path / "twice.jsonl",
        [
            {"link": FLEEING.link, "themes": ["exodus"]},
            {"link": LEAVING.link, "themes": []},
            {"link": FLEEING.link.replace("https:", "http:") + "?utm_source=rss", "themes": []},
            {"link": LEAVING.link, "themes": []},
        ],
    )
    result = run_cli(config, "label", "--import", str(source), expect=2)
    assert f"{source}:3: judges the same link as line 1" in result.output
    assert f"{source}:4: judges the same link as line 2" in result.output
    assert query("SELECT count(*) AS n FROM labels")[0]["n"] == 0


def test_themes_quality_measures_the_config_themes_on_the_labels(feed_server, write_config, run_cli, query, tmp_path):
    config, ids = polled(feed_server, write_config, run_cli, query)
    write_labels(
        tmp_path / "l.jsonl",
        [
            {"link": FLEEING.link, "themes": ["exodus"]},
            {"link": LEAVING.link, "themes": ["exodus"]},
            *({"link": e.link, "themes": []} for e in OTHERS),
        ],
    )
    run_cli(config, "label", "--import", str(tmp_path / "l.jsonl"))
    report = json.loads(run_cli(config, "themes", "--quality", "--json").output)
    exodus = report["themes"][0]
    assert (exodus["tp"], exodus["fp"], exodus["fn"], exodus["tn"]) == (1, 0, 1, 4)
    assert (exodus["precision"], exodus["recall"], exodus["f1"]) == (1.0, 0.5, 0.667)
    assert exodus["wrong"] == [{"item_id": ids[LEAVING.link], "title": LEAVING.title, "score": 0, "error": "missed"}]
    text = run_cli(config, "themes", "--quality").output
    assert "exodus" in text and "0.667" in text and f"missed  {ids[LEAVING.link]:>7}" in text
    # The analyst widens the theme: quality answers at once, before any rematch, and says what went in.
    widen(config)
    exodus = json.loads(run_cli(config, "themes", "--quality", "--json").output)["themes"][0]
    assert (exodus["tp"], exodus["fn"], exodus["f1"]) == (2, 0, 1.0)


def widen(config: Path) -> None:
    text = config.read_text()
    config.write_text(text.replace('["flee*", "fled", "refugee*"]', '["flee*", "fled", "refugee*", "leave"]'))


def test_themes_quality_without_labels_says_how_to_make_some(feed_server, write_config, run_cli, query):
    config, _ = polled(feed_server, write_config, run_cli, query)
    assert "no labelled items yet" in run_cli(config, "themes", "--quality").output


def test_rematch_dry_run_lists_what_would_enter_or_leave_and_changes_nothing(feed_server, write_config, run_cli, query):
    config, ids = polled(feed_server, write_config, run_cli, query)
    before = query("SELECT item_id, theme, score, matcher_version FROM matches ORDER BY item_id")
    assert "exodus: 0 would enter, 0 would leave" in run_cli(config, "rematch", "--dry-run").output
    widen(config)
    config.write_text(config.read_text().replace('"fled", ', ""))  # FLEEING leaves, LEAVING enters
    result = run_cli(config, "rematch", "--dry-run")
    assert "exodus: 1 would enter, 1 would leave" in result.output
    assert f"+ {ids[LEAVING.link]:>7}" in result.output and LEAVING.title in result.output
    assert f"- {ids[FLEEING.link]:>7}" in result.output and "nothing changed" in result.output
    assert query("SELECT item_id, theme, score, matcher_version FROM matches ORDER BY item_id") == before
    assert "run `monitor rematch`" in run_cli(config, "themes").output  # still stale: nothing was written


def plainly_sample(title: str, link: str | None, text: str) -> bool:
    """Says it is a sample in its title and its text, and links to example.org, never to a real outlet."""
    host = urlsplit(link or "").hostname or ""
    return "Sample" in title and text.startswith("Sample") and (host == "example.org" or host.endswith(".example.org"))


def test_a_sample_entry_is_plainly_a_sample(feed_server, write_config, run_cli, query):
    """Sample items say so wherever monitor shows them: the entries these tests judge, as monitor polled and
    stored them (what `label`, `review` and the digest show), and the sample feeds it ships for `monitor demo`,
    as its parser reads them."""
    assert all(e.title.startswith("Sample") and "example.org" in e.link for e in [FLEEING, LEAVING, *OTHERS])
    polled(feed_server, write_config, run_cli, query)
    stored = query("SELECT title, link, summary FROM items")
    assert len(stored) == 2 + len(OTHERS), stored
    assert all(plainly_sample(r["title"], r["link"], r["summary"]) for r in stored), stored
    shipped = sample_feeds()
    assert len(shipped) >= 2, shipped.keys()  # the demo's two outlets
    for name, body in shipped.items():
        parsed = parse_feed(body, url=f"http://127.0.0.1/{name}", headers={}, feed_id=1, now=datetime.now(UTC))
        assert parsed.bozo is None and (parsed.title or "").startswith("Sample") and parsed.items, (name, parsed)
        for item in parsed.items:
            assert plainly_sample(item.title, item.link, item.summary_text), (name, item.title, item.link)


# --- end to end on the real evaluation set -------------------------------------------------------------

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "eval"
EVAL_SETS = ("items", "ledes_items", "ledes2_items", "ru_items")
SHIPPED = Path(__file__).resolve().parent.parent / "config" / "feeds.toml"


def eval_entries(name: str) -> list[Entry]:
    rows = [json.loads(line) for line in (EVAL / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [Entry(title=row["title"], link=row["link"], summary=row["summary"], guid=row["link"]) for row in rows]


def test_quality_on_the_eval_set_agrees_with_its_score_script(feed_server, write_config, run_cli, query, tmp_path):
    """The eval items served as feeds and polled (there is no `monitor import`), their labels imported:
    `themes --quality` gives the figures of ../shared/eval/score.py on `monitor match --jsonl` output."""
    if not EVAL.is_dir():
        pytest.skip(f"no evaluation set at {EVAL}")
    shipped = SHIPPED.read_text(encoding="utf-8")
    feeds = [{"name": name, "url": feed_server.add(f"/{name}", body=rss(eval_entries(name)))} for name in EVAL_SETS]
    config = write_config(feeds, polling={"max_bytes": "20MB"}, extra=shipped[shipped.index("\n[terms]\n") :])
    run_cli(config, "poll")
    labels_file, predicted = tmp_path / "labels.jsonl", tmp_path / "predicted.jsonl"
    all_labels = "".join(
        (EVAL / f"{name.replace('items', 'labels')}.jsonl").read_text(encoding="utf-8") for name in EVAL_SETS
    )
    labels_file.write_text(all_labels, encoding="utf-8")
    imported = run_cli(config, "label", "--import", str(labels_file), "--by", "eval").output
    total = len(all_labels.splitlines())
    assert f"{total} of {total} link(s) matched stored items" in imported, imported
    items = tmp_path / "items.jsonl"
    items.write_text("".join((EVAL / f"{name}.jsonl").read_text(encoding="utf-8") for name in EVAL_SETS))
    predicted.write_text(run_cli(config, "match", "--jsonl", str(items)).output, encoding="utf-8")
    scored = subprocess.run(
        [sys.executable, str(EVAL / "score.py"), str(labels_file), str(predicted)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    expected = {
        parts[0]: tuple(map(float, parts[1:4])) + tuple(map(int, parts[4:7]))
        for parts in (line.split() for line in scored.splitlines()[1:])
        if len(parts) == 7
    }
    report = json.loads(run_cli(config, "themes", "--quality", "--json").output)
    got = {t["theme"]: (t["precision"], t["recall"], t["f1"], t["tp"], t["fp"], t["fn"]) for t in report["themes"]}
    assert got == expected, scored
    assert report["labelled_items"] == total
    assert f"macro_f1={report['macro_f1']:.3f}" in scored


HUGE = "99999999999999999999999"  # beyond SQLite's 64-bit integers


def one_error(result) -> str:
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


@pytest.mark.parametrize("item", [HUGE, "0", "-7"])
def test_label_refuses_an_item_id_out_of_range_with_one_clear_error(feed_server, write_config, run_cli, query, item):
    config, _ = polled(feed_server, write_config, run_cli, query)
    error = one_error(run_cli(config, "label", "--", item, "exodus", "yes", expect=2))
    assert f"Invalid value for '[ITEM_ID]': {item} is not in the range 1<=x<=9223372036854775807" in error
    assert query("SELECT count(*) AS n FROM labels")[0]["n"] == 0
    # and every other number a command passes to SQLite is bounded as well
    for args in (
        ("review", "exodus", "--json", "--limit", HUGE),
        ("review", "exodus", "--json", "--scan", HUGE),
        ("suggest", "exodus", "--limit", HUGE),
        ("search", "Lachin", "--limit", HUGE),
        ("rematch", "--batch", HUGE),
    ):
        assert "is not in the range 1<=x<=" in one_error(run_cli(config, *args, expect=2))
