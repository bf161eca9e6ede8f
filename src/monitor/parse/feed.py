"""Feed bytes + response headers -> `ParsedFeed`. Pure: no network, no clock (`now` is given), no disk.

feedparser is handed the downloaded bytes and headers, never a URL, so it never fetches anything itself.
A feed's DTD is never used: its internal subset is dropped before either of feedparser's parsers sees the
document (`_neutral_doctype`), so entity tricks (billion laughs, quadratic blow-up, external entities
naming a local file or a URL) expand nothing and read nothing.
Its own sanitizer is switched off: summaries are cleaned here with nh3 (the Ammonia sanitizer), which is
faster and whose output is what the digests show. A "bozo" (ill-formed) document keeps every entry
feedparser could still read; the reason travels with the result.
"""

from __future__ import annotations

import calendar
import html
import io
import re
import time
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import feedparser.api
import nh3

from ..identity import canonical_url, content_hash, item_key
from ..text.safe import one_line, strip_controls
from ..text.stemming import stem_text
from ..types import Item, ParsedFeed
from . import fast
from .boilerplate import article_html

MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 50_000  # of HTML; plain text is cut at a fifth of that
MAX_TEXT_CHARS = 10_000
# feedparser takes ~0.1 ms per entry and storing and matching as long again: a document of 100,000 entries
# (9 MB, under max_bytes) held a round for over a minute. News feeds carry tens of entries, archives a few
# hundred; past this many the rest of the document is not read.
MAX_ITEMS = 2_000
_ENTRY_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:item|entry)\b")
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)  # servers in odd time zones date items "tomorrow"

# What survives in a summary shown in a digest: text structure and links, nothing that runs, loads or
# tracks (no images: digests must not load remote content).
_SAFE_TAGS = {
    "a",
    "p",
    "br",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ul",
    "ol",
    "li",
    "blockquote",
    "q",
    "cite",
    "code",
    "pre",
    "sub",
    "sup",
    "small",
    "abbr",
    "h3",
    "h4",
    "h5",
    "h6",
}
_SAFE_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
_SAFE_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "noopener noreferrer nofollow"  # links out of a feed: no referrer, no opener, no endorsement
_BLOCK_BOUNDARY = re.compile(
    r"<(?=/?(?:p|br|div|li|ul|ol|h\d|tr|td|th|blockquote|pre|table|section|article)\b)", re.IGNORECASE
)
# Block tags that nh3 removes (keeping their text): a space before each, or "alpha</div><div>beta" would be
# stored as one word.
_DROPPED_BLOCK = re.compile(
    r"<(?=/?(?:div|tr|td|th|table|section|article|header|footer|h1|h2|dd|dt|figcaption)\b)", re.IGNORECASE
)
_SPACES = re.compile(r"\s+")
# feedparser flags these, but the document is a readable feed: a feed served as text/html or with a
# wrong charset label is common and harmless once decoded.
_HARMLESS = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)

# The one entity declaration a feed may keep: a name for one character (`<!ENTITY nbsp "&#160;">`), which
# expands to no more than it is written with.
_CHAR_ENTITY = re.compile(rb'<!ENTITY\s+([A-Za-z_][\w.-]{0,63})\s+(["\'])(&#(?:[0-9]{1,7}|x[0-9A-Fa-f]{1,6});)\2\s*>')
_PROLOG_MISC = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)", re.DOTALL)


def _neutral_doctype(data: bytes) -> tuple[str | None, bytes, dict[str, str]]:
    """Stands in for feedparser's `replace_doctype`, which runs on the document already converted to
    UTF-8 (so a UTF-16 or EBCDIC feed is covered too) right before the strict (expat) and loose parsers.

    feedparser's own version only removes entity declarations that start a line and keeps "safe" ones of
    any length: `<!ENTITY a "AAAA...">` referenced thousands of times made a 32 kB feed cost 200 MB and
    1.3 s, and declarations written on one line reached expat, whose amplification limit only stops a
    billion laughs after some 8 MB of output (1.8 s, 59 MB). Here the whole DOCTYPE goes; only entities
    naming one character come back. Returns (feed version hint, document, entities for the loose parser).
    """
    version = None
    entities: dict[str, str] = {}
    while (span := _doctype_span(data)) is not None:
        start, end = span
        doctype = data[start:end]
        if b"netscape" in doctype.lower():
            version = "rss091n"  # RSS 0.91 (Netscape) is told apart by its DOCTYPE only
        for name, _quote, value in _CHAR_ENTITY.findall(doctype):
            entities[name.decode()] = value.decode()
        data = data[:start] + data[end:]
    if entities:
        declarations = "".join(f'<!ENTITY {name} "{value}">' for name, value in entities.items())
        start = _prolog_end(data)
        data = data[:start] + f"<!DOCTYPE feed [{declarations}]>".encode() + data[start:]
    return version, data, entities


def _prolog_end(data: bytes) -> int:
    position = 0
    while (found := _PROLOG_MISC.match(data, position)) and found.end() > position:
        position = found.end()
    return position


