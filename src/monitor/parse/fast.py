"""PURE: the fast path. A well-formed RSS 2.0, Atom (1.0, 0.3) or RSS 1.0 document -> the entries feedparser's
strict parser makes of it, built from an lxml tree; None (declined) whenever this module cannot be sure of that.

`parse.feed` turns the entries into items with the same code either way, so the fast path only has to agree
with feedparser on the handful of fields that code reads (title, link, id, summary, content, author, dates and
the languages of the feed and its parts). It agrees by copying feedparser's own steps, in feedparser's own
functions where they are small: the conversion to UTF-8 (`convert_to_utf8`, so every encoding, BOM and
Content-Type rule is feedparser's), the date parsers (`_parse_date`), link joining (`_urljoin`) and the
post-processing of each value (strip, the "looks like HTML" guess, the UTF-8-read-as-Latin-1 repair, the
windows-1252 mapping). Anything else feedparser interprets - a DOCTYPE, xml:base, inline XHTML, base64, a
second summary, nested titles, podcast and geo extensions, namespaces whose prefixes clash with feedparser's
own - is declined, and feedparser parses the document as before. tests/test_fastparse.py holds the two paths
equal over feedparser's test corpus, the project's fixtures and generated feeds.

Hostile input: no DTD is loaded, no entity is resolved, nothing is fetched, and a document with a DOCTYPE at
all is declined before lxml sees it; libxml2's default limits (depth 256, 10 MB text nodes) stay on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from feedparser.datetimes import _parse_date
from feedparser.encodings import convert_to_utf8
from feedparser.exceptions import CharacterEncodingOverride, NonXMLContentType
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urljoin
from lxml import etree

from .elements import (
    ALIASED,
    AUTHOR_PARTS,
    AUTHORS,
    CONTAINERS,
    CONTENTS,
    FEED_ONLY,
    HANDLED,
    HARMLESS_CONTENT,
    HARMLESS_LEAVES,
    HTMLISH,
    IMAGE_PARTS,
    KNOWN,
    PUBLISHED,
    READ_KEYS,
    STANDARD_PREFIXES,
    SUMMARIES,
    TEXTINPUT_PARTS,
    TITLES,
    UPDATED,
    USERLAND,
    VERSION_OF_NAMESPACE,
    XLINK_NAMESPACE,
    Declined,
    attributes_of,
    content_type,
    declarations_in,
    detail,
    element_text,
    looks_like_html,
    no_cdf,
    once,
    text_value,
)

_HARMLESS_BOZO = (CharacterEncodingOverride, NonXMLContentType)
_ENTITY_LIKE = re.compile(r"&([A-Za-z0-9_]+);")


@dataclass(frozen=True, slots=True)
class Document:
    """What feedparser's strict parser makes of a document, as far as parse.feed reads it."""

    feed: dict[str, Any]
    entries: list[dict[str, Any]]
    version: str


def parse(body: bytes, headers: Mapping[str, str]) -> Document | None:
    """The document's feed and entries as feedparser would give them (its sanitizer and URI passes off), or
    None where this path declines. `headers` are the response headers, names in lower case."""
    if not body:
        return None
    result: dict[str, Any] = {}
    try:
        data = convert_to_utf8(dict(headers), body, result)
    except Exception:  # feedparser's own conversion raises on some declarations ("\x80tf-8")
        return None  # and feedparser's path reports it
    if not result.get("encoding") or (
        result.get("bozo") and not isinstance(result.get("bozo_exception"), _HARMLESS_BOZO)
    ):
        return None
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        return None
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
        return _Walk(data, headers.get("content-language")).document(root)
    except (etree.XMLSyntaxError, Declined):
        return None
    except Exception:  # a document this path did not foresee: feedparser reads it, as it always could
        return None


