"""Items x themes -> matches, each with a score (0-100) and its evidence. Pure: text in, records out.

How a theme matches, and why it is built this way
-------------------------------------------------
Character similarity alone cannot tell news about a theme from news that merely shares its words:
"Armenian exodus" is closer, character by character, to "Armenian exports rose; an exodus of
tourists" than to "ethnic Armenians fled Nagorno-Karabakh". So a theme has two kinds of evidence:

1. **Phrases**, matched fuzzily with rapidfuzz (`partial_ratio_alignment` over the folded words around
   each word of the title or summary that could begin one of the phrase's content words): tolerant of
   inflection ("flee"/"fled"), spelling variants and typos. A
   phrase only counts where most of its content words really stand in the matched stretch of text, so a
   high character score made of unrelated words does not. Its score is rapidfuzz's.
2. **Rules**, which close the gap for paraphrase: one term from each of several groups (an actor, an
   action, a place...) standing within `within` words of each other, in any order, in title or summary.
   "Kremlin ... abandoned ... Armenia" and "Russia's inaction ... Karabakh" are one rule, however the
   sentence runs. A headline and its lede are read as one statement: for rules in any order, terms in
   the title join terms in the summary's first `CROSS_FIELD_WINDOW` words. Terms match words exactly, by
   prefix (`betray*`) or, for names, by near spelling, after
   case and accents are folded (see `text/terms.py`). A rule's score is set by the analyst.

Then the gates: at least one `require` term must appear anywhere (the actor or place that makes the
item relevant at all), and no `exclude` term may. The theme's score is its best evidence's, raised by
3 for each further, independent piece of evidence (capped at 100); it matches at `threshold` or above.

Adding words never removes a match: every piece of evidence is the best-scoring of its candidate places
(not the tightest), a place's score depends only on the words up to it (the late-mention penalty counts
from the start of the summary; a phrase's stretch is padded as if more words followed), and no score is
normalised by the item's length. So text added at the end of the title or the summary only adds
candidates, and only an exclude term it brings can lower a theme's score (tests/test_fuzz.py holds it).

Speed: texts are tokenised once per item; the term vocabulary of every theme is indexed by word, by
prefix and, for names, by first letter, and an item that contains none of a theme's words is dismissed
before any fuzzy comparison. Phrases are compared only where a cheap prefilter (their content words' first
four letters occur in the field) lets them.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from ..text.terms import fold, term_words, without_verb_prefix, words
from ..types import Evidence, RuleSpec, Span, ThemeMatch, ThemeSpec, evidence_records
from . import actors

MATCHER_VERSION = 4  # bump when a change of this module changes what matches
NAME_SIMILARITY = 85  # rapidfuzz ratio for a near spelling of a name: Karabagh ~ Karabakh is 87.5
PHRASE_WORD_SIMILARITY = 80
EXTRA_EVIDENCE_BONUS = 3
TITLE_BONUS = 4
LATE_PENALTY = 6
LATE_TOKENS = 40  # words into the summary after which a mention counts as passing
CROSS_FIELD_WINDOW = 60  # a rule may join a title's terms to terms in the summary's first words (cross-validated)
# How far a theme is loosened to see what it nearly matched: the teaching of near misses and the trained
# model's features read the same loosened themes.
NEAR = 15  # points under the threshold that still make an item worth a look
WIDE = 100_000  # words: a `within` no item reaches
MEMO_LIMIT = 500_000  # distinct words whose patterns are remembered
FIELDS = ("title", "summary")
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    """a an the of in on at to for from by with and or but not no is are was were be been
has have had it its this that these those as into over after before about than their his her they them
he she we you i our your will would can could should may might do does did so if then there here who
whom which what when where why how all any each more most other some such only own same too very s t
и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее мне было вот
от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь
опять уж вам ведь там потом себя ничего ей может они тут где есть надо ней для мы тебя их чем была
сам чтоб без будто чего раз тоже себе под будет ж тогда кто этот того потому этого какой совсем ним
здесь этом один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец два об
другой хоть после над больше тот через эти нас про всего них какая много разве три эту моя впрочем
хорошо свою этой перед иногда лучше чуть том нельзя такой им более всегда конечно всю между""".split()
)


@dataclass(frozen=True, slots=True)
class _Term:
    words: tuple[int, ...]  # word-pattern ids, in order


@dataclass(frozen=True, slots=True)
class _Rule:
    spec: RuleSpec
    groups: tuple[frozenset[int], ...]  # term ids
    agent: frozenset[int]  # who must act the first group's verb (empty: anyone)
    unless: frozenset[int]
    unless_before: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Phrase:
    text: str  # as written
    folded: str
    content: tuple[str, ...]  # folded content words
    prefixes: tuple[str, ...]  # their first four letters, for the prefilter
    needed: int  # how many prefixes must occur before rapidfuzz is asked
    length: int  # in words


@dataclass(frozen=True, slots=True)
class _Theme:
    spec: ThemeSpec
    phrases: tuple[_Phrase, ...]
    rules: tuple[_Rule, ...]
    require: frozenset[int]
    exclude: frozenset[int]
    phrase_prefixes: dict[str, tuple[int, ...]]  # a content word's first four letters -> phrases using it
    words: frozenset[int]  # every term of its rules and gates: what says an item is about it at all


@dataclass(frozen=True, slots=True)
class _TokenTerms:
    """What one word of an item can be, for the term index."""

    patterns: frozenset[int]  # the word patterns it matches
    single: tuple[int, ...]  # the one-word terms it is
    begins: tuple[tuple[int, tuple[int, ...]], ...]  # (multi-word term it may begin, that term's other words)


@dataclass(frozen=True, slots=True)
class _Gates:
    """A theme's sets as bits of `Matcher._term_bits` (see `_gate_bits`)."""

    require: int
    exclude: int
    rules: tuple[int, ...]  # per rule, the bits of all its groups


