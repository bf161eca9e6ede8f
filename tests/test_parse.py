"""Feed bytes + headers -> items (`monitor.parse.feed`).

Every feed here is a SAMPLE written for these tests: "Sample Wire" is not a real outlet, every link is on
example.org, and the headlines only paraphrase the 2023 Nagorno-Karabakh events neutrally.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.parse import feed as parse
from monitor.parse.feed import parse_feed
from monitor.types import Item, ParsedFeed

NOW = datetime(2023, 9, 30, 12, tzinfo=UTC)
FEED_URL = "https://example.org/sample-wire/feed.xml"
RSS_TYPE = "application/rss+xml"


def parse_it(
    body: bytes,
    content_type: str | None = RSS_TYPE,
    *,
    headers: dict[str, str] | None = None,
    language: str | None = None,
) -> ParsedFeed:
    headers = headers or ({"content-type": content_type} if content_type else {})
    return parse_feed(body, url=FEED_URL, headers=headers, feed_id=1, now=NOW, language=language)


def rss(*items: str, channel: str = "", encoding: str = "utf-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>Sample Wire</title><link>https://example.org/</link>{channel}{''.join(items)}</channel></rss>"
    )


def item(
    title: str = "Sample: convoy reaches Goris", link: str | None = "https://example.org/news/1", extra: str = ""
) -> str:
    link_xml = f"<link>{link}</link>" if link is not None else ""
    return f"<item><title>{title}</title>{link_xml}{extra}</item>"


def one(body: bytes, content_type: str | None = RSS_TYPE, **kw: Any) -> Item:
    parsed = parse_it(body, content_type, **kw)
    assert len(parsed.items) == 1, parsed
    return parsed.items[0]


def with_summary(description_xml: str) -> Item:
    return one(rss(item(extra=f"<description>{description_xml}</description>")).encode())


# --- the three formats ----------------------------------------------------------------------------


def test_rss2_titles_links_guids() -> None:
    parsed = parse_it(
        rss(
            item(
                "Sample: talks on reintegration",
                "https://example.org/news/1",
                '<guid isPermaLink="false">sw-1</guid><author>desk@example.org (Sample Desk)</author>',
            ),
            item(
                "Sample: refugees arrive in Goris",
                "https://example.org/news/2",
                "<guid>https://example.org/news/2</guid>",
            ),
        ).encode()
    )
    assert (parsed.title, parsed.version, parsed.bozo) == ("Sample Wire", "rss20", None)
    first, second = parsed.items
    assert (first.title, first.link, first.guid, first.key) == (
        "Sample: talks on reintegration",
        "https://example.org/news/1",
        "sw-1",
        "guid:1:sw-1",
    )
    assert first.author and "Sample Desk" in first.author
    assert (second.guid, second.key) == ("https://example.org/news/2", "url://example.org/news/2")


ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Sample Wire (Atom)</title>
<id>tag:example.org,2023:sample</id><updated>2023-09-30T08:00:00Z</updated>
<entry><title type="html">Sample: &lt;b&gt;talks&lt;/b&gt; in Brussels &amp;amp; Granada</title>
 <link rel="alternate" href="https://example.org/a/1?fbclid=zz"/><id>tag:example.org,2023:1</id>
 <published>2023-09-28T09:30:00+04:00</published><updated>2023-09-29T09:30:00Z</updated>
 <summary type="text">Plain &lt;b&gt;not bold&lt;/b&gt; text &amp; more</summary></entry>
<entry><title>Sample: only updated</title><link href="story-2.html"/><id>https://example.org/a/2</id>
 <updated>2023-09-29T06:00:00-05:00</updated>
 <content type="html">&lt;p&gt;Content with a
 &lt;a href="/rel/link"&gt;relative link&lt;/a&gt;&lt;/p&gt;</content></entry>
</feed>"""


