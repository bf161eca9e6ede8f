"""Events: the same happening, reported by several outlets in their own words. Pure.

An item is reduced to its salient words: those of its title and of its summary's first SUMMARY_WORDS
words, folded (`terms.fold`) and stemmed (`stemming.stem`), without function words and bare numbers.
A word weighs by its rarity among the items grouped (inverse document frequency, smoothed by PRIOR
documents that lack it, so a handful of items do not make every word rare), and a title word counts
TITLE_WEIGHT times: a headline names the happening, a summary also tells its background. Two items report
one event when they were published within WINDOW of each other and their salient words overlap:

- they share at least MIN_SHARED salient words, and the mean of two scores is at least SIMILAR: how much
  of each headline's weight the other report says anywhere (a headline's words are often in the other
  outlet's lede; the geometric mean of the two shares), and the cosine of all their weighted words. The
  headlines must say the same thing, and the summaries confirm it; or
- their titles are the same words (an outlet's copy of a wire headline), whatever their summaries.

SIMILAR was chosen on the real items of ../shared/eval (docs/digests.md, "Events"): 0.38 merged different
happenings of the same days told in the same words, 0.42 split one explosion's reports.

Near-linear: each item is indexed under its title's KEYS rarest shared words (an inverted index), and the
candidates are the pairs within WINDOW whose titles share MIN_KEYS of them, never all pairs; a union-find
joins the candidates that pass. Common words still count in the overlap of a pair found through rarer
ones; only finding pairs rests on the rare words.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from ..text.stemming import stem
from ..text.terms import fold
from ..types import ThemedItem

WINDOW = timedelta(days=3)
SUMMARY_WORDS = 60  # a lede tells the happening; the rest of a long summary is background
TITLE_WEIGHT = 2.0
PRIOR = 30  # documents added to every word's count of non-holders: idf = log((N + PRIOR) / df)
SIMILAR = 0.40
MIN_SHARED = 3
KEYS = 8
MIN_KEYS = 2
MAX_POSTINGS = 500
_WORD = re.compile(r"\w+")
# " - BBC News", " | Reuters": the outlet's name in the title says nothing about the happening
_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")
# Function words of the feeds' languages (English, Russian): in every item, they would make any two alike.
_FUNCTION = frozenset(
    """
a an the and or but nor of to in on at by for from with without into onto over under about after before
as than then that this these those there here is are was were be been being has have had do does did will
would shall should can could may might must it its they them their he she his her him we our you your i
not no so if what which who whom whose when where why how all any some more most other such only own same
too very just also still says said say new after amid over up out off again against between during while
и в во на с со к ко по о об от до из за для при без под над не ни но а же ли что как так это этот эта эти
его ее её их он она они мы вы я у то бы был была были было будет быть который которая которые также уже
""".split()
)


@dataclass(frozen=True, slots=True)
class _Words:
    title: frozenset[str]
    all: frozenset[str]


@dataclass(slots=True)
class _Weighed:
    """An item's salient words, each with its weight, and the norms of its title's and of all its words."""

    words: _Words
    weight: dict[str, float]
    title_norm: float
    norm: float


def salient(text: str, limit: int | None = None) -> list[str]:
    """The text's words that can tell one happening from another, folded and stemmed."""
    words = _WORD.findall(text)
    if limit is not None:
        words = words[:limit]
    return [key for key in map(_key, words) if key]


@lru_cache(maxsize=200_000)
def _key(word: str) -> str:
    """A word's folded stem; "" for a function word or a number."""
    folded = fold(word)
    if len(folded) < 2 or folded.isdigit() or folded in _FUNCTION:
        return ""
    return stem(folded)


def _words(item: ThemedItem) -> _Words:
    title = frozenset(salient(_SUFFIX.sub("", item.title)))
    return _Words(title, title | frozenset(salient(item.summary, SUMMARY_WORDS)))


def events(items: Sequence[ThemedItem]) -> list[list[ThemedItem]]:
    """Group the items (of one theme) into events; each event's items in order of publication."""
    order = sorted(range(len(items)), key=lambda n: (items[n].published, items[n].item_id))
    items = [items[n] for n in order]
    words = [_words(item) for item in items]
    df = Counter(w for entry in words for w in entry.all)
    total = len(items) + PRIOR
    idf = {w: math.log(total / n) for w, n in df.items()}
    weighed = [_weigh(entry, idf) for entry in words]
    square = {w: v * v for w, v in idf.items()}
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in _candidates(items, weighed, df):
        if root(i) != root(j) and _same_event(weighed[i], weighed[j], square):
            parent[root(j)] = root(i)
    groups: dict[int, list[ThemedItem]] = {}
    for i, item in enumerate(items):
        groups.setdefault(root(i), []).append(item)
    return list(groups.values())


