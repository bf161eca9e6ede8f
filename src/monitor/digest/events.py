"""Events: the same happening, reported by several outlets in their own words. Pure.

The editors' definition (docs/digests.md, "Events"): an event is one specific happening or announcement,
the same who-did-what at one time; other outlets' reports and updates with other figures are the same
event; a milestone of a continuing development on another day is another event; a report belongs to the
happening its headline leads with; live blogs, explainers, opinion and round-ups stand alone.

So a report is read as an editor reads it (`headline.read`): the lead of its headline (its first clause)
weighs LEAD, the rest of the headline REST, the first SUMMARY_WORDS words of its summary SUMMARY. Words are
folded, stemmed and reduced to one key per class of synonyms and demonyms (`lexicon`), acronyms are also
read as the initials of a name ("ICC", "International Criminal Court"), figures are keys ("#50000"), and
each key weighs by its rarity among the items grouped (idf, smoothed by PRIOR documents that lack it).

Two reports' similarity is the cosine of their weighted keys; 0 when neither lead shares with the other
headline a key that is not a name (the same who or where is not yet the same what); times KIND_APART when
both leads name kinds of happening and none is the same ("reopens", "closes"), times OPPOSED when they name
opposite kinds of one thing (`lexicon.opposed`: a truce agreed and in force, skipping and attending, an
offensive launched and halted), times ANSWER when one answers what the other reports ("EU condemns the
offensive"); lowered with the hours between them past a day (by DECAY at WINDOW; beyond it never compared).
Two leads of one kind of happening in the same places (`lexicon.alike`: "large explosion", "depot blast
kills 20"; gunfire and an attack) are at least KIND_SAME alike within a day, fading to nothing at two: the
same what, told in words that share little else. So are two reports of one day's departures (`develops`:
people leaving, arriving, returning). It is a veto (None) when either stands alone by its genre; when both
give figures, none the same, more than MILESTONE apart, unless both are tolls ("100 killed", then "105
killed": an update); and when both tell departures of different days without a figure in common: two
milestones ("thousands flee" on Monday, "over 50,000 have fled" on Wednesday).

Reports join agglomeratively, the most similar pair first, and a report or an event joins another only
when the mean similarity of all their pairs (average linkage) is at least SIMILAR and no pair is vetoed: an
event is close to a report as a whole, never through one member, so counts over three days do not chain
with an arrest and a decree. SIMILAR, SUMMARY, DECAY, KIND_APART, OPPOSED, ANSWER and KIND_SAME were chosen
by cross-validation on the editors' events of ../shared/eval, whole weeks of its items grouped by the
project, and the sample weeks (bench/events_quality.py, docs/digests.md "Events").

Near-linear: each item is indexed under the KEYS rarest keys of its headline that another headline also has
(an inverted index); only pairs within WINDOW sharing MIN_KEYS of them, or one that at most RARE headlines
have, are ranked, never all pairs; the other pairs of two events about to join are compared then.
"""

from __future__ import annotations

import itertools
import math
import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache

from ..text.stemming import stem
from ..text.terms import fold
from ..types import ThemedItem
from . import headline
from .lexicon import akin, alike, answers, canonical, develops, is_actor, kinds, main_kinds, opposed, phrased, resolved

WINDOW = timedelta(days=3)
MILESTONE = timedelta(hours=18)  # figures further apart than this are another day's milestone
SUMMARY_WORDS = 40  # a lede tells the happening; the rest of a long summary is background
LEAD, REST, SUMMARY = 1.0, 0.5, 0.5
KIND_APART = 0.5  # what leads naming different kinds of happening keep of their similarity
OPPOSED = 0.0  # what leads naming opposite kinds of one thing keep ("agreed" and "took effect")
KIND_SAME = 0.2  # the least similarity of two leads naming one kind of happening in the same places
ANSWER = 0.0  # what a reaction keeps of its likeness to what it reacts to ("protests" a sale, the sale)
DECAY = 0.3  # similarity lost by WINDOW, from a day on
PRIOR = 30  # documents added to every word's count of non-holders: idf = log((N + PRIOR) / df)
SIMILAR = 0.175
KEYS = 10
MIN_KEYS = 2
RARE = 20  # a key this few items have finds candidates alone: their pairs are few
MAX_POSTINGS = 300
_WORD = re.compile(r"\w+")
# A capitalised name's words, for its initials ("International Criminal Court" -> "icc").
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+|for\s+|the\s+|and\s+)*[A-Z][a-z]+)+")
_ACRONYM = re.compile(r"\b[A-Z]{2,5}\b")
# Function words of the feeds' languages (English, Russian): in every item, they would make any two alike.
_FUNCTION = frozenset(
    """
a an the and or but nor of to in on at by for from with without into onto over under about after before
as than then that this these those there here is are was were be been being has have had do does did will
would shall should can could may might must it its they them their he she his her him we our you your i
not no so if what which who whom whose when where why how all any some more most other such only own same
too very just also still says said say new after amid over up out off again against between during while
sample
и в во на с со к ко по о об от до из за для при без под над не ни но а же ли что как так это этот эта эти
его ее её их он она они мы вы я у то бы был была были было будет быть который которая которые также уже
""".split()
)


