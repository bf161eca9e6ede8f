"""Canonical links and item identity (`monitor.identity`): a story is stored once however it arrives."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from monitor.identity import canonical_url, content_hash, item_key

from .feedserver import FeedServer
from .samples import Entry, rss

# --- canonical_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Example.ORG/News/Item", "https://example.org/News/Item"),  # path case is kept
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("http://example.org:443/a", "http://example.org:443/a"),  # 443 is not http's default
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("https://example.org/a#section-2", "https://example.org/a"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org./a", "https://example.org/a"),  # the root dot of a host name
        ("  https://example.org/a  ", "https://example.org/a"),
        ("https://user:secret@example.org/a", "https://example.org/a"),  # credentials never stored
        ("http://[2001:db8::1]:8080/a", "http://[2001:db8::1]:8080/a"),
        ("http://[2001:db8::1]:80/a", "http://[2001:db8::1]/a"),
    ],
)
def test_canonical_url_normalises_scheme_host_port_and_fragment(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "tracking",
    [
        "utm_source=rss",
        "utm_medium=feed",
        "UTM_Campaign=x",
        "fbclid=IwAR0abc",
        "gclid=Cj0K",
        "dclid=1",
        "msclkid=2",
        "yclid=3",
        "igshid=4",
        "mc_cid=5",
        "mc_eid=6",
        "_ga=2.1",
        "at_medium=rss",
        "xtor=RSS-1",
        "ocid=rss",
        "cmpid=rss",
        "ref_src=twsrc",
        "smid=tw-share",
        "hsa_cam=1",
        "pk_campaign=a",
        "ns_mchannel=x",
    ],
)
def test_canonical_url_drops_tracking_parameters(tracking: str) -> None:
    assert canonical_url(f"https://example.org/story?{tracking}") == "https://example.org/story"
    assert canonical_url(f"https://example.org/story?id=42&{tracking}") == "https://example.org/story?id=42"


def test_canonical_url_keeps_real_parameters_in_their_order() -> None:
    url = "https://example.org/search?q=karabakh&utm_source=rss&page=2&fbclid=x&lang=en"
    assert canonical_url(url) == "https://example.org/search?q=karabakh&page=2&lang=en"


def test_canonical_url_keeps_repeated_and_blank_parameters() -> None:
    assert canonical_url("https://example.org/?tag=a&tag=b&draft=") == "https://example.org/?tag=a&tag=b&draft="


def test_canonical_url_keeps_encoded_values_meaningful() -> None:
    url = "https://example.org/s?q=%D0%9A%D0%B0%D1%80%D0%B0%D0%B1%D0%B0%D1%85&x=a%26b"
    assert canonical_url(url) == url


def test_canonical_url_does_not_drop_parameters_that_only_contain_a_tracking_word() -> None:
    url = "https://example.org/a?my_utm_source=1&gclid_info=2&cmp_id=3"
    assert canonical_url(url) == url


@pytest.mark.parametrize(
    "url",
    ["https://example.org/index.php?/archives/123-sample.html", "https://example.org/news?12345"],
)
def test_canonical_url_keeps_a_query_without_equals_sign(url: str) -> None:
    assert canonical_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "javascript:alert(1)",
        "JavaScript:void(0)",
        "tag:example.org,2023:item-1",
        "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        "mailto:desk@example.org",
        "ftp://example.org/f",
        "data:text/html,hi",
        "example.org/no-scheme",
        "/relative/path",
        "//example.org/a",
        "https://",
        "http://example.org:notaport/",
        "http://example.org:99999/",
    ],
)
def test_canonical_url_is_none_for_what_is_not_an_http_url(url: str | None) -> None:
    assert canonical_url(url) is None


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("HTTP://Example.org:80/a/b?x=1&utm_source=y#top")
    assert once == "http://example.org/a/b?x=1"
    assert canonical_url(once) == once


# --- item_key -------------------------------------------------------------------------------------

STORY = "https://example.org/2023/09/sample-wire-lachin-corridor"


def key(
    feed_id: int = 1,
    guid: str | None = None,
    link: str | None = None,
    title: str = "Sample headline",
    feed_date: str | None = None,
) -> str:
    return item_key(feed_id, guid, link, title, feed_date)


def test_url_guid_is_the_same_item_in_every_feed() -> None:
    assert key(1, guid=STORY) == key(2, guid=STORY)
    assert key(1, guid=STORY).startswith("url:")


def test_url_guid_ignores_link_title_and_date() -> None:
    assert key(guid=STORY, link="https://example.org/other", title="A", feed_date="x") == key(guid=STORY)


def test_url_guid_is_canonicalised() -> None:
    noisy = "HTTPS://EXAMPLE.org:443/2023/09/sample-wire-lachin-corridor?utm_source=rss#comments"
    assert key(1, guid=noisy) == key(2, guid=STORY)


def test_http_and_https_copies_are_one_item() -> None:
    assert key(guid=STORY.replace("https:", "http:")) == key(guid=STORY)
    assert key(link=STORY.replace("https:", "http:")) == key(link=STORY)
    assert "https" not in key(guid=STORY) and "http" not in key(guid=STORY)


def test_a_guid_url_and_a_bare_link_to_the_same_page_are_one_item() -> None:
    assert key(1, guid=STORY) == key(2, link=STORY)


@pytest.mark.parametrize("guid", ["42", "tag:example.org,2023:42", "urn:uuid:1225c695", "story-42"])
def test_non_url_guid_is_scoped_to_its_feed(guid: str) -> None:
    assert key(1, guid=guid) != key(2, guid=guid)
    assert key(1, guid=guid) == key(1, guid=guid, link=STORY, title="other")
    assert key(7, guid=guid) == f"guid:7:{guid}"


def test_non_url_guid_is_stripped() -> None:
    assert key(guid="  42\n") == key(guid="42")


def test_non_url_guid_wins_over_link() -> None:
    assert key(1, guid="42", link=STORY) != key(1, link=STORY)


@pytest.mark.parametrize("guid", [None, "", "   "])
def test_without_guid_the_canonical_link_is_the_key_across_feeds(guid: str | None) -> None:
    tracked = STORY + "?utm_source=feed&fbclid=abc#top"
    assert key(1, guid=guid, link=tracked) == key(2, link=STORY)


def test_without_guid_or_link_the_key_is_a_hash_scoped_to_the_feed() -> None:
    title, date = "Sample: convoy reaches Goris", "Sat, 30 Sep 2023 10:00:00 GMT"
    first = key(1, title=title, feed_date=date)
    assert first.startswith("hash:1:")
    assert first == key(1, title=title, feed_date=date)
    assert first != key(2, title=title, feed_date=date)
    assert first != key(1, title=title + " (updated)", feed_date=date)
    assert first != key(1, title=title, feed_date="Sun, 1 Oct 2023 10:00:00 GMT")
    assert first != key(1, title=title, feed_date=None)


def test_a_link_that_is_not_http_falls_back_to_the_hash() -> None:
    assert key(1, link="javascript:void(0)", title="t").startswith("hash:1:")


def test_hash_fields_cannot_be_shifted_into_each_other() -> None:
    assert key(title="ab", feed_date="c") != key(title="a", feed_date="bc")


# --- content_hash ---------------------------------------------------------------------------------


def test_content_hash_is_stable_and_short() -> None:
    value = content_hash("Sample headline", STORY, "Sample summary")
    assert value == content_hash("Sample headline", STORY, "Sample summary")
    assert len(value) == 32 and all(c in "0123456789abcdef" for c in value)


@pytest.mark.parametrize(
    "changed",
    [
        ("Sample headline (updated)", STORY, "Sample summary"),
        ("Sample headline", STORY + "-2", "Sample summary"),
        ("Sample headline", STORY, "Sample summary, with a correction"),
        ("Sample summary", STORY, "Sample headline"),  # order matters
        ("Sample headlineSample summary", STORY, ""),
    ],
)
def test_content_hash_changes_with_content(changed: tuple[str, str, str]) -> None:
    assert content_hash(*changed) != content_hash("Sample headline", STORY, "Sample summary")


def test_content_hash_treats_none_as_empty() -> None:
    assert content_hash("t", None, "s") == content_hash("t", "", "s")
    assert content_hash("ab", "c") != content_hash("a", "bc")


# --- feeds are their addresses: renames that reuse a name ------------------------------------------------


def stories(outlet: str) -> list[Entry]:
    """12 stories of one outlet, none with a URL guid: numbered guids 1-4 as many CMSs give (the same numbers
    at every outlet), 4 with a link and no guid, 4 with neither guid nor link."""
    numbered = [
        Entry(f"Sample: {outlet} story {n}", f"https://{outlet}.example.org/s/{n}", guid=str(n)) for n in range(1, 5)
    ]
    linked = [Entry(f"Sample: {outlet} story {n}", f"https://{outlet}.example.org/s/{n}") for n in range(5, 9)]
    bare = [Entry(f"Sample: {outlet} story {n}", "") for n in range(9, 13)]
    return numbered + linked + bare


def sightings_by_feed(query: Callable[..., list[dict[str, Any]]]) -> dict[str, tuple[str, set[str], int]]:
    """Each feed's name -> (the path of its address, the outlets of the items it carried, how many)."""
    rows = query(
        "SELECT f.name, f.url, i.title FROM item_sources s "
        "JOIN feeds f ON f.id = s.feed_id JOIN items i ON i.id = s.item_id"
    )
    feeds: dict[str, tuple[str, set[str], int]] = {}
    for row in rows:
        path, outlets, n = feeds.get(row["name"], ("/" + row["url"].rsplit("/", 1)[1], set(), 0))
        feeds[row["name"]] = (path, outlets | {row["title"].split()[1]}, n + 1)
    return feeds


