"""OPML, the format every feed reader speaks: the config's feeds out, another reader's feeds in. Pure.

Export hides the password of a feed URL's credentials (`https://user:***@host/feed`, textsafe.redact): an
OPML file is made to be shared. `with_credentials` keeps them, for moving one's own feeds to a reader.
Import never rewrites what is in the config: new feeds are appended as `[[feeds]]` tables to its text
(comments and layout kept), and the result is validated before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, indent, tostring

from defusedxml import ElementTree as SafeElementTree  # no entity expansion, no external entities

from ..identity import canonical_url
from ..text.safe import redact
from ..types import FeedSource


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    name: str
    url: str
    title: str
    tags: tuple[str, ...]


def export(feeds: Sequence[FeedSource], title: str = "monitor feeds", *, with_credentials: bool = False) -> str:
    root = Element("opml", version="2.0")
    head = SubElement(root, "head")
    SubElement(head, "title").text = title
    body = SubElement(root, "body")
    for feed in feeds:
        attributes = {
            "type": "rss",
            "text": feed.name,
            "title": feed.name,
            "xmlUrl": feed.url if with_credentials else redact(feed.url),
        }
        if feed.tags:
            attributes["category"] = ",".join(feed.tags)
        if feed.language:
            attributes["language"] = feed.language
        SubElement(body, "outline", attributes)
    indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="unicode") + "\n"


def read(document: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document (outlines with an xmlUrl, at any depth; a folder's name becomes a tag).
    Raises ValueError for what is not OPML."""
    try:
        root = SafeElementTree.fromstring(document)
    except Exception as error:  # defusedxml raises its own errors for entities and DTDs
        raise ValueError(f"not a readable OPML document: {error}") from error
    if root.tag != "opml" or root.find("body") is None:
        raise ValueError("not an OPML document (no <opml><body>)")
    feeds: list[OpmlFeed] = []

    def walk(node: Element, folders: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            url = (outline.get("xmlUrl") or "").strip()
            label = (outline.get("title") or outline.get("text") or "").strip()
            if url:
                categories = tuple(
                    c.strip().strip("/") for c in (outline.get("category") or "").split(",") if c.strip()
                )
                feeds.append(OpmlFeed(name=slug(label or url), url=url, title=label, tags=folders + categories))
            else:
                walk(outline, folders + ((slug(label),) if label else ()))

    walk(root.find("body"), ())
    return feeds


def slug(text: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")
    return cleaned[:40].strip("-") or "feed"


def new_feeds(found: Sequence[OpmlFeed], existing: Sequence[FeedSource]) -> tuple[list[OpmlFeed], list[OpmlFeed]]:
    """(to add, already there): by URL (scheme-insensitive, canonical) ; names made unique."""

    def key(url: str) -> str:
        canonical = canonical_url(url) or url
        return canonical.split(":", 1)[-1]

    urls = {key(f.url) for f in existing}
    names = {f.name for f in existing}
    added, skipped = [], []
    for feed in found:
        if key(feed.url) in urls:
            skipped.append(feed)
            continue
        name, n = feed.name, 2
        while name in names:
            name, n = f"{feed.name}-{n}", n + 1
        names.add(name)
        urls.add(key(feed.url))
        added.append(OpmlFeed(name, feed.url, feed.title, feed.tags))
    return added, skipped


def as_toml(feeds: Sequence[OpmlFeed]) -> str:
    blocks = []
    for feed in feeds:
        lines = ["[[feeds]]", f"name = {toml_string(feed.name)}", f"url = {toml_string(feed.url)}"]
        if feed.tags:
            lines.append("tags = [" + ", ".join(toml_string(t) for t in feed.tags) + "]")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def appended(text: str, source: str, feeds: Sequence[OpmlFeed]) -> str:
    """The config's text with `feeds` appended as [[feeds]] tables under a comment naming the OPML file `source`,
    in the text's own line ends (CRLF stays CRLF)."""
    end = "\r\n" if "\r\n" in text else "\n"
    comment = "# Imported from " + _CONTROL.sub("?", source)  # a file name may hold a line break: not in a comment
    added = "\n" + comment + "\n" + as_toml(feeds)
    return text + ("" if text.endswith("\n") or not text else end) + added.replace("\n", end)


_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_CONTROL = re.compile("[\x00-\x1f\x7f]")  # what a TOML basic string or comment may not hold as it is


def toml_string(value: str) -> str:
    """`value` as a TOML basic string that reads back as the same text: quotes, backslashes and every control
    character escaped (an OPML category can hold a line break: `&#10;`)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _CONTROL.sub(lambda m: _ESCAPES.get(m[0]) or f"\\u{ord(m[0]):04X}", escaped) + '"'
