"""`monitor poll` end to end: feeds served on 127.0.0.1, the CLI as a user runs it, the SQLite file read
back. Each HTTP behaviour a polite poller must handle has a test here."""

from __future__ import annotations

from dataclasses import replace

from .helpers import line_of
from .samples import Entry, atom, headlines, rdf, rss


def test_poll_stores_items_from_rss_atom_and_rdf(feed_server, write_config, run_cli, query):
    feeds = [
        {"name": "sample-rss", "url": feed_server.add("/rss", body=rss(headlines(3)))},
        {
            "name": "sample-atom",
            "url": feed_server.add(
                "/atom",
                body=atom(headlines(2, site="https://dispatch.example.org")),
                content_type="application/atom+xml",
            ),
        },
        {
            "name": "sample-rdf",
            "url": feed_server.add(
                "/rdf", body=rdf(headlines(4, site="https://rdf.example.org")), content_type="application/rdf+xml"
            ),
        },
    ]
    result = run_cli(write_config(feeds), "poll")
    assert "3 new" in line_of(result.output, "sample-rss")
    assert "2 new" in line_of(result.output, "sample-atom")
    assert "4 new" in line_of(result.output, "sample-rdf")
    assert "9 new items" in result.output
    rows = query(
        "SELECT i.title, i.link, i.published, i.date_source, f.name FROM items i "
        "JOIN feeds f ON f.id = i.feed_id ORDER BY i.id"
    )
    assert len(rows) == 9
    assert {r["name"] for r in rows} == {"sample-rss", "sample-atom", "sample-rdf"}
    assert all(r["published"].endswith("Z") and r["date_source"] in ("published", "updated") for r in rows)
    fetches = query("SELECT outcome, status, items_new FROM fetches")
    assert sorted(f["items_new"] for f in fetches) == [2, 3, 4] and {f["status"] for f in fetches} == {200}


def test_second_poll_is_not_modified_and_stores_no_duplicates(feed_server, write_config, run_cli, query):
    url = feed_server.add("/feed", body=rss(headlines(5)), etag='"v1"', last_modified="Mon, 25 Sep 2023 09:00:00 GMT")
    config = write_config([{"name": "sample-wire", "url": url}])
    run_cli(config, "poll")
    second = run_cli(config, "poll")
    assert line_of(second.output, "sample-wire").startswith("not modified")
    conditional = feed_server.hits("/feed")[1].headers
    assert conditional["if-none-match"] == '"v1"'
    assert conditional["if-modified-since"] == "Mon, 25 Sep 2023 09:00:00 GMT"
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 5
    assert [f["outcome"] for f in query("SELECT outcome FROM fetches ORDER BY id")] == ["ok", "not_modified"]


def test_server_without_conditional_get_same_body_is_not_parsed_again(feed_server, write_config, run_cli, query):
    url = feed_server.add("/plain", body=rss(headlines(4)))
    config = write_config([{"name": "sample-plain", "url": url}])
    run_cli(config, "poll")
    second = run_cli(config, "poll")
    assert line_of(second.output, "sample-plain").startswith("unchanged")
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 4


def test_new_and_updated_items_on_a_later_poll(feed_server, write_config, run_cli, query):
    entries = headlines(3)
    url = feed_server.add("/feed", body=rss(entries))
    config = write_config([{"name": "sample-wire", "url": url}])
    run_cli(config, "poll")
    first_seen = query("SELECT first_seen FROM items WHERE link LIKE '%story-0'")[0]["first_seen"]
    changed = [replace(entries[0], title="Sample: corrected headline about the Lachin road"), *entries[1:]]
    feed_server.add("/feed", body=rss([*headlines(1, start=10), *changed]))
    result = run_cli(config, "poll")
    assert "1 new, 1 updated, 2 seen" in line_of(result.output, "sample-wire")
    row = query("SELECT title, first_seen, updated_at FROM items WHERE link LIKE '%story-0'")[0]
    assert row["title"] == "Sample: corrected headline about the Lachin road"
    assert row["first_seen"] == first_seen and row["updated_at"] is not None
    # the full-text index follows the update
    hits = query("SELECT rowid FROM items_fts WHERE items_fts MATCH 'corrected'")
    assert len(hits) == 1 and not query("SELECT rowid FROM items_fts WHERE items_fts MATCH 'families AND \"no. 0\"'")


