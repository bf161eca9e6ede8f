"""PURE: feedparser's reading of element names, attributes and text values, as tables and small functions
that the fast path (`parse.fast`) follows. The tables come from feedparser itself where it has them (its
namespace table, the handlers it defines, FeedParserDict's key aliases), so an upgrade of feedparser that
adds a handler makes the fast path decline that element rather than read it otherwise."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from feedparser.api import StrictFeedParser
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from feedparser.util import FeedParserDict

# feedparser's table of namespaces it knows, by lower-cased URI: "" for the feed formats' own, else its prefix.
KNOWN: dict[str, str] = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
STANDARD_PREFIXES = {prefix.lower() for prefix in KNOWN.values() if prefix}
USERLAND = "http://backend.userland.com/rss"
XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
RDF_NAMESPACE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"
# Default namespaces whose declaration alone sets feedparser's version (`track_namespace`).
VERSION_OF_NAMESPACE = {
    "http://my.netscape.com/rdf/simple/0.9/": "rss090",
    "http://purl.org/rss/1.0/": "rss10",
    "http://www.w3.org/2005/atom": "atom10",
}
# Every element name feedparser has a start or end handler for ("dc_creator", "title").
HANDLED = {name.split("_", 2)[2] for name in dir(StrictFeedParser) if name.startswith(("_start_", "_end_"))}
# The keys of an entry (or the feed) that parse.feed reads: an unknown element stored under one of these (directly,
# or through FeedParserDict's aliases such as "date" -> "updated") would change what is read.
READ_KEYS = {
    "title",
    "title_detail",
    "link",
    "id",
    "summary",
    "summary_detail",
    "content",
    "author",
    "published",
    "published_parsed",
    "updated",
    "updated_parsed",
    "language",
}
ALIASED = {
    alias for alias, key in FeedParserDict.keymap.items() if (key[0] if isinstance(key, list) else key) in READ_KEYS
}
TITLES = {"title", "dc_title"}
SUMMARIES = {"description", "dc_description", "summary"}
CONTENTS = {"content", "content_encoded"}
AUTHORS = {"author", "dc_creator", "dc_author"}
PUBLISHED = {"pubdate", "published", "issued", "dcterms_issued"}
UPDATED = {"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"}
AUTHOR_PARTS = {"name", "email", "uri", "url", "homepage"}
# Elements feedparser handles that change nothing parse.feed reads, as long as they hold no elements.
HARMLESS_LEAVES = {
    "category",
    "dc_subject",
    "keywords",
    "media_category",
    "media_keywords",
    "itunes_keywords",
    "enclosure",
    "media_thumbnail",
    "media_rating",
    "media_credit",
    "media_restriction",
    "media_license",
    "media_player",
    "generator",
    "cloud",
    "created",
    "dcterms_created",
    "expirationdate",
    "itunes_image",
    "itunes_explicit",
    "itunes_block",
    "itunes_name",
    "itunes_email",
}
# Nominally text, read as content by feedparser (`push_content`): leaves, of a type that is plain text or HTML.
HARMLESS_CONTENT = {"rights", "copyright", "dc_rights", "subtitle", "tagline", "itunes_subtitle", "info"}
FEED_ONLY = {
    "link",
    "id",
    "guid",
    "description",
    "dc_description",
    "webmaster",
    "managingeditor",
    "dc_publisher",
    "itunes_author",
    "author",
    "dc_creator",
    "dc_author",
    "newlocation",
    "admin_generatoragent",
    "admin_errorreportsto",
    *PUBLISHED,
    *UPDATED,
}
IMAGE_PARTS = {"title", "link", "description", "url", "width", "height"}
TEXTINPUT_PARTS = {"title", "link", "description", "name"}
# Handled or not, these only hold what is harmless (checked child by child).
CONTAINERS = {"media_group", "media_content", "itunes_owner", "itunes_category"}
HTMLISH = {"text/html", "application/xhtml+xml"}
NAMESPACE_DECLARATION = re.compile(rb"""\sxmlns(?::([^\s=/>]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
looks_like_html = _FeedParserMixin.looks_like_html


class Declined(Exception):
    """The fast path cannot promise feedparser's result for this document."""


def text_value(raw: str, *, relative: bool = False) -> str:
    """feedparser's `pop` for a text value: stripped, joined to the (empty) base when it is a link, repaired
    where it is UTF-8 read as Latin-1, and windows-1252's extra characters mapped."""
    value = raw.strip()
    # Joined to an empty base, a link is only changed by feedparser's fix of "http:///x" (slashes after "://").
    if relative and ":///" in value:
        value = _urljoin("", value)
    if value.isascii():
        return value  # neither repair nor mapping changes ASCII
    try:
        value = value.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    return value.translate(_cp1252)


def declarations_in(data: bytes) -> Iterator[re.Match[bytes]]:
    """The namespace declarations in the bytes, in order (a find, then the pattern where it found one: the
    pattern alone scans a 1 MB document several times slower)."""
    position = data.find(b"xmlns")
    while position > 0:
        found = NAMESPACE_DECLARATION.match(data, position - 1)
        if found:
            yield found
        position = data.find(b"xmlns", position + 5)


def once(seen: set[str], field: str) -> None:
    """Two of one field in an entry: feedparser's choice between them depends on order and depth; decline."""
    if field in seen:
        raise Declined
    seen.add(field)


def no_cdf(attributes: dict[str, str]) -> None:
    if "lastmod" in attributes or "href" in attributes:
        raise Declined  # CDF attributes that feedparser reads as a date or a link


def detail(kind: str | None, language: str | None, value: str) -> dict[str, Any]:
    return {"type": kind, "language": language.replace("_", "-") if language else language, "base": "", "value": value}


def content_type(attributes: dict[str, str], default: str) -> str:
    """The type of a text construct, or a decline for what is not plain text or HTML (XHTML, base64...)."""
    if attributes.get("mode") == "base64":
        raise Declined
    kind: str = _FeedParserMixin.map_content_type(attributes.get("type", default))
    if kind not in ("text/plain", "text/html"):
        raise Declined
    return kind


def element_text(element: Any) -> str:
    """The text of an element that holds no element (comments and processing instructions are gone)."""
    if len(element):
        raise Declined  # markup inside a text element: feedparser serializes it itself
    return element.text or ""


NO_ATTRIBUTES: dict[str, str] = {}


def attributes_of(element: Any) -> dict[str, str]:
    """An element's attributes as feedparser names them: lower-cased, `xml:` and `rdf:` prefixed, `rel` and
    `type` values lower-cased. Attributes of other namespaces are declined (feedparser files some of them
    under their bare local name)."""
    items = element.items()
    if not items:
        return NO_ATTRIBUTES
    found: dict[str, str] = {}
    for name, value in items:
        if name[0] == "{":
            uri, _, local = name[1:].partition("}")
            if uri == XML_NAMESPACE:
                name = "xml:" + local
            elif uri == RDF_NAMESPACE:
                name = "rdf:" + local
            else:
                raise Declined
        name = name.lower()
        if name in found or not name.isascii():
            raise Declined
        found[name] = value.lower() if name in ("rel", "type") else value
    return found