@pytest.fixture
def two_outlets(feed_server: FeedServer) -> dict[str, str]:
    return {
        "fwire": feed_server.add("/f.xml", body=rss(stories("fwire"))),
        "gpost": feed_server.add("/g.xml", body=rss(stories("gpost"))),
    }


def search_feeds(run_cli: Callable[..., Any], config: Any, word: str) -> set[str]:
    """The first feed shown beside each item `monitor search WORD --json` (JSON lines) finds."""
    output = run_cli(config, "search", word, "--limit", "50", "--json").output
    return {json.loads(line)["feed"] for line in output.splitlines()}


def test_a_rename_that_reuses_a_name_keeps_each_address_history(two_outlets, write_config, run_cli, query):
    config = write_config([{"name": "a", "url": two_outlets["fwire"]}])
    run_cli(config, "poll")
    before = query("SELECT id, key, title FROM items ORDER BY id")
    assert len(before) == 12
    # f.xml is now called b, and the name a is given to another outlet at g.xml
    config = write_config([{"name": "b", "url": two_outlets["fwire"]}, {"name": "a", "url": two_outlets["gpost"]}])
    run_cli(config, "poll")
    run_cli(config, "poll", "--force")
    assert query("SELECT count(*) AS n FROM items")[0]["n"] == 24
    assert query("SELECT id, key, title FROM items WHERE title LIKE '%fwire%' ORDER BY id") == before
    assert sightings_by_feed(query) == {"b": ("/f.xml", {"fwire"}, 12), "a": ("/g.xml", {"gpost"}, 12)}
    assert search_feeds(run_cli, config, "fwire") == {"b"} and search_feeds(run_cli, config, "gpost") == {"a"}
    feeds = run_cli(config, "feeds").output
    assert "b" in feeds and "a" in feeds


def test_two_feeds_swapping_names_are_two_renames(two_outlets, write_config, run_cli, query):
    config = write_config([{"name": "a", "url": two_outlets["fwire"]}, {"name": "b", "url": two_outlets["gpost"]}])
    run_cli(config, "poll")
    before = query("SELECT id, key, title FROM items ORDER BY id")
    assert len(before) == 24
    config = write_config([{"name": "a", "url": two_outlets["gpost"]}, {"name": "b", "url": two_outlets["fwire"]}])
    run_cli(config, "poll")
    run_cli(config, "poll", "--force")
    assert query("SELECT id, key, title FROM items ORDER BY id") == before
    assert sightings_by_feed(query) == {"b": ("/f.xml", {"fwire"}, 12), "a": ("/g.xml", {"gpost"}, 12)}
    assert search_feeds(run_cli, config, "fwire") == {"b"} and search_feeds(run_cli, config, "gpost") == {"a"}
