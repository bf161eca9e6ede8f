"""`reconcile` on typed records, no database: what a feed's items change in what is stored."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor.types import Item, Plan, Sighting, Stored, StoredItem
from monitor.update.reconcile import reconcile

MONDAY = "2026-03-02T09:00:00+00:00"
TUESDAY = "2026-03-03T09:00:00+00:00"
WEDNESDAY = "2026-03-04T09:00:00+00:00"


def item(key: str, content_hash: str) -> Item:
    return Item(
        key=key,
        title=f"title {key}",
        link=f"https://example.org/{key}",
        summary_html="",
        summary_text="",
        published=datetime(2026, 3, 1, tzinfo=UTC),
        date_source="published",
        content_hash=content_hash,
    )


def stored(first_seen: str = MONDAY, content_hash: str = "h1", sighting: Sighting | None = None) -> Stored:
    return Stored({"a": StoredItem(7, content_hash, first_seen)}, {7: sighting} if sighting else {})


def test_an_item_never_stored_is_new():
    new = item("a", "h1")
    assert reconcile([new], Stored(), TUESDAY) == Plan(stamp=TUESDAY, new=[new])


def test_an_item_this_feed_edited_is_an_update():
    edited = item("a", "h2")
    plan = reconcile([edited], stored(sighting=Sighting("h1", MONDAY)), TUESDAY)
    assert plan == Plan(stamp=TUESDAY, updates=[(7, edited)], sighting_updates=[(7, "h2")])


def test_an_unchanged_item_is_seen_and_its_sighting_carried_forward():
    plan = reconcile([item("a", "h1")], stored(sighting=Sighting("h1", MONDAY)), TUESDAY)
    assert plan == Plan(stamp=TUESDAY, sighting_updates=[(7, "h1")], seen=[7])


def test_an_item_another_feed_brought_is_one_more_sighting_not_an_update():
    carried = item("a", "h2")  # even with another copy of the text
    plan = reconcile([carried], stored(sighting=None), TUESDAY)
    assert plan == Plan(stamp=TUESDAY, new_sightings=[(7, carried)], seen=[7])


def test_two_feeds_with_different_copies_do_not_flap():
    # The item holds feed A's text (h1); this feed, B, carries its own copy (h2) as it did last time.
    plan = reconcile([item("a", "h2")], stored(content_hash="h1", sighting=Sighting("h2", MONDAY)), TUESDAY)
    assert plan.updates == [] and plan.seen == [7]
    # And when the stored text is B's copy but B last carried A's text, nothing moves either.
    plan = reconcile([item("a", "h1")], stored(content_hash="h1", sighting=Sighting("h2", MONDAY)), TUESDAY)
    assert plan.updates == [] and plan.seen == [7]


def test_an_older_capture_is_history_not_an_edit():
    older = item("a", "h0")  # a backfilled copy from before this feed's last sighting
    plan = reconcile([older], stored(first_seen=TUESDAY, sighting=Sighting("h1", WEDNESDAY)), MONDAY)
    assert plan == Plan(stamp=MONDAY, earlier_sightings=[7], earlier_first_seen=[7], seen=[7])


def test_an_older_capture_from_a_new_feed_moves_the_first_sighting_back():
    older = item("a", "h1")
    plan = reconcile([older], stored(first_seen=TUESDAY, sighting=None), MONDAY)
    assert plan == Plan(stamp=MONDAY, new_sightings=[(7, older)], earlier_first_seen=[7], seen=[7])
