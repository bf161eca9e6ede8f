"""A summary's HTML -> the same without what is not the article. Pure.

Feeds pad their descriptions with the outlet's furniture: a list of related-article links between the lede
and the text (one outlet's "related" link about Putin made an exodus feature match putin_blame, issue 13),
"Continue reading..." and share buttons at the end, a blog engine's "The post ... appeared first on ...".
That text is not what the item says, so it is kept out of matching, search and display; the sanitized
original stays in `items.summary_html`.

The rules are about shape, never about a site:
- a list (`ul`, `ol`) whose text is mostly link text (`LINK_SHARE`) is a list of links;
- a paragraph that is mostly link text is one too when it has two links or more, or one after a label
  such as "Related:" or "Read more:" (a sentence with a link in it is article text);
- at the end, a short line or a closing link that only says "continue reading", "read more", "share",
  "tweet", "The post ... appeared first on ..." (`_TRAILING`) goes, and again until none is left.
Input is HTML whose tags are balanced (nh3's output); anything else gives a rougher cut, never an error.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_left
from dataclasses import dataclass

LINK_SHARE = 0.75  # of a block's letters and digits inside links, from which it is a list of links
TRAILING_CHARS = 120  # a closing line longer than this is text, whatever it starts with
_WINDOW = 4_000  # characters of HTML read from the end for closing lines (links' addresses are long)
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>")
_WORD = re.compile(r"[^\W_]")
_NOT_LETTER = re.compile(r"[\W_]")
_COUNTED_TAG = re.compile(r"<(/?)(a|p|ul|ol)\b[^>]*>", re.IGNORECASE)
_LINK = re.compile(r"<a\b", re.IGNORECASE)
_LINK_BLOCK = re.compile(r"<(?:p|ul|ol)\b", re.IGNORECASE)
_BOUNDARY = re.compile(
    r"</?(?:p|br|div|li|ul|ol|h\d|tr|td|th|blockquote|pre|table|section|article)\b[^>]*>", re.IGNORECASE
)
_LABEL = re.compile(
    r"\W*(?:related(?: (?:articles?|stories|content|coverage|reading|links?))?|read (?:more|also|next)|"
    r"see also|also read|more(?: on this(?: story)?| stories| news)?|recommended|"
    r"читайте также|читать также|см\. также|по теме|смотрите также)\W*",
    re.IGNORECASE,
)
_NETWORKS = r"(?:facebook|twitter|whatsapp|telegram|linkedin|reddit|pinterest|e-?mail|vkontakte|print|copy link)"
_TRAILING = re.compile(
    r"(?:(?:continue(?:d)? reading|read more|read on|more)(?:\s*:\s*.+|\s+(?:on|at|in|from)\s+.+)?"
    r"|read the (?:full|whole|rest of the|complete|original) .*"
    r"|(?:view|see|read) (?:the )?(?:full|original) (?:story|article|post)\b.*|full (?:story|article)\b.*"
    r"|(?:share|tweet|email|print|pin)(?: (?:this|it|on|via|with|to)\b.*)?"
    rf"|{_NETWORKS}(?:\W+{_NETWORKS})*"
    r"|(?:the|this) (?:post|article|entry|story) .{0,300}(?:appeared|was published|was first published) "
    r"(?:first |originally )?(?:on|in|at) .*"
    r"|(?:читать (?:далее|дальше|полностью)|подробнее)(?:\s*:\s*.+|\s+(?:на|в|во)\s+.+)?"
    r"|поделиться(?:\s+(?:в|во|с)\s+.+)?)",
    re.IGNORECASE | re.DOTALL,
)
_TRAILING_LONG = re.compile(r"(?:the|this) (?:post|article|entry|story) ", re.IGNORECASE)  # quotes a title
# The words a closing line can start with (`_TRAILING`), found before reading the line: tags, entities and
# punctuation ahead of it skipped (alternatives with no first character in common: no backtracking).
_FIRST_WORD = re.compile(
    rf"(?:<[^>]*>|&#?\w+;|[^\w<&])*(?:continue|read|more|view|see|full|share|tweet|email|print|pin|the|this|"
    rf"{_NETWORKS}|читать|подробнее|поделиться)\b",
    re.IGNORECASE,
)
_HAS_TEXT = re.compile(r"(?:^|>)(?:[^<&\w]|_|&#?\w+;)*[^\W_]")
# After the link: only spaces, punctuation and tags. The alternatives share no first character, so a
# failed match backtracks linearly.
_LAST_LINK = re.compile(
    r"<a\b[^>]*>((?:(?!</?a\b).)*)</a>((?:&nbsp;|&#160;|[^\w<&]|<[^>]*>)*)$", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True, slots=True)
class _Tally:
    """Running counts up to a point of the document; a block's own are the difference of two."""

    letters: int = 0
    in_links: int = 0
    links: int = 0