def _doctype_span(data: bytes) -> tuple[int, int] | None:
    """Where the DOCTYPE declaration of the prolog starts and ends (its internal subset included)."""
    start = _prolog_end(data)
    if not data.startswith(b"<!DOCTYPE", start):
        return None
    position, depth, quote = start + 9, 0, 0
    while position < len(data):
        char = data[position]
        if quote:
            quote = 0 if char == quote else quote
        elif data.startswith(b"<!--", position):
            close = data.find(b"-->", position + 4)
            position = len(data) if close < 0 else close + 2
        elif char in b"\"'":
            quote = char
        elif char == ord("["):
            depth += 1
        elif char == ord("]"):
            depth -= 1
        elif char == ord(">") and depth <= 0:
            return start, position + 1
        position += 1
    return start, len(data)  # never closed: all of it was DOCTYPE, and none of it is read


# Installed once, for every parse: feedparser offers no option for it, and the hook is the one place that
# sees the document after its conversion to UTF-8 and before any parser.
feedparser.api.replace_doctype = _neutral_doctype


def parse_feed(
    body: bytes,
    *,
    url: str,
    headers: Mapping[str, str],
    feed_id: int,
    now: datetime,
    language: str | None = None,
    fast_path: bool = True,
) -> ParsedFeed:
    """Parse one feed document. Never raises for bad content: the reason goes in `bozo`. A well-formed
    document goes the fast path (`parse.fast`) unless `fast_path` is False or that path declines it; the
    result is the same either way, only cheaper."""
    # Content-Type carries the charset; links are resolved here (urljoin, nh3), not by feedparser, whose
    # per-element base tracking costs a urljoin for every element.
    response_headers = {k.lower(): v for k, v in headers.items() if k.lower() != "content-location"}
    body, cut = _first_entries(body, MAX_ITEMS)
    document = fast.parse(body, response_headers) if fast_path and not cut else None
    if document is not None:
        feed, entries, version, bozo, parser = document.feed, document.entries, document.version, None, "fast"
    else:
        try:
            # Both of feedparser's HTML passes are off: nh3 sanitizes and resolves relative links in one go,
            # several times faster (bench/ingest.py).
            # In a stream: given bytes, feedparser first tries them as the name of a file to open, so a
            # server answering "/home/user/private.xml" had that local file read and stored as its feed.
            parsed = feedparser.parse(
                io.BytesIO(body), response_headers=response_headers, sanitize_html=False, resolve_relative_uris=False
            )
        except Exception as error:
            return ParsedFeed(title=None, items=(), bozo=f"parser failed: {type(error).__name__}: {error}")
        feed, entries, version, bozo, parser = parsed.feed, parsed.entries, parsed.get("version"), None, "feedparser"
        exception = parsed.get("bozo_exception")
        if parsed.get("bozo") and not isinstance(exception, _HARMLESS):
            bozo = f"{type(exception).__name__}: {exception}" if exception else "ill-formed document"
    feed_language = language or _language(feed.get("language"))
    items: dict[str, Item] = {}
    for entry in entries:
        item = _item(entry, url=url, feed_id=feed_id, now=now, language=feed_language)
        if item is not None:
            items.setdefault(item.key, item)  # a feed that repeats an entry keeps its first copy
    if not items and not version:
        bozo = bozo or "no RSS, Atom or RDF feed found in the document"
    if cut:
        bozo = f"more than {MAX_ITEMS:,} entries: the first {MAX_ITEMS:,} were read, the rest of the document was not"
    title = _plain(feed.get("title", ""))[:MAX_TITLE_CHARS] or None
    return ParsedFeed(title=title, items=tuple(items.values()), bozo=bozo, version=version or None, parser=parser)


def _first_entries(body: bytes, limit: int) -> tuple[bytes, bool]:
    """The document up to the start of its entry number `limit + 1`, and whether it was cut there. The
    cut document is ill-formed; both parsers keep the complete entries before the cut."""
    for count, found in enumerate(_ENTRY_START.finditer(body)):
        if count == limit:
            return body[: found.start()], True
    return body, False


def _item(entry: Any, *, url: str, feed_id: int, now: datetime, language: str | None) -> Item | None:
    """The entry as an Item, or None for an entry with nothing in it (a document cut off mid-entry)."""
    title = _plain(entry.get("title", ""))[:MAX_TITLE_CHARS]
    raw_link = one_line(entry.get("link") or "")
    absolute = _join(url, raw_link) if raw_link else None
    link = canonical_url(absolute) if absolute else None
    absolute = absolute or url
    summary_html = _summary_html(entry, absolute, url)
    summary_text = stored_summary_text(summary_html)
    published, date_source = _date(entry, now)
    guid = one_line(entry.get("id") or "").strip()[:2000] or None
    feed_date = dict.get(entry, "published") or dict.get(entry, "updated")
    if not title and not summary_text:
        if not link and not guid:
            return None
        title = unicodedata.normalize("NFC", link or guid or "")[:MAX_TITLE_CHARS]  # composed, as _plain makes titles
    return Item(
        key=item_key(feed_id, guid, link, title, feed_date),
        title=title,
        link=link,
        summary_html=summary_html,
        summary_text=summary_text,
        published=published,
        date_source=date_source,
        guid=guid,
        author=(_plain(entry.get("author", "")) or None),
        language=_entry_language(entry) or language,
        content_hash=content_hash(title, link, summary_text),
        stems=(stem_text(title), stem_text(summary_text)),
    )


