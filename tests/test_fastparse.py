"""The fast path (`monitor.parse.fast`, lxml) against feedparser's path: for every document, the same
ParsedFeed field by field (title, version, bozo, and every item's key, title, link, guid, summary, dates,
author, language, hash), or the fast path declines it and feedparser reads it as before.

Over feedparser's own test corpus in ../shared (skipped where it is absent), the project's fixtures, and
GENERATED feeds (made up here: "Sample" outlets on example.org) mixing entities, CDATA, namespaces, rebound
prefixes, encodings, relative links, languages and dates in the formats feedparser reads. Where the two
differ, feedparser's path is taken as right and the fast path must decline.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.parse import fast
from monitor.parse.feed import parse_feed
from monitor.parse.pool import PARSER_ENV, InlineParser, ProcessParser
from monitor.types import ParsedFeed

from .conftest import REPO, SHARED
from .helpers import PARSE_FIGURES
from .samples import headlines, rss

CORPUS = SHARED / "corpus" / "feedparser-tests"
FIXTURES = [REPO / "tests" / "data", REPO / "src" / "monitor" / "samples"]
NOW = datetime(2023, 10, 1, tzinfo=UTC)
FEED_URL = "https://sample-wire.example.org/feed.xml"


def both(body: bytes, headers: dict[str, str]) -> tuple[ParsedFeed | None, ParsedFeed]:
    """What the fast path makes of a document (None where it declines) and what feedparser's path makes."""
    first = parse_feed(body, url=FEED_URL, headers=headers, feed_id=1, now=NOW)
    fallback = parse_feed(body, url=FEED_URL, headers=headers, feed_id=1, now=NOW, fast_path=False)
    assert fallback.parser == "feedparser"
    return (first if first.parser == "fast" else None), fallback


def differences(taken: ParsedFeed, expected: ParsedFeed) -> list[str]:
    """The fields in which two readings of one document differ, named (empty: the same records)."""
    found = [
        f"{name}: fast {getattr(taken, name)!r}, feedparser {getattr(expected, name)!r}"
        for name in ("title", "bozo", "version")
        if getattr(taken, name) != getattr(expected, name)
    ]
    if len(taken.items) != len(expected.items):
        found.append(f"items: fast {len(taken.items)}, feedparser {len(expected.items)}")
    for n, (mine, theirs) in enumerate(zip(taken.items, expected.items, strict=False)):
        found += [
            f"item {n} {name}: fast {getattr(mine, name)!r:.200}, feedparser {getattr(theirs, name)!r:.200}"
            for name in mine.__slots__
            if getattr(mine, name) != getattr(theirs, name)
        ]
    assert found or replace(taken, parser="feedparser") == expected
    return found


def compare(paths: list[Path]) -> dict[str, list[str]]:
    """Each document read both ways: {"fast": [...], "declined": [...], "differences": [...]} by file."""
    outcome: dict[str, list[str]] = {"fast": [], "declined": [], "differences": []}
    for path in paths:
        content_type = mimetypes.guess_type(path.name)[0] or "application/xml"
        taken, expected = both(path.read_bytes(), {"content-type": content_type})
        if taken is None:
            outcome["declined"].append(path.name)
        elif found := differences(taken, expected):
            outcome["differences"].append(f"{path}: " + "; ".join(found))
        else:
            outcome["fast"].append(path.name)
    return outcome


@pytest.mark.corpus
def test_every_corpus_document_is_read_as_feedparser_reads_it_or_declined():
    if not CORPUS.is_dir():
        pytest.skip(f"feedparser corpus not found at {CORPUS} (it ships in ../shared, not in this repo)")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    assert len(files) > 2000
    outcome = compare(files)
    PARSE_FIGURES.update(
        corpus_fast=len(outcome["fast"]),
        corpus_declined=len(outcome["declined"]),
        corpus_differences=len(outcome["differences"]),
    )
    print(
        f"corpus: {len(outcome['fast'])} fast, {len(outcome['declined'])} declined, "
        f"{len(outcome['differences'])} differences"
    )
    assert outcome["differences"] == []
    assert len(outcome["fast"]) > 1200  # the well-formed majority goes the fast path (1,334 when written)