def test_same_story_from_two_feeds_is_one_item_with_two_sightings(feed_server, write_config, run_cli, query):
    shared = headlines(2)
    tracked = [replace(e, guid=None, link=e.link + "?utm_source=rss&utm_medium=feed#comments") for e in shared]
    config = write_config(
        [
            {"name": "sample-wire", "url": feed_server.add("/a", body=rss(shared))},
            {"name": "sample-syndicate", "url": feed_server.add("/b", body=atom(tracked))},
        ]
    )
    run_cli(config, "poll")
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 2
    sightings = query("SELECT item_id, count(*) AS feeds FROM item_sources GROUP BY item_id")
    assert [s["feeds"] for s in sightings] == [2, 2]


def test_non_utf8_encodings_from_header_and_declaration(feed_server, write_config, run_cli, query):
    title = "Sample: беженцы из Карабаха прибывают в Горис"
    declared = rss([Entry(title=title, link="https://ru.example.org/1")], encoding="windows-1251")
    header_only = rss([Entry(title=title + " (koi8)", link="https://ru.example.org/2")], encoding="koi8-r")
    header_only = header_only.replace(b'encoding="koi8-r"', b"")  # only the HTTP header says koi8-r
    config = write_config(
        [
            {"name": "sample-cp1251", "url": feed_server.add("/cp1251", body=declared, content_type="application/xml")},
            {
                "name": "sample-koi8",
                "url": feed_server.add("/koi8", body=header_only, content_type="application/xml; charset=koi8-r"),
            },
        ]
    )
    run_cli(config, "poll")
    titles = {r["title"] for r in query("SELECT title FROM items")}
    assert titles == {title, title + " (koi8)"}


def test_malformed_feed_keeps_what_it_can_and_says_so(feed_server, write_config, run_cli, query):
    broken = rss(headlines(3)).replace(b"</channel></rss>", b"<item><title>Sample: cut off")
    config = write_config([{"name": "sample-broken", "url": feed_server.add("/broken", body=broken)}])
    result = run_cli(config, "poll")
    assert line_of(result.output, "sample-broken").startswith("ok") and "ill-formed" in result.output
    titles = {r["title"] for r in query("SELECT title FROM items")}
    assert {e.title for e in headlines(3)} <= titles  # every complete entry before the break is kept
    assert query("SELECT bozo FROM fetches")[0]["bozo"]


def test_html_page_instead_of_feed_is_an_error(feed_server, write_config, run_cli, query):
    page = b"<!doctype html><html><body><h1>Sample site</h1><p>No feed here.</p></body></html>"
    url = feed_server.add("/page", body=page, content_type="text/html")
    config = write_config([{"name": "sample-html", "url": url}])
    result = run_cli(config, "poll")
    assert line_of(result.output, "sample-html").startswith("error")
    assert "not a readable feed" in result.output
    feed = query("SELECT consecutive_failures, last_error FROM feeds")[0]
    assert feed["consecutive_failures"] == 1 and "not a readable feed" in feed["last_error"]


def test_redirects_temporary_keeps_url_permanent_moves_it(feed_server, write_config, run_cli, query):
    feed_server.add("/new-home", body=rss(headlines(2)))
    feed_server.add("/moved", status=301, headers={"Location": "/new-home"})
    feed_server.add("/temporary", status=302, headers={"Location": "/new-home"})
    config = write_config(
        [
            {"name": "sample-moved", "url": feed_server.url("/moved")},
            {"name": "sample-temp", "url": feed_server.url("/temporary")},
        ]
    )
    result = run_cli(config, "poll")
    assert "moved permanently" in result.output
    urls = {r["name"]: (r["url"], r["config_url"]) for r in query("SELECT name, url, config_url FROM feeds")}
    assert urls["sample-moved"] == (feed_server.url("/new-home"), feed_server.url("/moved"))
    assert urls["sample-temp"][0] == feed_server.url("/temporary")
    before = len(feed_server.hits("/moved"))
    run_cli(config, "poll", "--force")
    assert len(feed_server.hits("/moved")) == before  # the moved feed is polled at its new address