@dataclass(slots=True)
class _Bar:
    """What a stretch must beat to be worth finding, raised by the caller as better ones are found: the
    window generators skip what cannot win (same choice, less work)."""

    widest: int  # words
    before: float = math.inf  # a stretch must begin before this token


class _Fields:
    """One item's title and summary as folded tokens, with lazily computed character offsets."""

    def __init__(self, title: str, summary: str):
        # Composed form, so "e" + a combining accent is one letter, as in stored items (parse/feed.py does the same).
        self.originals = (unicodedata.normalize("NFC", title or ""), unicodedata.normalize("NFC", summary or ""))
        self.tokens: list[str] = []
        self.field_of: list[int] = []
        self.bounds: list[int] = []  # index of each field's first token
        self._field_tokens: list[list[str]] = []
        self._joined: dict[int, str] = {}
        for index, text in enumerate(self.originals):
            self.bounds.append(len(self.tokens))
            lowered = text.lower()
            if len(lowered) == len(text):  # the fast path: words of the lower-cased text, same offsets
                # Lower-cased ASCII is already folded: only other words need fold()'s Unicode passes.
                found = (
                    words(lowered)
                    if lowered.isascii()
                    else [t if t.isascii() else _folded(t) for t in _WORD.findall(lowered)]
                )
            else:  # lower-casing changed the length (Turkish "İ"): words of the original, folded one by one
                found = [_folded(t) for t in _WORD.findall(text)]
            self._field_tokens.append(found)
            self.tokens += found
            self.field_of += [index] * len(found)
        self.bounds.append(len(self.tokens))
        self._offsets: list[tuple[int, int]] | None = None
        self._sentences: list[int] | None = None
        self._starts: dict[int, set[str]] = {}
        self._where: dict[int, dict[str, list[int]]] = {}
        self.group_places: dict[frozenset[int], list[tuple[int, int]]] = {}  # a rule group's places, sorted

    def starts(self, field: int) -> set[str]:
        """The first four letters of every word of a field: the phrase prefilter's question."""
        if field not in self._starts:
            self._starts[field] = {w[:4] for w in self.field_tokens(field)}
        return self._starts[field]

    def where(self, field: int) -> dict[str, list[int]]:
        """Where in the field the words beginning with each four letters stand: where a phrase may."""
        if field not in self._where:
            found: dict[str, list[int]] = defaultdict(list)
            for index, word in enumerate(self.field_tokens(field)):
                found[word[:4]].append(index)
            self._where[field] = found
        return self._where[field]

    def field_tokens(self, field: int) -> list[str]:
        return self._field_tokens[field]

    def joined(self, field: int) -> str:
        """The field's folded words, one space apart: what phrases are compared with."""
        if field not in self._joined:
            self._joined[field] = " ".join(self._field_tokens[field])
        return self._joined[field]

    def offsets(self) -> list[tuple[int, int]]:
        """Character range of every token in its original field (computed only when evidence needs it)."""
        if self._offsets is None:
            # The same words as the tokens, found the same way, at their offsets in the original text.
            self._offsets = [
                m.span()
                for text in self.originals
                for m in _WORD.finditer(text if len(text.lower()) != len(text) else text.lower())
            ]
            if len(self._offsets) != len(self.tokens):  # a character whose case changes its length: be safe
                self._offsets = (self._offsets + [(0, 0)] * len(self.tokens))[: len(self.tokens)]
        return self._offsets

    def sentences(self) -> list[int]:
        """The sentence number of every token (computed only when a rule's agent or a passing mention asks)."""
        if self._sentences is None:
            self._sentences = actors.sentence_numbers(self.originals, self.offsets(), self.field_of)
        return self._sentences

    def span(self, first: int, last: int) -> Span:
        """Tokens first..last (global indexes, one field) as a Span of the original text."""
        field = self.field_of[first]
        offsets = self.offsets()
        start, end = offsets[first][0], offsets[last][1]
        return Span(FIELDS[field], start, end, self.originals[field][start:end])