def _candidates(items: Sequence[ThemedItem], weighed: list[_Weighed], df: Counter[str]) -> Iterator[tuple[int, int]]:
    """Pairs (i < j, items in order of publication) within WINDOW whose titles share MIN_KEYS of their KEYS
    rarest words: two reports of one event must say it in their headlines (see `_same_event`), and their
    rarest headline words are what they share; a common word is rarely among an item's rarest, so it costs
    nothing. Counted item by item, so memory holds one item's candidates, not every pair's."""
    # A word no other item has finds nothing: keys are shared words.
    keys = [sorted((w for w in entry.words.title if df[w] > 1), key=lambda w: (df[w], w))[:KEYS] for entry in weighed]
    times = [item.published for item in items]
    postings, posted = _index(keys, times)
    for i, words in enumerate(keys):
        shared: Counter[int] = Counter()
        limit = times[i] + WINDOW
        for w in words:
            members = postings.get(w)
            if members:
                shared.update(members[bisect_right(members, i) : bisect_right(posted[w], limit)])
        yield from ((i, j) for j, count in shared.items() if count >= MIN_KEYS)


def _index(keys: list[list[str]], times: list[datetime]) -> tuple[dict[str, list[int]], dict[str, list[datetime]]]:
    """Each item under its keys, and each posting's publication times (both in order of publication)."""
    postings: dict[str, list[int]] = defaultdict(list)
    for i, words in enumerate(keys):
        for w in words:
            postings[w].append(i)
    # A word among the rarest of that many items says nothing of one event.
    kept = {w: members for w, members in postings.items() if len(members) <= MAX_POSTINGS}
    return kept, {w: [times[j] for j in members] for w, members in kept.items()}


def _weigh(entry: _Words, idf: dict[str, float]) -> _Weighed:
    weight = {w: idf[w] * (TITLE_WEIGHT if w in entry.title else 1.0) for w in entry.all}
    return _Weighed(
        entry,
        weight,
        math.sqrt(sum(idf[w] ** 2 for w in entry.title)) or 1.0,
        math.sqrt(sum(v * v for v in weight.values())) or 1.0,
    )


def similarity(a: _Weighed, b: _Weighed, square: dict[str, float]) -> tuple[float, float]:
    """How much of each headline the other report says (anywhere in it: a headline's words are often in the
    other outlet's lede), as the geometric mean of the two shares of headline weight; and the cosine of all
    their salient words. `square`: each word's idf, squared."""
    shared = a.words.all & b.words.all
    a_in_b = sum(square[w] for w in shared & a.words.title) / a.title_norm**2
    b_in_a = sum(square[w] for w in shared & b.words.title) / b.title_norm**2
    every = sum(a.weight[w] * b.weight[w] for w in shared) / (a.norm * b.norm)
    return math.sqrt(a_in_b * b_in_a), every


def _same_event(a: _Weighed, b: _Weighed, square: dict[str, float]) -> bool:
    if a.words.title and a.words.title == b.words.title:
        return True
    if len(a.words.all & b.words.all) < MIN_SHARED:
        return False
    return sum(similarity(a, b, square)) / 2 >= SIMILAR


def representative(group: Sequence[ThemedItem]) -> ThemedItem:
    """The report whose headline best represents the event: the one closest to all the others (the greatest
    sum of cosines to the others' words, weighed by rarity within the group, as one dot product with their
    sum: linear in the reports), not merely the first published. Between equals, the best-matching, then
    the earliest."""
    if len(group) < 3:  # with two reports, neither is closer to the other: the best match leads
        return min(group, key=lambda i: (-i.score, i.published, i.item_id))
    words = [_words(item) for item in group]
    df = Counter(w for entry in words for w in entry.all)
    idf = {w: math.log((len(group) + PRIOR) / n) for w, n in df.items()}
    unit = [{w: v / entry.norm for w, v in entry.weight.items()} for entry in (_weigh(e, idf) for e in words)]
    total: Counter[str] = Counter()
    for vector in unit:
        total.update(vector)
    closeness = [sum(v * (total[w] - v) for w, v in vector.items()) for vector in unit]
    return group[
        max(range(len(group)), key=lambda n: (round(closeness[n], 9), group[n].score, -group[n].published.timestamp()))
    ]