def test_redirect_loop_and_non_http_redirect_are_errors(feed_server, write_config, run_cli):
    feed_server.add("/loop-a", status=302, headers={"Location": "/loop-b"})
    feed_server.add("/loop-b", status=302, headers={"Location": "/loop-a"})
    feed_server.add("/to-file", status=302, headers={"Location": "file:///etc/passwd"})
    config = write_config(
        [
            {"name": "sample-loop", "url": feed_server.url("/loop-a")},
            {"name": "sample-file", "url": feed_server.url("/to-file")},
        ]
    )
    result = run_cli(config, "poll")
    assert "redirect loop" in line_of(result.output, "sample-loop")
    assert "non-HTTP" in line_of(result.output, "sample-file")


def test_gone_marks_feed_dead_until_revived(feed_server, write_config, run_cli, query):
    url = feed_server.add("/gone", status=410, body=b"gone")
    config = write_config([{"name": "sample-gone", "url": url}])
    assert line_of(run_cli(config, "poll").output, "sample-gone").startswith("gone")
    assert line_of(run_cli(config, "poll").output, "sample-gone").startswith("skipped")
    assert len(feed_server.hits("/gone")) == 1
    assert "dead" in run_cli(config, "feeds").output
    feed_server.add("/gone", body=rss(headlines(1)))
    run_cli(config, "feeds", "revive", "sample-gone")
    assert "1 new" in line_of(run_cli(config, "poll").output, "sample-gone")
    assert query("SELECT dead FROM feeds")[0]["dead"] == 0


def test_retry_after_is_respected_and_force_overrides(feed_server, write_config, run_cli, query):
    url = feed_server.add("/busy", status=429, headers={"Retry-After": "7200"})
    config = write_config([{"name": "sample-busy", "url": url}], polling={"interval": "1m"})
    run_cli(config, "poll")
    wait = query("SELECT (julianday(retry_not_before) - julianday(last_fetch_at)) * 24 AS hours FROM feeds")[0]
    assert 1.99 < wait["hours"] < 2.01
    assert "waiting until" in line_of(run_cli(config, "poll").output, "sample-busy")
    assert len(feed_server.hits("/busy")) == 1
    run_cli(config, "poll", "--force")
    assert len(feed_server.hits("/busy")) == 2


def test_failures_back_off_exponentially_and_success_resets(feed_server, write_config, run_cli, query):
    url = feed_server.add("/flaky", status=500, body=b"oops")
    config = write_config([{"name": "sample-flaky", "url": url}], polling={"interval": "10m"})
    waits = []
    for _ in range(3):
        assert "HTTP 500" in run_cli(config, "poll", "--force").output
        waits.append(
            query("SELECT (julianday(retry_not_before) - julianday(last_fetch_at)) * 1440 AS m FROM feeds")[0]["m"]
        )
    assert [round(w) for w in waits] == [10, 20, 40]
    feed_server.add("/flaky", body=rss(headlines(1)))
    run_cli(config, "poll", "--force")
    feed = query("SELECT consecutive_failures, retry_not_before, last_error FROM feeds")[0]
    assert feed == {"consecutive_failures": 0, "retry_not_before": None, "last_error": None}


def test_slow_server_times_out_and_other_feeds_are_stored(feed_server, write_config, run_cli, query):
    config = write_config(
        [
            {"name": "sample-slow", "url": feed_server.add("/slow", body=rss(headlines(1)), delay=3)},
            {"name": "sample-trickle", "url": feed_server.add("/trickle", body=rss(headlines(50)), trickle=0.05)},
            {"name": "sample-fine", "url": feed_server.add("/fine", body=rss(headlines(2)))},
        ],
        polling={"read_timeout": "1s", "deadline": "2s"},
    )
    result = run_cli(config, "poll")
    assert "timed out reading" in line_of(result.output, "sample-slow")
    assert "deadline" in line_of(result.output, "sample-trickle")
    assert "2 new" in line_of(result.output, "sample-fine")
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 2