@dataclass(frozen=True, slots=True)
class Report:
    """What grouping reads of an item: its keys with their section's weight (before idf), whether it
    stands alone, its figures, its time, and its headline's words (an outlet's copy of a wire headline)."""

    weights: dict[str, float]
    lead: frozenset[str]
    kinds: frozenset[str]  # the kinds of happening its lead names ("explos", "arrest")
    title: frozenset[str]
    names: frozenset[str]  # its headline's keys that name who or where, not what happened
    places: frozenset[str]  # the actors and places its headline and summary name ("armenia", "karabakh")
    alone: bool
    answer: bool  # its lead tells a reaction to a happening ("protests", "condemns"), not the happening
    moving: bool  # its lead tells people on the move (`lexicon.develops`): refugees arriving, not an envoy
    counts: frozenset[int]
    published: datetime
    day: date  # the day it was published, where its readers are


def read(item: ThemedItem, zone: tzinfo = UTC) -> Report:
    said = headline.read(item.title)
    # A kind said in several words ("took effect", "lay down arms") is read as its one word.
    said = headline.Headline(phrased(said.lead), phrased(said.rest), said.genre, said.counts)
    # A figure is a key too: "50,000" and "50 000" say the same milestone in any language.
    lead = frozenset(itertools.chain(_keys(said.lead), (f"#{n}" for n in headline.counts(said.lead))))
    words = lead.union(_keys(said.rest), (f"#{n}" for n in said.counts))
    weights = dict.fromkeys(_words(phrased(item.summary), SUMMARY_WORDS), SUMMARY)
    weights.update(dict.fromkeys(words, REST))
    weights.update(dict.fromkeys(lead, LEAD))
    kind = resolved(frozenset().union(*map(kinds, lead)))
    names = _names(said.lead, said.rest)
    alone = said.genre is not None
    places = frozenset(filter(is_actor, weights))
    day = item.published.astimezone(zone).date()
    answer, moving = answers(said.lead), develops(kind, lead)
    return Report(weights, lead, kind, words, names, places, alone, answer, moving, said.counts, item.published, day)


def _names(*clauses: str) -> frozenset[str]:
    """The keys of a headline's names: its actors of the lexicon (countries, capitals, leaders), acronyms and
    initials, and its capitalised words but a clause's first (unless the headline is in Title Case, where
    capitals say nothing)."""
    words = [_WORD.findall(clause) for clause in clauses]
    later = [w for clause in words for w in clause[1:] if len(w) > 3]
    title_case = sum(w[0].isupper() for w in later) * 2 > len(later)
    found = {k for clause in clauses for k in _keys(clause) if is_actor(k) or k not in map(_key, _WORD.findall(clause))}
    if not title_case:
        found.update(k for clause in words for w in clause[1:] if w[0].isupper() and (k := _key(w)))
    return frozenset(found)


def _words(text: str, limit: int) -> Iterator[str]:
    return filter(None, map(_key, _WORD.findall(text)[:limit]))


def _keys(text: str) -> Iterator[str]:
    """A headline's keys: its words', its acronyms' and the initials of its names ("icc")."""
    yield from filter(None, map(_key, _WORD.findall(text)))
    yield from (fold(a) for a in _ACRONYM.findall(text))
    yield from ("".join(w[0] for w in name.split() if w[0].isupper()).lower() for name in _NAME.findall(text))


@lru_cache(maxsize=200_000)
def _key(word: str) -> str:
    """A word's class key (its folded stem, or its synonyms' key); "" for a function word or a number."""
    folded = fold(word)
    if len(folded) < 2 or folded.isdigit() or folded in _FUNCTION:
        return ""
    return canonical(stem(folded))