class Matcher:
    """The shipped or configured themes, compiled once; `match` is then called per item."""

    def __init__(self, themes: Mapping[str, ThemeSpec]):
        self._patterns: dict[tuple[str, bool], int] = {}
        self._terms: dict[tuple[int, ...], int] = {}
        self._term_list: list[_Term] = []
        self.themes = tuple(self._compile(spec) for spec in themes.values())
        self._index()
        self.version = f"{MATCHER_VERSION}:{_fingerprint(themes)}"

    # -- compiling ------------------------------------------------------------------------------

    def _term(self, text: str) -> int:
        ids = tuple(self._pattern(word, fuzzy) for word, fuzzy in term_words(text))
        if ids not in self._terms:
            self._terms[ids] = len(self._term_list)
            self._term_list.append(_Term(ids))
        return self._terms[ids]

    def _pattern(self, word: str, fuzzy: bool) -> int:
        return self._patterns.setdefault((word, fuzzy), len(self._patterns))

    def _compile(self, spec: ThemeSpec) -> _Theme:
        rules = tuple(
            _Rule(
                r,
                tuple(frozenset(self._term(t) for t in group) for group in r.groups),
                frozenset(self._term(t) for t in r.agent),
                frozenset(self._term(t) for t in r.unless),
                frozenset(self._term(t) for t in r.unless_before),
            )
            for r in spec.rules
        )
        require = frozenset(self._term(t) for t in spec.require)
        exclude = frozenset(self._term(t) for t in spec.exclude)
        phrases = tuple(_phrase(p) for p in spec.phrases)
        by_prefix: dict[str, list[int]] = defaultdict(list)
        for index, phrase in enumerate(phrases):
            for prefix in phrase.prefixes:
                by_prefix[prefix].append(index)
        words = require.union(*(g for r in rules for g in r.groups), *(r.agent for r in rules))
        return _Theme(spec, phrases, rules, require, exclude, {k: tuple(v) for k, v in by_prefix.items()}, words)

    def _index(self) -> None:
        self._exact: dict[str, list[int]] = defaultdict(list)
        self._prefix: dict[str, list[int]] = defaultdict(list)
        self._names: dict[str, list[tuple[str, int]]] = defaultdict(list)
        # A `~` stem (text/terms.py) also stands after a Russian verbal prefix: indexed bare and in these.
        self._verb_exact: dict[str, list[int]] = defaultdict(list)
        self._verb_prefix: dict[str, list[int]] = defaultdict(list)
        for (word, fuzzy), pattern in self._patterns.items():
            if word.startswith("~"):
                word = word[1:]
                (self._verb_prefix[word[:-1]] if word.endswith("*") else self._verb_exact[word]).append(pattern)
            if word.endswith("*"):
                self._prefix[word[:-1]].append(pattern)
            else:
                self._exact[word].append(pattern)
                if fuzzy:
                    self._names[word[0]].append((word, pattern))
        self._prefix_lengths = sorted({len(p) for p in self._prefix})
        self._prefix_starts = {p[:3] for p in self._prefix}
        self._verb_lengths = sorted({len(p) for p in self._verb_prefix})
        self._token_memo: dict[str, _TokenTerms | None] = {}  # every token of the current item, at least
        self._single_word: dict[int, list[int]] = defaultdict(list)  # pattern -> one-word terms of it
        self._multi_word: dict[int, list[int]] = defaultdict(list)  # pattern -> terms it begins
        for term_id, term in enumerate(self._term_list):
            (self._single_word if len(term.words) == 1 else self._multi_word)[term.words[0]].append(term_id)
        self._term_bits = self._gate_bits()

    # -- matching -------------------------------------------------------------------------------

    def match(self, title: str, summary: str = "") -> list[ThemeMatch]:
        """Every theme the item matches, best first."""
        fields = _Fields(title, summary)
        occurrences = self._occurrences(fields)
        present = 0  # the bits of every set with a term in the item
        term_bits = self._term_bits
        for term_id in occurrences:
            present |= term_bits.get(term_id, 0)
        found = []
        for theme, gates in zip(self.themes, self._gates, strict=True):
            result = self._match_theme(theme, gates, present, fields, occurrences)
            if result:
                found.append(result)
        return sorted(found, key=lambda m: -m.score)

    def _learn(self, tokens: Sequence[str]) -> None:
        """Remember what each token not yet seen can be (None: no term's word). News repeats its vocabulary,
        so most items bring few new words and every lookup after this is one dict access in C."""
        memo = self._token_memo
        unseen = set(tokens).difference(memo)
        if len(memo) + len(unseen) > MEMO_LIMIT:  # bounded: a long-running daemon sees endless new words
            memo.clear()
            unseen = set(tokens)
        for token in unseen:
            memo[token] = self._terms_of(token)

    def _terms_of(self, token: str) -> _TokenTerms | None:
        patterns = self._patterns_of(token)
        if not patterns:
            return None
        single = tuple(t for p in patterns for t in self._single_word.get(p, ()))
        begins = tuple((t, self._term_list[t].words[1:]) for p in patterns for t in self._multi_word.get(p, ()))
        return _TokenTerms(frozenset(patterns), single, begins)

    def _patterns_of(self, token: str) -> tuple[int, ...]:
        found: list[int] = list(self._exact.get(token, ()))
        if token[:3] in self._prefix_starts:
            for length in self._prefix_lengths:
                if length > len(token):
                    break
                found += self._prefix.get(token[:length], ())
        if (self._verb_exact or self._verb_prefix) and not token.isascii():
            for stem in without_verb_prefix(token):
                found += self._verb_exact.get(stem, ())
                for length in self._verb_lengths:
                    if length > len(stem):
                        break
                    found += self._verb_prefix.get(stem[:length], ())
        if len(token) >= 5 and token[0] in self._names:
            candidates = self._names[token[0]]
            hits = process.extract(
                token, [w for w, _ in candidates], scorer=fuzz.ratio, score_cutoff=NAME_SIMILARITY, limit=None
            )
            # A near spelling, not another form: "Armenia" is not a spelling of "Armenians".
            found += [
                candidates[index][1]
                for _, _, index in hits
                if not (candidates[index][0].startswith(token) or token.startswith(candidates[index][0]))
            ]
        return tuple(dict.fromkeys(found))

    def _occurrences(self, fields: _Fields) -> dict[int, list[tuple[int, int]]]:
        """term id -> [(first token, last token)] of every place it stands, in text order."""
        tokens = fields.tokens
        self._learn(tokens)
        at = list(map(self._token_memo.__getitem__, tokens))  # what each position can be
        last = len(at) - 1
        field_of = fields.field_of
        out: dict[int, list[tuple[int, int]]] = {}
        for position in itertools.compress(range(len(at)), at):  # the positions of some term's words
            terms = at[position]
            assert terms is not None
            for term_id in terms.single:
                places = out.get(term_id)
                if places is None:
                    out[term_id] = [(position, position)]
                else:
                    places.append((position, position))
            # A multi-word term needs the next word to be some term's word, in the same field: mostly not.
            if (
                not terms.begins
                or position == last
                or (following := at[position + 1]) is None
                or field_of[position + 1] != field_of[position]
            ):
                continue
            for term_id, rest in terms.begins:
                if rest[0] not in following.patterns:
                    continue
                end = position + len(rest)
                if (
                    len(rest) == 1
                    or end <= last
                    and field_of[end] == field_of[position]
                    and all(
                        (later := at[position + 1 + k]) is not None and word in later.patterns
                        for k, word in enumerate(rest)
                        if k
                    )
                ):
                    out.setdefault(term_id, []).append((position, end))
        return out

    def _gate_bits(self) -> dict[int, int]:
        """A bit for each theme's require and exclude sets and each rule's group, and per term the bits of
        the sets it belongs to: OR-ing the bits of an item's terms answers "is any term of this set here?"
        for every set at once, so most rules are dismissed by one integer test."""
        bits: dict[int, int] = defaultdict(int)
        gates = []
        counter = itertools.count()

        def allot(terms: frozenset[int]) -> int:
            bit = 1 << next(counter)
            for term in terms:
                bits[term] |= bit
            return bit

        for theme in self.themes:
            require = allot(theme.require)
            exclude = allot(theme.exclude)
            rules = tuple(
                sum(allot(group) for group in rule.groups) + (allot(rule.agent) if rule.agent else 0)
                for rule in theme.rules
            )
            gates.append(_Gates(require, exclude, rules))
        self._gates = tuple(gates)
        return dict(bits)

    def _match_theme(
        self,
        theme: _Theme,
        gates: _Gates,
        present: int,
        fields: _Fields,
        occurrences: Mapping[int, list[tuple[int, int]]],
    ) -> ThemeMatch | None:
        spec = theme.spec
        if theme.require and not present & gates.require:
            return None
        if present & gates.exclude:
            return None
        evidence = [
            e
            for rule, need in zip(theme.rules, gates.rules, strict=True)
            if present & need == need and (e := _rule_evidence(rule, fields, occurrences))
        ]
        evidence += [
            e
            for phrase, in_fields in _candidate_phrases(theme, fields)
            if (e := _phrase_evidence(phrase, fields, spec.threshold, in_fields))
        ]
        if not evidence:
            return None
        if theme.require and actors.PASSING_PENALTY and self._passing(theme, fields, occurrences, evidence):
            evidence = [replace(e, score=e.score - actors.PASSING_PENALTY) for e in evidence]
        evidence.sort(key=lambda e: -e.score)
        score = min(100, evidence[0].score + EXTRA_EVIDENCE_BONUS * (len(evidence) - 1))
        if score < spec.threshold:
            return None
        return ThemeMatch(spec.key, score, tuple(evidence))

    @staticmethod
    def _passing(
        theme: _Theme, fields: _Fields, occurrences: Mapping[int, list[tuple[int, int]]], evidence: list[Evidence]
    ) -> bool:
        """Whether the theme is named only in passing, at the end of an item about something else (actors.py)."""
        summary = fields.bounds[1]
        first = min(occurrences[t][0][0] for t in theme.words.intersection(occurrences))
        if first < summary:
            return False
        last = actors.last_sentence(fields.sentences(), first, summary)
        if last is None:
            return False
        begins = fields.offsets()[last][0]  # phrases are no theme words: their evidence must stand there too
        return all(s.field == FIELDS[1] and s.start >= begins for e in evidence for s in e.spans)


