"""The digest says only what was observed (issue 22): observed time is data (the `observed` table, from
polls and imported captures), a week or day nobody observed is unknown, not quiet or zero, and a feed that
failed and came back is named with what may be missing. Driven as a user would: feeds on 127.0.0.1 that fail
on demand, `monitor poll` with the clock moved (MONITOR_CLOCK_OFFSET), `monitor import` of saved captures,
`monitor digest --week W --no-send`, the files read back."""

from __future__ import annotations

import html as htmllib
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from monitor.digest.observed import GRACE, coverage, union
from monitor.types import ObservedSpan

from .helpers import THEMES, database_before, pretend
from .history_samples import W38, W39, WIRE_URL, at, saved_rss, story
from .samples import Entry, rss

SITE = "https://sample-news.example.org"


def news(when: datetime, title: str = "Sample: a council meeting in Goris") -> Entry:
    link = f"{SITE}/{when:%Y%m%d%H%M}"
    return Entry(title=title, link=link, guid=link, published=when)


def every(start: datetime, end: datetime, step: timedelta = timedelta(hours=2)) -> list[Entry]:
    """A feed's items, one per `step` from `start` to `end`, the newest first."""
    out = []
    when = start
    while when <= end:
        out.append(news(when))
        when += step
    return out[::-1]


def visible(html: str) -> str:
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def live(feed_server, write_config, run_cli, tmp_path, monkeypatch):
    """Feeds served on 127.0.0.1, and a function that polls them as if the clock said `moment`, each
    answering with a document (a list of entries) or failing (an HTTP status)."""
    feeds = {"nyt-world": ["international"], "tass": ["russia"]}
    urls = {name: feed_server.add(f"/{name}", status=503) for name in feeds}
    config = write_config(
        [{"name": name, "url": urls[name], "tags": tags, "interval": "15m"} for name, tags in feeds.items()],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )

    def poll(moment: datetime, **answers: list[Entry] | int) -> None:
        for name, answer in answers.items():
            path = f"/{name.replace('_', '-')}"
            if isinstance(answer, int):
                feed_server.add(path, status=answer)
            else:
                feed_server.add(path, body=rss(answer))
        pretend(monkeypatch, moment)
        run_cli(config, "poll")

    def digest(week: str) -> tuple[str, str]:
        pretend(monkeypatch, datetime(2023, 10, 9, 9, tzinfo=UTC))
        run_cli(config, "digest", "--week", week, "--no-send")
        return (tmp_path / "d" / f"{week}.txt").read_text(), (tmp_path / "d" / f"{week}.html").read_text()

    return poll, digest


def test_a_week_with_no_poll_at_all_is_not_observed_not_quiet(live):
    """The service was down all of W39: polled on Monday of W38 and again on Tuesday of W40, when the feed
    carried only that day's items."""
    poll, digest = live
    poll(datetime(2023, 9, 18, 12, tzinfo=UTC), nyt_world=every(at(17), at(18, 11)), tass=every(at(17), at(18, 11)))
    fresh = every(datetime(2023, 10, 3, 0, tzinfo=UTC), datetime(2023, 10, 3, 9, tzinfo=UTC))
    poll(datetime(2023, 10, 3, 10, tzinfo=UTC), nyt_world=fresh, tass=fresh)
    text, html = digest("2023-W39")
    print("\n" + text.split("--")[0])
    assert "quiet" not in text.lower() and "quiet" not in html.lower()
    assert "none of the 0 items" not in text
    assert "Not observed: no feed was observed during this week" in text
    assert "Not observed" in visible(html)