def test_body_over_the_cap_is_cut_and_reported(feed_server, write_config, run_cli, query):
    entries = headlines(400)
    body = rss(entries)
    config = write_config(
        [
            {"name": "sample-big", "url": feed_server.add("/big", body=body)},
            {"name": "sample-huge", "url": feed_server.add("/huge", stream_bytes=200_000_000)},
            {"name": "sample-gzip", "url": feed_server.add("/gz", body=body, gzip=True)},
        ],
        polling={"max_bytes": "40kB"},
    )
    result = run_cli(config, "poll")
    big = line_of(result.output, "sample-big")
    assert big.startswith("partial") and "max_bytes" in big
    stored = query("SELECT count(*) AS n FROM items")[0]["n"]
    assert 0 < stored < 400  # what came before the cut is kept
    huge = line_of(result.output, "sample-huge")
    assert huge.startswith("error") and "not a readable feed" in huge  # 40 kB of filler: not a feed...
    assert "max_bytes" in huge  # ...and the operator is told it was cut, which may be why
    assert "partial" in line_of(result.output, "sample-gzip")  # the cap counts decompressed bytes
    assert query("SELECT max(bytes) AS b FROM fetches")[0]["b"] < 40_000 + 70_000


def test_one_broken_feed_does_not_disturb_the_others(feed_server, write_config, run_cli, query):
    config = write_config(
        [
            {"name": "sample-ok", "url": feed_server.add("/ok", body=rss(headlines(3)))},
            {"name": "sample-500", "url": feed_server.add("/500", status=500)},
            {"name": "sample-404", "url": feed_server.url("/missing")},
            {"name": "sample-refused", "url": "http://127.0.0.1:9/feed"},
            {"name": "sample-garbage", "url": feed_server.add("/bin", body=bytes(range(256)) * 10)},
        ]
    )
    result = run_cli(config, "poll")
    assert "3 new" in line_of(result.output, "sample-ok")
    for name in ("sample-500", "sample-404", "sample-refused", "sample-garbage"):
        assert line_of(result.output, name).startswith("error"), name
    assert query("SELECT count(*) AS n FROM fetches")[0]["n"] == 5
    assert "1 ok" in result.output and "4 error" in result.output


def test_poll_one_feed_by_name_and_unknown_name(feed_server, write_config, run_cli):
    config = write_config(
        [
            {"name": "sample-a", "url": feed_server.add("/a", body=rss(headlines(1)))},
            {"name": "sample-b", "url": feed_server.add("/b", body=rss(headlines(1, start=5)))},
        ]
    )
    result = run_cli(config, "poll", "--feed", "sample-b")
    assert "sample-b" in result.output and "sample-a" not in result.output
    assert not feed_server.hits("/a")
    bad = run_cli(config, "poll", "--feed", "nope", expect=2)
    assert "no feed named 'nope'" in bad.output and "Traceback" not in bad.output


def test_user_agent_and_gzip_are_sent(feed_server, write_config, run_cli):
    url = feed_server.add("/ua", body=rss(headlines(1)))
    run_cli(
        write_config([{"name": "sample-ua", "url": url}], polling={"user_agent": "monitor-test/1 (ops@example.org)"}),
        "poll",
    )
    headers = feed_server.hits("/ua")[0].headers
    assert headers["user-agent"] == "monitor-test/1 (ops@example.org)"
    assert "gzip" in headers["accept-encoding"]


def test_concurrency_is_bounded_per_host_and_overall(feed_server, write_config, run_cli):
    feeds = []
    for n in range(6):
        for host in ("127.0.0.1", "localhost"):
            path = f"/{host}/{n}"
            feed_server.add(path, body=rss(headlines(1, start=n, site=f"https://{host}.example.org")), delay=0.3)
            feeds.append({"name": f"sample-{host}-{n}", "url": feed_server.url(path).replace("127.0.0.1", host)})
    config = write_config(feeds, polling={"concurrency": 3, "per_host": 2})
    result = run_cli(config, "poll")
    assert "12 ok" in result.output
    most = feed_server.most_in_flight
    assert most["*"] == 3  # concurrency reached, never passed
    assert most["127.0.0.1"] <= 2 and most["localhost"] <= 2 and 2 in (most["127.0.0.1"], most["localhost"])
