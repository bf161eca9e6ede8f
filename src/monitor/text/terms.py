"""Words as the matcher sees them, and the term syntax analysts write in themes. Pure.

Text is split into word tokens (letters and digits, any script); each token is case-folded and loses
its accents, so "Xankəndi", "XANKENDI" and "Xankendi" are one token, and "ё" reads as "е".

A *term* is one or more words that must stand next to each other in that order:
- `word` matches that word; a name (a word written with a capital, of 6 or more letters) also
  matches near spellings: transliteration variants and typos ("Karabagh", "Stepanakerd", "Aliev"),
  decided by rapidfuzz in `match/rules.py`. Ordinary words match exactly, so "migrants" never passes for
  "emigrants";
- `word*` matches any word starting with it: `refugee*` (refugee, refugees), `беж*` (беженцы, бежали);
- `~word` and `~word*` also match the word after a Russian verbal prefix (RU_VERB_PREFIXES): `~обеща*` is
  обещал, пообещал; `~блок*` is блокада, заблокировали, разблокировать. Russian makes its verbs' aspect
  and direction with these prefixes, so one stem written once stands for a dozen verbs; opt-in per term,
  since a stem read after any prefix would let `исход*` ("exodus") match "происходит" ("happens");
- `Lachin corridor` matches the two words in a row, each by the rules above;
- `@name` stands for every term of the set `[terms.name]`, so vocabularies are written once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

_TOKEN = re.compile(r"\w+", re.UNICODE)
_TERM_WORD = re.compile(r"~?\w+\*?", re.UNICODE)
# Letters that accent-stripping does not reach but that people type both ways.
_FOLD = str.maketrans({"ə": "e", "ı": "i", "ß": "ss", "ł": "l", "ø": "o", "æ": "ae", "đ": "d"})
# Every ASCII byte that is not a word character (letters, digits, "_": what \w matches in ASCII) -> space.
_ASCII_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_ASCII_SPACES = bytes(b if b in _ASCII_WORD else 32 for b in range(256))
MIN_PREFIX = 3  # `ru*` would match half the language
MIN_NAME = 6  # shorter names are too close to other words to match near spellings
# The prefixes of Russian verbs (and of the nouns made from them), longest first; after one, "ъ" may stand
# before the stem (разъехались). A `~` term's stem is also matched after any of them.
RU_VERB_PREFIXES = tuple(
    sorted(
        """в во вз взо вс воз вос вы до за из изо ис на над надо недо низ нис о об обо от ото пере по под подо
пре пред предо при про раз разо рас с со у""".split(),
        key=lambda p: (-len(p), p),
    )
)


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
    if "~" in leftover or re.search(r"\w~", text):
        raise ValueError(f'{text!r}: `~` may only begin a word, as in "~обеща*"')
    for word in words:
        if word.endswith("*") and len(word.lstrip("~")) - 1 < MIN_PREFIX:
            raise ValueError(f"{text!r}: a prefix needs at least {MIN_PREFIX} letters before `*`")
        if word.startswith("~") and len(word.strip("~*")) < MIN_PREFIX:
            raise ValueError(f"{text!r}: a stem after `~` needs at least {MIN_PREFIX} letters")
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


def without_verb_prefix(word: str) -> list[str]:
    """What a folded word may be after each Russian verbal prefix it begins with (RU_VERB_PREFIXES):
    "заблокировали" -> ["блокировали"]; "пообещал" -> ["обещал", "ообещал"]. Every cut is offered and the
    term index keeps those that are stems it knows; cuts shorter than MIN_PREFIX letters are not offered."""
    out = []
    for prefix in RU_VERB_PREFIXES:
        if word.startswith(prefix):
            rest = word[len(prefix) :]
            if rest.startswith("ъ"):
                rest = rest[1:]
            if len(rest) >= MIN_PREFIX:
                out.append(rest)
    return out


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