def test_the_project_feeds_all_go_the_fast_path_and_read_the_same():
    feeds = sorted(p for folder in FIXTURES for p in folder.rglob("*.xml"))
    assert len(feeds) >= 5
    outcome = compare(feeds)
    PARSE_FIGURES.update(fixtures_fast=len(outcome["fast"]), fixtures_declined=len(outcome["declined"]))
    assert outcome["differences"] == []
    # error-page.xml is an HTML page saved as a feed: not well-formed XML, feedparser's to read
    assert outcome["declined"] == ["error-page.xml"]


def test_a_news_feed_goes_the_fast_path_with_every_field_feedparser_gives():
    body = rss(headlines(20))
    taken, expected = both(body, {"content-type": "application/rss+xml"})
    assert taken is not None and taken.parser == "fast"
    assert differences(taken, expected) == []
    assert len(taken.items) == 20 and all(i.date_source == "published" and i.guid for i in taken.items)


# --- what the fast path declines -------------------------------------------------------------------


DECLINED = {
    "a DOCTYPE (entities are feedparser's, defused in parse.feed)": (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "&#233;">]><rss version="2.0"><channel>'
        "<title>Sample &e;</title></channel></rss>"
    ),
    "an external entity": (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss version="2.0">'
        "<channel><title>&x;</title></channel></rss>"
    ),
    "not well-formed": '<rss version="2.0"><channel><title>Sample <b>unclosed</title></channel></rss>',
    "an undefined entity": '<rss version="2.0"><channel><title>Sample&nbsp;Wire</title></channel></rss>',
    "xml:base": (
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.org/base/"><title>Sample</title>'
        '<entry><link href="story.html"/><title>Sample</title></entry></feed>'
    ),
    "inline XHTML": (
        '<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>Sample</title><content type="xhtml">'
        '<div xmlns="http://www.w3.org/1999/xhtml"><p>Sample</p></div></content></entry></feed>'
    ),
    "base64": (
        '<feed xmlns="http://purl.org/atom/ns#" version="0.3"><entry><title>Sample</title>'
        '<content mode="base64" type="text/html">PHA+U2FtcGxlPC9wPg==</content></entry></feed>'
    ),
    "markup inside a description": (
        '<rss version="2.0"><channel><item><title>Sample</title><description>Sample <b>bold</b>'
        "</description></item></channel></rss>"
    ),
    "two summaries in an entry": (
        '<rss version="2.0"><channel><item><title>Sample</title><description>one</description>'
        "<description>two</description></item></channel></rss>"
    ),
    "a title nested in an extension": (
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><item><title>Sample</title>'
        '<media:content url="https://example.org/i.jpg"><media:title>Other</media:title></media:content>'
        "</item></channel></rss>"
    ),
    "feedparser's dc prefix bound to DC terms": (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/terms/"><channel><item><title>Sample</title>'
        "<dc:date>2023-09-30</dc:date></item></channel></rss>"
    ),
    "an unknown root": "<html><body><p>Sample page</p></body></html>",
    "nesting deeper than libxml2's bound (256)": (
        '<rss version="2.0"><channel><item><title>Sample</title>'
        + "<x>" * 5000
        + "</x>" * 5000
        + "</item></channel></rss>"
    ),
    "an encoding feedparser could not find": "",
    # Found by tests/test_fuzz.py: feedparser's conversion to UTF-8 raises on this declaration; the fast path
    # let it escape parse_feed, where feedparser's path reports "parser failed".
    "an encoding declaration that is not text": (
        '<?xml version="1.0" encoding="\x80tf-8"?><rss version="2.0"><channel><title>Sample</title></channel></rss>'
    ),
}


@pytest.mark.parametrize("case", sorted(DECLINED))
def test_what_the_fast_path_cannot_promise_it_declines(case: str):
    body = DECLINED[case].encode("latin-1") if DECLINED[case] else b"\xff\xfe\x00<\x00r\x00s\x00s"
    assert fast.parse(body, {"content-type": "application/xml"}) is None
    taken, expected = both(body, {"content-type": "application/xml"})
    assert taken is None and expected.parser == "feedparser"


def test_a_text_past_libxml2s_bound_is_declined_at_once():
    body = b'<rss version="2.0"><channel><item><title>Sample</title><description>' + b"a" * 11_000_000
    started = time.perf_counter()
    assert fast.parse(body + b"</description></item></channel></rss>", {}) is None
    assert time.perf_counter() - started < 2  # ~0.1 s: libxml2 stops at 10 MB of text (huge_tree off)


