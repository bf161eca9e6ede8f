"""The learned second stage, as an analyst uses it: sample items polled from a real feed server into a real
SQLite file, judged with `monitor label --import`, then `monitor train`, `monitor themes --quality`, `monitor
match`, `monitor review` and the next poll. Training needs scikit-learn (the `learn` extra): these tests skip
where it is absent, except the ones that show matching and the error message without it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.weeks import week_label, week_start

from .helpers import THEMES, Running, count, wait_for
from .samples import Entry, rss

SITE = "https://sample-wire.example.org"
# The theme's one rule knows fleeing; these analysts also mean leaving, which no term of the theme says.
FLED = [
    "families fled Stepanakert overnight",
    "thousands fled Karabakh by road",
    "refugees fled Stepanakert",
    "the last residents fled Karabakh",
    "an old couple fled Stepanakert on foot",
    "villagers fled Karabakh",
]
LEFT = [
    "families leave Stepanakert along the Lachin road",
    "residents are leaving Karabakh in long queues",
    "buses leave Stepanakert full of families",
    "the last doctors leave Karabakh",
    "a whole village is leaving Karabakh",
    "families leave Karabakh with what they can carry",
    "residents leave Stepanakert for Goris",
    "teachers are leaving Karabakh for good",
    "shopkeepers leave Stepanakert behind",
    "pensioners leave Karabakh on the last convoy",
    "students are leaving Stepanakert with their parents",
    "nurses leave Karabakh hospital empty",
]
OTHER = [
    "Stepanakert hosts a wine festival",
    "Karabakh carpets shown in a Paris museum",
    "a chess tournament opens in Stepanakert",
    "Karabakh horses win a race in Baku",
    "a bridge is repaired in Stepanakert",
    "Karabakh mulberry harvest is early this year",
    "Stepanakert choir sings in Yerevan",
    "a new bakery opens in Stepanakert",
    "Karabakh football club signs a coach",
    "a Stepanakert painter exhibits in Tbilisi",
    "Karabakh honey wins a prize",
    "a storm damages roofs in Stepanakert",
    "Stepanakert library gets new books",
    "Karabakh wrestlers train for the games",
    "central bank raises interest rates",
    "a ferry strike closes ports",
]
NEW_LEAVING = Entry(
    title="Sample: miners leave Stepanakert with their families",
    link=f"{SITE}/new-leaving",
    summary="<p>Sample text.</p>",
)


def entries(texts: list[str], kind: str) -> list[Entry]:
    return [
        Entry(title=f"Sample: {text}", link=f"{SITE}/{kind}/{n}", summary="<p>Sample text of the wire.</p>")
        for n, text in enumerate(texts)
    ]


def judged(
    feed_server, write_config, run_cli, tmp_path: Path, themes: str = THEMES, leaving_is_exodus: bool = True
) -> tuple[Path, str]:
    """Sample items polled and judged: the fled and (where `leaving_is_exodus`) the leaving ones are exodus."""
    fled, left, other = entries(FLED, "fled"), entries(LEFT, "left"), entries(OTHER, "other")
    url = feed_server.add("/wire", body=rss(fled + left + other))
    config = write_config([{"name": "sample-wire", "url": url}], extra=themes)
    run_cli(config, "poll")
    source = tmp_path / "labels.jsonl"
    source.write_text(
        "".join(
            json.dumps({"link": e.link, "themes": ["exodus"] if e in fled or (leaving_is_exodus and e in left) else []})
            + "\n"
            for e in fled + left + other
        ),
        encoding="utf-8",
    )
    run_cli(config, "label", "--import", str(source), "--by", "eval")
    return config, url


def need_sklearn() -> None:
    pytest.importorskip("sklearn", reason="scikit-learn is not installed: pip install -e '.[learn]' to test training")


def test_train_activates_a_model_that_beats_the_rules_and_polls_match_with_it(
    feed_server, write_config, run_cli, query, tmp_path
):
    need_sklearn()
    config, url = judged(feed_server, write_config, run_cli, tmp_path)
    result = run_cli(config, "train")
    line = next(line for line in result.output.splitlines() if line.startswith("exodus:"))
    assert "34 label(s), 18 yes; CV F1 rules 0.500, rules+model 1.000; active:" in line, result.output
    figures = json.loads(run_cli(config, "train", "exodus", "--json").output)["themes"][0]
    assert figures["active"] and figures["cv_f1_model"] > figures["cv_f1_rules"]
    assert figures["cv_precision_model"] >= 0.9
    row = query("SELECT * FROM theme_models ORDER BY id DESC LIMIT 1")[0]
    assert row["active"] == 1 and row["labels_used"] == 34 and json.loads(row["weights"])["weights"]
    assert query("SELECT count(*) AS n FROM theme_models WHERE active = 1")[0]["n"] == 1  # the newest only
    assert "model of exodus: ACTIVE" in run_cli(config, "themes", "--quality").output
    quality = json.loads(run_cli(config, "themes", "--quality", "--json").output)
    assert quality["models"]["exodus"]["active"] is True

    # The next poll matches a new item the rules miss, with the model's evidence.
    feed_server.add("/wire", body=rss(entries(FLED, "fled") + [NEW_LEAVING]))
    run_cli(config, "poll")
    rows = query(
        "SELECT m.score, m.evidence FROM matches m JOIN items i ON i.id = m.item_id WHERE i.link = ?",
        (NEW_LEAVING.link,),
    )
    assert len(rows) == 1, "the model did not match the new item"
    evidence = json.loads(rows[0]["evidence"])
    assert evidence[0]["kind"] == "model" and any(
        s["text"] in ("leave", "leave Stepanakert") for e in evidence for s in e["spans"]
    )
    # `monitor match` shows it, as a user types it.
    shown = run_cli(config, "match", "Sample: bakers leave Stepanakert at dawn").output
    assert shown.startswith("exodus") and "model" in shown and "[leave" in shown
    # ...and says that the model, not the rules, decided.
    assert re.search(r"^exodus  rules no match, model says yes \(p=0\.\d\d\): matched$", shown, re.MULTILINE), shown
    both = run_cli(config, "match", "Sample: families fled Stepanakert overnight").output
    assert "model says" not in both  # the rules and the model agree: nothing to say
    # The digest says so too (this week is not over: its preview).
    settings = load_config(config)
    now = datetime.now(UTC)
    this_week = week_label(week_start(now, settings.timezone, settings.digest.week_start), settings.timezone)
    run_cli(config, "digest", "--out", str(tmp_path / "d"), "--no-send", "--week", this_week)
    preview = next((tmp_path / "d").glob("*.preview.txt")).read_text()
    # Its report's line says so, or, if it leads an event of its own, the line under its headline.
    where = next(line for line in preview.splitlines() if NEW_LEAVING.title in line)
    if not where.lstrip().startswith("- "):
        where = preview.split(NEW_LEAVING.title, 1)[1].split("\n\n", 1)[0]
    assert "rules no match, model says yes" in where, preview
    assert preview.count("rules no match, model says yes") == 1  # only the item the rules missed


def test_stored_items_are_matched_again_with_a_new_model(feed_server, write_config, run_cli, query, tmp_path):
    need_sklearn()
    config, _ = judged(feed_server, write_config, run_cli, tmp_path)
    before = query("SELECT count(*) AS n FROM matches")[0]["n"]
    run_cli(config, "train")
    preview = run_cli(config, "rematch", "--dry-run").output
    assert "exodus: 12 would enter, 0 would leave" in preview
    assert "matched 34 item(s)" in run_cli(config, "rematch").output  # the model's version is new to them all
    after = query("SELECT count(*) AS n FROM matches")[0]["n"]
    assert (before, after) == (6, 18)


def test_a_model_that_does_not_beat_the_rules_stays_inactive(feed_server, write_config, run_cli, query, tmp_path):
    need_sklearn()
    # Judged as the rules already decide: there is nothing for a model to add.
    config, _ = judged(feed_server, write_config, run_cli, tmp_path, leaving_is_exodus=False)
    result = run_cli(config, "train", "exodus")
    assert "inactive:" in result.output and "does not beat the rules" in result.output
    assert query("SELECT active FROM theme_models")[0]["active"] == 0
    assert "model of exodus: not used" in run_cli(config, "themes", "--quality").output
    shown = run_cli(config, "match", "Sample: families fled Stepanakert").output
    assert "model" not in shown  # the rules alone


def test_too_few_labels_train_nothing_and_say_how_many_are_needed(feed_server, write_config, run_cli, query):
    need_sklearn()
    url = feed_server.add("/wire", body=rss(entries(FLED[:2], "fled")))
    config = write_config([{"name": "sample-wire", "url": url}], extra=THEMES)
    run_cli(config, "poll")
    result = run_cli(config, "train")
    assert "not trained: 0 yes and 0 no label(s); at least 3 of each are needed" in result.output
    assert query("SELECT weights, active FROM theme_models") == [{"weights": None, "active": 0}]
    assert "Error: no theme 'exodsu'" in run_cli(config, "train", "exodsu", expect=2).output


def test_a_model_of_an_edited_theme_is_not_used_until_trained_again(feed_server, write_config, run_cli, tmp_path):
    need_sklearn()
    config, _ = judged(feed_server, write_config, run_cli, tmp_path)
    run_cli(config, "train")
    config.write_text(config.read_text().replace("within = 10", "within = 12"))
    assert "stale: the theme was edited since" in run_cli(config, "themes", "--quality").output
    assert "model" not in run_cli(config, "match", "Sample: bakers leave Stepanakert at dawn").output


def test_review_puts_first_the_items_model_and_rules_disagree_on(feed_server, write_config, run_cli, tmp_path):
    need_sklearn()
    config, url = judged(feed_server, write_config, run_cli, tmp_path)
    run_cli(config, "train")
    feed_server.add("/wire", body=rss([NEW_LEAVING]))
    run_cli(config, "poll")
    lines = [json.loads(line) for line in run_cli(config, "review", "exodus", "--json").output.splitlines()]
    assert lines[0]["title"] == NEW_LEAVING.title
    assert "rules do not" in lines[0]["reasons"][0] and lines[0]["evidence"][0]["kind"] == "model"


def run_without_sklearn(config: Path, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`monitor ARGS` in a fresh interpreter where `import sklearn` fails, as where it is not installed."""
    code = (
        "import sys; sys.modules['sklearn'] = None; from monitor.cli import main; "
        f"sys.argv = ['monitor', '--config', {str(config)!r}, '--db', {str(db)!r}, *{list(args)!r}]; main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def test_matching_with_a_trained_model_never_needs_scikit_learn(feed_server, write_config, run_cli, db_path, tmp_path):
    need_sklearn()  # to train the model first
    config, _ = judged(feed_server, write_config, run_cli, tmp_path)
    run_cli(config, "train")
    shown = run_without_sklearn(config, db_path, "match", "Sample: bakers leave Stepanakert at dawn")
    assert shown.returncode == 0 and shown.stdout.startswith("exodus") and "model" in shown.stdout, shown.stderr
    refused = run_without_sklearn(config, db_path, "train")
    assert refused.returncode == 2 and "pip install 'monitor[learn]'" in refused.stderr


@pytest.mark.slow
def test_a_running_daemon_uses_a_model_trained_after_it_started_once_reloaded(
    feed_server, write_config, run_cli, db_path, tmp_path
):
    need_sklearn()
    config, _ = judged(feed_server, write_config, run_cli, tmp_path)
    daemon = Running(config, db_path, tmp_path / "daemon.log")
    try:
        wait_for(lambda: "monitor running" in (tmp_path / "daemon.log").read_text(), what="the daemon's start")
        run_cli(config, "train")
        second = feed_server.add("/second", body=rss([NEW_LEAVING]))
        config.write_text(config.read_text() + f'\n[[feeds]]\nname = "second-wire"\nurl = "{second}"\n')
        assert "asked the daemon" in run_cli(config, "reload").output
        wait_for(
            lambda: (
                count(db_path, "SELECT count(*) FROM items WHERE link = 'https://sample-wire.example.org/new-leaving'")
                == 1
            ),
            what="the new feed's poll",
        )
        matched = count(
            db_path,
            "SELECT count(*) FROM matches m JOIN items i ON i.id = m.item_id "
            "WHERE i.link = 'https://sample-wire.example.org/new-leaving'",
        )
        assert matched == 1, (tmp_path / "daemon.log").read_text()
        assert "trained models changed" in (tmp_path / "daemon.log").read_text()
    finally:
        daemon.stop()