def article_html(markup: str) -> str:
    """`markup` without lists of links and trailing boilerplate lines; unchanged when it has none."""
    if not markup or ("<" not in markup and len(markup) > 4 * TRAILING_CHARS):
        return markup
    if _LINK.search(markup) and _LINK_BLOCK.search(markup):
        markup = _without_link_blocks(markup)
    return _without_trailing(markup)


def _without_link_blocks(markup: str) -> str:
    """Lists and paragraphs of links cut out. Counts are running totals, so however deep blocks nest each
    piece of text is counted once."""
    drops: list[tuple[int, int]] = []
    open_blocks: list[tuple[str, int, _Tally]] = []
    link_starts: list[int] = []
    tally, in_link, position = _Tally(), 0, 0
    for tag in _COUNTED_TAG.finditer(markup):
        if tag.start() > position:
            letters = _letters(markup[position : tag.start()])
            tally = _Tally(tally.letters + letters, tally.in_links + (letters if in_link else 0), tally.links)
        position = tag.end()
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if name == "a":
            in_link = max(0, in_link - 1) if closing else in_link + 1
            if not closing:
                tally = _Tally(tally.letters, tally.in_links, tally.links + 1)
                link_starts.append(tag.start())
        elif not closing:
            open_blocks.append((name, tag.start(), tally))
        else:
            found = next((n for n in range(len(open_blocks) - 1, -1, -1) if open_blocks[n][0] == name), None)
            if found is None:
                continue  # a stray end tag
            _, start, before = open_blocks[found]
            del open_blocks[found:]
            own = _Tally(tally.letters - before.letters, tally.in_links - before.in_links, tally.links - before.links)
            first_link = link_starts[bisect_left(link_starts, start)] if own.links else start
            if _is_link_list(name, own, markup[start:first_link]):
                drops.append((start, tag.end()))
    if not drops:
        return markup
    out, position = [], 0
    for start, end in sorted(drops):
        if start >= position:  # a block inside one already dropped went with it
            out.append(markup[position:start])
            position = end
    out.append(markup[position:])
    return "".join(out)


def _letters(markup: str) -> int:
    """Letters and digits of a piece of HTML (its tags left out, its entities read)."""
    if "<" in markup:
        markup = _TAG.sub("", markup)
    if "&" in markup:
        markup = html.unescape(markup)
    return len(markup) - len(_NOT_LETTER.findall(markup)) if markup else 0


def _is_link_list(tag: str, own: _Tally, before_link: str) -> bool:
    if not own.links or not own.in_links:
        return False
    letters = own.letters
    if tag == "p":
        label = _text(before_link)
        labelled = bool(label) and bool(_LABEL.fullmatch(label))
        if own.links < 2 and not labelled:
            return False
        if labelled:
            letters -= len(_WORD.findall(label))
    return own.in_links >= LINK_SHARE * max(letters, 1)


def _without_trailing(markup: str) -> str:
    """Drop closing lines and links that only point elsewhere or share, as long as the end is one."""
    for _ in range(8):  # a feed stacks a few ("Share", "Tweet", "Continue reading"): a bound, not a loop forever
        shorter = _drop_last_line(markup)
        if shorter is None:
            shorter = _drop_last_link(markup)
        if shorter is None:
            return markup
        markup = shorter
    return markup


def _drop_last_line(markup: str) -> str | None:
    # Only the end is read: a line longer than the window is no short closing line.
    window = max(0, len(markup) - _WINDOW)
    bounds = [window, *(p for m in _BOUNDARY.finditer(markup, window) for p in (m.start(), m.end())), len(markup)]
    for index in range(len(bounds) - 2, -1, -2):  # the pieces between boundary tags, last first
        start, end = bounds[index], bounds[index + 1]
        piece = markup[start:end]
        if not _HAS_TEXT.search(piece):
            continue
        if start == window > 0 or not _FIRST_WORD.match(piece):  # most last lines: no need to read them
            return None
        return markup[:start] + markup[end:] if _is_trailing(_text(piece)) else None
    return None


def _drop_last_link(markup: str) -> str | None:
    found = _LAST_LINK.search(markup, max(0, len(markup) - _WINDOW))
    if found is None or not _is_trailing(_text(found.group(1))):
        return None
    return markup[: found.start()] + found.group(2)


def _is_trailing(text: str) -> bool:
    bound = 4 * TRAILING_CHARS if _TRAILING_LONG.match(text) else TRAILING_CHARS
    return len(text) <= bound and bool(_TRAILING.fullmatch(text))


def _text(markup: str) -> str:
    """Visible text of a piece, its spaces made one and punctuation at its edges ("...", "»", "|") gone."""
    text = " ".join(html.unescape(_TAG.sub(" ", markup)).split())
    start, end = 0, len(text)
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        end -= 1
    return text[start:end]