def test_atom_entries() -> None:
    parsed = parse_it(ATOM.encode(), "application/atom+xml")
    assert (parsed.title, parsed.version, parsed.bozo) == ("Sample Wire (Atom)", "atom10", None)
    first, second = parsed.items
    assert first.title == "Sample: talks in Brussels & Granada"  # markup removed, entities decoded
    assert first.link == "https://example.org/a/1"
    assert first.key == "guid:1:tag:example.org,2023:1"
    assert (first.published, first.date_source) == (datetime(2023, 9, 28, 5, 30, tzinfo=UTC), "published")
    assert (second.published, second.date_source) == (datetime(2023, 9, 29, 11, tzinfo=UTC), "updated")
    assert second.link == "https://example.org/sample-wire/story-2.html"
    assert 'href="https://example.org/rel/link"' in second.summary_html  # full content, link resolved


RDF = """<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://example.org/rdf"><title>Sample Wire (RDF)</title><link>https://example.org/</link>
 <description>sample</description><dc:language>ru</dc:language>
 <items><rdf:Seq><rdf:li rdf:resource="https://example.org/r/1"/></rdf:Seq></items></channel>
<item rdf:about="https://example.org/r/1"><title>Sample RDF item on Stepanakert</title>
 <link>https://example.org/r/1</link><description>Sample RDF description</description>
 <dc:date>2023-09-25T10:00:00+04:00</dc:date></item>
</rdf:RDF>"""


def test_rss1_rdf_items() -> None:
    parsed = parse_it(RDF.encode(), "application/rdf+xml")
    assert (parsed.title, parsed.version, parsed.bozo) == ("Sample Wire (RDF)", "rss10", None)
    (entry,) = parsed.items
    assert (entry.title, entry.link) == ("Sample RDF item on Stepanakert", "https://example.org/r/1")
    assert entry.published == datetime(2023, 9, 25, 6, tzinfo=UTC)
    assert entry.summary_text == "Sample RDF description"
    assert entry.language == "ru"


# --- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pub_date", "published", "source"),
    [
        ("Sat, 30 Sep 2023 10:00:00 +0400", datetime(2023, 9, 30, 6, tzinfo=UTC), "published"),
        ("Fri, 29 Sep 2023 23:15:00 -0500", datetime(2023, 9, 30, 4, 15, tzinfo=UTC), "published"),
        ("Sun, 01 Oct 2023 09:00:00 GMT", datetime(2023, 10, 1, 9, tzinfo=UTC), "published"),  # a day ahead
        (None, NOW, "first_seen"),
        ("Mon, 01 Jan 0001 00:00:00 GMT", NOW, "first_seen"),
        ("Fri, 31 Dec 9999 23:59:59 GMT", NOW, "first_seen"),
        ("Sat, 05 Oct 1985 06:00:00 GMT", NOW, "first_seen"),  # before feeds existed
        ("Thu, 05 Oct 2023 06:00:00 GMT", NOW, "first_seen"),  # days in the future
        ("not a date at all", NOW, "first_seen"),
    ],
)
def test_dates_are_utc_or_first_seen(pub_date: str | None, published: datetime, source: str) -> None:
    extra = f"<pubDate>{pub_date}</pubDate>" if pub_date else ""
    entry = one(rss(item(extra=extra)).encode())
    assert (entry.published, entry.date_source) == (published, source)
    assert entry.published.utcoffset() == timedelta(0)


# --- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/2023/09/convoy", "https://example.org/2023/09/convoy"),
        ("convoy.html", "https://example.org/sample-wire/convoy.html"),
        ("https://example.org/a?utm_source=rss&amp;id=3&amp;gclid=x#top", "https://example.org/a?id=3"),
        ("HTTPS://EXAMPLE.org:443/b", "https://example.org/b"),
        ("javascript:void(0)", None),
        # Found by tests/test_fuzz.py: urljoin raises ValueError on a broken IPv6 literal, and that escaped
        # parse_feed and ended the whole poll round.
        ("http://[::1", None),
        ("https://[2001:db8::1/x", None),
    ],
)
def test_links_are_resolved_and_canonical(raw: str, expected: str | None) -> None:
    assert one(rss(item(link=raw)).encode()).link == expected


# --- summaries ------------------------------------------------------------------------------------


def test_summary_html_keeps_safe_markup() -> None:
    entry = with_summary('<![CDATA[<p>Sample <em>one</em></p><p><a href="https://example.org/ok">more</a></p>]]>')
    assert entry.summary_html.startswith("<p>Sample <em>one</em></p>")
    assert 'href="https://example.org/ok"' in entry.summary_html
    assert "nofollow" in entry.summary_html