def _rule_evidence(rule: _Rule, fields: _Fields, occurrences: Mapping[int, list[tuple[int, int]]]) -> Evidence | None:
    """The best-scoring stretch holding one term of every group (tightest among equals).

    The best, not the tightest: the score depends on where the stretch stands (title, early or late in
    the summary), and choosing by width would let a tighter but later stretch, added by more text, push
    out an earlier one. Each candidate stretch is judged on its own, so more text can only add candidates:
    adding words never lowers a rule's score (see the monotonicity tests)."""
    if any(group.isdisjoint(occurrences) for group in rule.groups):  # the common case, decided in C
        return None
    places_by_group = []
    known = fields.group_places  # rules share term sets (@actors...): each set's places are found once
    for group in rule.groups:
        places = known.get(group)
        if places is None:
            # Groups hold dozens of terms and an item has few: walk the item's terms, not the group's.
            places = known[group] = sorted(
                place for term in group.intersection(occurrences) for place in occurrences[term]
            )
        if not places:
            return None
        places_by_group.append(places)
    acting: dict[tuple[int, int], tuple[int, int]] = {}  # a verb's place -> its agent's
    if rule.agent:
        places_by_group[0] = _acted(rule, places_by_group[0], fields, occurrences, acting)
        if not places_by_group[0]:
            return None
    chosen = _best_places(rule, places_by_group, fields)
    if chosen is None:
        return None
    spans = tuple(fields.span(start, end) for start, end in chosen)
    score = _salient(rule.spec.score, chosen, fields)
    if not rule.agent:
        return Evidence("rule", rule.spec.name, score, spans)
    agent = next(acting[p] for p in chosen if p in acting)
    spans = tuple(fields.span(start, end) for start, end in sorted({*chosen, agent}))  # the agent quoted in place
    return Evidence("rule", rule.spec.name, score, spans, agent=fields.span(*agent).text)


