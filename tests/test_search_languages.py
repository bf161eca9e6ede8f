"""`monitor search` in every language of the feeds: Russian and Armenian words are stemmed as English ones
are, so an inflected form finds the others; databases from before the stemmed index are caught up."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.storage import Store
from monitor.storage import feeds as feed_store
from monitor.storage import search as search_store
from monitor.text.stemming import WORD, search_query
from monitor.types import FeedSource

from .conftest import REPO
from .samples import SAMPLE_NOTE, Entry, rss

SITE = "https://sample-wire.example.org"
WHEN = datetime(2023, 9, 25, 9, tzinfo=UTC)
RUSSIAN = [  # invented sample text, as every sample here (Sample Wire, example.org)
    ("Sample: беженцы прибывают в Горис", SAMPLE_NOTE),
    ("Sample: число беженцев растёт третий день", SAMPLE_NOTE),
    ("Sample: в Ереване раздают помощь беженцам", SAMPLE_NOTE),
    ("Sample: Карабах опустел за неделю", SAMPLE_NOTE),
    ("Sample: последние автобусы из Карабаха", SAMPLE_NOTE),
    ("Sample: что будет с армянами в Карабахе", SAMPLE_NOTE),
    ("Sample: refugees reach Goris", SAMPLE_NOTE),
    ("Sample: a refugee centre opens", SAMPLE_NOTE),
    ("Sample: փախստականները հասել են Գորիս", SAMPLE_NOTE),  # Armenian: the refugees reached Goris
    ("Sample: փախստականների թիվը աճում է", SAMPLE_NOTE),  # the number of refugees grows
]
EVAL_RU = REPO.parent / "shared" / "eval" / "ru_items.jsonl"


def entries(texts: list[tuple[str, str]]) -> list[Entry]:
    return [
        Entry(
            title=title,
            link=f"{SITE}/2023/09/ru-{n}",
            summary=summary,
            guid=f"{SITE}/2023/09/ru-{n}",
            published=WHEN - timedelta(hours=n),
        )
        for n, (title, summary) in enumerate(texts)
    ]


def found(run_cli, config: Path, query: str) -> list[dict[str, Any]]:
    result = run_cli(config, "search", query, "--json", "--limit", "100")
    return [json.loads(line) for line in result.output.splitlines()]


def titles(run_cli, config: Path, query: str) -> set[str]:
    return {row["title"].removeprefix("Sample: ") for row in found(run_cli, config, query)}


@pytest.fixture
def polled(feed_server, write_config, run_cli) -> Path:
    config = write_config(
        [{"name": "sample-wire", "url": feed_server.add("/ru", body=rss(entries(RUSSIAN))), "language": "ru"}]
    )
    run_cli(config, "poll")
    return config


def test_russian_inflected_forms_find_each_other(polled, run_cli):
    refugees = {"беженцы прибывают в Горис", "число беженцев растёт третий день", "в Ереване раздают помощь беженцам"}
    for query in ("беженцы", "беженцев", "беженцам"):
        assert titles(run_cli, polled, query) == refugees, query
    karabakh = {"Карабах опустел за неделю", "последние автобусы из Карабаха", "что будет с армянами в Карабахе"}
    for query in ("Карабах", "Карабаха", "Карабахе", "карабах*"):
        assert titles(run_cli, polled, query) == karabakh, query
    assert titles(run_cli, polled, '"помощь беженцев"') == {"в Ереване раздают помощь беженцам"}
    assert titles(run_cli, polled, "беженцы NOT Горис") == refugees - {"беженцы прибывают в Горис"}
    assert titles(run_cli, polled, "беженцы OR Карабах") == refugees | karabakh


def test_armenian_inflected_forms_find_each_other(polled, run_cli):
    both = {"փախստականները հասել են Գորիս", "փախստականների թիվը աճում է"}
    assert titles(run_cli, polled, "փախստականներ") == titles(run_cli, polled, "փախստականների") == both


def test_queries_keep_their_fts5_syntax_with_words_stemmed():
    assert search_query("refugees") == '"refuge"'
    assert search_query('title:Карабаха NOT "Russian peacekeepers"') == (
        'title: ("карабах" OR "караб" OR "карабаха") NOT "russian peacekeep"'
    )
    assert search_query("NEAR(беженцы Горис, 5) OR refug*") == 'NEAR ( "беженц" "горис" , 5 ) OR "refug"*'
    assert search_query("happy*") == '"happ"*'  # the part the word shares with its stem "happi"


def test_english_still_stems_and_results_show_the_original_words_highlighted(polled, run_cli):
    assert (
        titles(run_cli, polled, "refugee")
        == titles(run_cli, polled, "refugees")
        == {"refugees reach Goris", "a refugee centre opens"}
    )
    snippets = {row["snippet"] for row in found(run_cli, polled, "беженцев")}
    assert "Sample: число [беженцев] растёт третий день" in snippets
    assert "Sample: в Ереване раздают помощь [беженцам]" in snippets
    text = run_cli(polled, "search", "Карабаха").output
    assert "[Карабахе]" in text and "sample-wire" in text


def test_a_database_from_before_the_stemmed_index_is_caught_up(polled, run_cli, db_path):
    # Turn the database back into what monitor wrote before migration 11, as an upgrade finds it.
    conn = sqlite3.connect(db_path)
    conn.executescript("""
        DROP TABLE items_stemmed_fts; DROP TABLE items_stemmed; DROP TABLE items_unstemmed;
        DROP TRIGGER items_unstemmed_insert; DROP TRIGGER items_unstemmed_update; DROP TRIGGER items_unstemmed_delete;
        DELETE FROM schema_migrations WHERE version = 11;""")
    conn.close()
    assert len(titles(run_cli, polled, "беженцев")) == 3
    # An analyst's edit with plain SQL is searched as it now reads, not as it was indexed.
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE items SET title = 'Sample: Карабах без жителей' WHERE title LIKE '%число беженцев%'")
        conn.execute("DELETE FROM items WHERE title LIKE '%помощь беженцам%'")
    conn.close()
    assert titles(run_cli, polled, "беженцев") == {"беженцы прибывают в Горис"}
    assert "Карабах без жителей" in titles(run_cli, polled, "Карабаха")


@pytest.mark.skipif(
    not EVAL_RU.exists(),
    reason=f"{EVAL_RU} is not here: the real Russian items' figures are measured where ../shared/eval/ exists",
)
def test_real_russian_items_inflected_forms_find_the_same_items(tmp_path, capsys):
    """The real Russian items of ../shared/eval/, stored and searched; before: the porter index (items_fts)."""
    items = [json.loads(line) for line in EVAL_RU.read_text(encoding="utf-8").splitlines() if line.strip()]
    with Store.open(tmp_path / "ru.db") as store:
        feed_store.sync_feeds(
            store, [FeedSource("ru-eval", "https://ru.example.org/rss", timedelta(hours=1), language="ru")], WHEN
        )
        with store.transaction():
            store.conn.executemany(
                "INSERT INTO items (key, feed_id, title, summary, published, date_source, first_seen, content_hash) "
                "VALUES (?, 1, ?, ?, ?, 'first_seen', ?, '')",
                [
                    (
                        f"eval:{n}",
                        item["title"] or "",
                        item["summary"] or "",
                        "2023-09-25T09:00:00Z",
                        "2023-09-25T09:00:00Z",
                    )
                    for n, item in enumerate(items)
                ],
            )
        search_store.stem_pending(store)
        figures = {}
        for word in ("беженцы", "беженцев", "беженц*", "Карабах", "Карабаха"):
            before = store.conn.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH ?", (word,)).fetchone()[0]
            figures[word] = (before, len(search_store.search(store, word, limit=1000)))
    with capsys.disabled():
        print(
            f"\n{len(items)} real Russian items, items found before -> after: "
            + ", ".join(f"{word} {b} -> {a}" for word, (b, a) in figures.items())
        )
    assert figures["беженцы"][1] == figures["беженцев"][1] >= figures["беженц*"][0]
    assert figures["Карабах"][1] == figures["Карабаха"][1] >= figures["Карабаха"][0]
    assert all(after >= before for before, after in figures.values())


QUERY_PARTS = [*'беженцыКарабахrefugeՀայաստան "*():^+-,.', "OR", "NOT", "AND", "NEAR", "title", "ё", "Ş", " "]
QUERY_TEXT = st.lists(st.sampled_from(QUERY_PARTS), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(QUERY_TEXT)
@pytest.mark.slow
def test_any_query_is_answered_and_every_word_of_an_item_finds_it(query):
    with Store.open(":memory:") as store:
        feed_store.sync_feeds(store, [FeedSource("sample-wire", f"{SITE}/rss", timedelta(hours=1))], WHEN)
        with store.transaction():
            store.conn.execute(
                "INSERT INTO items (key, feed_id, title, summary, published, date_source, first_seen, content_hash) "
                "VALUES ('k', 1, ?, ?, '2023-09-25T09:00:00Z', 'first_seen', '2023-09-25T09:00:00Z', '')",
                ("Sample: " + query, SAMPLE_NOTE),
            )
        search_store.search(store, query)  # never an error, whatever the syntax
        for word in set(WORD.findall(query)):
            assert search_store.search(store, f'"{word}"'), word  # any word of an item, as written, finds it