def test_an_external_entity_reads_no_file_on_either_path(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SAMPLE-SECRET-MARKER")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{secret.as_uri()}">]><rss version="2.0">'
        "<channel><title>Sample</title><item><title>Sample &x;</title></item></channel></rss>"
    ).encode()
    taken, expected = both(body, {})
    assert taken is None and "SAMPLE-SECRET-MARKER" not in repr(expected)


def test_a_body_naming_a_local_file_is_not_read_on_either_path(
    feed_server, write_config, run_cli, query, tmp_path: Path, monkeypatch
):
    # Found while writing the fast path: feedparser tries bytes as a file name before anything else, so a
    # server whose answer was the path of a feed on this machine had that file read and stored.
    private = tmp_path / "private.xml"
    private.write_text(rss(headlines(2)).decode().replace("Sample Wire", "SAMPLE-PRIVATE-FEED"))
    config = write_config([{"name": "sample-wire", "url": feed_server.add("/rss", body=str(private).encode())}])
    for parser in ("auto", "feedparser"):
        monkeypatch.setenv(PARSER_ENV, parser)
        run_cli(config, "poll", "--force")
        assert query("SELECT title FROM items") == []
        assert "SAMPLE-PRIVATE-FEED" not in str(query("SELECT * FROM feeds"))


# --- the switch --------------------------------------------------------------------------------------


def test_monitor_parser_feedparser_forces_feedparser_in_this_process_and_in_helpers(monkeypatch):
    body = rss(headlines(3))

    def read(parser: InlineParser | ProcessParser) -> ParsedFeed:
        try:
            return parser.parse(body, url=FEED_URL, headers={}, feed_id=1, now=NOW)
        finally:
            parser.close()

    default = read(InlineParser())
    monkeypatch.setenv(PARSER_ENV, "feedparser")
    forced, helper = read(InlineParser()), read(ProcessParser(1))
    assert (default.parser, forced.parser, helper.parser) == ("fast", "feedparser", "feedparser")
    assert replace(default, parser="feedparser") == forced == helper


def test_an_unknown_monitor_parser_value_is_reported_and_changes_nothing(monkeypatch, caplog):
    monkeypatch.setenv(PARSER_ENV, "lxml-please")
    with caplog.at_level(logging.WARNING, logger="monitor.parse"):
        parser = InlineParser()
    assert parser.fast_path
    assert "MONITOR_PARSER='lxml-please' is not one of auto, feedparser" in caplog.text


# --- generated feeds -----------------------------------------------------------------------------------

