"""PURE: terms a theme lacks, found in the labelled positives it misses, each measured on the labels.

A suggestion is one rule to add to the theme: a candidate term (a word, or two words in a row, of a missed
positive; a prefix where the word inflects: "refugees" -> `refuge*`, "гражданство" -> `гражданств*`) within
WINDOW words of one of the theme's own anchors (its `require` terms, or the agents of its rules). Each is
measured with the matcher itself on the stored labels: the labelled positives it would add, the labelled
negatives it would catch, and the theme's precision and F1 with it and without. It `helps` only where
- the labelled F1 rises and the theme keeps its precision (or MIN_PRECISION, where it had more);
- it adds at least MIN_SUPPORT labelled positives, and what it adds is right at least MIN_ADDED_PRECISION
  of the time counting one more, unseen, negative (3 of 3 passes, 3 of 4 does not);
- the term stands (anywhere) in at least DISCRIMINATION times as many labelled positives as negatives: a
  word of the whole conflict ("minister", "peacekeepers" for the exodus) is no word of one theme.
Taught on half of each development set and scored on the other (`bench/teaching_loop.py`), rules accepted
on two chance items each lost as much as they gained, and terms accepted as shown, before any check,
lowered held-out macro F1 by up to 0.27; these thresholds are those that kept the loop from losing.

Never suggested: function words, fragments (a word under MIN_WORD letters, as the "s" of "Russia's"),
generic words of news (GENERIC: "lies ahead", "brief", and every form of their stems), numbers, and the
region's names (`teach.Names` of the theme and of the `others` given: the anchors already), with the first
name written before one ("Nikol" of "Nikol Pashinyan").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..match.rules import WIDE, Matcher
from ..text.stemming import stem
from ..text.terms import fold, tokens
from ..types import RuleSpec, ThemeSpec
from .teach import Names

WINDOW = 15  # words between the term and an anchor: the windows of the shipped rules are 3-20
RULE_SCORE = 85  # the settings' default score of a rule (or the theme's threshold, where higher)
MIN_WORD = 3  # shorter words are fragments: "s" of "Russia's", "t" of "don't"
MIN_PREFIX = 4  # letters a suggested prefix keeps (`leav*`); a shorter stem stays the word as written
MIN_SUPPORT = 3  # labelled positives a suggestion must add to help: one or two are chance (bench/teaching_loop.py)
MIN_ADDED_PRECISION = 0.75  # of the labelled items it adds and one unseen negative, the share of positives
DISCRIMINATION = 2  # labelled positives holding the term, per labelled negative holding it
MIN_PRECISION = 0.90  # the theme's precision a suggestion may not go under (unless it was lower already)
MEASURED = 60  # candidate terms measured on the labels, those in the most missed positives first
EXACT = 40  # best suggestions measured again with the whole theme

# Function words of the languages the shipped feeds carry, and the filler of news writing, which say
# nothing of a theme however often they stand in its items.
GENERIC = frozenset(
    """a an the of in on at to for from by with and or but not no nor is are was were be been being has have
