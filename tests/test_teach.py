"""`monitor review` and `monitor suggest` as an analyst uses them: sample items polled from a real feed server
into a real SQLite file; review run in a real terminal (a pseudo-terminal) to answer its questions."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from .conftest import REPO
from .samples import Entry, rss

THEMES = """
[terms]
place = ["Karabakh", "Stepanakert"]

[themes.exodus]
label = "Sample exodus"
require = ["@place"]
phrases = ["Armenians flee Karabakh"]

[[themes.exodus.rules]]
name = "flight"
all = [["flee*", "fled", "refugee*"], ["families", "Armenians"]]
within = 10

[[themes.exodus.rules]]
name = "queues"
all = [["queue*"], ["road"]]
within = 5
score = 70
"""
SITE = "https://sample-wire.example.org/2023/09"
FILLER = "sample words standing between the two terms of the rule so that they are far apart here"
MATCHED = Entry("Sample: families fled Stepanakert overnight", f"{SITE}/fled", "Sample text.")
# Both terms in the summary: a title's term joins the lede's (match.CROSS_FIELD_WINDOW), so a headline
# term would make this a match, not a near miss.
FAR = Entry("Sample: counting the cost in Stepanakert", f"{SITE}/far", f"Sample: refugees, {FILLER}, families wait.")
GATE = Entry("Sample: Armenian families fled the fighting overnight", f"{SITE}/gate", "Sample text, no place named.")
UNDER = Entry("Sample: long queues on the road out of Stepanakert", f"{SITE}/under", "Sample text.")
NOTHING = Entry("Sample: Baku hosts a chess tournament", f"{SITE}/chess", "Sample text.")
ENTRIES = [MATCHED, FAR, GATE, UNDER, NOTHING]


def polled(feed_server, write_config, run_cli, query, entries=ENTRIES) -> tuple[Path, dict[str, int]]:
    url = feed_server.add("/wire", body=rss(entries))
    config = write_config([{"name": "sample-wire", "url": url}], extra=THEMES)
    run_cli(config, "poll")
    return config, {row["link"]: row["id"] for row in query("SELECT id, link FROM items")}


def test_review_json_lists_near_misses_with_why_and_evidence(feed_server, write_config, run_cli, query):
    config, ids = polled(feed_server, write_config, run_cli, query)
    lines = [json.loads(line) for line in run_cli(config, "review", "exodus", "--json").output.splitlines()]
    by_id = {line["item_id"]: line for line in lines}
    assert set(by_id) == {ids[FAR.link], ids[GATE.link], ids[UNDER.link]}  # not the match, not the unrelated
    assert "far apart" in by_id[ids[FAR.link]]["reasons"]
    assert by_id[ids[GATE.link]]["reasons"] == ["gate", "names none of the theme's places or actors"]
    assert by_id[ids[UNDER.link]]["reasons"] == ["under threshold"] and 65 <= by_id[ids[UNDER.link]]["score"] < 80
    spans = {s["text"] for e in by_id[ids[FAR.link]]["evidence"] for s in e["spans"]}
    assert {"refugees", "families"} <= spans
    # About the theme's place first, the highest score first; the near miss that names no place last.
    assert [line["item_id"] for line in lines][-1] == ids[GATE.link]
    about = [line["score"] for line in lines[:-1]]
    assert about == sorted(about, reverse=True)
    # Judged items leave the queue; without a terminal, review asks nothing and stores nothing.
    run_cli(config, "label", str(ids[GATE.link]), "exodus", "yes")
    text = run_cli(config, "review", "exodus").output
    assert "[refugees]" in text and f"item {ids[GATE.link]} " not in text and "far apart" in text
    assert query("SELECT count(*) AS n FROM labels")[0]["n"] == 1
    assert "no theme 'exodos'" in run_cli(config, "review", "exodos", expect=2).output


def test_review_in_a_terminal_asks_and_stores_each_answer(feed_server, write_config, run_cli, query, db_path):
    config, ids = polled(feed_server, write_config, run_cli, query)
    order = [
        line["item_id"] for line in map(json.loads, run_cli(config, "review", "exodus", "--json").output.splitlines())
    ]
    output = in_terminal(
        [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "--db",
            str(db_path),
            "review",
            "exodus",
            "--by",
            "ana",
        ],
        "y\nn\ns\n",
    )
    assert "about exodus?" in output and "2 judgement(s) stored by ana" in output, output
    rows = query("SELECT item_id, verdict, who, note FROM labels ORDER BY verdict DESC")
    assert [(r["item_id"], r["verdict"], r["who"]) for r in rows] == [(order[0], "yes", "ana"), (order[1], "no", "ana")]
    assert rows[0]["note"] == "monitor review"


def in_terminal(command: list[str], typed: str, timeout: float = 60) -> str:
    """Run `command` with a pseudo-terminal as its standard input and output, type `typed`, return what it
    printed."""
    main, child = os.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200"}
    process = subprocess.Popen(command, stdin=child, stdout=child, stderr=child, env=env, close_fds=True)
    os.close(child)
    os.write(main, typed.encode())
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
            elif process.poll() is not None:
                break
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(main)
    return out.decode("utf-8", "replace")


WEATHER = Entry("Sample: families fled the floods in Yorkshire overnight", f"{SITE}/weather", "Sample text.")
CARTEL = Entry("Sample: refugees and families flee cartel violence in Sinaloa", f"{SITE}/cartel", "Sample text.")


def test_review_shows_the_conflict_before_off_topic_near_misses(feed_server, write_config, run_cli, query):
    """UK weather and Mexican cartels come near the theme's words with no place of it: a judgement on them
    teaches nothing about the conflict, so they come last, whatever their score, and a short list leaves
    them out."""
    config, ids = polled(feed_server, write_config, run_cli, query, [WEATHER, UNDER, CARTEL, FAR, NOTHING])
    lines = [json.loads(line) for line in run_cli(config, "review", "exodus", "--json").output.splitlines()]
    order = [line["item_id"] for line in lines]
    assert set(order[:2]) == {ids[UNDER.link], ids[FAR.link]}
    assert set(order[2:]) == {ids[WEATHER.link], ids[CARTEL.link]}
    assert min(line["score"] for line in lines[2:]) > max(line["score"] for line in lines[:2])  # despite scoring higher
    assert all("names none of the theme's places or actors" in line["reasons"] for line in lines[2:])
    short = run_cli(config, "review", "exodus", "--limit", "2").output
    assert "Stepanakert" in short and "Yorkshire" not in short and "Sinaloa" not in short
