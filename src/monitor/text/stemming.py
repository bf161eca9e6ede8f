"""PURE: words reduced to their stems, per language, for full-text search in every language of the feeds.

SQLite's porter tokenizer stems English only: "беженцы" never found "беженцев". Here each word is stemmed
with the Snowball stemmer of its script (Cyrillic: Russian, Armenian script: Armenian, Latin: English;
other scripts are kept as written), so one rule serves a feed's items, a mixed-language item and a query,
which has no language of its own. The store indexes the stemmed text (`items_stemmed`) and searches it
with the query stemmed the same way (`search_query`); results show the original text, highlighted here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import product

import Stemmer

from .terms import words

WORD = re.compile(r"\w+")
# A bareword of the FTS5 query syntax, a "phrase" ("" inside is a quote), or one character of syntax.
_QUERY_TOKEN = re.compile(r'"(?:[^"]|"")*"?|[^\s()"*:^+,]+|\S')
_OPERATORS = {"AND", "OR", "NOT"}
# Russian noun and adjective endings: a query word is also searched as its stem with each of them, since the
# stemmer cuts some words differently by case ("Карабах" -> "караб" but "Карабаха" -> "карабах").
_RU_ENDINGS = (
    "",
    "а",
    "у",
    "е",
    "ом",
    "ы",
    "и",
    "ов",
    "ам",
    "ами",
    "ах",
    "ой",
    "ей",
    "ю",
    "я",
    "ям",
    "ями",
    "ях",
    "ий",
    "ая",
    "ое",
    "ые",
    "ых",
    "ым",
    "ого",
    "ому",
    "ую",
)
_MAX_PHRASE_FORMS = 16  # a phrase's words' alternatives multiply: beyond this, each word's own stem only
SNIPPET_WORDS = 16


@dataclass(frozen=True, slots=True)
class Term:
    stem: str
    prefix: bool = False


def language_of(word: str) -> str | None:
    """The Snowball stemmer for a word's script: its first letter decides."""
    for char in word:
        code = ord(char)
        if 0x0400 <= code <= 0x052F:
            return "russian"
        if 0x0531 <= code <= 0x058F or 0xFB13 <= code <= 0xFB17:
            return "armenian"
        if char.isascii() and char.isalpha() or 0x00C0 <= code <= 0x024F:
            return "english"
        if char.isalpha():
            return None
    return None


@cache
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(language)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A word's stem, lower case ("ё" read as "е", as Russian text mostly writes it)."""
    lower = word.lower().replace("ё", "е")
    language = language_of(lower)
    return _stemmer(language).stemWord(lower) if language else lower


_known: dict[str, str] = {}  # stem_text's own cache: an inline dict lookup is cheaper than a call to stem()
_KNOWN_MAX = 200_000


def stem_text(text: str) -> str:
    """The text as its words' stems, separated by spaces: what the search index holds."""
    known = _known
    return " ".join([known[w] if w in known else _learn(w) for w in words(text)])


def _learn(word: str) -> str:
    if len(_known) >= _KNOWN_MAX:
        _known.clear()
    found = _known[word] = stem(word)
    return found


def alternatives(word: str) -> list[str]:
    """The stems a query word stands for: its own, and for Russian those of its other case forms."""
    own = stem(word)
    if language_of(word) != "russian":
        return [own]
    lower = word.lower().replace("ё", "е")
    found = {stem(base + ending) for base in (lower, own) for ending in _RU_ENDINGS}
    # Only the word itself, when it is the stem of its other forms ("карабах" of "карабаха"), and stems that
    # its stem begins with ("караб" of "карабах"): other stems made by adding endings are other words.
    return [own, *sorted(s for s in found - {own} if s == lower or (len(s) >= 3 and own.startswith(s)))]


def _prefix(word: str) -> str:
    """A prefix query word as a prefix of stems: the part it shares with its stem ("happy*" -> "happ")."""
    lower, own = word.lower().replace("ё", "е"), stem(word)
    shared = 0
    while shared < min(len(lower), len(own)) and lower[shared] == own[shared]:
        shared += 1
    return lower[:shared] or lower


def _quoted(stem_: str) -> str:
    return '"' + stem_.replace('"', '""') + '"'