def _acted(
    rule: _Rule,
    verbs: list[tuple[int, int]],
    fields: _Fields,
    occurrences: Mapping[int, list[tuple[int, int]]],
    acting: dict[tuple[int, int], tuple[int, int]],
) -> list[tuple[int, int]]:
    """The places of the verb that the rule's agent acts (actors.py), noting each one's agent in `acting`."""
    agents = sorted(p for t in rule.agent.intersection(occurrences) for p in occurrences[t])
    between = sorted(p for t in rule.unless.intersection(occurrences) for p in occurrences[t])
    before = sorted(p for t in rule.unless_before.intersection(occurrences) for p in occurrences[t])
    sentence = fields.sentences()
    summary = fields.bounds[1]
    lede = (summary, summary + CROSS_FIELD_WINDOW - 1) if actors.AGENT_ACROSS else None
    kept = []
    for verb in verbs:
        agent = actors.agent_of(
            verb, agents, between, before, sentence, fields.tokens, lede if verb[0] < summary else None
        )
        if agent is not None:
            acting[verb] = agent
            kept.append(verb)
    return kept


def _best_places(
    rule: _Rule, places_by_group: list[list[tuple[int, int]]], fields: _Fields
) -> list[tuple[int, int]] | None:
    """The places of the best-scoring stretch a rule accepts, the tightest of its kind. Stretches are, best
    first: in the title (at most `within` words wide); across title and summary (below); in the summary's
    first LATE_TOKENS words; later in the summary.

    Across title and summary, for rules in any order, a headline and its lede read as one statement: some
    terms in the title, wherever they stand in it, the rest in the summary's first CROSS_FIELD_WINDOW
    words. A headline names the place or the actor, its lede says what happened, and neither repeats the
    other within `within` words. Word order is syntax ("blamed ... Russia"), which a headline does not
    share with its lede, so `ordered` rules do not reach across."""
    windows = _ordered_windows if rule.spec.ordered else _any_order_windows
    summary = fields.bounds[1]
    cuts = [bisect.bisect_left(places, (summary,)) for places in places_by_group]  # places are sorted
    in_title = [places[:cut] for places, cut in zip(places_by_group, cuts, strict=True)]
    in_summary = [places[cut:] for places, cut in zip(places_by_group, cuts, strict=True)]
    if all(in_title):
        bar = _Bar(rule.spec.within)
        tightest = None
        for width, places in windows(in_title, bar):  # the first of the narrowest
            tightest, bar.widest = places, width - 1
        if tightest is not None:
            return tightest
    if any(in_title) and not rule.spec.ordered:
        lede_end = summary + CROSS_FIELD_WINDOW
        chosen = _across(
            in_title,
            [
                [p for p in places[: bisect.bisect_left(places, (lede_end,))] if p[1] < lede_end]
                for places in in_summary
            ],
        )
        if chosen is not None:
            return chosen
    if not all(in_summary):
        return None
    best: tuple[bool, int, list[tuple[int, int]]] | None = None  # (late, width, places)
    bar = _Bar(rule.spec.within)
    for width, places in windows(in_summary, bar):
        late = places[0][0] - summary >= LATE_TOKENS
        if best is None or (late, width) < best[:2]:
            best = (late, width, places)
            if not late:  # from now on only a narrower stretch that is not late either does better
                bar.widest, bar.before = width - 1, summary + LATE_TOKENS
    return best[2] if best else None


