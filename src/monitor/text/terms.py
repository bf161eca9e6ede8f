"""Words as the matcher sees them, and the term syntax analysts write in themes. Pure.

Text is split into word tokens (letters and digits, any script); each token is case-folded and loses
its accents, so "Xankəndi", "XANKENDI" and "Xankendi" are one token, and "ё" reads as "е".

A *term* is one or more words that must stand next to each other in that order:
- `word` matches that word; a name (a word written with a capital, of 6 or more letters) also
  matches near spellings: transliteration variants and typos ("Karabagh", "Stepanakerd", "Aliev"),
  decided by rapidfuzz in `match/rules.py`. Ordinary words match exactly, so "migrants" never passes for
  "emigrants";
- `word*` matches any word starting with it: `refugee*` (refugee, refugees), `беж*` (беженцы, бежали);
- `Lachin corridor` matches the two words in a row, each by the rules above;
- `@name` stands for every term of the set `[terms.name]`, so vocabularies are written once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

_TOKEN = re.compile(r"\w+", re.UNICODE)
_TERM_WORD = re.compile(r"\w+\*?", re.UNICODE)
# Letters that accent-stripping does not reach but that people type both ways.
_FOLD = str.maketrans({"ə": "e", "ı": "i", "ß": "ss", "ł": "l", "ø": "o", "æ": "ae", "đ": "d"})
# Every ASCII byte that is not a word character (letters, digits, "_": what \w matches in ASCII) -> space.
_ASCII_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ASCII_SPACES = bytes(b if b in _ASCII_WORD else 32 for b in range(256))
MIN_PREFIX = 3  # `ru*` would match half the language
MIN_NAME = 6  # shorter names are too close to other words to match near spellings


def fold(text: str) -> str:
    """Case-fold and strip accents: the form every comparison uses."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_FOLD)


def words(text: str) -> list[str]:
    """The words of `text` as written, exactly what `\\w+` finds: for ASCII text by translating every other
    character to a space and splitting, several times faster than the regular expression."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_SPACES).decode("ascii").split()
    return _TOKEN.findall(text)


def tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """(folded word, start, end) for each word of `text`; offsets index the original text."""
    for match in _TOKEN.finditer(text):
        yield fold(match.group()), match.start(), match.end()


def parse_term(text: str) -> tuple[str, ...]:
    """A term as folded words (a trailing `*` kept). Raises ValueError with what is wrong."""
    if text.startswith("@"):
        raise ValueError(f"{text!r} is a reference to a term set, not a term")
    words = tuple(fold(w) for w in _TERM_WORD.findall(text))
    if not words:
        raise ValueError(f"{text!r} has no words in it")
    leftover = _TERM_WORD.sub("", text)
    if "*" in leftover:
        raise ValueError(f'{text!r}: `*` may only end a word, as in "refugee*"')
    for word in words:
        if word.endswith("*") and len(word) - 1 < MIN_PREFIX:
            raise ValueError(f"{text!r}: a prefix needs at least {MIN_PREFIX} letters before `*`")
    return words


def check_phrase(text: str) -> None:
    """A phrase is matched by its words: one without any could never match. Raises ValueError."""
    if not _TOKEN.search(text):
        raise ValueError(f"phrase {text!r} has no words in it, so it could never match")


def term_words(text: str) -> tuple[tuple[str, bool], ...]:
    """(folded word, may match near spellings) for each word of a valid term."""
    parse_term(text)
    return tuple(
        (fold(w), w[:1].isupper() and len(w) >= MIN_NAME and not w.endswith("*")) for w in _TERM_WORD.findall(text)
    )


def expand(entries: tuple[str, ...], sets: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """Replace each `@name` by the terms of that set. Raises ValueError for an unknown set."""
    out: list[str] = []
    for entry in entries:
        if entry.startswith("@"):
            name = entry[1:]
            if name not in sets:
                known = ", ".join("@" + n for n in sets) or "none defined"
                raise ValueError(f"unknown term set {entry!r}; define it under [terms] (known: {known})")
            out.extend(sets[name])
        else:
            parse_term(entry)
            out.append(entry)
    return tuple(dict.fromkeys(out))
