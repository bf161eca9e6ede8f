"""PURE: what one feed's parsed items change in what is stored, decided before anything is written.

Given a feed's items and what is stored of them (each item's id, content hash and first sighting; this
feed's sighting of it: the hash of its last copy and when it last carried it), `reconcile` returns a `Plan`
that the store applies in one transaction. `decider` is what storage calls inside that transaction, with what
it read there: the plan and the matches of its new and updated items. Times are ISO strings as stored
(`units.iso`), compared as text the way SQLite compares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..types import Decide, Decision, Item, Matching, Plan, Stored


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


def decider(items: Sequence[Item], stamp: str, matcher: Matching | None) -> Decide:
    """What storage calls inside its write transaction with what it read of `items`: the plan, and the matches
    of the new and updated items (none without a matcher: they are left for `rematch`). Matched before they are
    written, so a new item is inserted once, with its matcher version."""

    def decide(stored: Stored) -> Decision:
        plan = reconcile(items, stored, stamp)
        if matcher is None:
            return Decision(plan)
        fresh = plan.new + [item for _, item in plan.updates]
        return Decision(plan, {i.key: matcher.match(i.title, i.summary_text) for i in fresh}, matcher.version)

    return decide
