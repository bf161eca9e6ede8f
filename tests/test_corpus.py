"""Robustness over feedparser's own test suite: ~2,100 well- and ill-formed feeds, each served by the
local HTTP server and polled in one round. None may crash the round or disturb items already stored.

The corpus lives in ../shared (read-only, never copied here); a user's clone has none, so the test skips.
"""

from __future__ import annotations

import mimetypes

import pytest

from .conftest import SHARED
from .feedserver import Route
from .helpers import CORPUS_FIGURES
from .samples import headlines, rss

pytestmark = pytest.mark.slow  # polls some 2,100 corpus feeds

CORPUS = SHARED / "corpus" / "feedparser-tests"
FIGURES = CORPUS_FIGURES  # printed in the terminal summary (conftest.py)


@pytest.mark.corpus
@pytest.mark.timeout(600)
def test_every_corpus_feed_polls_without_disturbing_stored_items(feed_server, write_config, run_cli, query):
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser corpus not found at {CORPUS} (it ships in ../shared, not in this repo)")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    assert len(files) > 2000

    sample = [{"name": "sample-wire", "url": feed_server.add("/sample", body=rss(headlines(5)))}]
    run_cli(write_config(sample, name="before.toml"), "poll")
    before = query("SELECT id, key, title, summary, published, content_hash FROM items ORDER BY id")
    assert len(before) == 5

    feeds = list(sample)
    for index, path in enumerate(files):
        relative = path.relative_to(CORPUS).as_posix()
        content_type = mimetypes.guess_type(path.name)[0] or "application/xml"
        feeds.append(
            {
                "name": f"corpus-{index:04d}",
                "url": feed_server.add("/corpus/" + relative, Route(body=path.read_bytes(), content_type=content_type)),
            }
        )
    config = write_config(feeds, polling={"concurrency": 8, "per_host": 8}, name="corpus.toml")
    result = run_cli(config, "poll")
    assert "Traceback" not in result.output

    fetches = query(
        "SELECT f.name, x.outcome, x.items_total, x.error FROM fetches x JOIN feeds f ON f.id = x.feed_id "
        "WHERE f.name LIKE 'corpus-%'"
    )
    assert len(fetches) == len(files)  # every file was polled and recorded
    unexpected = [f for f in fetches if f["error"] and "internal error" in f["error"]]
    assert not unexpected, unexpected[:5]
    after = {row["id"]: row for row in query("SELECT id, key, title, summary, published, content_hash FROM items")}
    assert all(after[row["id"]] == row for row in before)  # the stored sample items are untouched
    assert query("PRAGMA integrity_check")[0]["integrity_check"] == "ok"

    FIGURES.update(
        files_polled=len(fetches),
        files_with_entries=sum(1 for f in fetches if f["items_total"] > 0),
        files_in_error=sum(1 for f in fetches if f["outcome"] == "error"),
        items_stored=len(after) - len(before),
    )
    # Most corpus files test channel-level elements and have no entries; about a quarter do.
    assert FIGURES["files_with_entries"] > 500