class _Walk:
    """One pass over the tree in document order, keeping the little of feedparser's state that matters."""

    def __init__(self, data: bytes, language: str | None):
        self.names: dict[str, str] = {}
        self.unknown_prefix: dict[str, str] = {}  # namespace URI unknown to feedparser -> the prefix it goes by
        self.declarations: list[tuple[str | None, str]] = []  # in document order
        self._namespaces(data)
        self.feed: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.version = ""
        self.base_language = language
        if language:
            self.feed["language"] = language.replace("_", "-")
        self.title_depth = -1

    def _namespaces(self, data: bytes) -> None:
        """Decline the namespace declarations under which feedparser would name an element otherwise than
        by its own table (a prefix reused, one of its prefixes bound to another URI...). Read from the bytes:
        a declaration quoted in text only makes the path decline."""
        bound: dict[str | None, str] = {}
        prefixes_of: dict[str, set[str | None]] = {}
        for found in declarations_in(data):
            prefix = found.group(1).decode() if found.group(1) else None
            uri = (found.group(2) if found.group(2) is not None else found.group(3) or b"").decode()
            if "&" in uri or (prefix is not None and uri == XLINK_NAMESPACE):
                raise Declined
            self.declarations.append((prefix, uri))
            if prefix is not None and bound.setdefault(prefix, uri) != uri:
                raise Declined  # one prefix, two namespaces: feedparser's map of them changes along the document
            if uri:
                prefixes_of.setdefault(uri, set()).add(prefix)
        for uri, prefixes in prefixes_of.items():
            lowered = uri.lower()
            known = KNOWN.get(USERLAND if USERLAND in lowered else lowered)
            for prefix in prefixes:
                if prefix is None:
                    continue
                if known is None:
                    if prefix.lower() in STANDARD_PREFIXES or len(prefixes - {None}) > 1:
                        raise Declined  # read as feedparser's own prefix, or named by whichever came first
                    self.unknown_prefix[uri] = prefix.lower()
                elif prefix != known and prefix.lower() in STANDARD_PREFIXES:
                    raise Declined
        lowered_unknown = set(self.unknown_prefix.values())
        for uri, prefixes in prefixes_of.items():
            known = KNOWN.get(uri.lower())
            clash = [p for p in prefixes if p is not None and p != known and p.lower() in lowered_unknown]
            if known is not None and clash:
                raise Declined

    def name(self, tag: str) -> str:
        """feedparser's name for an element: its handler's suffix ("dc_creator", "title", "foo_bar")."""
        found = self.names.get(tag)
        if found is None:
            found = self.names[tag] = self._name(tag)
        return found

    def _name(self, tag: str) -> str:
        if not tag.isascii():
            raise Declined  # names outside ASCII: lower-casing and the parsers' name rules may differ
        if tag[0] != "{":
            return tag.lower()
        uri, _, local = tag[1:].partition("}")
        lowered = uri.lower()
        if USERLAND in lowered:
            lowered = USERLAND
        prefix = KNOWN.get(lowered)
        if prefix is None:
            prefix = self.unknown_prefix.get(uri, "")
            if not prefix and (None, uri) not in self.declarations:
                raise Declined  # a declaration the scan of the bytes did not see: its prefix is unknown here
        return f"{prefix.lower()}_{local.lower()}" if prefix else local.lower()

    def document(self, root: Any) -> Document:
        kind = self.name(root.tag)
        attributes = attributes_of(root)
        version = self._declared_version(root.nsmap)
        if kind == "rss":
            if not version.startswith("rss"):
                given = attributes.get("version", "")
                mapped = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}.get(given)
                version = mapped or ("rss20" if given.startswith("2.") else "rss")
        elif kind == "feed":
            if not version:
                version = {"0.1": "atom01", "0.2": "atom02", "0.3": "atom03"}.get(attributes.get("version", ""), "atom")
        elif kind != "rdf_rdf" or version not in ("rss10", "rss090"):
            raise Declined
        self.version = version
        language = self._language(attributes, self.base_language)
        if language and kind in ("rss", "feed"):
            self.feed["language"] = language.replace("_", "-")
        if kind == "feed":
            self._feed_level(root, 1, language)
        else:
            self._top_level(root, 1, language)
        return Document(self.feed, self.entries, self.version)

    def _declared_version(self, namespaces: Mapping[str | None, str]) -> str:
        """The version feedparser reads off the root's namespace declarations (the first that names one:
        the RSS 1.0 or Atom 1.0 namespace, or RSS 0.90's as the default), "" for none."""
        on_root = set(namespaces.items())
        for prefix, uri in self.declarations:
            version = VERSION_OF_NAMESPACE.get(uri.lower())
            if version and (prefix, uri) in on_root and (version != "rss090" or prefix is None):
                return version
        return ""

    @staticmethod
    def _language(attributes: dict[str, str], inherited: str | None) -> str | None:
        if not attributes:
            return inherited
        given = attributes.get("xml:lang", attributes.get("lang"))
        if "xml:base" in attributes or "base" in attributes:
            raise Declined  # feedparser joins links to it
        if given == "":
            return None
        return inherited if given is None else given

    def _top_level(self, root: Any, depth: int, language: str | None) -> None:
        """The children of <rss> and <rdf:RDF>: the channel, and items and images outside it."""
        for child in root:
            name = self.name(child.tag)
            attributes = attributes_of(child)
            lang = self._language(attributes, language)
            if name == "channel":
                no_cdf(attributes)
                self._feed_level(child, depth + 1, lang)
            elif name in ("item", "entry"):
                self._entry(child, attributes, depth + 1, lang)
            elif name in ("image", "textinput"):
                self._image(child, name, depth + 1, lang, in_feed=False)
            else:
                self._harmless(child, name, attributes, depth + 1)

    def _feed_level(self, parent: Any, depth: int, language: str | None) -> None:
        """The children of <channel> or Atom's <feed>."""
        for child in parent:
            name = self.name(child.tag)
            attributes = attributes_of(child)
            lang = self._language(attributes, language)
            if name in ("item", "entry"):
                self._entry(child, attributes, depth + 1, lang)
            elif name in TITLES:
                content_type(attributes, "text/plain")
                value = self._content(element_text(child), "text/plain")[0]
                if not (-1 < self.title_depth <= depth + 1):
                    self.feed["title"] = value
                if value:
                    self.title_depth = depth + 1
            elif name in ("language", "dc_language"):
                self.feed["language"] = text_value(element_text(child))
            elif name in ("image", "textinput"):
                self._image(child, name, depth + 1, lang, in_feed=True)
            elif name in FEED_ONLY or name in AUTHORS:
                self._feed_part(child, name, attributes)
            else:
                self._harmless(child, name, attributes, depth + 1)

    def _feed_part(self, element: Any, name: str, attributes: dict[str, str]) -> None:
        """An element of the feed whose value goes where parse.feed does not look (its link, id, subtitle)."""
        if name in ("description", "dc_description"):
            content_type(attributes, "text/html")
        if name in AUTHORS or name == "managingeditor":
            self._author_parts(element)
        elif len(element):
            raise Declined

    def _image(self, element: Any, name: str, depth: int, language: str | None, *, in_feed: bool) -> None:
        """A channel's <image> or <textinput>: its title is not the feed's, but moves feedparser's title depth."""
        self.title_depth = -1
        allowed = IMAGE_PARTS if name == "image" else TEXTINPUT_PARTS
        for child in element:
            part = self.name(child.tag)
            attributes = attributes_of(child)
            self._language(attributes, language)
            if part not in allowed or len(child):
                raise Declined
            if part == "title":
                content_type(attributes, "text/plain")
                text = element_text(child).strip()
                if in_feed:
                    text = self._content(text, "text/plain")[0]
                if text:
                    self.title_depth = depth + 1
            elif part == "description":
                content_type(attributes, "text/html")

    def _harmless(self, element: Any, name: str, attributes: dict[str, str], depth: int) -> None:
        """An element that changes nothing parse.feed reads, or a decline."""
        if name in HARMLESS_CONTENT:
            content_type(attributes, "text/plain")
            if len(element):
                raise Declined
            return
        if name in HARMLESS_LEAVES:
            if len(element):
                raise Declined
            return
        if name in HANDLED and name not in CONTAINERS:
            raise Declined
        if name in READ_KEYS or name in ALIASED:
            raise Declined  # stored under a key parse.feed reads
        for child in element:
            child_attributes = attributes_of(child)
            self._language(child_attributes, None)
            self._harmless(child, self.name(child.tag), child_attributes, depth + 1)

    def _entry(self, element: Any, attributes: dict[str, str], depth: int, language: str | None) -> None:
        no_cdf(attributes)
        entry: dict[str, Any] = {}
        self.entries.append(entry)
        self.title_depth = -1
        about = attributes.get("rdf:about")
        if about:
            entry["id"] = about
        seen: set[str] = set()
        for child in element:
            name = self.name(child.tag)
            attributes = attributes_of(child)
            lang = self._language(attributes, language)
            child_depth = depth + 1
            if name in TITLES:
                kind = content_type(attributes, "text/plain")
                value, kind = self._content(element_text(child), kind)
                if not (-1 < self.title_depth <= child_depth):
                    entry["title"] = value
                    entry["title_detail"] = detail(kind, lang, value)
                if value:
                    self.title_depth = child_depth
            elif name == "link":
                self._link(entry, child, attributes)
            elif name in ("guid", "id"):
                once(seen, "id")
                permalink = attributes.get("ispermalink", "true") == "true"
                value = text_value(element_text(child), relative=permalink)
                entry["id"] = value
                if permalink:
                    entry.setdefault("link", value)
            elif name in SUMMARIES:
                once(seen, "summary")
                kind = content_type(attributes, "text/html" if name != "summary" else "text/plain")
                value, kind = self._content(element_text(child), kind)
                entry["summary"] = value
                entry["summary_detail"] = detail(kind, lang, value)
            elif name in CONTENTS:
                once(seen, "content")
                if "src" in attributes:
                    raise Declined
                kind = content_type(attributes, "text/html" if name == "content_encoded" else "text/plain")
                value, kind = self._content(element_text(child), kind)
                entry["content"] = [detail(kind, lang, value)]
                entry.setdefault("summary", value)
            elif name in AUTHORS:
                once(seen, "author")
                entry["author"] = self._author_parts(child)
            elif name in ("language", "dc_language"):
                element_text(child)  # the entry's own "language" key, which parse.feed does not read
            elif name in PUBLISHED or name in UPDATED:
                key = "published" if name in PUBLISHED else "updated"
                once(seen, key)
                value = text_value(element_text(child))
                entry[key] = value
                entry[f"{key}_parsed"] = _parse_date(value)
            else:
                self._harmless(child, name, attributes, child_depth)

    def _link(self, entry: dict[str, Any], element: Any, attributes: dict[str, str]) -> None:
        """feedparser's `_start_link`: an Atom link names the entry's page when it is an alternate HTML one;
        RSS's text link always does, the last one winning."""
        rel = attributes.get("rel", "alternate")
        kind = attributes.get("type", "application/atom+xml" if rel == "self" else "text/html")
        href = attributes.get("url", attributes.get("uri", attributes.get("href")))
        if href or "href" in attributes:
            if len(element):
                raise Declined
            if rel == "alternate" and _FeedParserMixin.map_content_type(kind) in HTMLISH:
                entry["link"] = _urljoin("", href or attributes["href"])
            return
        value = text_value(element_text(element), relative=True)
        if "&" in value:
            value = _ENTITY_LIKE.sub(r"&\g<1>", value.replace("&amp;", "&"))
        entry["link"] = value

    def _author_parts(self, element: Any) -> str:
        """An author as feedparser writes it: the text of an RSS author, "name (email)" of an Atom one."""
        if not len(element):
            return text_value(element_text(element))
        if (element.text or "").strip():
            raise Declined
        parts: dict[str, str] = {}
        for child in element:
            part = self.name(child.tag)
            if part not in AUTHOR_PARTS or len(child) or part in parts or (child.tail or "").strip():
                raise Declined
            self._language(attributes_of(child), None)
            parts[part] = (child.text or "").strip()  # feedparser keeps a name and an e-mail address as written
        name, email = parts.get("name"), parts.get("email")
        if name and email:
            return f"{name} ({email})"
        return name or email or ""

    def _content(self, raw: str, kind: str) -> tuple[str, str]:
        """feedparser's `pop` for a text construct: the value (see `_value`) and its type, which becomes HTML
        where plain text looks like HTML outside Atom (feedparser guesses on the stripped text)."""
        stripped = raw.strip()
        if kind == "text/plain" and not self.version.startswith("atom") and looks_like_html(stripped):
            kind = "text/html"
        return text_value(stripped), kind
