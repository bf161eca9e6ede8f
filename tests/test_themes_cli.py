"""Theme matching as a user meets it: `monitor match`, matches stored at `monitor poll`, `monitor themes`,
`monitor rematch` after the themes change."""

from __future__ import annotations

import json
from dataclasses import replace

from click.testing import CliRunner

from monitor.cli import cli

from .conftest import REPO
from .helpers import FLEEING, THEMES
from .samples import headlines, rss

SHIPPED = REPO / "config" / "feeds.toml"


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["--config", str(SHIPPED), *args], input=input)


def test_match_text_shows_themes_scores_and_highlighted_evidence():
    result = invoke("match", "Sample: Armenians feel betrayed as Russian peacekeepers stood by in Karabakh")
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0].split()
    assert first[0] == "putin_blame" and 80 <= int(first[1]) <= 100
    assert "[betrayed]" in result.output and "[Russian]" in result.output  # spans marked where no colour


def test_match_without_any_theme_says_so():
    result = invoke("match", "Sample: Baku hosts a chess tournament")
    assert result.exit_code == 0 and "no theme matches" in result.output


def test_match_jsonl_prints_one_object_per_line_in_the_eval_format(tmp_path):
    lines = [
        {
            "title": "Sample: tens of thousands of ethnic Armenians have fled Nagorno-Karabakh",
            "summary": "<p>Sample summary, <b>HTML</b> as feeds publish it.</p>",
            "link": "https://example.org/1",
        },
        {"title": "Sample: Baku hosts a chess tournament", "summary": "", "link": "https://example.org/2"},
    ]
    source = tmp_path / "items.jsonl"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n")
    result = invoke("match", "--jsonl", str(source))
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines())
    assert first["link"] == "https://example.org/1" and first["themes"] == ["armenian_exodus"]
    assert set(first) == {"link", "themes", "scores", "evidence"}
    evidence = first["evidence"]["armenian_exodus"][0]
    assert {"kind", "name", "score", "spans"} <= set(evidence) and evidence["spans"][0]["field"] == "title"
    assert second == {"link": "https://example.org/2", "themes": [], "scores": {}, "evidence": {}}
    assert json.loads(invoke("match", "--jsonl", "-", input=json.dumps(lines[0])).output)["themes"]


def test_match_jsonl_reports_bad_lines_and_keeps_the_good_ones(tmp_path):
    source = tmp_path / "items.jsonl"
    source.write_text('{"title": "Sample: refugees leave Karabakh", "link": "a"}\nnot json\n[1, 2]\n')
    result = invoke("match", "--jsonl", str(source))
    assert result.exit_code == 2
    assert f"{source}:2: skipped" in result.output and f"{source}:3: skipped" in result.output
    assert json.loads(result.output.splitlines()[0])["link"] == "a"


def test_match_jsonl_names_hostile_lines_and_matches_the_rest(tmp_path):
    """Bytes that are not UTF-8, nesting deeper than Python's stack and a line longer than any item each skip
    their line with its reason; the lines around them are matched."""
    source = tmp_path / "items.jsonl"
    good = json.dumps({"title": "Sample: refugees leave Karabakh", "link": "a"}).encode()
    source.write_bytes(
        b"\n".join([b"\xef\xbb\xbf" + good, b"\xff\xfe", b"[" * 100_000, b'"' + b"x" * (5 << 20) + b'"', good]) + b"\n"
    )
    result = invoke("match", "--jsonl", str(source))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{source}:2: skipped, not UTF-8 (byte 0xff at column 1)" in result.output
    assert f"{source}:3: skipped, not JSON (nested too deeply)" in result.output
    assert f"{source}:4: skipped, longer than 4194304 bytes" in result.output
    matched = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert [m["link"] for m in matched] == ["a", "a"]


def test_match_needs_text_or_file():
    result = invoke("match")
    assert result.exit_code == 2 and "give a TEXT" in result.output


def test_poll_stores_matches_with_evidence_and_themes_counts_them(feed_server, write_config, run_cli, query):
    url = feed_server.add("/wire", body=rss([FLEEING, *headlines(2, start=3)]))
    config = write_config([{"name": "sample-wire", "url": url}], extra=THEMES)
    result = run_cli(config, "poll")
    assert "1 on themes" in result.output
    rows = query(
        "SELECT i.title, m.theme, m.score, m.evidence, m.matcher_version FROM matches m "
        "JOIN items i ON i.id = m.item_id"
    )
    assert [(r["title"], r["theme"]) for r in rows] == [(FLEEING.title, "exodus")]
    evidence = json.loads(rows[0]["evidence"])
    assert evidence[0]["name"] == "flight" and {s["text"] for s in evidence[0]["spans"]} == {"fled", "Stepanakert"}
    assert (
        query("SELECT count(*) AS n FROM items WHERE matcher_version = ?", (rows[0]["matcher_version"],))[0]["n"] == 3
    )
    themes = json.loads(run_cli(config, "themes", "--json").output)
    assert themes["themes"][0]["total"] == 1 and themes["items_not_matched_with_these_themes"] == 0


def test_an_updated_item_is_matched_again(feed_server, write_config, run_cli, query):
    url = feed_server.add("/wire", body=rss([FLEEING]))
    config = write_config([{"name": "sample-wire", "url": url}], extra=THEMES)
    run_cli(config, "poll")
    feed_server.add(
        "/wire", body=rss([replace(FLEEING, title="Sample: families gather in Stepanakert", summary="Sample text.")])
    )
    run_cli(config, "poll")
    assert query("SELECT count(*) AS n FROM matches")[0]["n"] == 0


def test_rematch_after_the_themes_change(feed_server, write_config, run_cli, query):
    url = feed_server.add("/wire", body=rss([FLEEING, *headlines(5)]))
    config = write_config([{"name": "sample-wire", "url": url}], extra=THEMES)
    run_cli(config, "poll")
    widened = (
        THEMES.replace('["flee*", "fled", "refugee*"]', '["flee*", "fled", "refugee*", "families"]')
        + """
[themes.talks]
label = "Sample talks"
phrases = ["talks on reintegration"]
"""
    )
    config.write_text(config.read_text().replace(THEMES, widened))
    assert "run `monitor rematch`" in run_cli(config, "themes").output
    result = run_cli(config, "rematch", "--batch", "2")
    assert "matched 6 item(s)" in result.output
    themes = {row["theme"]: row for row in json.loads(run_cli(config, "themes", "--json").output)["themes"]}
    assert themes["talks"]["total"] == 1 and themes["exodus"]["total"] >= 1
    assert "already matched" in run_cli(config, "rematch").output
    assert "matched 6 item(s)" in run_cli(config, "rematch", "--all").output


def test_themes_and_rematch_on_an_empty_database(write_config, run_cli, tmp_path):
    config = write_config([{"name": "sample-wire", "url": "http://127.0.0.1:9/f"}], extra=THEMES)
    assert "exodus" in run_cli(config, "themes").output
    assert "already matched" in run_cli(config, "rematch").output