TEXTS = [
    "Sample: convoy reaches Goris",
    "Sample &amp; more",
    "  padded   text  ",
    "R&#233;sum&#xE9; &#8212; dash",
    "&lt;b&gt;bold&lt;/b&gt; escaped",
    "<![CDATA[<p>Sample <em>one</em></p>]]>",
    "<![CDATA[a < b & c]]>",
    "Ã©tÃ© mojibake",
    "\u0080\u0093cp1252\u0094",
    "Пример: беженцы",
    "a &lt;br/&gt; line",
    "&lt;p&gt;para&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;",
    "&amp;nbsp; &amp;copy; entity-like",
    "&lt;/unknowntag&gt;",
    "",
    "   ",
    "plain\ttab\nnewline",
    "<!-- a comment -->after comment",
    "before<?pi data?>after",
    "x &#x26; y &#38; z",
    "Armenians fled Nagorno-Karabakh",
    "\u00a0nbsp-padded\u00a0",
    "<![CDATA[split]]><![CDATA[ cdata]]>",
    "&amp;amp; double-escaped &amp;lt;b&amp;gt;",
    "caf\u00c3\u00a9 &#xC3;&#xA9; mojibake by reference",
    "Sample &#x93;quoted&#x94; with C1 references",
]
LINKS = [
    "https://example.org/news/1",
    "/relative/path",
    "relative.html",
    "https://example.org/a?x=1&amp;y=2",
    "https://example.org/a?x=1&amp;amp;y=2",
    "http:///example.org//triple",
    "javascript:alert(1)",
    "  https://example.org/padded  ",
    "",
    "https://example.org/Ã©",
    "mailto:desk@example.org",
    "http://[::1",
]
DATES = [
    "Sat, 30 Sep 2023 10:00:00 +0400",
    "Sat, 30 Sep 2023 10:00:00 GMT",
    "30 Sep 2023 10:00 EST",
    "Sat, 30 Sep 23 10:00:00 +0000",
    "2023-09-30T10:00:00Z",
    "2023-09-30T10:00:00.123+02:00",
    "2023-09-30",
    "2023-09",
    "20230930T100000Z",
    "Sat Sep 30 10:00:00 2023",
    "2023-09-30 10:00:00",
    "not a date",
    "",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Thu, 05 Oct 2023 06:00:00 GMT",
    "  Sat, 30 Sep 2023 10:00:00 +0400  ",
    "2023-W39-6",
    "Сб, 30 Сен 2023",
    # the other formats feedparser's date handlers read (its own test suite's examples)
    "2004-02-28T18:14:55-08:00",
    "2003-12-31T10:14:55.1234Z",
    "Sun Jan  4 16:29:06 PST 2004",
    "Fri, 2006/09/15 08:19:53 EDT",
    "2004-05-25 \uc624\ud6c4 11:23:17",
    "2004\ub144 05\uc6d4 28\uc77c  01:31:15 PM",
    "\u039a\u03c5\u03c1, 11 \u0399\u03bf\u03cd\u03bb 2004 12:00:00 EST",
    "2004-j\u00falius-13T9:15-05:00",
    "Thu, 01 Jan 04 19:48:21 GMT",
    "Thu, 31 Jun 2004 19:48:21 GMT",
    "Sun, 16 Dec 2012 1:2:3:4 GMT",
    "2003-12-31T10:14:55+0100",
    "20031231",
    "-0312",
]
LANGS = ["en", "en_US", "ru-RU", "", "not a language!", "HY"]
KNOWN_NS = {
    "dc": "http://purl.org/dc/elements/1.1/",
    "content": "http://purl.org/rss/1.0/modules/content/",
    "atom": "http://www.w3.org/2005/Atom",
    "media": "http://search.yahoo.com/mrss/",
    "dcterms": "http://purl.org/dc/terms/",
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "foo": "http://example.org/ns/foo",
}
# Declarations that rebind prefixes the way some feeds do (dc to DC terms, an unknown URI under "media").
ODD_NS = [
    ("dc", "http://purl.org/dc/terms/"),
    ("media", "http://example.org/not-media"),
    ("x", "http://purl.org/dc/elements/1.1/"),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("xlink", "http://www.w3.org/1999/xlink"),
    ("foo", "http://example.org/ns/foo"),
]

text = st.sampled_from(TEXTS)
link = st.sampled_from(LINKS)
date = st.sampled_from(DATES)


def attr(name: str, value: str) -> str:
    return f" {name}={quoteattr(value)}"


@st.composite
def maybe_lang(draw: st.DrawFn) -> str:
    choice = draw(st.sampled_from([None, None, None, "xml:lang", "lang"]))
    return attr(choice, draw(st.sampled_from(LANGS))) if choice else ""


@st.composite
def type_attr(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from([None, None, "text", "html", "xhtml", "text/plain", "text/html", "TEXT/HTML", "image/png"])
    )
    mode = draw(st.sampled_from([None, None, None, "escaped", "base64", "xml"]))
    return (attr("type", kind) if kind else "") + (attr("mode", mode) if mode else "")


