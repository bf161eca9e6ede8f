"""PURE: terms a theme lacks, found in the labelled positives it misses, each measured on the labels.

A suggestion is one rule to add to the theme: a candidate term (a word, or two words in a row, of a missed
positive; a prefix where the word inflects: "refugees" -> `refuge*`, "гражданство" -> `гражданств*`) within
WINDOW words of one of the theme's own anchors (its `require` terms, or the agents of its rules). Each is
measured with the matcher itself on the stored labels: the labelled positives it would add, the labelled
negatives it would catch, and the theme's precision and F1 with it and without. It `helps` only where the F1
rises, it adds at least MIN_SUPPORT positives, what it adds is mostly right (MIN_ADDED_PRECISION) and the
theme keeps its precision (or MIN_PRECISION): terms accepted on one chance item each, as shown before this
check, lowered held-out macro F1 by up to 0.27 (`bench/teaching_loop.py` measures the loop).

Never suggested: function words, fragments (a word under MIN_WORD letters, as the "s" of "Russia's"),
generic words of news (GENERIC: "lies ahead", "brief", and every form of their stems), numbers, and the
region's names (`teach.Names` of the theme and of the `others` given: the anchors already), with the first
name written before one ("Nikol" of "Nikol Pashinyan").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..match.rules import Matcher
from ..text.stemming import stem
from ..text.terms import fold, tokens
from ..types import RuleSpec, ThemeSpec
from .teach import Names

WINDOW = 15  # words between the term and an anchor: the windows of the shipped rules are 3-20
RULE_SCORE = 85  # the settings' default score of a rule (or the theme's threshold, where higher)
MIN_WORD = 3  # shorter words are fragments: "s" of "Russia's", "t" of "don't"
MIN_PREFIX = 4  # letters a suggested prefix keeps (`leav*`); a shorter stem stays the word as written
MIN_SUPPORT = 2  # labelled positives a suggestion must add to help: one is chance
MIN_ADDED_PRECISION = 0.75  # of the labelled items it adds, the share that must be positives
MIN_PRECISION = 0.90  # the theme's precision a suggestion may not go under (unless it was lower already)
MEASURED = 60  # candidate terms measured on the labels, those in the most missed positives first

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
class Suggestion:
    term: str
    anchor: Anchor
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
    raw_rules = table.get("rules")
    rules: list[Any] = raw_rules if isinstance(raw_rules, list) else []
    found: list[tuple[tuple[str, ...], Any]] = [(spec.require, table.get("require"))]
    for i, rule in enumerate(spec.rules):
        raw = rules[i] if i < len(rules) and isinstance(rules[i], dict) else {}
        found.append((rule.agent, raw.get("agent")))
    out: dict[tuple[str, ...], Anchor] = {}
    for terms, written_as in found:
        if terms and terms not in out:
            plain = isinstance(written_as, list) and all(isinstance(t, str) for t in written_as)
            out[terms] = Anchor(terms, tuple(written_as) if plain else terms)
    return list(out.values()) or [Anchor((), ())]


def suggest(
    spec: ThemeSpec,
    verdicts: Mapping[int, bool],
    texts: Mapping[int, tuple[str, str]],
    written: Mapping[str, Any] | None = None,
    others: Sequence[ThemeSpec] = (),
) -> Suggestions:
    """Every suggestion for `spec` from its `verdicts` (by item) on the items whose (title, summary) `texts`
    are given, measured on them; those that help first, the greatest F1 gain first. `others` are the other
    themes, whose names are the region's too (never suggested)."""
    judged = {i: v for i, v in verdicts.items() if i in texts}
    real = Matcher({spec.key: spec})
    matched = {i for i in judged if real.match(*texts[i])}
    without = _figures(judged, matched)
    missed = sorted(i for i, v in judged.items() if v and i not in matched)
    negatives = [i for i, v in judged.items() if not v]
    terms = _likeliest(Candidates(Names(spec, others)), missed, [i for i in negatives if i not in matched], texts)
    unmatched = [i for i in judged if i not in matched]
    found: list[Suggestion] = []
    for term in terms:
        for anchor in anchors(spec, written):
            rule = _rule(spec, term, anchor)
            added = _added(spec, rule, unmatched, texts)
            if not any(judged[i] for i in added):
                continue
            with_it = _figures(judged, matched | added)
            good = sorted(i for i in added if judged[i])
            bad = sorted(i for i in added if not judged[i])
            helps = (
                with_it.f1 > without.f1
                and len(good) >= MIN_SUPPORT
                and len(good) / len(added) >= MIN_ADDED_PRECISION
                and with_it.precision >= min(without.precision, MIN_PRECISION)
            )
            found.append(Suggestion(term, anchor, rule, tuple(good), tuple(bad), without, with_it, helps))
    found.sort(key=lambda s: (not s.helps, -s.with_it.f1, -s.catches, s.wrongly, s.term.count(" "), s.term))
    seen: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()
    kept = []
    for s in found:  # a term that adds what a better one adds is the same suggestion in other words
        if (s.examples, s.caught) not in seen:
            seen.add((s.examples, s.caught))
            kept.append(s)
    return Suggestions(spec.key, len(missed), len(negatives), without, tuple(kept))


def _figures(verdicts: Mapping[int, bool], matched: set[int]) -> Figures:
    tp = sum(1 for i, v in verdicts.items() if v and i in matched)
    fp = sum(1 for i, v in verdicts.items() if not v and i in matched)
    return Figures(tp, fp, sum(verdicts.values()) - tp)


def _rule(spec: ThemeSpec, term: str, anchor: Anchor) -> RuleSpec:
    near = f" near {', '.join(anchor.written)}" if anchor.written else ""
    groups = ((term,), anchor.terms) if anchor.terms else ((term,),)
    return RuleSpec(
        f'suggested: "{term}"{near}', groups, within=WINDOW, score=max(RULE_SCORE, spec.threshold), ordered=False
    )


def _added(spec: ThemeSpec, rule: RuleSpec, unmatched: Sequence[int], texts: Mapping[int, tuple[str, str]]) -> set[int]:
    """The unmatched items the theme would match with `rule`: those where the rule alone finds its terms
    (a cheap probe), matched again with the whole theme (the rule's score joins the theme's evidence)."""
    probe = Matcher({spec.key: replace(spec, rules=(rule,), phrases=(), threshold=1)})
    touched = [i for i in unmatched if probe.match(*texts[i])]
    if not touched:
        return set()
    edited = Matcher({spec.key: replace(spec, rules=(*spec.rules, rule))})
    return {i for i in touched if edited.match(*texts[i])}


def _likeliest(
    candidates: Candidates, missed: Sequence[int], negatives: Sequence[int], texts: Mapping[int, tuple[str, str]]
) -> list[str]:
    """The MEASURED candidate terms held by the most missed positives (at least MIN_SUPPORT of them, or one
    where fewer are missed) and the fewest unmatched negatives."""
    holders: dict[str, int] = {}
    for i in missed:
        for term in candidates.of(*texts[i]):
            holders[term] = holders.get(term, 0) + 1
    need = min(MIN_SUPPORT, len(missed))
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