had it its this that these those as into onto over under after before about above below than their his her
they them he she we you i our your us me my him will would can could should may might must shall do does did
done so if then there here who whom whose which what when where why how all any each more most other some
such only own same too very also just even still yet now ever never again once both either neither few many
much lot lots one two three four five six seven eight nine ten first second third last next new old
said says say saying told tells tell according reported reports report reporting added adds
amid among amongst around across against along between beyond during within without through throughout
toward towards upon via per since until while whether though although because however therefore thus
ahead behind lies lie lying lay brief briefly role roles way ways thing things part parts kind
time times day days week weeks month months year years today yesterday tomorrow tonight morning evening
news latest update updates live video watch read photo photos image images opinion analysis explainer
make makes made making take takes took taken taking get gets got give gives gave given come comes came
going goes went put puts see sees saw seen look looks looking show shows showed shown set sets
like well back way good bad big small large long short high low full late early former latter
mr mrs ms dr according people person man men woman women group groups number percent
monday tuesday wednesday thursday friday saturday sunday january february march april june july
august september october november december
и в во не что он на я с со как а то все всё она так его но да ты к у же вы за бы по только ее её мне было
вот от меня еще ещё нет о об обо из ему теперь когда даже ну вдруг ли если уже или ни быть был была были
было него до вас нибудь опять уж вам ведь там потом себя ничего ей может могут они тут где есть надо ней
для мы тебя их чем сам чтоб без будто чего раз тоже себе под будет будут ж тогда кто этот того потому
этого какой совсем ним здесь этом один одна одно почти мой тем чтобы нее неё сейчас куда зачем всех
никогда можно при наконец два об другой хоть после над больше тот через эти нас про всего них какая
много разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой им более
всегда конечно всю между также который которая которое которые которых которым этих этим эта это
свой своей своих своим является был стал стало стали время года году лет день дня дней неделе
заявил заявила заявили сообщил сообщила сообщили сказал сказала сказали отметил отметила рассказал
по словам словам данным пока однако ранее сегодня вчера завтра
корреспондент корреспондента корреспонденту агентство агентства источник источники
новости новость издание издания журналист журналиста
correspondent correspondents reporter reporters agency""".split()
)
_GENERIC_STEMS = frozenset(stem(word) for word in GENERIC)


@dataclass(frozen=True, slots=True)
class Anchor:
    """What a suggested term must stand near: terms of the theme's own, as the matcher reads them (`terms`)
    and as the config writes them (`written`, with its @sets), which `monitor suggest --apply` writes."""

    terms: tuple[str, ...]
    written: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figures:
    """A theme's decisions on its labelled items."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Shape:
    """Where a suggested term goes: near an anchor (a new rule of two entries, the term's and the anchor's),
    or in place of one entry of one of the theme's rules (a copy of that rule: its other entries, window,
    order and agent kept, so the term must say what the entry said, in the same company)."""

    where: str  # as shown: "near @karabakh, @armenians", 'for @failure in "Russia failed"'
    base: RuleSpec  # the rule, whose group `slot` the term takes
    slot: int
    label: tuple[str, str]  # the rule's name, before and after the quoted term
    written: tuple[tuple[str, Any], ...]  # its fields as the config writes them; in `all`, None for the term

    def name(self, term: str) -> str:
        return f'{self.label[0]}"{term}"{self.label[1]}'

    def rule(self, term: str) -> RuleSpec:
        groups = tuple((term,) if i == self.slot else group for i, group in enumerate(self.base.groups))
        return replace(self.base, name=self.name(term), groups=groups)

    def fields(self, term: str) -> list[tuple[str, Any]]:
        """The rule with `term` as `monitor suggest --apply` writes it."""
        out: list[tuple[str, Any]] = []
        for key, value in self.written:
            if key == "name":
                value = self.name(term)
            elif key == "all":
                value = [term if entry is None else entry for entry in value]
            out.append((key, value))
        return out


@dataclass(frozen=True, slots=True)
class Suggestion:
    term: str
    shape: Shape
    rule: RuleSpec  # the rule the theme would gain
    examples: tuple[int, ...]  # the labelled positives it would add
    caught: tuple[int, ...]  # the labelled negatives it would wrongly add
    without: Figures
    with_it: Figures
    helps: bool

    @property
    def catches(self) -> int:
        return len(self.examples)

    @property
    def wrongly(self) -> int:
        return len(self.caught)

    @property
    def where(self) -> str:
        return self.shape.where

    def fields(self) -> list[tuple[str, Any]]:
        return self.shape.fields(self.term)


@dataclass(frozen=True, slots=True)
class Suggestions:
    theme: str
    missed: int  # labelled positives the theme misses
    negatives: int  # labelled negatives
    without: Figures
    found: tuple[Suggestion, ...]  # those that help first


def anchors(spec: ThemeSpec, written: Mapping[str, Any] | None = None) -> list[Anchor]:
    """The theme's anchors: its `require` terms, then each distinct `agent` of its rules; none but "anywhere"
    for a theme without either. `written` is the theme's table as the config file has it, whose @sets the
    anchors keep (a term set edited later then changes the suggested rule too)."""
    table = written or {}
    found: list[tuple[tuple[str, ...], Any]] = [(spec.require, table.get("require"))]
    found += [(rule.agent, raw.get("agent")) for rule, raw in zip(spec.rules, _raw_rules(spec, table), strict=True)]
    out: dict[tuple[str, ...], Anchor] = {}
    for terms, written_as in found:
        if terms and terms not in out:
            plain = isinstance(written_as, list) and all(isinstance(t, str) for t in written_as)
            out[terms] = Anchor(terms, tuple(written_as) if plain else terms)
    return list(out.values()) or [Anchor((), ())]


