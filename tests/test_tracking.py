"""Issue 13: tracking parameters that outlets put on feed links are not part of a story's identity, so two
sightings that differ only by them are one item (a real local feed server, the CLI, the SQLite file)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from monitor.identity import canonical_url

from .samples import Entry, rss

SITE = "https://sample-wire.example.org"


@pytest.mark.parametrize(
    "tracking",
    [
        "traffic_source=rss",
        "ref=rss",
        "ref=twitter.com",
        "cmpid=rss",
        "ito=792",
        "ns_campaign=bbc_rss",
        "ns_mchannel=rss",
        "at_medium=RSS",
        "at_campaign=64",
        "CMP=share_btn_tw",
        "mc_cid=1a2b",
        "mc_eid=3c4d",
        "igshid=x",
        "fbclid=IwAR0",
        "gclid=Cj0K",
        "ncid=rss",
        "icid=home",
        "WT.mc_id=rss",
    ],
)
def test_tracking_parameters_are_not_part_of_a_link(tracking):
    assert canonical_url(f"https://example.org/story?id=42&{tracking}") == "https://example.org/story?id=42"


def test_a_numeric_ref_may_be_the_page_itself_and_is_kept():
    assert canonical_url("https://example.org/item?ref=12345") == "https://example.org/item?ref=12345"


def test_two_sightings_differing_only_by_tracking_parameters_are_one_item(feed_server, write_config, run_cli, query):
    when = datetime(2023, 9, 26, 10, tzinfo=UTC)
    story = f"{SITE}/2023/09/convoy"
    one = Entry(title="Sample: a convoy leaves Stepanakert", link=f"{story}?traffic_source=rss", published=when)
    two = Entry(
        title="Sample: a convoy leaves Stepanakert", link=f"{story}?ref=rss&ns_campaign=feed&CMP=share", published=when
    )
    other = [
        Entry(title=f"Sample: catalogue entry {n}", link=f"{SITE}/catalogue?ref={n}", published=when)
        for n in (101, 102)
    ]
    config = write_config(
        [
            {"name": "sample-wire", "url": feed_server.add("/a", body=rss([one, *other]))},
            {"name": "sample-dispatch", "url": feed_server.add("/b", body=rss([two]))},
        ]
    )
    run_cli(config, "poll")
    rows = query(
        "SELECT i.link, count(s.feed_id) AS feeds FROM items i JOIN item_sources s ON s.item_id = i.id "
        "GROUP BY i.id ORDER BY i.link"
    )
    assert rows == [
        {"link": f"{SITE}/2023/09/convoy", "feeds": 2},
        {"link": f"{SITE}/catalogue?ref=101", "feeds": 1},
        {"link": f"{SITE}/catalogue?ref=102", "feeds": 1},
    ]