def _across(
    in_title: list[list[tuple[int, int]]], in_lede: list[list[tuple[int, int]]]
) -> list[tuple[int, int]] | None:
    """One distinct place per group, at least one in the title and one in the lede, if there is such a
    choice (decided by matching groups to places, so more places can never undo an answer)."""
    groups = range(len(in_title))
    for lede_group in (g for g in groups if in_lede[g]):
        for title_group in (g for g in groups if g != lede_group and in_title[g]):
            options = [
                in_lede[g] if g == lede_group else in_title[g] if g == title_group else in_title[g] + in_lede[g]
                for g in groups
            ]
            chosen = _assign(options)
            if chosen is not None:
                return sorted(chosen)
    return None


def _assign(options: list[list[tuple[int, int]]]) -> list[tuple[int, int]] | None:
    """A distinct place for every group (bipartite matching by augmenting paths; groups are few)."""
    owner: dict[tuple[int, int], int] = {}

    def place(group: int, seen: set[tuple[int, int]]) -> bool:
        for candidate in options[group]:
            if candidate not in seen:
                seen.add(candidate)
                if candidate not in owner or place(owner[candidate], seen):
                    owner[candidate] = group
                    return True
        return False

    if all(place(group, set()) for group in range(len(options))):
        return list(owner)
    return None