@pytest.mark.parametrize(
    ("hostile", "gone"),
    [
        ("<script>steal()</script>", ["<script", "steal"]),
        ('<img src="https://tracker.example.org/p.gif" onerror="alert(2)">', ["<img", "onerror", "tracker"]),
        ('<a href="javascript:alert(1)">js</a>', ["javascript"]),
        ('<a href="JaVaScRiPt:alert(1)">js</a>', ["alert"]),
        ('<span style="color:red">styled</span>', ["style=", "color"]),
        ("<style>p{color:red}</style>", ["<style", "color"]),
        ('<p onclick="x()">para</p>', ["onclick"]),
        ('<iframe src="https://example.org/e"></iframe>', ["iframe"]),
        ("<form><input name=q></form>", ["<form", "<input"]),
    ],
)
def test_summary_html_removes_what_runs_loads_or_tracks(hostile: str, gone: list[str]) -> None:
    entry = with_summary(f"<![CDATA[<p>Sample report</p>{hostile}]]>")
    assert "<p>Sample report</p>" in entry.summary_html
    for fragment in gone:
        assert fragment.lower() not in entry.summary_html.lower()
    for fragment in ("steal", "color", "alert"):
        assert fragment not in entry.summary_text


@pytest.mark.parametrize("item_link", ["javascript://example.org/x", "ftp://example.org/file", "data:text/html,x"])
def test_relative_links_in_a_summary_never_inherit_the_scheme_of_an_odd_item_link(item_link: str) -> None:
    # Found by tests/test_fuzz.py: relative links were joined to the item's link whatever its scheme, and
    # nh3 checks schemes before joining, so "javascript://example.org/%0aalert(1)" reached summary_html.
    entry = one(
        rss(
            item(
                link=item_link,
                extra='<description>&lt;a href="%0aalert(1)"&gt;a&lt;/a&gt; '
                '&lt;a href="/2023/09/more"&gt;b&lt;/a&gt;</description>',
            )
        ).encode()
    )
    assert entry.link is None
    assert 'href="https://example.org/sample-wire/%0aalert(1)"' in entry.summary_html  # against the feed's URL
    assert 'href="https://example.org/2023/09/more"' in entry.summary_html
    assert item_link.split(":")[0] not in entry.summary_html


def test_summary_text_is_plain_with_spaces_between_blocks_and_entities_decoded() -> None:
    entry = with_summary(
        "<![CDATA[<p>First&nbsp;para.</p><p>Second &amp; last &#8212; &quot;q&quot;</p>"
        "<ul><li>one</li><li>two</li></ul>line<br>break]]>"
    )
    assert entry.summary_text == 'First para. Second & last \u2014 "q" one two line break'


def test_plain_text_summary_is_escaped_not_interpreted() -> None:
    entry = parse_it(ATOM.encode(), "application/atom+xml").items[0]
    assert entry.summary_html == "Plain &lt;b&gt;not bold&lt;/b&gt; text &amp; more"
    assert entry.summary_text == "Plain <b>not bold</b> text & more"


def test_content_hash_follows_the_summary() -> None:
    first = with_summary("Sample: evacuation continues")
    assert first.content_hash == with_summary("Sample: evacuation continues").content_hash
    assert first.content_hash != with_summary("Sample: evacuation continues, corrected").content_hash


# --- limits and duplicates ------------------------------------------------------------------------


def test_a_huge_title_is_cut() -> None:
    huge = "Sample " * 150_000  # about 1 MB
    parsed = parse_it(rss(item(title=huge)).replace("Sample Wire", huge, 1).encode())
    assert len(parsed.items[0].title) == parse.MAX_TITLE_CHARS
    assert parsed.title is not None and len(parsed.title) == parse.MAX_TITLE_CHARS


