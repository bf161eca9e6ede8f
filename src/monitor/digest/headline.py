"""What a headline says, for grouping reports into events (`events.py`). Pure.

A headline is read as an editor reads it: its lead (the first clause, the happening it leads with), the rest
(background, a second happening, an attribution), its genre (a live blog, an explainer, opinion or a
round-up leads with no specific happening), and its counts ("50,000 have fled": a milestone).

The lead is the headline after a kicker ("Nagorno-Karabakh conflict:", "Armenpress:", a quotation before a
colon) and before the first joint where a second clause begins: ";", a dash between spaces, "|", and the
conjunctions that join a second happening or its background (" as ", " after ", " amid ", " while ",
", and", ", but"; Russian "на фоне", "после", ", а"). These joints were read off how wire and newspaper
headlines are written ("X happens as Y", "X happens; Y says", "X happens - Y"), not tuned: a comma alone
is not one (it separates a list of actors as often as two clauses), and neither is " and " (the actors of
one happening, "Armenia and Azerbaijan agree").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A kicker: a few words (a topic, an outlet, a speaker) or a quotation before a colon.
KICKER_WORDS = 3
_COLON = re.compile(r":\s+")
_QUOTED = re.compile(r"^\s*[\"'‘’“”«].*[\"'‘’“”»]\s*$")
_JOINT = re.compile(
    r"\s*;\s*|\s+[-–—|]\s+|\s+(?:as|after|amid|while|but|following|in (?:the )?wake of)\s+|,\s+(?:and|but|as)\s+"
    r"|\s+(?:на фоне|после того как|после|пока)\s+|,\s+(?:а|но|и)\s+"
    r"|,\s+(?:which|who|whose|что|который|которая|которое|которые|которого|которой)\s+",
    re.IGNORECASE,
)
# ", Russian foreign ministry says": an attribution, not a second happening.
_SAYS = re.compile(r",\s+[^,]{2,60}\b(?:says?|said|reports?|claims?|сообщает|сообщили|заявил[аи]?)\s*$", re.I)
_WORDS_IN = re.compile(r"\w+")
_OPENING = re.compile(
    r"(?:as|after|amid|while|with|despite|though|although|once|when|на фоне|после|пока|когда)\s[^,;:]{3,80},\s+",
    re.IGNORECASE,
)

# Genres that lead with no specific happening (folded headline). A question is one too: it asks, it does
# not report ("Are Armenia and Azerbaijan heading to another conflict?").
_GENRES = {
    "live": r"(?:^|[-–—|:(]\s*)live\b|\blive:|\blive(?:\s+(?:updates?|blog|news|coverage|broadcast|video))\b|\blive\)?$"
    r"|as it happened|онлайн|прям(?:ой|ая) (?:эфир|трансляция)|хроника событий",
    "explainer": r"\bwhat (?:we know|to know|is|are|happened|next)\b|\bexplained\b|\bexplainer\b|\bq&a\b"
    r"|^(?:why|how|who|what)\b|что известно|что происходит|^почему\b|^как\b|объясняем",
    "opinion": r"\bopinion\b|\banalysis\b|\b(?:the|our) view\b|\bcomment(?:ary)?\b|\beditorial\b|\bletters?\b"
    r"|\bessay\b|\bcolumn\b|\breview\b|мнение|колонка|аналитика|комментарий",
    "round-up": r"\bweek in\b|\bbriefing\b|\bof the week\b|\bin pictures\b|\bnewsletter\b|\bround-?up\b"
    r"|главное за|итоги (?:недели|дня)|дайджест",
    # Asked at its end, or by its first sentence ("Exodus and ethnic cleansing? The sudden end of a dream").
    "question": r"\?\s*$|\?\s+\w",
}
_GENRE = re.compile("|".join(f"(?P<{name.replace('-', '_')}>{pattern})" for name, pattern in _GENRES.items()))
# " - BBC News", " | Reuters": the outlet's name in the title says nothing about the happening
_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")

# A count: "50,000", "50 000", "100.000", "70%", "120000"; not a year ("2023") nor a lone digit.
_COUNT = re.compile(r"(?<![\w.,])(\d{1,3}(?:[ ,.\u00a0\u202f]\d{3})+|\d+)(\s*%| ?per ?cent| ?процент)?(?![\w])")
# A figure of distance, time or money measures, it counts no one: "100 miles of road", "a 30-year conflict",
# "$50 million".
_MEASURE = re.compile(
    r"[\s-]*(?:miles?|km|kilomet(?:er|re)s?|met(?:er|re)s?|hours?|days?|weeks?|months?|years?|decades?|tonnes?|tons?"
    r"|dollars?|euros?|million|billion|км|километр\w*|миль|час\w*|дн\w*|недел\w*|месяц\w*|лет|год\w*|тонн\w*"
    r"|долл\w*|евро|млн|млрд)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(r"[$€£₽]\s*$")


@dataclass(frozen=True, slots=True)
class Headline:
    lead: str  # the first clause: the happening the headline leads with
    rest: str  # everything else of it: kicker, background, a second happening, attribution
    genre: str | None  # "live", "explainer", "opinion", "round-up", "question": stands alone
    counts: frozenset[int]  # the figures it gives (percentages as negative numbers, to differ)


def read(title: str) -> Headline:
    """The headline's parts; its genre is the whole headline's (" - live updates" is no outlet's name), its
    lead and rest are read without an outlet's name after a dash."""
    text = title.strip()
    kicker, body = _unkicked(_SUFFIX.sub("", text))
    lead, rest = _first_clause(body)
    # The genre is read after a kicker too: "Sample: what the truce means" is an explainer.
    kind = genre(text) or (genre(body) if kicker else None)
    return Headline(lead, f"{kicker} {rest}".strip(), kind, counts(text))


def _unkicked(text: str) -> tuple[str, str]:
    """The kicker(s) before a colon, and what follows ("Armenpress: Armenia needs ...: Nikol Pashinyan":
    the outlet is a kicker, the speaker after the last colon is an attribution, left in the body's rest)."""
    kicker: list[str] = []
    body = text
    while (found := _COLON.search(body)) is not None:
        head = body[: found.start()]
        if len(_WORDS_IN.findall(head)) > KICKER_WORDS and not _QUOTED.match(head):
            break
        kicker.append(head)
        body = body[found.end() :]
    return " ".join(kicker), body


def _first_clause(body: str) -> tuple[str, str]:
    # "As refugees flee, Turkey eyes the map": the clause opened by a conjunction is the background; the
    # headline leads with what follows its comma.
    opened = _OPENING.match(body)
    if opened:
        return body[opened.end() :], body[: opened.end()].rstrip(", ")
    said = _SAYS.search(body)
    attribution = ""
    if said and said.start() > 0:
        body, attribution = body[: said.start()], body[said.start() :]
    # A lead of one or two words ("Large explosion") is still the lead; one of none is not.
    for joint in _JOINT.finditer(body):
        if joint.start() > 0 and len(_WORDS_IN.findall(body[: joint.start()])) >= 2:
            return body[: joint.start()], f"{body[joint.end() :]} {attribution}".strip()
    return body, attribution


def genre(title: str) -> str | None:
    found = _GENRE.search(title.casefold().strip())
    return found.lastgroup.replace("_", "-") if found and found.lastgroup else None


def counts(title: str) -> frozenset[int]:
    """The figures of a headline: counts of 10 and more ("20 dead", "50,000 fled") and percentages; years
    (1900 to 2100 written without a separator) are dates, and distances, spans and sums measures, not counts."""
    found: set[int] = set()
    for match in _COUNT.finditer(title):
        if _MEASURE.match(title, match.end()) or _MONEY.search(title, 0, match.start()):
            continue
        digits = re.sub(r"\D", "", match.group(1))
        value = int(digits)
        if match.group(2):
            found.add(-value)
        elif value >= 10 and not (len(match.group(1)) == 4 and 1900 <= value <= 2100):
            found.add(value)
    return frozenset(found)