def search_query(query: str) -> str:
    """An FTS5 query (words, "phrases", OR, AND, NOT, NEAR, prefix*, column:, parentheses) with its words
    replaced by their stems, for the stemmed index. The syntax is kept as written (an AND is said where a
    word became a group of alternatives), so a query that was not valid FTS5 stays invalid and the caller
    falls back to plain words."""
    tokens = _QUERY_TOKEN.findall(query)
    out: list[str] = []
    near_depth = 0  # inside NEAR(...) only phrases are allowed: one stem per word
    depth = 0
    for n, token in enumerate(tokens):
        following = tokens[n + 1] if n + 1 < len(tokens) else ""
        if token == "(":
            depth += 1
            if out and out[-1] == "NEAR" and not near_depth:
                near_depth = depth
            elif not near_depth:
                _and_after_operand(out)
            out.append(token)
        elif token == ")":
            if depth == near_depth:
                near_depth = 0
            depth -= 1
            out.append(token)
        elif token in _OPERATORS or (token == "NEAR" and following == "("):
            out.append(token)
        elif following == ":" or not (token[0] == '"' or WORD.match(token)) or (near_depth and out[-1] == ","):
            out.append(token)  # a column name, syntax, or NEAR's distance
        else:
            phrase = token[0] == '"'
            inner = token[1:-1] if len(token) > 1 and token.endswith('"') else token[1:]  # closed if unclosed
            words = WORD.findall(inner.replace('""', '"') if phrase else token)
            operand = _words(words, prefix=following == "*", single=bool(near_depth), phrase=phrase)
            if not near_depth:
                _and_after_operand(out)
            out.append(operand)
    return " ".join(out).replace(" *", "*").replace(" :", ":")


def _and_after_operand(out: list[str]) -> None:
    """FTS5 reads "a b" as a AND b, but not "a (b OR c)" nor "(a OR b) c": a word stemmed into a group of
    alternatives needs the AND said."""
    if out and (out[-1].endswith(('"', ")")) or out[-1] == "*"):
        out.append("AND")


def _words(words: list[str], *, prefix: bool, single: bool, phrase: bool) -> str:
    if not words:
        return '""'
    if prefix:
        head = [stem(w) for w in words[:-1]]
        return _quoted(" ".join([*head, _prefix(words[-1])])) if phrase or head else _quoted(_prefix(words[-1]))
    forms = [[stem(w)] if single else alternatives(w) for w in words]
    if len(words) > 1 and _count(forms) > _MAX_PHRASE_FORMS:
        forms = [f[:1] for f in forms]
    phrases = [_quoted(" ".join(p)) for p in product(*forms)]
    return phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"


def _count(forms: list[list[str]]) -> int:
    total = 1
    for f in forms:
        total *= len(f)
    return total


def query_terms(stemmed_query: str) -> list[Term]:
    """The stems a stemmed query looks for (every word of its phrases), to highlight them."""
    terms = []
    for match in re.finditer(r'"((?:[^"]|"")*)"(\*?)', stemmed_query):
        words = match.group(1).replace('""', '"').split()
        for n, word in enumerate(words):
            terms.append(Term(word, prefix=bool(match.group(2)) and n == len(words) - 1))
    return terms


def snippet(title: str, summary: str, terms: list[Term], words: int = SNIPPET_WORDS) -> str:
    """The part of the title or summary (whichever has more hits) with the most hits within `words` words,
    hits in [brackets], cuts marked with "…": the original text, as FTS5's snippet() shows it."""
    best = max(((_hits(text, terms), text) for text in (title, summary)), key=lambda pair: len(pair[0][1]))
    (spans, hits), text = best
    if not spans:
        return ""
    start = _densest(hits, len(spans), words)
    end = min(len(spans), start + words)
    parts = ["…" if start else ""]
    hit_set = set(hits)
    for n in range(start, end):
        word_start, word_end = spans[n]
        gap_from = spans[n - 1][1] if n > start else word_start
        parts.append(text[gap_from:word_start])
        word = text[word_start:word_end]
        parts.append(f"[{word}]" if n in hit_set else word)
    parts.append("…" if end < len(spans) else "")
    return "".join(parts)


def _hits(text: str, terms: list[Term]) -> tuple[list[tuple[int, int]], list[int]]:
    exact = {t.stem for t in terms if not t.prefix}
    prefixes = tuple(t.stem for t in terms if t.prefix)
    spans = [m.span() for m in WORD.finditer(text)]
    known = _known
    hits = []
    for n, (start, end) in enumerate(spans):
        word = text[start:end]
        found = known[word] if word in known else _learn(word)
        if found in exact or (prefixes and found.startswith(prefixes)):
            hits.append(n)
    return spans, hits


def _densest(hits: list[int], total: int, words: int) -> int:
    """The first word of the `words`-word window with the most hits (the earliest such)."""
    if not hits:
        return 0
    best_start, best_count = 0, -1
    for first in hits:
        start = max(0, min(first - words // 4, total - words))
        count = sum(1 for h in hits if start <= h < start + words)
        if count > best_count:
            best_start, best_count = start, count
    return best_start