@dataclass(slots=True)
class _Vector:
    weight: dict[str, float]
    norm: float


def events(items: Sequence[ThemedItem], similar: float = SIMILAR, zone: tzinfo = UTC) -> list[list[ThemedItem]]:
    """Group the items into events; each event's items in order of publication, the events in order of
    their first report. `similar`: the least mean similarity of a joined event's pairs (SIMILAR); `zone`: where
    the day of a development's milestone is told (the digest's time zone)."""
    order = sorted(range(len(items)), key=lambda n: (items[n].published, items[n].item_id))
    items = [items[n] for n in order]
    reports = [read(item, zone) for item in items]
    df = Counter(k for r in reports for k in r.weights)
    total = len(items) + PRIOR
    idf = {k: math.log(total / n) for k, n in df.items()}
    vectors = [_vector(r, idf) for r in reports]
    scores: dict[tuple[int, int], float | None] = {}
    for i, j in _candidates(reports):
        scores[i, j] = similarity(reports[i], reports[j], vectors[i], vectors[j])

    def score(i: int, j: int) -> float | None:
        """A pair's similarity: a candidate's, else computed when an event's mean needs it (few pairs: those
        of two events about to join)."""
        pair = (i, j) if i < j else (j, i)
        if pair not in scores:
            scores[pair] = similarity(reports[pair[0]], reports[pair[1]], vectors[pair[0]], vectors[pair[1]])
        return scores[pair]

    ranked = sorted(((s, i, j) for (i, j), s in scores.items() if s is not None and s >= similar), reverse=True)
    members = _agglomerate(len(items), ranked, score, similar)
    return [[items[i] for i in group] for group in members]


def _vector(report: Report, idf: dict[str, float]) -> _Vector:
    weight = {k: w * idf[k] for k, w in report.weights.items()}
    return _Vector(weight, math.sqrt(sum(v * v for v in weight.values())) or 1.0)


def similarity(a: Report, b: Report, u: _Vector, v: _Vector) -> float | None:
    """The cosine of two reports' weighted keys, lowered past a day apart, or at least KIND_SAME when both
    lead with one kind of happening in the same places within a day (fading to none at two days); None when
    they can never be one event (either stands alone; two milestones)."""
    if a.alone or b.alone:
        return None
    apart = abs(b.published - a.published)
    if apart > WINDOW or (apart > MILESTONE and _milestones(a, b)):
        return None
    development = a.moving and b.moving
    # Departures of another day are another milestone, with or without a figure, unless they give the same one.
    if development and a.day != b.day and not a.counts & b.counts:
        return None
    if a.title and a.title == b.title:
        return 1.0
    # The headlines must lead with the same what, not only the same who or where (leaving and arriving are
    # one what, told from either side).
    if not ((a.lead & b.title) | (b.lead & a.title)) - a.names - b.names and not (a.kinds and akin(a.kinds, b.kinds)):
        return 0.0
    if len(u.weight) > len(v.weight):
        u, v = v, u
    dot = sum(w * v.weight[k] for k, w in u.weight.items() if k in v.weight)
    late = max(0.0, (apart - timedelta(days=1)) / (WINDOW - timedelta(days=1)))
    # Two leads that name kinds of happening, none the same ("reopens", "closes"), tell two happenings; so do
    # two naming opposite kinds of one thing ("agree" a ceasefire, the ceasefire "takes effect").
    kind = 1.0
    if a.kinds and b.kinds:
        if opposed(a.kinds, b.kinds):
            kind = OPPOSED
        elif a.answer != b.answer:
            kind = ANSWER
        else:
            kind = 1.0 if akin(a.kinds, b.kinds) else KIND_APART
    cosine = dot / (u.norm * v.norm) * (1.0 - DECAY * late) * kind
    # One kind of happening in the same places, or one day's departures from them ("hundreds of refugees flee",
    # "first influx of refugees arrives"), however worded; fading from one day apart to two, when a happening
    # of that kind in those places is another.
    one_kind = alike(main_kinds(a.kinds), main_kinds(b.kinds))
    fade = min(1.0, max(0.0, 2.0 - apart / timedelta(days=1)))
    if kind == 1.0 and fade and (one_kind or development) and a.places & b.places and a.moving == b.moving:
        return max(cosine, KIND_SAME * fade)
    return cosine