@st.composite
def entry_element(draw: st.DrawFn, atom: bool) -> str:
    kind = draw(
        st.sampled_from(
            [
                "title",
                "title",
                "link",
                "link",
                "atomlink",
                "guid",
                "id",
                "description",
                "summary",
                "content",
                "encoded",
                "author",
                "atomauthor",
                "creator",
                "pubDate",
                "published",
                "updated",
                "dcdate",
                "category",
                "enclosure",
                "unknown",
                "unknownattrs",
                "nested",
                "media",
                "language",
                "comments",
                "base",
                "dctitle",
                "dcdescription",
                "itunes",
                "date",
                "issued",
                "modified",
                "xhtml",
            ]
        )
    )
    lang = draw(maybe_lang())
    if kind == "title":
        return f"<title{draw(type_attr())}{lang}>{draw(text)}</title>"
    if kind == "dctitle":
        return f"<dc:title{lang}>{draw(text)}</dc:title>"
    if kind == "link":
        return f"<link{lang}>{escape(draw(link)) if '&' not in draw(link) else draw(link)}</link>"
    if kind == "atomlink":
        rel = draw(st.sampled_from([None, "alternate", "self", "enclosure", "ALTERNATE", ""]))
        kind_ = draw(st.sampled_from([None, "text/html", "application/xhtml+xml", "application/pdf", "TEXT/HTML"]))
        href_name = draw(st.sampled_from(["href", "href", "url", "uri", "HREF"]))
        prefix = "" if atom else draw(st.sampled_from(["atom:", ""]))
        return (
            f"<{prefix}link{attr(href_name, draw(link).replace('&amp;', '&'))}"
            f"{attr('rel', rel) if rel is not None else ''}{attr('type', kind_) if kind_ else ''}/>"
        )
    if kind == "guid":
        permalink = draw(st.sampled_from([None, "true", "false", "True"]))
        value = draw(st.sampled_from([*LINKS, "sw-1", "tag:example.org,2023:1"]))
        return f"<guid{attr('isPermaLink', permalink) if permalink else ''}>{value}</guid>"
    if kind == "id":
        return f"<id>{draw(st.sampled_from([*LINKS, 'urn:uuid:1', 'tag:example.org,2023:1']))}</id>"
    if kind == "description":
        return f"<description{draw(type_attr())}{lang}>{draw(text)}</description>"
    if kind == "dcdescription":
        return f"<dc:description>{draw(text)}</dc:description>"
    if kind == "summary":
        return f"<summary{draw(type_attr())}{lang}>{draw(text)}</summary>"
    if kind == "content":
        return f"<content{draw(type_attr())}{lang}>{draw(text)}</content>"
    if kind == "xhtml":
        return '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Sample <b>x</b></p></div></content>'
    if kind == "encoded":
        return f"<content:encoded{lang}>{draw(text)}</content:encoded>"
    if kind == "author":
        return (
            f"<author>{draw(st.sampled_from(['desk@example.org (Sample Desk)', 'Sample Desk', '', 'Ã©crit']))}</author>"
        )
    if kind == "atomauthor":
        parts = draw(
            st.lists(
                st.sampled_from(
                    [
                        "<name>Sample Desk</name>",
                        "<email>desk@example.org</email>",
                        "<uri>https://example.org/</uri>",
                        "<name></name>",
                        "<name> Ã© </name>",
                    ]
                ),
                max_size=3,
            )
        )
        return f"<author>{' '.join(parts)}</author>"
    if kind == "creator":
        return f"<dc:creator>{draw(text)}</dc:creator>"
    if kind == "pubDate":
        return f"<pubDate>{draw(date)}</pubDate>"
    if kind == "published":
        return f"<published>{draw(date)}</published>"
    if kind == "issued":
        return f"<issued>{draw(date)}</issued>"
    if kind == "modified":
        return f"<modified>{draw(date)}</modified>"
    if kind == "updated":
        return f"<updated>{draw(date)}</updated>"
    if kind == "dcdate":
        return f"<dc:date>{draw(date)}</dc:date>"
    if kind == "date":
        return f"<date>{draw(date)}</date>"
    if kind == "category":
        return f'<category domain="https://example.org/c">{draw(text)}</category>'
    if kind == "enclosure":
        return '<enclosure url="https://example.org/a.mp3" length="1" type="audio/mpeg"/>'
    if kind == "unknown":
        return f"<foo:bar>{draw(text)}</foo:bar>"
    if kind == "unknownattrs":
        return f'<sample a="1">{draw(text)}</sample>'
    if kind == "nested":
        return f"<foo:wrap><title>{draw(text)}</title></foo:wrap>"
    if kind == "media":
        return f'<media:content url="https://example.org/i.jpg"><media:title>{draw(text)}</media:title></media:content>'
    if kind == "language":
        return f"<language>{draw(st.sampled_from(LANGS))}</language>"
    if kind == "comments":
        return f"<comments>{draw(link)}</comments>"
    if kind == "itunes":
        return f"<itunes:summary>{draw(text)}</itunes:summary>"
    if kind == "base":
        return f'<title xml:base="https://example.org/base/">{draw(text)}</title>'
    raise AssertionError(kind)