def test_an_untitled_item_named_by_a_huge_guid_or_link_is_cut_too() -> None:
    # Found by tests/test_fuzz.py: an entry with neither title nor summary is named by its link or guid,
    # which bypassed the title cap (a guid may be 2,000 characters, a link any length).
    long_guid = "sample-" + "x" * 1_990
    long_link = "https://example.org/" + "y" * 3_000
    parsed = parse_it(rss(f"<item><guid>{long_guid}</guid></item>", item(title="", link=long_link)).encode())
    assert [len(i.title) for i in parsed.items] == [parse.MAX_TITLE_CHARS] * 2
    assert parsed.items[0].guid == long_guid  # the guid itself is kept whole: it is the identity


def test_an_untitled_item_named_by_its_guid_gets_a_composed_title() -> None:
    # Found by tests/test_fuzz.py: the matcher's spans index composed (NFC) text, as every other title is.
    entry = one(rss('<item><guid isPermaLink="false">Sample-A\u0300</guid></item>').encode())
    assert (entry.title, entry.guid) == ("Sample-\u00c0", "Sample-A\u0300")


def test_duplicate_entries_within_a_feed_are_kept_once() -> None:
    parsed = parse_it(
        rss(
            item("First copy", "https://example.org/d/1", "<guid>https://example.org/d/1</guid>"),
            item("Second copy", "http://example.org/d/1?utm_source=x", "<guid>http://example.org/d/1</guid>"),
            item("Numbered", None, '<guid isPermaLink="false">7</guid>'),
            item("Numbered again", None, '<guid isPermaLink="false">7</guid>'),
            item("Other", "https://example.org/d/2"),
        ).encode()
    )
    assert [i.title for i in parsed.items] == ["First copy", "Numbered", "Other"]


# --- encodings ------------------------------------------------------------------------------------

RUSSIAN = "Пример: беженцы из Карабаха прибывают в Горис"


@pytest.mark.parametrize("content_type", ["application/xml", None])
def test_encoding_declared_in_the_xml(content_type: str | None) -> None:
    body = rss(item(RUSSIAN), encoding="windows-1251").encode("cp1251")
    assert one(body, content_type).title == RUSSIAN


@pytest.mark.parametrize(
    ("charset", "text"),
    [("koi8-r", RUSSIAN), ("iso-8859-1", "Exemple : réfugiés à Goris"), ("windows-1251", RUSSIAN)],
)
def test_encoding_given_only_in_the_content_type_header(charset: str, text: str) -> None:
    body = rss(item(text)).replace(' encoding="utf-8"', "").encode(charset)
    entry = one(body, headers={"Content-Type": f"application/rss+xml; charset={charset}"})
    assert entry.title == text


# --- broken documents -----------------------------------------------------------------------------


def test_malformed_xml_keeps_what_it_can_and_says_why() -> None:
    body = rss(
        item("Sample one", extra="<description>Sample <b>unclosed bold</description>"),
        item("Sample two", "https://example.org/news/2"),
    ).encode()
    parsed = parse_it(body)
    assert [i.title for i in parsed.items] == ["Sample one", "Sample two"]
    assert parsed.bozo and "mismatched tag" in parsed.bozo


def cut_off() -> ParsedFeed:
    body = rss(item("Sample one"), item("Sample two", "https://example.org/news/2")).encode()
    return parse_it(body[: body.index(b"</channel>")] + b"<item><title>Sample thr")


def test_a_cut_off_document_keeps_its_complete_entries() -> None:
    parsed = cut_off()
    assert [i.title for i in parsed.items][:2] == ["Sample one", "Sample two"]
    assert parsed.bozo


def test_a_cut_off_document_adds_no_empty_item() -> None:
    assert [i.title for i in cut_off().items] == ["Sample one", "Sample two"]


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sample Wire home</title></head>"
    b"<body><p>Not a feed</p><a href='/news/1'>story</a></body></html>"
)


def test_an_html_page_yields_no_items_and_bozo() -> None:
    parsed = parse_it(HTML_PAGE, "text/html; charset=utf-8")
    assert parsed.items == () and parsed.bozo


@pytest.mark.parametrize(("body", "content_type"), [(HTML_PAGE, "application/xml"), (b"", RSS_TYPE)])
def test_a_document_that_is_no_feed_is_bozo_whatever_its_content_type(body: bytes, content_type: str) -> None:
    parsed = parse_it(body, content_type)
    assert parsed.items == () and parsed.bozo


