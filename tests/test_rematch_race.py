"""`monitor rematch` beside `monitor poll`: a batch matched outside its transaction must never overwrite the
matches of an item that a poll changed meanwhile. Real processes on one SQLite file; the check reads every
stored match back and compares each evidence span with the text its item holds now."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from .conftest import REPO
from .samples import Entry, rss

FEEDS = 4
ITEMS = 500  # per feed
ROUNDS = 5  # rematches; on a store without the guarantee one or two suffice to show a stale span
TOUCHED = 0.3  # share of a feed's items whose text each new version changes


def shipped_themes() -> str:
    """The shipped [terms] and [themes]: many themes, so matching a batch takes a while, as it does in use."""
    text = (REPO / "config" / "feeds.toml").read_text(encoding="utf-8")
    return "[terms]" + text.split("\n[terms]", 1)[1].split("# --- Digests")[0]


class Versions:
    """Each feed's items; `touch` rewrites some of them, moving their theme words to other offsets."""

    def __init__(self, feed: int, rng: random.Random):
        self.feed, self.rng = feed, rng
        self.edits = [0] * ITEMS

    def touch(self) -> None:
        for n in range(ITEMS):
            if self.rng.random() < TOUCHED:
                self.edits[n] += 1

    def body(self) -> bytes:
        when = datetime(2023, 9, 25, 9, tzinfo=UTC)
        site = f"https://sample-{self.feed}.example.org"
        entries = []
        for n, edits in enumerate(self.edits):
            padding = "Update. " * (edits % 7)  # the same story, its words at other offsets
            entries.append(
                Entry(
                    title=f"Sample {self.feed}-{n}: {padding}Russia blamed for the fall of Karabakh",
                    link=f"{site}/story-{n}",
                    guid=f"{site}/story-{n}",
                    published=when - timedelta(minutes=n),
                    summary=f"{padding}Critics in Yerevan say Moscow betrayed Armenia; Baku promised the Karabakh "
                    f"Armenians their rights and safety. Sample story {n}, edit {edits}.",
                )
            )
        return rss(entries, title=f"Sample {self.feed}")


def stale_spans(db: Path) -> list[tuple[int, str, str, str]]:
    """(item, field, quoted, text there now) for every evidence span that no longer quotes its item."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT i.id, i.title, i.summary, m.evidence FROM matches m JOIN items i ON i.id = m.item_id"
        ).fetchall()
    finally:
        conn.close()
    stale = []
    for item_id, title, summary, evidence in rows:
        fields = {"title": title, "summary": summary or ""}
        for record in json.loads(evidence):
            for span in record["spans"]:
                now = fields[span["field"]][span["start"] : span["end"]]
                if now != span["text"]:
                    stale.append((item_id, span["field"], span["text"], now))
    return stale


def monitor(config: Path, db: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.timeout(300)
@pytest.mark.slow
def test_rematch_beside_polls_that_edit_items_never_stores_evidence_the_item_no_longer_has(
    feed_server, write_config, tmp_path
):
    rng = random.Random(11)
    versions = [Versions(n, rng) for n in range(FEEDS)]
    for feed in versions:
        feed_server.add(f"/feed{feed.feed}", body=feed.body())
    config = write_config(
        [{"name": f"sample-{f.feed}", "url": feed_server.url(f"/feed{f.feed}")} for f in versions],
        extra=shipped_themes(),
    )
    db = tmp_path / "data" / "monitor.db"
    first = monitor(config, db, "poll")
    assert first.wait(timeout=120) == 0, first.communicate()[0]
    assert not stale_spans(db)

    polls = rematches = 0
    for _ in range(ROUNDS):
        rematch = monitor(config, db, "rematch", "--all", "--batch", "25")
        rematches += 1
        started = time.monotonic()
        while rematch.poll() is None and time.monotonic() - started < 60:
            for feed in versions:  # every feed: whichever the rematch is in, its items change under it
                feed.touch()
                feed_server.add(f"/feed{feed.feed}", body=feed.body())
            poll = monitor(config, db, "poll")
            output = poll.communicate(timeout=60)[0]
            assert poll.returncode == 0, output
            polls += 1
        output = rematch.communicate(timeout=60)[0]
        assert rematch.returncode == 0, output
        stale = stale_spans(db)
        assert not stale, (
            f"{len(stale)} stale span(s) after {rematches} rematch(es) beside {polls} poll(s): {stale[:3]}"
        )
    print(f"{rematches} rematches of {FEEDS * ITEMS} items beside {polls} polls: no stale span")
    assert polls >= 3  # the polls really ran beside the rematches