def test_the_week_after_an_imported_record_ends_says_so_and_compares_nothing(
    write_config, run_cli, tmp_path, monkeypatch
):
    """Captures of two feeds imported: the wire's stop on Monday 2 October 06:00, the post's a week before.
    W40 is observed only until then, and not at all for the post's group."""
    post_url = "https://sample-post.example.org/rss"
    config = write_config(
        [
            {"name": "sample-wire", "url": WIRE_URL, "tags": ["us"]},
            {"name": "sample-post", "url": post_url, "tags": ["them"]},
        ],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    saved = tmp_path / "saved"
    saved.mkdir()
    monday = story(5, "Sample: more families fled Stepanakert", datetime(2023, 10, 2, 2, tzinfo=UTC))
    (saved / "wire-21.xml").write_bytes(saved_rss(W38, at(21, 6)))
    (saved / "wire-28.xml").write_bytes(saved_rss(W39, at(28, 6)))
    (saved / "wire-02.xml").write_bytes(saved_rss([monday, *W39], datetime(2023, 10, 2, 6, tzinfo=UTC)))
    post = [story(10 + n, f"Sample: post story {n}", at(19 + n)) for n in range(8)][::-1]
    (saved / "post-26.xml").write_bytes(saved_rss(post, at(26, 6), self_link=post_url))
    run_cli(config, "import", str(saved))
    pretend(monkeypatch, datetime(2023, 10, 9, 9, tzinfo=UTC))
    run_cli(config, "digest", "--week", "2023-W40", "--no-send")
    text = (tmp_path / "d" / "2023-W40.txt").read_text()
    html = visible((tmp_path / "d" / "2023-W40.html").read_text())
    print("\n" + text.split("--")[0])
    row = next(line for line in text.splitlines() if line.startswith("  Sample exodus"))
    assert "on last week" not in row and "not compared with last week (2)" in row, row
    assert "observed only until Monday 2 October 06:00" in text and "observed only until Monday" in html
    them = next(line for line in text.splitlines() if line.strip().startswith("them"))
    assert "nothing published" not in them and "unknown" in them, them
    assert "nothing published" not in html


def test_a_feed_failing_all_week_leaves_its_group_unknown(live):
    poll, digest = live
    old = every(at(14), at(18, 10))
    poll(datetime(2023, 9, 18, 12, tzinfo=UTC), nyt_world=old, tass=old)  # both answered before the week
    for day in range(25, 32):
        moment = datetime(2023, 9, 1, 12, tzinfo=UTC) + timedelta(days=day - 1)
        items = every(at(14), moment - timedelta(hours=1))
        if day == 27:
            items.insert(0, news(moment - timedelta(minutes=30), "Sample: families fled Stepanakert overnight"))
        poll(moment, nyt_world=items, tass=503)
    poll(datetime(2023, 10, 2, 1, tzinfo=UTC), nyt_world=every(at(14), datetime(2023, 10, 2, tzinfo=UTC)), tass=503)
    text, html = digest("2023-W39")
    print("\n" + text.split("--")[0])
    russia = next(line for line in text.splitlines() if line.strip().startswith("russia"))
    assert "unknown (tass failed all week" in russia and "nothing published" not in russia, russia
    assert "russia unknown (tass failed all week" in visible(html)


def down_and_back(poll, reached: datetime) -> None:
    """nyt-world polled twice a day, carrying a day of items; its polls fail from Friday 12:00 (after one that
    worked at 03:59) until Saturday 09:10, when its feed reaches back to `reached`; tass polled throughout."""
    moment = datetime(2023, 9, 24, 20, tzinfo=UTC)
    friday = datetime(2023, 9, 29, 3, 59, tzinfo=UTC)
    while moment < friday:
        poll(moment, nyt_world=every(moment - timedelta(hours=24), moment), tass=every(at(14), at(18)))
        moment += timedelta(hours=12)
    poll(friday, nyt_world=every(friday - timedelta(hours=24), friday))
    poll(datetime(2023, 9, 29, 12, tzinfo=UTC), nyt_world=503)
    poll(datetime(2023, 9, 30, 0, tzinfo=UTC), nyt_world=503)
    back = datetime(2023, 9, 30, 9, 10, tzinfo=UTC)
    poll(back, nyt_world=every(reached, back))
    moment = datetime(2023, 9, 30, 20, tzinfo=UTC)
    while moment < datetime(2023, 10, 2, 9, tzinfo=UTC):
        poll(moment, nyt_world=every(moment - timedelta(hours=24), moment))
        moment += timedelta(hours=12)


def test_a_feed_down_a_day_and_back_is_named_with_what_may_be_missing(live):
    """Down from Friday 03:59 to Saturday 09:10, when its feed reached back only to Friday 06:00."""
    poll, digest = live
    down_and_back(poll, reached=datetime(2023, 9, 29, 6, tzinfo=UTC))
    text, html = digest("2023-W39")
    print("\n" + text.split("--")[0])
    expected = (
        "nyt-world: not observed Friday 03:59 to Saturday 09:10; its feed reached back to Friday 06:00: "
        "up to 3 hours may be missing"
    )
    assert expected in text and expected in visible(html)
    assert "nothing missing" not in text  # the same outage is not also said to have lost nothing


def test_the_chart_marks_the_days_nothing_was_observed(live):
    """Polled Monday to Wednesday of W39, then not until the next Monday, when the feeds carried only that
    day's items: Thursday to Sunday are unknown, not zero."""
    poll, digest = live
    fled = news(datetime(2023, 9, 26, 9, tzinfo=UTC), "Sample: families fled Stepanakert overnight")
    goris = news(datetime(2023, 9, 27, 9, tzinfo=UTC), "Sample: refugees from Karabakh reach Goris")
    for day, items in ((25, []), (26, [fled]), (27, [goris, fled])):
        moment = datetime(2023, 9, day, 12, tzinfo=UTC)
        carried = [*items, *every(at(20), moment - timedelta(hours=4))]
        poll(moment, nyt_world=carried, tass=carried)
    fresh = every(datetime(2023, 10, 2, 0, tzinfo=UTC), datetime(2023, 10, 2, 8, tzinfo=UTC))
    poll(datetime(2023, 10, 2, 9, tzinfo=UTC), nyt_world=fresh, tass=fresh)
    text, html = digest("2023-W39")
    print("\n" + text.split("--")[0])
    row = text.split("AT A GLANCE")[1].split("  Sample exodus")[1].splitlines()[1]
    assert row.split()[-7:] == ["0", "1", "1", "?", "?", "?", "?"], row
    assert "? a day no feed was observed" in text
    values = re.findall(r'<td class="value[^"]*"[^>]*>([^<]+)</td>', html)
    assert values == ["0", "1", "1", "?", "?", "?", "?"], values


# -- the pure rule ---------------------------------------------------------------------------------


def test_breaks_shorter_than_the_grace_are_none_and_longer_ones_are_holes():
    start = datetime(2023, 9, 25, tzinfo=UTC)
    end = start + timedelta(days=7)

    def span(a: float, b: float) -> ObservedSpan:
        return ObservedSpan(start + timedelta(hours=a), start + timedelta(hours=b), start + timedelta(hours=b))

    short = {"a": (span(-1, 50), span(50 + GRACE.total_seconds() / 3600 - 0.1, 200))}
    assert coverage(union(short), start, end).state == "full"
    long = {"a": (span(-1, 50), span(60, 200))}
    assert coverage(union(long), start, end).holes == ((start + timedelta(hours=50), start + timedelta(hours=60)),)
    assert coverage(union({}), start, end).state == "none"


def test_an_older_database_derives_its_observed_spans_from_fetches_imports_and_sightings(tmp_path):
    """Migration 25 on a database of migration 24: a fetch after a success of its feed within two hours
    reaches back to it, any other (and every import) to the oldest item its feed was sighted carrying then."""
    from monitor.storage import Store

    path = tmp_path / "old.db"
    conn = database_before(path, 25)
    conn.execute(
        "INSERT INTO feeds (id, name, url, config_url, interval_seconds, created_at) "
        "VALUES (1, 'sample-wire', 'u', 'u', 3600, '2023-09-01T00:00:00Z')"
    )
    conn.execute(
        "INSERT INTO imports (id, feed_id, origin, source, captured_at, body_hash, imported_at) "
        "VALUES (1, 1, 'file', 'saved.xml', '2023-09-20T06:00:00Z', 'h', '2023-10-01T00:00:00Z')"
    )
    # item, published, sighted first, sighted last
    for n, published, first, last in [
        (1, "2023-09-19T10:00:00Z", "2023-09-20T06:00:00Z", "2023-09-20T06:00:00Z"),  # the capture's
        (2, "2023-09-24T10:00:00Z", "2023-09-25T08:00:00Z", "2023-09-25T09:00:00Z"),
        (3, "2023-09-26T20:00:00Z", "2023-09-27T08:00:00Z", "2023-09-27T08:00:00Z"),  # after the failure
    ]:
        conn.execute(
            "INSERT INTO items (id, key, feed_id, title, published, date_source, first_seen, content_hash) "
            "VALUES (?, ?, 1, 'Sample', ?, 'published', ?, 'c')",
            (n, f"url:{n}", published, first),
        )
        conn.execute(
            "INSERT INTO item_sources (item_id, feed_id, first_seen, last_seen, content_hash) VALUES (?, 1, ?, ?, 'c')",
            (n, first, last),
        )
    for started, outcome in [
        ("2023-09-25T08:00:00Z", "ok"),
        ("2023-09-25T09:00:00Z", "not_modified"),
        ("2023-09-26T08:00:00Z", "error"),
        ("2023-09-27T08:00:00Z", "ok"),
    ]:
        conn.execute(
            "INSERT INTO fetches (feed_id, started_at, duration_ms, url, outcome) VALUES (1, ?, 5, 'u', ?)",
            (started, outcome),
        )
    conn.commit()
    conn.close()
    with Store.open(path) as store:
        rows = store.conn.execute("SELECT since, until, resumed_at FROM observed ORDER BY since").fetchall()
    assert rows == [
        ("2023-09-19T10:00:00Z", "2023-09-20T06:00:00Z", "2023-09-20T06:00:00Z"),
        ("2023-09-24T10:00:00Z", "2023-09-25T09:00:00Z", "2023-09-25T08:00:00Z"),
        ("2023-09-26T20:00:00Z", "2023-09-27T08:00:00Z", "2023-09-27T08:00:00Z"),
    ]


def test_polls_record_how_far_back_their_documents_reached_and_the_same_document_extends_the_span(live, query):
    """Each fetch records its document's oldest item (`fetches.reach`); the same document again (a 304, or the
    same body) observed the feed back to the previous poll, so two polls a day apart make one span."""
    poll, _ = live
    carried = every(at(24), at(25, 8))
    poll(datetime(2023, 9, 25, 9, tzinfo=UTC), nyt_world=carried, tass=503)
    poll(datetime(2023, 9, 26, 9, tzinfo=UTC))  # the same document again
    fetches = query(
        "SELECT x.started_at, x.outcome, x.reach FROM fetches x JOIN feeds f ON f.id = x.feed_id "
        "WHERE f.name = 'nyt-world' ORDER BY x.started_at"
    )
    assert [f["reach"] for f in fetches] == ["2023-09-24T10:00:00Z", None]
    assert fetches[0]["outcome"] == "ok" and fetches[1]["outcome"] in ("not_modified", "unchanged")
    spans = query(
        "SELECT f.name, o.since, o.until FROM observed o JOIN feeds f ON f.id = o.feed_id ORDER BY f.name, o.since"
    )
    assert spans == [{"name": "nyt-world", "since": "2023-09-24T10:00:00Z", "until": fetches[1]["started_at"]}]


def test_a_feed_down_and_back_still_carrying_all_it_published_is_named_with_nothing_missing(live):
    """Down from Friday 12:00 to Saturday 09:10, when its feed still reached back past its last observation:
    the failure is named, and said to have lost nothing; tass, polled throughout, is not named."""
    poll, digest = live
    down_and_back(poll, reached=datetime(2023, 9, 28, 6, tzinfo=UTC))  # before Friday 03:59
    text, html = digest("2023-W39")
    expected = "nyt-world: failing Friday 12:00 to Saturday 09:10; its feed still carried what it published meanwhile"
    assert expected in text and expected in visible(html), text.split("--")[0]
    assert "nothing missing" in text and "may be missing" not in text and "tass: failing" not in text


def test_a_week_rebuilt_from_imported_items_counts_its_many_holes_instead_of_naming_each(
    write_config, run_cli, tmp_path, monkeypatch
):
    """JSON lines of items, each a capture at its own time, observe the week only at those moments: twelve
    items a day apart by hours leave dozens of holes. Each was named, in the week's line and again in every
    theme's line (a 2023-W39 rebuilt from real items read 30 "not observed ..." a theme); now the first and
    last moments are named and the holes counted."""
    config = write_config(
        [{"name": "sample-wire", "url": WIRE_URL}],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    start = datetime(2023, 9, 25, 8, tzinfo=UTC)
    lines = [
        {
            "title": f"Sample: families fled Stepanakert, report {n}",
            "summary": "Sample text: refugees from Karabakh reach Goris.",
            "link": f"https://sample-wire.example.org/2023/09/{n}",
            "published": (start + timedelta(hours=11 * n)).isoformat(),
            "source": WIRE_URL,
        }
        for n in range(12)
    ]
    saved = tmp_path / "items.jsonl"
    saved.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    run_cli(config, "import", str(saved))
    pretend(monkeypatch, datetime(2023, 10, 9, 9, tzinfo=UTC))
    run_cli(config, "digest", "--week", "2023-W39", "--no-send")
    text = (tmp_path / "d" / "2023-W39.txt").read_text()
    print("\n" + text.split("--")[0])
    assert re.search(r"not observed in 1\d stretches between \(\d+ hours in all\)", text), text
    assert text.count("not observed Monday") + text.count("not observed Tuesday") == 0, text
    assert re.search(r"sample-wire: not observed 1\d times this week; up to \d+ hours in all may be missing", text)
    assert "observed only from Monday 25 September" in text
    row = next(line for line in text.splitlines() if line.startswith("  Sample exodus"))
    assert len(row) < 600, row