def test_a_well_formed_feed_served_as_text_html_is_not_bozo() -> None:
    parsed = parse_it(rss(item()).encode(), "text/html; charset=utf-8")
    assert len(parsed.items) == 1 and parsed.bozo is None


def test_garbage_never_raises() -> None:
    parsed = parse_it(b"\x00\xff\xfe garbage <<<", None)
    assert parsed.items == () and parsed.bozo


# --- language -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel", "argument", "expected"),
    [
        ("<language>ru-RU</language>", None, "ru-ru"),
        ("<language>ru</language>", "en", "en"),  # the config's language wins over the feed's
        ("", "hy", "hy"),
        ("", None, None),
        ("<language>not a language!</language>", None, None),
    ],
)
def test_language_from_the_feed_or_the_argument(channel: str, argument: str | None, expected: str | None) -> None:
    assert one(rss(item(), channel=channel).encode(), language=argument).language == expected


# --- entity tricks and oversized documents ---------------------------------------------------------

LAUGHS = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 if n > 1 else "")) * 10}">' for n in range(1, 10)
)


@pytest.mark.parametrize("separator", ["", "\n"])  # feedparser itself only strips declarations that start a line
def test_billion_laughs_expands_nothing(separator: str) -> None:
    import time
    import tracemalloc

    doctype = "<!DOCTYPE rss [" + separator + LAUGHS.replace("><", ">" + separator + "<") + separator + "]>"
    body = (
        rss(item("Sample: laughs &lol9;", extra="<description>&lol9;</description>"))
        .replace("<rss", doctype + "<rss", 1)
        .encode()
    )
    tracemalloc.start()
    started = time.perf_counter()
    parsed = parse_it(body)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 0.5 and peak < 5_000_000, (elapsed, peak)  # unprotected: 1.8 s and 59 MB
    [entry] = parsed.items
    assert "lollol" not in entry.title + entry.summary_text


def test_a_long_safe_looking_entity_is_not_multiplied() -> None:
    # `<!ENTITY a "AAA...">` has no markup, so feedparser kept it; 8,000 references made a 32 kB feed cost 200 MB.
    doctype = '<!DOCTYPE rss [\n<!ENTITY a "' + "A" * 8000 + '">\n]>\n'
    body = rss(item(extra="<description>" + "&a;" * 8000 + "</description>")).replace("<rss", doctype + "<rss", 1)
    entry = one(body.encode())
    assert "AAAA" not in entry.summary_text


def test_an_entity_naming_one_character_still_works() -> None:
    doctype = "<!DOCTYPE rss [\n<!ENTITY eacute \"&#233;\">\n<!ENTITY dash '&#x2014;'>\n]>\n"
    body = rss(item("Sample: Goris&dash;Lachin, r&eacute;sum&eacute;")).replace("<rss", doctype + "<rss", 1).encode()
    assert one(body).title == "Sample: Goris\u2014Lachin, r\u00e9sum\u00e9"


def test_netscape_rss_091_is_still_recognised_by_its_doctype() -> None:
    doctype = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
    )
    body = rss(item()).replace('<rss version="2.0">', doctype + '<rss version="0.91">', 1).encode()
    assert parse_it(body).version == "rss091n"


def test_external_entities_read_no_file(tmp_path: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SAMPLE-SECRET-MARKER")
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
    body = (
        rss(item("Sample: &xxe;", extra="<description>&xxe;</description>"), channel="<description>&xxe;</description>")
        .replace("<rss", doctype + "<rss", 1)
        .encode()
    )
    parsed = parse_it(body)
    assert "SAMPLE-SECRET-MARKER" not in repr(parsed)


def test_only_the_first_entries_of_a_huge_document_are_read() -> None:
    body = rss(*(item(f"Sample {n}", f"https://example.org/news/{n}") for n in range(parse.MAX_ITEMS + 50)))
    parsed = parse_it(body.encode())
    assert len(parsed.items) == parse.MAX_ITEMS and parsed.items[0].title == "Sample 0"
    assert parsed.bozo and f"more than {parse.MAX_ITEMS:,} entries" in parsed.bozo
