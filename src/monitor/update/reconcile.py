"""PURE: what one feed's parsed items change in what is stored, decided before anything is written.

Given a feed's items and what is stored of them (each item's id, content hash and first sighting; this
feed's sighting of it: the hash of its last copy and when it last carried it), `reconcile` returns a `Plan`
that the store applies in one transaction. Times are ISO strings as stored (`units.iso`), compared as text
the way SQLite compares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..types import Item


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item already stored, as reconciling needs it."""

    item_id: int
    content_hash: str
    first_seen: str


@dataclass(frozen=True, slots=True)
class Sighting:
    """This feed's sighting of a stored item: the hash of its last copy and when it last carried it."""

    content_hash: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class Stored:
    """What is stored for one feed's items: items by key, this feed's sightings by item id."""

    items: Mapping[str, StoredItem] = field(default_factory=dict)
    sightings: Mapping[int, Sighting] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    """What to write. `new` and `updates` are the items to match; the rest only moves sightings and dates.

    - `new`: items never stored (inserted, with a sighting by this feed, at `stamp`)
    - `updates`: (item id, item) this feed edited since it last carried it: the stored text is replaced
    - `new_sightings`: (item id, item) stored items this feed carries for the first time
    - `sighting_updates`: (item id, content hash) this feed's sighting carried forward to `stamp`
    - `earlier_sightings`: item ids whose sighting by this feed begins earlier, at `stamp`
    - `earlier_first_seen`: item ids first seen earlier than stored, at `stamp` (an older capture)
    - `seen`: item ids already stored and unchanged (counted as seen)
    """

    stamp: str
    new: list[Item] = field(default_factory=list)
    updates: list[tuple[int, Item]] = field(default_factory=list)
    new_sightings: list[tuple[int, Item]] = field(default_factory=list)
    sighting_updates: list[tuple[int, str]] = field(default_factory=list)
    earlier_sightings: list[int] = field(default_factory=list)
    earlier_first_seen: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)


def reconcile(items: Iterable[Item], stored: Stored, stamp: str) -> Plan:
    """The plan for one feed's items seen at `stamp` (ISO), given what is stored of them."""
    plan = Plan(stamp=stamp)
    for item in items:
        known = stored.items.get(item.key)
        if known is None:
            plan.new.append(item)
            continue
        if stamp < known.first_seen:  # an older capture (import, backfill): the item was first seen then
            plan.earlier_first_seen.append(known.item_id)
        sighting = stored.sightings.get(known.item_id)
        if sighting is None:  # another feed carries an item we have: one more sighting
            plan.new_sightings.append((known.item_id, item))
            plan.seen.append(known.item_id)
        elif stamp < sighting.last_seen:
            # A copy older than the one this feed last carried is history, not an edit: it never
            # overwrites the newer text, nor moves the sighting back in time; it can only begin it earlier.
            plan.earlier_sightings.append(known.item_id)
            plan.seen.append(known.item_id)
        elif sighting.content_hash != item.content_hash and known.content_hash != item.content_hash:
            # This feed edited its copy since it last carried it: the item was updated. Comparing with
            # this feed's own previous copy keeps two feeds with different copies from flapping.
            plan.updates.append((known.item_id, item))
            plan.sighting_updates.append((known.item_id, item.content_hash))
        else:
            plan.sighting_updates.append((known.item_id, item.content_hash))
            plan.seen.append(known.item_id)
    return plan