def shapes(spec: ThemeSpec, written: Mapping[str, Any] | None = None) -> list[Shape]:
    """Every place a term may take in `spec`: near each anchor, and for each entry of each of its rules (but
    the one entry of a rule with no agent: the term alone would be no rule at all)."""
    score = max(RULE_SCORE, spec.threshold)
    out = []
    for anchor in anchors(spec, written):
        near = f" near {', '.join(anchor.written)}" if anchor.written else ""
        entry: list[Any] = [anchor.written[0] if len(anchor.written) == 1 else list(anchor.written)]
        base = RuleSpec("", ((), anchor.terms) if anchor.terms else ((),), within=WINDOW, score=score, ordered=False)
        fields: tuple[tuple[str, Any], ...] = (
            ("name", None),
            ("all", [None, *entry] if anchor.terms else [None]),
            ("within", WINDOW),
            ("score", score),
        )
        out.append(Shape(near.strip() or "anywhere", base, 0, ("suggested: ", near), fields))
    for rule, raw in zip(spec.rules, _raw_rules(spec, written or {}), strict=True):
        raw_all = raw.get("all")
        entries: list[Any] = raw_all if isinstance(raw_all, list) else [list(g) for g in rule.groups]
        if len(entries) != len(rule.groups) or (len(rule.groups) == 1 and not rule.agent):
            continue
        kept = [(k, v) for k, v in raw.items() if k not in ("name", "all")] or _settings(rule)
        for slot, entry in enumerate(entries):
            what = entry if isinstance(entry, str) else f"entry {slot + 1}"
            written_all = [None if i == slot else e for i, e in enumerate(entries)]
            label = (f"{rule.name}, suggested: ", f" for {what}")
            fields = (("name", None), ("all", written_all), *kept)
            out.append(Shape(f'for {what} in "{rule.name}"', rule, slot, label, fields))
    return out


