"""Near-duplicate stories: items of several outlets that report the same thing. Pure.

Two items are one story when their titles are nearly the same words (rapidfuzz `token_sort_ratio`,
insensitive to word order) or one title's words are almost all in the other's (`token_set_ratio`, for a
wire headline and an outlet's longer version of it), and they were published within a few days.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta

from rapidfuzz import fuzz

from .types import ThemedItem

SAME_WORDS = 78  # token_sort_ratio
CONTAINED = 92  # token_set_ratio, for titles of at least MIN_WORDS words
MIN_WORDS = 5
WINDOW = timedelta(days=3)
# " - BBC News", " | Reuters": the outlet's name in the title says nothing about the story
_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")


def _key(title: str) -> str:
    return _SUFFIX.sub("", title).casefold()


def _same_story(a: str, b: str, words_a: int, words_b: int) -> bool:
    if fuzz.token_sort_ratio(a, b, processor=None) >= SAME_WORDS:
        return True
    return min(words_a, words_b) >= MIN_WORDS and fuzz.token_set_ratio(a, b, processor=None) >= CONTAINED


def cluster(items: Sequence[ThemedItem]) -> list[list[ThemedItem]]:
    """Group the items (of one theme) into stories; each story's items in order of publication.

    Every pair published within WINDOW is compared: quadratic in the items of a few days, which stays small
    for one theme (a thousand a week costs well under a second); keys are made once per item."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    keys = [_key(item.title) for item in items]
    words = [len(key.split()) for key in keys]
    order = sorted(range(len(items)), key=lambda i: items[i].published)
    for position, i in enumerate(order):
        for j in order[position + 1:]:
            if items[j].published - items[i].published > WINDOW:
                break
            if root(i) != root(j) and _same_story(keys[i], keys[j], words[i], words[j]):
                parent[root(j)] = root(i)
    groups: dict[int, list[ThemedItem]] = {}
    for i in order:
        groups.setdefault(root(i), []).append(items[i])
    return list(groups.values())