def _salient(score: int, places: Sequence[tuple[int, int]], fields: _Fields) -> int:
    """An item is about a theme when the title says so, less so when only the end of a summary does
    (labels and readers alike count a passing mention as no mention). Measured from the start of the
    summary, so text added after a mention never makes it later."""
    if any(fields.field_of[start] == 0 for start, _ in places):
        return min(100, score + TITLE_BONUS)
    if min(start for start, _ in places) - fields.bounds[1] >= LATE_TOKENS:
        return score - LATE_PENALTY
    return score


def _ordered_windows(
    places_by_group: list[list[tuple[int, int]]], bar: _Bar
) -> Iterable[tuple[int, list[tuple[int, int]]]]:
    """For each place of the first group, the tightest run from it with one place of each group, each
    group after the previous one, if it is at most `bar.widest` words wide and begins before `bar.before`."""
    for first in places_by_group[0]:
        if first[0] >= bar.before:
            return  # nor can any later one
        chosen = [first]
        for places in places_by_group[1:]:
            after = next((p for p in places if p[0] > chosen[-1][1]), None)
            if after is None:
                return  # no later first place can do better
            chosen.append(after)
        if chosen[-1][1] - chosen[0][0] + 1 <= bar.widest:
            yield chosen[-1][1] - chosen[0][0] + 1, chosen


def _any_order_windows(
    places_by_group: list[list[tuple[int, int]]], bar: _Bar
) -> Iterable[tuple[int, list[tuple[int, int]]]]:
    """For each place a run can begin at, the tightest run from it with one place of each group, in any
    order (a sliding window over all places), if it is at most `bar.widest` words wide and begins before
    `bar.before`."""
    tagged = sorted((start, end, group) for group, places in enumerate(places_by_group) for start, end in places)
    need = len(places_by_group)
    counts: dict[int, int] = defaultdict(int)
    left = 0
    for right, (_, _, group) in enumerate(tagged):
        counts[group] += 1
        while len(counts) == need:
            if tagged[left][0] >= bar.before:
                return  # every run from here on begins too late
            # The last place ends no earlier than it starts: a run already too wide needs no closer look.
            if tagged[right][1] - tagged[left][0] < bar.widest:
                window = tagged[left : right + 1]
                width = max(end for _, end, _ in window) - tagged[left][0] + 1
                if width <= bar.widest:
                    chosen = _distinct_places(window, need)
                    if chosen is None:
                        # One word filling two groups ("Lachin" a road and a place): a later place may free it,
                        # and a window from a later start, holding fewer places, cannot do better than this one.
                        break
                    yield width, chosen
            counts[tagged[left][2]] -= 1
            if not counts[tagged[left][2]]:
                del counts[tagged[left][2]]
            left += 1


def _distinct_places(window: list[tuple[int, int, int]], need: int) -> list[tuple[int, int]] | None:
    """One place per group, no place serving two groups ("checkpoint" is not both a road and its
    blocking). Groups with fewer candidates choose first."""
    if len(window) == need:  # one place per group, in order: they only have to differ
        places = [(start, end) for start, end, _ in window]
        return places if len(set(places)) == need else None
    candidates: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for start, end, group in window:
        candidates[group].append((start, end))
    used: set[tuple[int, int]] = set()
    for group in sorted(candidates, key=lambda g: len(candidates[g])):
        free = next((place for place in candidates[group] if place not in used), None)
        if free is None:
            return None
        used.add(free)
    return sorted(used) if len(used) == need else None


_folded_memo: dict[str, str] = {}


def _folded(word: str) -> str:
    """fold(word), remembered: non-ASCII news words (Russian, Armenian, accented names) recur."""
    found = _folded_memo.get(word)
    if found is None:
        found = fold(word)
        if len(_folded_memo) < MEMO_LIMIT:
            _folded_memo[word] = found
    return found