def _raw_rules(spec: ThemeSpec, table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The theme's rules as the config writes them, one a rule of `spec` ({} where not known)."""
    raw = table.get("rules")
    rules = raw if isinstance(raw, list) and len(raw) == len(spec.rules) else []
    return [rule if isinstance(rule, dict) else {} for rule in rules] or [{} for _ in spec.rules]


def _settings(rule: RuleSpec) -> list[tuple[str, Any]]:
    """A rule's settings as a config would write them, where its table is not known."""
    out: list[tuple[str, Any]] = [("within", rule.within), ("score", rule.score), ("ordered", rule.ordered)]
    who = (("agent", rule.agent), ("unless", rule.unless), ("unless_before", rule.unless_before))
    return out + [(key, list(terms)) for key, terms in who if terms]


def suggest(
    spec: ThemeSpec,
    verdicts: Mapping[int, bool],
    texts: Mapping[int, tuple[str, str]],
    written: Mapping[str, Any] | None = None,
    others: Sequence[ThemeSpec] = (),
) -> Suggestions:
    """Every suggestion for `spec` from its `verdicts` (by item) on the items whose (title, summary) `texts`
    are given, measured on them; those that help first, the greatest F1 gain first. `others` are the other
    themes, whose names are the region's too (never suggested).

    Each (term, shape) is first measured with its rule alone under the theme's gates and threshold, on the
    unmatched labelled items that hold the term (no other can change); the EXACT best are then measured
    again with the whole theme and the rule (whose evidence may join the theme's own)."""
    judged = {i: v for i, v in verdicts.items() if i in texts}
    real = Matcher({spec.key: spec})
    matched = {i for i in judged if real.match(*texts[i])}
    without = _figures(judged, matched)
    missed = sorted(i for i, v in judged.items() if v and i not in matched)
    negatives = [i for i, v in judged.items() if not v]
    terms = _likeliest(Candidates(Names(spec, others)), missed, [i for i in negatives if i not in matched], texts)
    unmatched = [i for i in judged if i not in matched]
    places = shapes(spec, written)
    words = _Words({i: texts[i] for i in judged})
    specific = {term: _specific(term, judged, words) for term in terms}
    company = _company(spec, places, unmatched, texts)
    found: list[Suggestion] = []
    for term in terms:
        holders = words.holding(term, unmatched)
        for shape, where in zip(places, company, strict=True):
            touched = holders & where
            if not touched:  # no item holds the term and the rest of the rule: no matcher needed
                continue
            rule = shape.rule(term)
            probe = Matcher({spec.key: replace(spec, rules=(rule,), phrases=())})
            added = {i for i in touched if probe.match(*texts[i])}
            found += _measured(term, shape, rule, added, judged, matched, specific[term])
    found = _ranked(found)
    exact = []
    for s in found[:EXACT]:
        edited = Matcher({spec.key: replace(spec, rules=(*spec.rules, s.rule))})
        added = {i for i in words.holding(s.term, unmatched) if edited.match(*texts[i])}
        exact += _measured(s.term, s.shape, s.rule, added, judged, matched, specific[s.term])
    return Suggestions(spec.key, len(missed), len(negatives), without, tuple(_distinct(_ranked(exact) + found[EXACT:])))


def _measured(
    term: str,
    shape: Shape,
    rule: RuleSpec,
    added: set[int],
    judged: Mapping[int, bool],
    matched: set[int],
    specific: bool,
) -> list[Suggestion]:
    """The suggestion that adds `added` to the theme's matches, if it adds a labelled positive."""
    good = tuple(sorted(i for i in added if judged[i]))
    if not good:
        return []
    bad = tuple(sorted(i for i in added if not judged[i]))
    without, with_it = _figures(judged, matched), _figures(judged, matched | added)
    helps = (
        with_it.f1 > without.f1
        and len(good) >= MIN_SUPPORT
        and len(good) / (len(added) + 1) >= MIN_ADDED_PRECISION
        and with_it.precision >= min(without.precision, MIN_PRECISION)
        and specific
    )
    return [Suggestion(term, shape, rule, good, bad, without, with_it, helps)]


def _ranked(found: list[Suggestion]) -> list[Suggestion]:
    """Those that help first; then the highest F1 with it, the most added, the fewest caught; a rule in the
    theme's own words (an entry of its rules) before a rule near an anchor; the shorter term."""
    return sorted(
        found,
        key=lambda s: (
            not s.helps,
            -s.with_it.f1,
            -s.catches,
            s.wrongly,
            s.shape.where.startswith("near") or s.shape.where == "anywhere",
            s.term.count(" "),
            s.term,
            s.shape.where,
        ),
    )


def _distinct(found: list[Suggestion]) -> list[Suggestion]:
    """A suggestion that adds and catches what a better one does is the same in other words: left out."""
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    kept = []
    for s in found:
        if (s.examples, s.caught) not in seen:
            seen.add((s.examples, s.caught))
            kept.append(s)
    return kept


def _figures(verdicts: Mapping[int, bool], matched: set[int]) -> Figures:
    tp = sum(1 for i, v in verdicts.items() if v and i in matched)
    fp = sum(1 for i, v in verdicts.items() if not v and i in matched)
    return Figures(tp, fp, sum(verdicts.values()) - tp)


def _specific(term: str, judged: Mapping[int, bool], words: _Words) -> bool:
    """Whether the term stands in DISCRIMINATION times as many labelled positives as negatives, or more."""
    holding = [judged[i] for i in words.holding(term, judged)]
    return sum(holding) >= DISCRIMINATION * (len(holding) - sum(holding))


def _company(
    spec: ThemeSpec, places: Sequence[Shape], items: Sequence[int], texts: Mapping[int, tuple[str, str]]
) -> list[set[int]]:
    """Per shape, the items where the rest of its rule stands (each other entry anywhere, the theme's gates
    passed): only there can a term in its slot make a match. One matcher asks for every shape at once."""
    loose = {}
    for number, shape in enumerate(places):
        others = tuple(group for i, group in enumerate(shape.base.groups) if i != shape.slot)
        rule = RuleSpec("company", others or ((),), within=WIDE, score=100, ordered=False)
        if others:
            loose[str(number)] = replace(spec, key=str(number), rules=(rule,), phrases=(), threshold=1)
    probe = Matcher(loose)
    found: list[set[int]] = [set() if str(number) in loose else set(items) for number in range(len(places))]
    for i in items:
        for match in probe.match(*texts[i]):
            found[int(match.theme)].add(i)
    return found


class _Words:
    """The words of the labelled items, to find at once which hold a term as the matcher reads it (a
    lowercase term: no near spellings)."""

    def __init__(self, texts: Mapping[int, tuple[str, str]]):
        self.sequences = {i: [word for field in text for word, _, _ in tokens(field)] for i, text in texts.items()}
        self.by_word: dict[str, set[int]] = {}
        self._fitting: dict[str, set[int]] = {}
        for i, sequence in self.sequences.items():
            for word in sequence:
                self.by_word.setdefault(word, set()).add(i)

    def fitting(self, part: str) -> set[int]:
        if part not in self._fitting:
            stem_ = part[:-1]
            self._fitting[part] = (
                {i for word, ids in self.by_word.items() if word.startswith(stem_) for i in ids}
                if part.endswith("*")
                else set(self.by_word.get(part, ()))
            )
        return self._fitting[part]

    def holding(self, term: str, among: Iterable[int]) -> set[int]:
        parts = term.split()
        found = set(among).intersection(*(self.fitting(part) for part in parts))
        if len(parts) == 1:
            return found
        return {i for i in found if _in_a_row(parts, self.sequences[i])}


def _in_a_row(parts: Sequence[str], sequence: Sequence[str]) -> bool:
    def fits(word: str, part: str) -> bool:
        return word.startswith(part[:-1]) if part.endswith("*") else word == part

    starts = range(len(sequence) - len(parts) + 1)
    return any(all(fits(sequence[at + k], part) for k, part in enumerate(parts)) for at in starts)


def _likeliest(
    candidates: Candidates, missed: Sequence[int], negatives: Sequence[int], texts: Mapping[int, tuple[str, str]]
) -> list[str]:
    """The MEASURED candidate terms held by the most missed positives (at least two of them, or one where
    fewer are missed: shown, if not one that helps) and the fewest unmatched negatives."""
    holders: dict[str, int] = {}
    for i in missed:
        for term in candidates.of(*texts[i]):
            holders[term] = holders.get(term, 0) + 1
    need = min(2, len(missed))
    kept = {term: n for term, n in holders.items() if n >= need}
    wrong = dict.fromkeys(kept, 0)
    for i in negatives:
        for term in candidates.of(*texts[i]) & kept.keys():
            wrong[term] += 1
    ranked = sorted(kept, key=lambda t: (-(kept[t] - 2 * wrong[t]), -kept[t], t.count(" "), t))
    return ranked[:MEASURED]


class Candidates:
    """The candidate terms of a text, given the theme's names, with each word's verdict remembered."""

    def __init__(self, names: Names):
        self.names = names
        self._parts = {w for term in names.terms if " " in term for w in fold(term).split() if not w.endswith("*")}
        self._word: dict[str, str | None] = {}

    def of(self, title: str, summary: str) -> set[str]:
        """Words and two-word phrases as terms; a phrase does not cross from title to summary. (A phrase of a
        theme's name is no candidate: each word of a name of several words is a name here.)"""
        out: set[str] = set()
        for text in (title, summary):
            found = list(tokens(text))
            forms = [self.form(word) for word, _, _ in found]
            for at in range(len(found) - 1):  # a capitalised word before a name is its first name: "Nikol"
                if forms[at] is not None and forms[at + 1] is None and text[found[at][1]].isupper():
                    if self.names.holds(found[at + 1][0]):
                        forms[at] = None
            out.update(f for f in forms if f is not None)
            out.update(f"{a} {b}" for a, b in zip(forms, forms[1:], strict=False) if a is not None and b is not None)
        return out

    def form(self, word: str) -> str | None:
        """The term a word suggests (a prefix where it inflects), or None for a function word, a fragment, a
        number or a name of the theme."""
        if word not in self._word:
            self._word[word] = self._form(word)
        return self._word[word]

    def _form(self, word: str) -> str | None:
        if len(word) < MIN_WORD or not word.isalpha() or word in GENERIC or word in self._parts:
            return None
        own = stem(word)
        if own in _GENERIC_STEMS or self.names.holds(word):
            return None
        shared = 0
        while shared < min(len(word), len(own)) and word[shared] == own[shared]:
            shared += 1
        return f"{word[:shared]}*" if MIN_PREFIX <= shared < len(word) else word
