"""Who says what: a theme's coverage by outlet group. Pure.

Feeds carry tags (`armenia`, `azerbaijan`, `russia`, `international`...). An outlet group is a tag, and its
outlets are the feeds that carry it: `digest.groups` names the tags that make groups, in the order shown;
without it, every feed's first tag makes one. A feed counts in each group it carries a tag of, so groups
may overlap ("russia" and "state-media"); a feed in none counts under "other".

For each theme and group: the theme's items the group's feeds carried this week, the events (stories)
among them, and the share of the group's own output that week, so that a group that publishes ten times
more is not mistaken for one that cares more. An item several feeds carried counts once per group.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..types import ThemedItem

OTHER = "other"  # the group of feeds that carry none of the groups' tags


@dataclass(frozen=True, slots=True)
class GroupCoverage:
    """One outlet group's coverage of one theme in one week. Made by `coverage`, shown by the digest."""

    name: str  # the tag, or "other"
    items: int  # the theme's items of the week (late ones aside) that the group's feeds carried
    events: int  # the stories those items make
    published: int  # every item the group's feeds published that week, on any theme or none
    troubles: tuple[str, ...] = ()  # the group's feeds that failed, as the digest words it
    observed: str = "full"  # full | partial | none: how much of the week its feeds were observed (none: unknown)

    @property
    def share(self) -> str:
        """The theme's part of the group's own output: "40%", "<1%" rather than a misleading "0%"."""
        if not self.published:
            return ""
        percent = 100 * self.items / self.published
        return "<1%" if 0 < percent < 1 else f"{percent:.0f}%"


def group_names(setting: Sequence[str], feed_tags: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The groups in the order shown: those set, else every feed's first tag in the feeds' order."""
    if setting:
        return tuple(dict.fromkeys(setting))
    return tuple(dict.fromkeys(tags[0] for tags in feed_tags.values() if tags))


def memberships(names: Sequence[str], feed_tags: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Each feed's groups: the tags of it that are groups, or "other"."""
    chosen = set(names)
    return {feed: tuple(t for t in dict.fromkeys(tags) if t in chosen) or (OTHER,) for feed, tags in feed_tags.items()}


def groups_of(feeds: Iterable[str], member: Mapping[str, tuple[str, ...]]) -> set[str]:
    return {group for feed in feeds for group in member.get(feed, (OTHER,))}


def output(carried: Iterable[tuple[tuple[str, ...], int]], member: Mapping[str, tuple[str, ...]]) -> Counter[str]:
    """Items published per group, from the week's item counts by the set of feeds that carried them."""
    published: Counter[str] = Counter()
    for feeds, count in carried:
        for group in groups_of(feeds, member):
            published[group] += count
    return published


def coverage(
    stories: Iterable[Sequence[ThemedItem]],
    names: Sequence[str],
    member: Mapping[str, tuple[str, ...]],
    published: Mapping[str, int],
    troubles: Mapping[str, tuple[str, ...]],
    observed: Mapping[str, str] | None = None,
) -> tuple[GroupCoverage, ...]:
    """The theme's coverage by each group, given its stories (each a list of items), in the groups' order;
    "other" last, when its feeds published anything. `observed`: how much of the week each group was observed
    (full | partial | none; a group not in it: full)."""
    items: defaultdict[str, set[int]] = defaultdict(set)
    events: Counter[str] = Counter()
    for story in stories:
        reported = set()
        for item in story:
            if item.late:  # a late item belongs to an earlier week's figures
                continue
            for group in groups_of((o for o in item.outlets if o), member):
                items[group].add(item.item_id)
                reported.add(group)
        events.update(reported)
    shown = tuple(names) + ((OTHER,) if OTHER not in names and (published.get(OTHER) or items.get(OTHER)) else ())
    return tuple(
        GroupCoverage(
            name=g,
            items=len(items[g]),
            events=events[g],
            published=published.get(g, 0),
            troubles=troubles.get(g, ()),
            observed=(observed or {}).get(g, "full"),
        )
        for g in shown
    )


def group_troubles(
    notes: Iterable[tuple[str, str]], member: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """(feed, what went wrong) -> the notes of each group, beside whose figures they are shown."""
    out: defaultdict[str, list[str]] = defaultdict(list)
    for feed, note in notes:
        for group in member.get(feed, (OTHER,)):
            out[group].append(f"{feed} {note}")
    return {group: tuple(lines) for group, lines in out.items()}