def _join(base: str, link: str) -> str | None:
    """`link` resolved against the feed's URL; None for one urllib cannot even split ("http://[::1")."""
    try:
        return urljoin(base, link)
    except ValueError:
        return None


def _is_http(url: str) -> bool:
    try:
        return urlsplit(url).scheme.lower() in ("http", "https")
    except ValueError:
        return False


def _summary_html(entry: Any, base: str, feed_url: str) -> str:
    """The entry's description as safe HTML; full `content` only when there is no description. Relative
    links resolve against the item's link, or the feed's URL when the item's is not http(s)."""
    detail = entry.get("summary_detail") or {}
    value = entry.get("summary")
    if not value and entry.get("content"):
        detail = entry["content"][0]
        value = detail.get("value")
    if not value:
        return ""
    value = value[:MAX_SUMMARY_CHARS]
    if detail.get("type") == "text/plain":
        value = html.escape(value)
    # nh3 checks the scheme of a link as written, not after joining it to the base: a relative
    # "%0aalert(1)" under an item link "javascript://x/" would come out as a script URL.
    base = next((b for b in (base, feed_url) if _is_http(b)), "")
    # Controls go before nh3 too: removed only after it, "jav\x01ascript:" would become a script link that
    # nh3 had judged relative.
    value = strip_controls(value)
    value = _DROPPED_BLOCK.sub(" <", value)
    safe = partial(
        nh3.clean, value, tags=_SAFE_TAGS, attributes=_SAFE_ATTRIBUTES, url_schemes=_SAFE_SCHEMES, link_rel=_LINK_REL
    )
    try:
        cleaned = safe(url_relative=("rewrite_with_base", base))
    except ValueError:  # a base nh3 cannot use (not an absolute URL): relative links are dropped instead
        cleaned = safe(url_relative="deny")
    # And after: nh3 writes `&#27;` out as the character itself.
    return strip_controls(cleaned).strip()


def stored_summary_text(summary_html: str) -> str:
    """The text stored, searched and matched for a summary sanitized to `summary_html` (items.summary from
    items.summary_html): made again from the stored original when the cleaning improves."""
    return _plain(article_html(summary_html))[:MAX_TEXT_CHARS]


def plain_text(markup: str) -> str:
    """Visible text of an HTML fragment (a title as feeds publish it), as stored and matched."""
    return _plain(markup)[:MAX_TEXT_CHARS]


def summary_text(markup: str) -> str:
    """Visible text of a summary as feeds publish it (HTML), as stored, searched and matched: sanitized as
    a poll does, its boilerplate left out (`boilerplate.py`)."""
    if "<" in markup:
        markup = _BLOCK_BOUNDARY.sub(" <", strip_controls(markup[:MAX_SUMMARY_CHARS]))
        markup = nh3.clean(
            markup, tags=_SAFE_TAGS, attributes=_SAFE_ATTRIBUTES, url_schemes=_SAFE_SCHEMES, url_relative="deny"
        )
    return _plain(article_html(markup))[:MAX_TEXT_CHARS]


def _plain(markup: str) -> str:
    """Visible text of an HTML fragment, one space between blocks and words, no control characters (raw
    or written as `&#27;`: a title must not drive the terminal that shows it)."""
    if not markup:
        return ""
    if "<" in markup:
        markup = nh3.clean(_BLOCK_BOUNDARY.sub(" <", markup), tags=set())
    # NFC: one code point per accented letter, so search and matching see "é" however it was typed.
    return unicodedata.normalize("NFC", _SPACES.sub(" ", one_line(html.unescape(markup))).strip())


def _date(entry: Any, now: datetime) -> tuple[datetime, str]:
    """The entry's date in UTC, and where it came from. An absent or absurd date (year 0, far future)
    falls back to the time the item was first seen."""
    for field, source in (("published_parsed", "published"), ("updated_parsed", "updated")):
        value = dict.get(entry, field)  # plain lookup: feedparser's own maps one field onto the other
        if isinstance(value, time.struct_time):
            try:
                moment = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
            if EARLIEST_PLAUSIBLE <= moment <= now + FUTURE_TOLERANCE:
                return moment, source
    return now, "first_seen"


def _entry_language(entry: Any) -> str | None:
    """An entry's own language: Atom's xml:lang reaches feedparser as the language of its parts."""
    for detail in ("title_detail", "summary_detail"):
        found = _language((entry.get(detail) or {}).get("language"))
        if found:
            return found
    return None


def _language(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    cleaned = value.strip().lower().replace("_", "-")
    return cleaned[:20] if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{1,8})*", cleaned) else None
