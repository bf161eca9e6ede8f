"""Feed bytes + response headers -> `ParsedFeed`. Pure: no network, no clock (`now` is given), no disk.

feedparser is handed the downloaded bytes and headers, never a URL, so it never fetches anything itself.
Its own sanitizer is switched off: summaries are cleaned here with nh3 (the Ammonia sanitizer), which is
faster and whose output is what the digests show. A "bozo" (ill-formed) document keeps every entry
feedparser could still read; the reason travels with the result.
"""

from __future__ import annotations

import calendar
import html
import re
import time
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import nh3

from .identity import canonical_url, content_hash, item_key
from .types import Item, ParsedFeed

MAX_TITLE_CHARS = 1_000
MAX_SUMMARY_CHARS = 50_000  # of HTML; plain text is cut at a fifth of that
MAX_TEXT_CHARS = 10_000
EARLIEST_PLAUSIBLE = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=2)  # servers in odd time zones date items "tomorrow"

# What survives in a summary shown in a digest: text structure and links, nothing that runs, loads or
# tracks (no images: digests must not load remote content).
_SAFE_TAGS = {"a", "p", "br", "b", "strong", "i", "em", "u", "ul", "ol", "li", "blockquote", "q", "cite",
              "code", "pre", "sub", "sup", "small", "abbr", "h3", "h4", "h5", "h6"}
_SAFE_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
_SAFE_SCHEMES = {"http", "https", "mailto"}
_BLOCK_BOUNDARY = re.compile(r"<(?=/?(?:p|br|div|li|ul|ol|h\d|tr|td|th|blockquote|pre|table|section|article)\b)",
                             re.IGNORECASE)
_SPACES = re.compile(r"\s+")
# feedparser flags these, but the document is a readable feed: a feed served as text/html or with a
# wrong charset label is common and harmless once decoded.
_HARMLESS = (feedparser.NonXMLContentType, feedparser.CharacterEncodingOverride)


def parse_feed(body: bytes, *, url: str, headers: Mapping[str, str], feed_id: int, now: datetime,
               language: str | None = None) -> ParsedFeed:
    """Parse one feed document. Never raises for bad content: the reason goes in `bozo`."""
    # Content-Type carries the charset; links are resolved here (urljoin, nh3), not by feedparser, whose
    # per-element base tracking costs a urljoin for every element.
    response_headers = {k.lower(): v for k, v in headers.items() if k.lower() != "content-location"}
    try:
        # Both of feedparser's HTML passes are off: nh3 sanitizes and resolves relative links in one go,
        # several times faster (bench/ingest.py).
        parsed = feedparser.parse(body, response_headers=response_headers, sanitize_html=False,
                                  resolve_relative_uris=False)
    except Exception as error:  # noqa: BLE001 - feedparser has crashed on hostile input before
        return ParsedFeed(title=None, items=(), bozo=f"parser failed: {type(error).__name__}: {error}")
    feed_language = language or _language(parsed.feed.get("language"))
    items: dict[str, Item] = {}
    for entry in parsed.entries:
        item = _item(entry, url=url, feed_id=feed_id, now=now, language=feed_language)
        if item is not None:
            items.setdefault(item.key, item)  # a feed that repeats an entry keeps its first copy
    bozo = None
    exception = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(exception, _HARMLESS):
        bozo = f"{type(exception).__name__}: {exception}" if exception else "ill-formed document"
    if not items and not parsed.get("version"):
        bozo = bozo or "no RSS, Atom or RDF feed found in the document"
    title = _plain(parsed.feed.get("title", ""))[:MAX_TITLE_CHARS] or None
    return ParsedFeed(title=title, items=tuple(items.values()), bozo=bozo, version=parsed.get("version") or None)


def _item(entry: Any, *, url: str, feed_id: int, now: datetime, language: str | None) -> Item | None:
    """The entry as an Item, or None for an entry with nothing in it (a document cut off mid-entry)."""
    title = _plain(entry.get("title", ""))[:MAX_TITLE_CHARS]
    raw_link = entry.get("link") or ""
    absolute = _join(url, raw_link) if raw_link else None
    link = canonical_url(absolute) if absolute else None
    absolute = absolute or url
    summary_html = _summary_html(entry, absolute, url)
    summary_text = _plain(summary_html)[:MAX_TEXT_CHARS]
    published, date_source = _date(entry, now)
    guid = (entry.get("id") or "").strip()[:2000] or None
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
    try:
        return nh3.clean(value, tags=_SAFE_TAGS, attributes=_SAFE_ATTRIBUTES, url_schemes=_SAFE_SCHEMES,
                         link_rel="noopener noreferrer nofollow", url_relative=("rewrite_with_base", base)).strip()
    except ValueError:  # a base nh3 cannot use (not an absolute URL): relative links are dropped instead
        return nh3.clean(value, tags=_SAFE_TAGS, attributes=_SAFE_ATTRIBUTES, url_schemes=_SAFE_SCHEMES,
                         link_rel="noopener noreferrer nofollow", url_relative="deny").strip()


def plain_text(markup: str) -> str:
    """Visible text of an HTML fragment (a summary as feeds publish it), as stored and matched."""
    return _plain(markup)[:MAX_TEXT_CHARS]


def _plain(markup: str) -> str:
    """Visible text of an HTML fragment, one space between blocks and words."""
    if not markup:
        return ""
    if "<" in markup:
        markup = nh3.clean(_BLOCK_BOUNDARY.sub(" <", markup), tags=set())
    # NFC: one code point per accented letter, so search and matching see "é" however it was typed.
    return unicodedata.normalize("NFC", _SPACES.sub(" ", html.unescape(markup)).strip())


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