def _milestones(a: Report, b: Report) -> bool:
    """Whether two reports a day apart give figures, none the same, of two milestones ("50,000 have fled",
    then "93,000"); a toll rising ("almost 100 killed", then "105 troops killed") is an update of one
    happening."""
    if not (a.counts and b.counts) or a.counts & b.counts:
        return False
    return not ("dead" in a.kinds and "dead" in b.kinds)


def _agglomerate(
    count: int, ranked: list[tuple[float, int, int]], score: Callable[[int, int], float | None], similar: float
) -> list[list[int]]:
    """Average linkage: the most similar pairs first (`ranked`), two groups join when the mean of all their
    pairs' similarities is at least `similar` and none is vetoed (None)."""
    group = list(range(count))
    members: dict[int, list[int]] = {n: [n] for n in range(count)}
    for _, i, j in ranked:
        a, b = group[i], group[j]
        if a == b or _link(members[a], members[b], score) < similar:
            continue
        keep, gone = (a, b) if len(members[a]) >= len(members[b]) else (b, a)
        for n in members[gone]:
            group[n] = keep
        members[keep].extend(members.pop(gone))
    return [sorted(m) for m in sorted(members.values(), key=min)]


def _link(a: list[int], b: list[int], score: Callable[[int, int], float | None]) -> float:
    total = 0.0
    for i in a:
        for j in b:
            found = score(i, j)
            if found is None:
                return -1.0
            total += found
    return total / (len(a) * len(b))


def _candidates(reports: list[Report]) -> Iterator[tuple[int, int]]:
    """Pairs (i < j, in order of publication) within WINDOW whose headlines share one of their KEYS
    rarest keys that another item also has: two reports of one event say it in their headlines. Counted
    item by item, so memory holds one item's candidates, not every pair's."""
    # Rarity among headlines: a key only summaries share finds nothing in an index of headlines.
    df = Counter(k for r in reports if not r.alone for k in r.title)
    # A report that stands alone by its genre is no one's candidate.
    keys = [
        [] if r.alone else sorted((k for k in r.title if df[k] > 1), key=lambda k: (df[k], k))[:KEYS] for r in reports
    ]
    times = [r.published for r in reports]
    postings, posted = _index(keys, times)
    for i, words in enumerate(keys):
        shared: Counter[int] = Counter()
        rare: set[int] = set()
        limit = times[i] + WINDOW
        for w in words:
            members = postings.get(w)
            if members:
                found = members[bisect_right(members, i) : bisect_right(posted[w], limit)]
                shared.update(found)
                if len(members) <= RARE:
                    rare.update(found)
        yield from ((i, j) for j, count in sorted(shared.items()) if count >= MIN_KEYS or j in rare)


def _index(keys: list[list[str]], times: list[datetime]) -> tuple[dict[str, list[int]], dict[str, list[datetime]]]:
    """Each item under its keys, and each posting's publication times (both in order of publication)."""
    postings: dict[str, list[int]] = defaultdict(list)
    for i, words in enumerate(keys):
        for w in words:
            postings[w].append(i)
    # A key among the rarest of that many items says nothing of one event.
    kept = {w: members for w, members in postings.items() if len(members) <= MAX_POSTINGS}
    return kept, {w: [times[j] for j in members] for w, members in kept.items()}


def representative(group: Sequence[ThemedItem]) -> ThemedItem:
    """The report whose headline best represents the event: the one closest to all the others (the greatest
    sum of cosines to the others' keys, weighed by rarity within the group, as one dot product with their
    sum: linear in the reports), not merely the first published. Between equals, the best-matching, then
    the earliest."""
    if len(group) < 3:  # with two reports, neither is closer to the other: the best match leads
        return min(group, key=lambda i: (-i.score, i.published, i.item_id))
    reports = [read(item) for item in group]
    df = Counter(k for r in reports for k in r.weights)
    idf = {k: math.log((len(group) + PRIOR) / n) for k, n in df.items()}
    unit = [{k: w / vector.norm for k, w in vector.weight.items()} for vector in (_vector(r, idf) for r in reports)]
    total: Counter[str] = Counter()
    for vector in unit:
        total.update(vector)
    closeness = [sum(v * (total[k] - v) for k, v in vector.items()) for vector in unit]
    return group[
        max(range(len(group)), key=lambda n: (round(closeness[n], 9), group[n].score, -group[n].published.timestamp()))
    ]
