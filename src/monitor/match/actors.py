"""Who acts, and where a sentence ends: the agent slot of a rule and the passing mention. Pure.

A rule's words in a window say what is talked about, not who does it: "the US urges Baku to guarantee
their rights" and "Baku guarantees their rights" share every word of a promise; "Russia condemned
Armenia's failure" and "Russia failed Armenia" share those of a failure. News puts the one who acts in the
verb's sentence, mostly before it; what makes it not the one acting stands between them ("Baku must
guarantee", "Moscow said Yerevan failed": the rule's `unless`) or just before it ("urged Baku to", "calls
on Azerbaijan": `unless_before`). So a rule with an `agent` keeps only the places of its verb (the first
entry of `all`) that such an agent acts: at most AGENT_REACH words away in the same sentence, before the
verb or (AGENT_AFTER) after it, or, for a verb in a headline that names none, in the lede (AGENT_ACROSS).
No parser: a dependency parse (spaCy's small English model) would cost a model per language, tens of
megabytes and milliseconds an item, against a budget of a tenth of a millisecond, for sentences whose agent
nearly always stands this near. The reaches were cross-validated (bench/quality_cv.py --grid).

A passing mention: an item whose title and summary carry no word of a theme before the summary's last
sentence ("...The bank also noted the arrival of Karabakh refugees last year.") is not about it; its
evidence there scores PASSING_PENALTY less.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence

AGENT_REACH = 12  # words from the end of the agent to the verb (cross-validated, bench/quality_cv.py)
AGENT_ACROSS = 1  # whether a headline's verb may take its agent from the lede when the headline names none
AGENT_AFTER = 1  # the agent may follow the verb: 0 never, 1 anywhere in its sentence, 2 where the words say so
BLOCK_REACH = 4  # words before the agent in which an `unless_before` term ("urged", "calls on") takes its place
PASSING_PENALTY = 100  # points off evidence that stands only in the last sentence of an item about something else

# A full stop ends a sentence when the next word begins with a capital or a digit; ";" and a line break always.
_MARK = re.compile(r"[.!?\u2026;\n]")

Place = tuple[int, int]  # first and last token
_AFTER_MARKERS = frozenset({"by", "of", "from", "стороны"})  # "betrayed by", "со стороны России"
_OBJECT_MARKERS = frozenset({"with", "to", "against", "toward", "towards", "с", "со", "к", "против"})
_DETERMINERS = frozenset({"the", "its", "their", "his", "her", "our", "a", "an"})
_SPEECH = frozenset(
    {
        "said",
        "says",
        "told",
        "announced",
        "declared",
        "заявил",
        "заявила",
        "заявили",
        "сообщил",
        "сообщила",
        "сообщили",
        "заявляет",
        "заверил",
        "пообещал",
    }
)


def sentence_numbers(texts: Sequence[str], offsets: Sequence[Place], field_of: Sequence[int]) -> list[int]:
    """The sentence of every token (numbered through title and summary; the title is one or more sentences
    of its own). "U.S. officials" stays one sentence (a lower-case word follows); "Mr. Aliyev" is cut in
    two, which only ever keeps an agent out, never lets one in. Found from the few punctuation marks of
    each field, not by looking at every gap between words."""
    starts = [0] * len(offsets)  # 1 where a sentence begins
    first = 0
    for field, text in enumerate(texts):
        last = first
        while last < len(offsets) and field_of[last] == field:
            last += 1
        if first < last:
            starts[first] = 1
            begins = [start for start, _ in offsets[first:last]]
            for mark in _MARK.finditer(text):
                index = bisect.bisect_left(begins, mark.end())
                if index < len(begins) and (mark.group() in ";\n" or _opens(text[begins[index]])):
                    starts[first + index] = 1
        first = last
    return list(itertools.accumulate(starts))


def _opens(letter: str) -> bool:
    return letter.isupper() or letter.isdigit()


def agent_of(
    verb: Place,
    agents: Sequence[Place],
    between: Sequence[Place],
    before: Sequence[Place],
    sentence: Sequence[int],
    tokens: Sequence[str],
    lede: tuple[int, int] | None = None,
) -> Place | None:
    """The nearest place of an agent term that acts the verb at `verb` (see the module's docstring), if any:
    no `between` term stands between the two, no `before` term just before the agent. Before the verb first;
    then, if AGENT_AFTER, after it where the words say it acts (`_follows`);
    then, for a verb in a headline that names no agent before it, the first agent of the lede (`lede`: its first and
    last token), as rules join a headline and its lede ("Betrayed again" / "Russian peacekeepers stood by...")."""
    start, end = verb
    speaks = False  # an agent before the verb is the one speaking of it ("Moscow says Yerevan betrays...")
    for agent in reversed(agents):
        if agent[1] >= start:
            continue
        if start - agent[1] > AGENT_REACH or sentence[agent[0]] != sentence[start]:
            break  # the others stand further back still
        if _free(agent, start, between, before, sentence):
            return agent
        speaks = speaks or any(agent[1] < b[0] and b[1] < start for b in between)
    if AGENT_AFTER:
        for agent in agents:
            if agent[0] <= end:
                continue
            if agent[0] - end > AGENT_REACH or sentence[agent[0]] != sentence[end]:
                break
            if (
                (AGENT_AFTER == 1 or _follows(verb, agent, tokens))
                and not _object(verb, agent, tokens)
                and not (speaks and not _marked(agent, tokens))
                and not any(end < b[0] and b[1] < agent[0] for b in between)
                and _free(agent, agent[0], (), before, sentence)
            ):
                return agent
    # Only where the headline names no agent before its verb: text added to a headline (after the verb) must
    # not take away the lede's agent (adding words never removes a match).
    if lede is not None and not any(a[1] < start for a in agents):
        for agent in agents:
            if agent[1] > lede[1]:
                break
            if agent[0] < lede[0]:
                continue  # the headline's own names after its verb were judged above
            if _free(agent, agent[0], (), before, sentence):
                return agent
    return None


def _follows(verb: Place, agent: Place, tokens: Sequence[str]) -> bool:
    """Whether an agent after its verb is the one acting, not the object: "betrayed by Moscow", "the inaction
    of the peacekeepers", "... will be guaranteed, Aliyev said"; in Russian the agent of a verbal noun
    follows it in the genitive ("бездействие миротворцев"). Not "betraying Russia"."""
    if any(t in _AFTER_MARKERS for t in tokens[verb[1] + 1 : agent[0]]):
        return True
    if any(t in _SPEECH for t in tokens[agent[1] + 1 : agent[1] + 5]):  # "Azerbaijan's foreign ministry said"
        return True
    return not tokens[verb[1]].isascii() and agent[0] - verb[1] <= 2


def _object(verb: Place, agent: Place, tokens: Sequence[str]) -> bool:
    """Whether a name after the verb is its object, not the one acting: right after an English verb
    ("betraying Russia", "abandoned the Kremlin") or after a preposition of the object ("ties with Russia",
    "turned to Moscow", "против России"); "betrayed by Moscow" is the agent (`_AFTER_MARKERS`)."""
    before = [t for t in tokens[verb[1] + 1 : agent[0]] if t not in _DETERMINERS]
    if not before:
        return tokens[verb[1]].isascii()
    return before[-1] in _OBJECT_MARKERS


def _marked(agent: Place, tokens: Sequence[str]) -> bool:
    """Whether the word before a name (past a determiner) makes it the doer: "by Moscow", "of the Kremlin".
    Where the same side already spoke before the verb, only this does: "Moscow says Yerevan betrays its
    people by cutting ties with Russia" blames Yerevan."""
    index = agent[0] - 1
    while index >= 0 and tokens[index] in _DETERMINERS:
        index -= 1
    return index >= 0 and tokens[index] in _AFTER_MARKERS


def _free(
    agent: Place, verb_start: int, between: Sequence[Place], before: Sequence[Place], sentence: Sequence[int]
) -> bool:
    if any(agent[1] < b[0] and b[1] < verb_start for b in between):  # "Baku must", "Moscow said Yerevan failed"
        return False
    # "urges Baku to", "calls on the Azerbaijani government to": just before the agent, in its sentence.
    return not any(
        b[1] < agent[0] and agent[0] - b[1] <= BLOCK_REACH and sentence[b[1]] == sentence[agent[0]] for b in before
    )


def last_sentence(sentence: Sequence[int], first_mention: int, summary_start: int) -> int | None:
    """Where the summary's last sentence begins (a token), if the theme's first word in the item
    (`first_mention`) stands in it and the summary has more than one sentence: a passing mention, if all
    the evidence stands there too."""
    last = sentence[-1]
    if summary_start >= len(sentence) or sentence[summary_start] == last or sentence[first_mention] != last:
        return None
    return bisect.bisect_left(sentence, last)