@st.composite
def feed_document(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    form = draw(st.sampled_from(["rss", "rss", "atom", "atom03", "rdf"]))
    atom = form.startswith("atom")
    namespaces = dict(draw(st.lists(st.sampled_from(list(KNOWN_NS.items())), max_size=4)))
    if draw(st.integers(0, 9)) == 0:
        odd = draw(st.sampled_from(ODD_NS))
        namespaces[odd[0]] = odd[1]
    namespaces.setdefault("dc", KNOWN_NS["dc"])
    namespaces.setdefault("content", KNOWN_NS["content"])
    namespaces.setdefault("foo", KNOWN_NS["foo"])
    namespaces.setdefault("media", KNOWN_NS["media"])
    namespaces.setdefault("itunes", KNOWN_NS["itunes"])
    if form != "atom":
        namespaces.setdefault("atom", KNOWN_NS["atom"])
    declarations = "".join(attr(f"xmlns:{p}", u) for p, u in namespaces.items())
    entries = []
    for _ in range(draw(st.integers(0, 4))):
        children = draw(st.lists(entry_element(atom), min_size=0, max_size=7))
        about = attr("rdf:about", draw(link).replace("&amp;", "&")) if form == "rdf" and draw(st.booleans()) else ""
        tag = "entry" if atom else "item"
        entries.append(f"<{tag}{about}{draw(maybe_lang())}>{''.join(children)}</{tag}>")
    feed_title = f"<title>{draw(text)}</title>" if draw(st.integers(0, 4)) else ""
    channel_extra = draw(
        st.lists(
            st.sampled_from(
                [
                    f"<language>{draw(st.sampled_from(LANGS))}</language>",
                    "<image><title>Sample image</title><url>https://example.org/i.png</url><link>https://example.org/</link></image>",
                    "<description>Sample description</description>",
                    '<atom:link rel="self" href="https://example.org/feed.xml"/>'
                    if not atom
                    else '<link rel="self" href="https://example.org/feed.xml"/>',
                    "<generator>Sample</generator>",
                    "<ttl>60</ttl>",
                    "<lastBuildDate>Sat, 30 Sep 2023 10:00:00 GMT</lastBuildDate>",
                    "<title>Second title</title>",
                    "<foo:bar>x</foo:bar>",
                    "<dc:language>hy</dc:language>",
                ]
            ),
            max_size=3,
        )
    )
    head = feed_title + "".join(channel_extra) if draw(st.booleans()) else "".join(channel_extra) + feed_title
    root_lang = draw(maybe_lang())
    if form == "rss":
        version = draw(st.sampled_from(["2.0", "0.91", "0.92", "", "2.01"]))
        version_attr = attr("version", version) if version else ""
        inside = draw(st.booleans()) or not entries
        body = (
            f"<rss{version_attr}{declarations}{root_lang}><channel>{head}"
            f"{''.join(entries) if inside else ''}</channel>{'' if inside else ''.join(entries)}</rss>"
        )
    elif form == "atom":
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"{declarations}{root_lang}>{head}{"".join(entries)}</feed>'
    elif form == "atom03":
        body = f'<feed version="0.3" xmlns="http://purl.org/atom/ns#"{declarations}{root_lang}>{head}{"".join(entries)}</feed>'
    else:
        body = (
            f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"'
            f"{declarations.replace(attr('xmlns:rdf', 'http://www.w3.org/1999/02/22-rdf-syntax-ns#'), '')}{root_lang}>"
            f"<channel>{head}</channel>{''.join(entries)}</rdf:RDF>"
        )
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "iso-8859-1", "windows-1251", "utf-16", None]))
    declared = draw(st.sampled_from(["same", "same", "none", "other"]))
    if declared == "same" and encoding:
        prolog = f'<?xml version="1.0" encoding="{encoding}"?>\n'
    elif declared == "other":
        prolog = '<?xml version="1.0" encoding="iso-8859-1"?>\n'
    else:
        prolog = draw(st.sampled_from(['<?xml version="1.0"?>\n', "", "\n"]))
    document = prolog + body
    try:
        data = document.encode(encoding or "utf-8")
    except UnicodeEncodeError:
        data = document.encode("utf-8")
    content_type = draw(
        st.sampled_from(
            [
                "application/rss+xml",
                "application/xml",
                "text/xml",
                "text/html",
                None,
                f"application/xml; charset={encoding or 'utf-8'}",
                "text/xml; charset=utf-8",
                "application/atom+xml; charset=windows-1251",
            ]
        )
    )
    headers = {"content-type": content_type} if content_type else {}
    if draw(st.integers(0, 5)) == 0:
        headers["content-language"] = draw(st.sampled_from(["de", "en_GB", "ru"]))
    return data, headers


@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
@given(feed_document())
def test_generated_feeds_read_the_same_on_both_paths_or_are_declined(document: tuple[bytes, dict[str, str]]):
    body, headers = document
    taken, expected = both(body, headers)
    if taken is not None:
        assert differences(taken, expected) == []