def _phrase(text: str) -> _Phrase:
    words = [fold(w) for w in _WORD.findall(text.lower())]
    content = tuple(w for w in words if w not in _STOPWORDS) or tuple(words)
    prefixes = tuple(dict.fromkeys(w[:4] for w in content))
    return _Phrase(text, " ".join(words), content, prefixes, max(1, math.ceil(len(prefixes) * 0.6)), len(words))


def _candidate_phrases(theme: _Theme, fields: _Fields) -> list[tuple[_Phrase, tuple[int, ...]]]:
    """The phrases whose content words' first letters occur often enough in title or summary to be
    worth a fuzzy comparison (counted from the item's side: its words are few, phrases many), each with
    the fields where they do."""
    keys = theme.phrase_prefixes.keys()
    candidates: dict[int, list[int]] = defaultdict(list)
    for field in (0, 1):
        counts: dict[int, int] = defaultdict(int)
        for prefix in keys & fields.starts(field):
            for index in theme.phrase_prefixes[prefix]:
                counts[index] += 1
        for index, count in counts.items():
            if count >= theme.phrases[index].needed:
                candidates[index].append(field)
    return [(theme.phrases[i], tuple(candidates[i])) for i in sorted(candidates)]


def _phrase_evidence(phrase: _Phrase, fields: _Fields, cutoff: int, in_fields: Sequence[int]) -> Evidence | None:
    """The best-scoring place of a phrase. A phrase is compared with the stretch of words around each word
    that could begin one of its content words (as many words either side as the phrase has), never with the
    whole field at once: a field's best alignment moves when text is added, and could move onto a stretch
    that fails the content-word check while the earlier one passed. A stretch is padded both sides with
    characters that match nothing, so a phrase hanging off the end of the text scores as if more, unrelated,
    words followed: what it will score when they come. Thus more text only adds stretches, and never lowers
    a phrase's score."""
    best: Evidence | None = None
    allowed = 1 if len(phrase.content) >= 5 else 0
    reach = phrase.length
    padding = "\0" * len(phrase.folded)
    exhaustive = len(phrase.folded) <= 64  # rapidfuzz tries every alignment of a needle this short
    for field in in_fields:  # where the prefilter lets it
        words = fields.field_tokens(field)
        if not words:
            continue
        if (
            exhaustive
            and fuzz.partial_ratio(phrase.folded, padding + fields.joined(field) + padding, score_cutoff=cutoff)
            < cutoff
        ):
            continue  # no stretch of the field can do better than the whole, padded alike: a cheap no
        base = fields.bounds[field]
        starts_at = fields.where(field)
        for anchor in sorted({i for p in phrase.prefixes if p in starts_at for i in starts_at[p]}):
            low = max(0, anchor - reach)
            window = words[low : anchor + reach + 1]
            text = " ".join(window)
            aligned = fuzz.partial_ratio_alignment(phrase.folded, padding + text + padding, score_cutoff=cutoff)
            if aligned is None or _missing(phrase.content, window) > allowed:
                continue
            offsets = list(itertools.accumulate((len(w) + 1 for w in window[:-1]), initial=len(padding)))
            first = max(0, bisect.bisect_right(offsets, min(aligned.dest_start, len(padding) + len(text) - 1)) - 1)
            last = max(first, bisect.bisect_left(offsets, min(aligned.dest_end, len(padding) + len(text))) - 1)
            place = (base + low + first, base + low + last)
            score = _salient(round(aligned.score), [place], fields)
            if best is None or score > best.score:
                best = Evidence("phrase", phrase.text, score, (fields.span(*place),))
    return best


def _missing(content: Sequence[str], window: Sequence[str]) -> int:
    """How many of the phrase's content words do not stand in the window, allowing for inflection
    (a shared stem: flee/fled, Armenians/Armenian) and small typos."""

    def present(word: str) -> bool:
        stem = word[: max(3, len(word) - 3)]
        return any(w.startswith(stem) or fuzz.ratio(word, w) >= PHRASE_WORD_SIMILARITY for w in window)

    return sum(not present(w) for w in content)


def _fingerprint(themes: Mapping[str, ThemeSpec]) -> str:
    return hashlib.sha256(repr(sorted(themes.items())).encode()).hexdigest()[:8]


def matches_json(matches: Sequence[ThemeMatch]) -> dict[str, object]:
    """The `monitor match --jsonl` shape: themes matched, their scores and evidence."""
    return {
        "themes": [m.theme for m in matches],
        "scores": {m.theme: m.score for m in matches},
        "evidence": {m.theme: evidence_records(m.evidence) for m in matches},
    }
