"""Property-based tests (hypothesis) of the parse and match stages over GENERATED feeds.

Every feed is made up here: RSS 2.0, Atom 1.0 or RDF documents of a "Sample Wire" outlet whose titles,
summaries, dates, links and guids are drawn from hostile material (control characters, markup and script
fragments, entities, absurd dates, javascript: and relative links), then possibly cut at a random byte or
replaced by random bytes. Links point to example.org. Whatever arrives, parsing must not raise and what it
returns must keep the promises the rest of the program relies on: safe summary HTML, capped text,
plausible dates, unique keys; and matching must not raise and its evidence must point at the text quoted.

CI runs the "ci" profile (reproducible, a few seconds); `python bench/fuzz.py --seconds 300` runs the
"long" one with fresh random seeds until the time is up (MONITOR_FUZZ=long selects it here too).
"""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import cache
from html.parser import HTMLParser
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.config.load import load_config
from monitor.match.rules import Matcher
from monitor.parse import feed as parse
from monitor.parse.feed import parse_feed
from monitor.types import ParsedFeed, RuleSpec, ThemeMatch, ThemeSpec

from .conftest import REPO

pytestmark = pytest.mark.slow  # property-based fuzzing

_SLOW_DRAWS = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]
# derandomize: CI explores the same examples on every run, so a red build is reproducible from its log.
settings.register_profile(
    "ci", max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=_SLOW_DRAWS
)
settings.register_profile(
    "long",
    max_examples=2_000,
    deadline=None,
    derandomize=False,
    database=None,
    print_blob=True,
    suppress_health_check=_SLOW_DRAWS,
)
FUZZ = settings.get_profile(os.environ.get("MONITOR_FUZZ", "ci"))

NOW = datetime(2023, 9, 30, 12, tzinfo=UTC)
FEED_URL = "https://sample-wire.example.org/feed.xml"
EXAMPLES = {"count": 0}  # examples run, read by bench/fuzz.py

# --- material --------------------------------------------------------------------------------------

# Words the shipped themes react to (so matching produces evidence to check), in several scripts, and
# characters that change length or shape when lower-cased or normalised.
THEME_WORDS = [
    "Karabakh",
    "Karabagh",
    "Nagorno-Karabakh",
    "Armenians",
    "Armenian",
    "fled",
    "flee",
    "exodus",
    "refugees",
    "Russia",
    "Russian",
    "peacekeepers",
    "betrayed",
    "Putin",
    "Kremlin",
    "Baku",
    "Aliyev",
    "rights",
    "promises",
    "Stepanakert",
    "Lachin",
    "Goris",
    "Карабах",
    "беженцы",
    "Россия",
    "İstanbul",
    "İLHAM",
    "ALİYEV",
    "Xankəndi",
    "Şuşa",
    "e\u0301",
    "A\u030a",
    "ﬁ",
    "ß",
    "ǅ",
    "ΣΑΣ",
    "\u0130\u0130\u0130",
]
MARKUP = [
    "<script>alert(1)</script>",
    "<SCRIPT src=//example.org/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<a href='JaVaScRiPt:alert(1)'>",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">',
    "<svg onload=alert(1)>",
    '<p onclick="alert(1)">hi</p>',
    "<iframe src=https://example.org></iframe>",
    "<style>p{}</style>",
    '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>',
    '<a href="/relative/path">r</a>',
    '<a href="vbscript:msgbox(1)">v</a>',
    "<b>bold",
    "</p></div>",
    "<!-- comment",
    "]]>",
    "<![CDATA[",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&lt;img src=x onerror=alert(1)&gt;",
    '&lt;a href="javascript:alert(1)"&gt;x&lt;/a&gt;',
    "<math><mi xlink:href=javascript:alert(1)>",
    "<p>Sample Wire paragraph</p>",
    "<br/>",
    "<form action=javascript:alert(1)><input></form>",
]
ENTITIES = [
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&#38;",
    "&#x26;",
    "&nbsp;",
    "&eacute;",
    "&#0;",
    "&#xD800;",
    "&#1114112;",
    "&#x1F600;",
    "&undefined;",
    "&",
    "&#;",
    "&sample;",
    "&#27;",
    "&#x1b;[2J",
    "&#x9b;",
    "&#7;",
    "&#133;",
]
CONTROL = [chr(c) for c in range(0, 32)] + [
    "\x7f",
    "\x85",
    "\x9b",
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "\u2028",
    "\u200b",
    "\ufeff",
    "\ufffe",
    "\U0001f600",
]
LINKS = [
    "https://sample-wire.example.org/2023/09/story",
    "http://sample-wire.example.org/a?utm_source=rss&id=1",
    "/2023/09/relative",
    "../up/one",
    "?p=12",
    "//sample-wire.example.org/protocol-relative",
    "#fragment",
    "javascript:alert(1)",
    " JaVaScRiPt:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:x",
    "mailto:desk@example.org",
    "tag:example.org,2023:1",
    "http://[::1",
    "http://exa mple.org/",
    "https://sample-wire.example.org:99999/",
    "http://",
    "https://Sample-Wire.EXAMPLE.org./x#y",
    "",
    "   ",
    "ftp://example.org/file",
    "https://[2001:db8::1]:8443/x",
    "http://sample-wire.example.org/" + "x" * 3000,
]
DATE_STRINGS = [
    "",
    "yesterday",
    "Mon, 31 Feb 2023 25:61:99 +9999",
    "0000-00-00T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "Sun, 01 Jan 0001 00:00:00 GMT",
    "1969-12-31T23:59:59Z",
    "2023-09-25",
    "1e10",
    "-1",
    "Thu, 01 Jan 1970 00:00:00 +0000",
    "2023-13-45T99:99:99+99:99",
    "Sat, 30 Sep 2023 12:00:00 -2400",
]


def pieces(extra: list[str]) -> st.SearchStrategy[str]:
    """One piece of hostile text: random unicode, a control character, a theme word, markup, an entity."""
    return st.one_of(
        st.text(max_size=12),
        st.sampled_from(CONTROL),
        st.sampled_from(THEME_WORDS),
        st.sampled_from(MARKUP),
        st.sampled_from(ENTITIES),
        st.sampled_from(extra),
        st.just(" "),
    )


def _theme_texts_below() -> st.SearchStrategy[str]:
    """theme_texts, defined further down (a named function lets mypy wait for its type)."""
    return theme_texts()


texts = st.lists(pieces([" ", "Sample:", "Sample Wire"]), max_size=14).map("".join)
# Now and then, text longer than every cap, so the caps themselves are exercised.
long_texts = st.one_of(
    texts, st.tuples(texts, st.integers(1, 2_500)).map(lambda t: (t[0] or "x") * t[1]), st.deferred(_theme_texts_below)
)


@st.composite
def dates(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["rfc822", "iso", "string"]))
    if kind == "string":
        return draw(st.one_of(st.sampled_from(DATE_STRINGS), texts))
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    offset = draw(st.sampled_from(["+0000", "GMT", "-0500", "+1400", "Z", "EST", ""]))
    if kind == "rfc822":
        return moment.strftime("%a, %d %b %Y %H:%M:%S ") + offset
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if offset in ("Z", "GMT", "+0000") else "")


links = st.one_of(st.sampled_from(LINKS), texts)


@st.composite
def field(draw: st.DrawFn, value: str) -> str:
    """A text as a feed writes it: escaped, as CDATA, or raw (which may break the XML, as real feeds do)."""
    how = draw(st.sampled_from(["escaped", "escaped", "cdata", "raw", "double"]))
    if how == "escaped":
        return escape(value)
    if how == "cdata":
        return "<![CDATA[" + value + "]]>"
    if how == "double":  # HTML escaped into XML: the common RSS description
        return escape(escape(value))
    return value


@st.composite
def entries(draw: st.DrawFn, fmt: str) -> str:
    title = draw(field(draw(long_texts)))
    summary = draw(field(draw(long_texts)))
    link = escape(draw(links))
    guid = escape(draw(st.one_of(st.just(""), links, long_texts)))
    date = escape(draw(dates()))
    present = draw(st.sets(st.sampled_from(["title", "summary", "link", "guid", "date", "updated"])))

    def tag(name: str, key: str, value: str) -> str:
        return f"<{name}>{value}</{name}>" if key in present else ""

    if fmt == "rss":
        return (
            "<item>"
            + tag("title", "title", title)
            + tag("link", "link", link)
            + tag("description", "summary", summary)
            + tag("guid", "guid", guid)
            + tag("pubDate", "date", date)
            + "</item>"
        )
    if fmt == "atom":
        kind = draw(st.sampled_from(["html", "text", "xhtml"]))
        content = f'<div xmlns="http://www.w3.org/1999/xhtml">{summary}</div>' if kind == "xhtml" else summary
        return (
            "<entry>"
            + tag("title", "title", title)
            + tag("id", "guid", guid)
            + (f'<link rel="alternate" href="{link}"/>' if "link" in present else "")
            + (f'<summary type="{kind}">{content}</summary>' if "summary" in present else "")
            + tag("published", "date", date)
            + tag("updated", "updated", date)
            + "</entry>"
        )
    return (
        f'<item rdf:about="{link}">'
        + tag("title", "title", title)
        + tag("link", "link", link)
        + tag("description", "summary", summary)
        + tag("dc:date", "date", date)
        + "</item>"
    )


@st.composite
def documents(draw: st.DrawFn) -> bytes:
    """A whole document, as bytes, maybe damaged the way transfers and broken CMSs damage them."""
    fmt = draw(st.sampled_from(["rss", "atom", "rdf"]))
    items = "".join(draw(st.lists(entries(fmt), max_size=6)))
    title = draw(field(draw(texts)))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "iso-8859-1", "utf-16", "windows-1252"]))
    declared = draw(st.sampled_from([encoding, "utf-8", "koi8-r", "bogus-charset"]))
    doctype = draw(
        st.sampled_from(
            [
                "",
                '<!DOCTYPE rss [<!ENTITY sample "Sample Wire &amp; co">]>',
                '<!DOCTYPE x SYSTEM "https://example.org/x.dtd">',
            ]
        )
    )
    head = f'<?xml version="1.0" encoding="{declared}"?>{doctype}'
    if fmt == "rss":
        text = (
            f'{head}<rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://sample-wire.example.org/</link>{items}</channel></rss>"
        )
    elif fmt == "atom":
        text = f'{head}<feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>{items}</feed>'
    else:
        text = (
            f'{head}<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            f'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<channel><title>{title}</title></channel>{items}</rdf:RDF>"
        )
    body = text.encode(encoding, errors="replace")
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "random"]))
    if damage == "truncate":
        body = body[: draw(st.integers(0, len(body)))]
    elif damage == "flip" and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at + 1 :]
    elif damage == "random":
        body = draw(st.binary(max_size=600))
    return body


content_types = st.sampled_from(
    [
        "application/rss+xml; charset=utf-8",
        "application/atom+xml",
        "text/html",
        "text/xml; charset=iso-8859-1",
        "application/octet-stream",
        "text/plain; charset=bogus",
        "",
    ]
)


# --- the properties --------------------------------------------------------------------------------

_FORBIDDEN_TAGS = {
    "script",
    "img",
    "style",
    "iframe",
    "svg",
    "math",
    "form",
    "input",
    "object",
    "embed",
    "link",
    "meta",
    "base",
}
_URL_ATTRIBUTES = {"href", "src", "action", "xlink:href", "formaction", "background"}


class _Tags(HTMLParser):
    """The tags and attributes of a fragment as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_safe_html(fragment: str) -> None:
    assert "<script" not in fragment.lower(), fragment
    parser = _Tags()
    parser.feed(fragment)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in _FORBIDDEN_TAGS, fragment
        for name, value in attrs:
            assert not name.startswith("on"), fragment
            if name in _URL_ATTRIBUTES:
                # Browsers skip control characters and spaces inside a scheme: "jav\tascript:" runs.
                squeezed = re.sub(r"[\x00-\x20]", "", value or "").lower()
                assert squeezed.startswith(("http://", "https://", "mailto:")), fragment


def controls(text: str | None, allowed: str = "") -> list[str]:
    """Control characters (C0, DEL, C1) of `text` other than `allowed`: what could drive a terminal."""
    return [c for c in text or "" if unicodedata.category(c) == "Cc" and c not in allowed]


def check_parsed(parsed: ParsedFeed) -> None:
    keys = [item.key for item in parsed.items]
    assert len(keys) == len(set(keys)), keys
    if parsed.title is not None:
        assert 0 < len(parsed.title) <= parse.MAX_TITLE_CHARS
        assert not controls(parsed.title), parsed.title
    for item in parsed.items:
        assert item.key.startswith(("url:", "guid:1:", "hash:1:")), item.key
        assert len(item.title) <= parse.MAX_TITLE_CHARS, len(item.title)
        assert len(item.summary_text) <= parse.MAX_TEXT_CHARS
        assert item.title or item.summary_text, item
        # Stored text drives no terminal: one-line fields have no controls at all, HTML only newline and tab.
        for text in (item.title, item.summary_text, item.link, item.author, item.guid, item.key):
            assert not controls(text), repr(text)
        assert not controls(item.summary_html, "\n\t"), repr(item.summary_html)
        assert_safe_html(item.summary_html)
        assert item.link is None or item.link.startswith(("http://", "https://")), item.link
        assert item.published.tzinfo is not None and item.published.utcoffset() == timedelta(0)
        assert parse.EARLIEST_PLAUSIBLE <= item.published <= NOW + parse.FUTURE_TOLERANCE, item.published
        assert item.date_source in ("published", "updated", "first_seen")
        assert item.date_source != "first_seen" or item.published == NOW
        # Stored text is composed (NFC), as the matcher's spans assume.
        assert unicodedata.normalize("NFC", item.title) == item.title
        assert unicodedata.normalize("NFC", item.summary_text) == item.summary_text


@cache
def matcher() -> Matcher:
    return Matcher(load_config(REPO / "config" / "feeds.toml").themes)


def check_matches(matches: list[ThemeMatch], title: str, summary: str) -> None:
    texts = {"title": title, "summary": summary}
    assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    for found in matches:
        assert 0 <= found.score <= 100 and found.evidence, found
        for evidence in found.evidence:
            assert evidence.kind in ("phrase", "rule") and evidence.spans, evidence
            for span in evidence.spans:
                text = texts[span.field]
                assert 0 <= span.start < span.end <= len(text), (span, len(text))
                assert text[span.start : span.end] == span.text, (span, text)
                # Spans are whole words: they begin and end on a letter or digit, never mid-separator.
                assert re.match(r"\w", span.text[0]) and re.match(r"\w", span.text[-1]), span


@FUZZ
@given(documents(), content_types)
def test_parse_never_raises_and_keeps_its_promises(body: bytes, content_type: str) -> None:
    EXAMPLES["count"] += 1
    parsed = parse_feed(
        body, url=FEED_URL, headers={"Content-Type": content_type} if content_type else {}, feed_id=1, now=NOW
    )
    check_parsed(parsed)


@FUZZ
@given(st.binary(max_size=2_000), st.sampled_from([FEED_URL, "not a url", "", "https://[::1"]))
def test_parse_of_random_bytes_never_raises(body: bytes, url: str) -> None:
    EXAMPLES["count"] += 1
    check_parsed(parse_feed(body, url=url, headers={}, feed_id=1, now=NOW))


@FUZZ
@given(documents())
def test_matching_parsed_items_points_at_the_stored_text(body: bytes) -> None:
    EXAMPLES["count"] += 1
    for item in parse_feed(body, url=FEED_URL, headers={}, feed_id=1, now=NOW).items:
        # As the store calls it: spans must index the stored (NFC) title and summary text exactly.
        check_matches(matcher().match(item.title, item.summary_text), item.title, item.summary_text)


# Sample sentences that match the shipped themes, so that matching produces evidence whose spans can be
# checked; hostile pieces go between and into their words, and words change case (which changes the
# length of "İ" and "ẞ" when lower-cased).
ON_THEME = [
    "Sample: Armenians feel betrayed as Russian peacekeepers stood by in Karabakh",
    "Sample: first families leave Nagorno-Karabakh for Armenia",
    "Sample: Baku promises Karabakh Armenians will keep their rights after reintegration",
    "Sample: refugees from Karabakh arrive in Goris as the exodus of Karabakh Armenians grows",
    "Sample: Kremlin abandoned Armenia, critics in Yerevan say of Russia's inaction in Karabakh",
    "Пример: беженцы из Карабаха прибывают в Горис; армяне покидают Карабах",
]


@st.composite
def theme_texts(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 4)) == 0:  # now and then, word soup
        return "".join(
            draw(st.lists(st.one_of(st.sampled_from(THEME_WORDS), pieces(["Russia", "Karabakh"])), max_size=40))
        )
    words = draw(st.sampled_from(ON_THEME)).split(" ")
    out = []
    for word in words:
        how = draw(st.sampled_from(["same"] * 6 + ["upper", "title", "accent", "dotted", "piece"]))
        if how == "upper":
            word = word.upper()
        elif how == "title":
            word = word.title()
        elif how == "accent":  # a combining mark, composed or not by NFC
            word = word + draw(st.sampled_from(["\u0301", "\u0307", "\u0323\u0301", "\u20dd"]))
        elif how == "dotted":
            word = word.replace("i", "İ").replace("ss", "ẞ")
        elif how == "piece":
            word = draw(pieces(["-", "'s"])) + word
        out.append(word)
        out.append(draw(st.sampled_from([" ", " ", " ", "  ", "\u00a0", " \u2014 ", "\t", "\n", ", "])))
    return "".join(out)


@FUZZ
@given(theme_texts(), theme_texts())
def test_matcher_never_raises_and_spans_quote_the_text(title: str, summary: str) -> None:
    EXAMPLES["count"] += 1
    found = matcher().match(title, summary)
    # The matcher reads composed text (parse stores NFC); its spans index that form.
    check_matches(found, unicodedata.normalize("NFC", title), unicodedata.normalize("NFC", summary))


def test_the_safety_check_itself_catches_what_it_must() -> None:
    # The HTML property above is only as good as this checker: it must reject each way script gets in.
    for unsafe in [
        '<a href="javascript:alert(1)">x</a>',
        '<a href="jav&#x09;ascript:alert(1)">x</a>',
        '<p onclick="alert(1)">x</p>',
        "<img src=https://example.org/x.png>",
        "<SCRIPT>x</SCRIPT>",
        '<a href="/relative">x</a>',
    ]:
        try:
            assert_safe_html(unsafe)
        except AssertionError:
            continue
        raise AssertionError(f"the checker let through {unsafe!r}")
    assert_safe_html('<p>Sample Wire &lt;script&gt; <a href="https://example.org/" rel="noopener">x</a></p>')


def test_the_on_theme_samples_do_match() -> None:
    # The span properties above are only exercised when matching finds evidence: the sentences the
    # generator starts from must keep matching the shipped themes.
    assert all(matcher().match(sentence) for sentence in ON_THEME)


# --- adding words never removes a match --------------------------------------------------------------

VOCABULARY = sorted({w.strip(".,;:'").lower() for s in ON_THEME for w in s.split()} - {"", "sample"})
FILLER = [
    "The talks went on.",
    "Officials said little more on Tuesday.",
    "Prices rose again in the capital.",
    "A long report followed, with many figures and quotes from both sides of the argument.",
]


def exclude_probe(spec: ThemeSpec) -> Matcher | None:
    """A matcher that fires exactly when one of the theme's exclude terms stands in the text."""
    if not spec.exclude:
        return None
    probe = RuleSpec("x", (spec.exclude,), within=100, score=85, ordered=False)
    return Matcher({"x": ThemeSpec("x", "x", rules=(probe,), threshold=0)})


def scores(engine: Matcher, title: str, summary: str) -> dict[str, int]:
    return {m.theme: m.score for m in engine.match(title, summary)}


def assert_appending_never_lowers(engine: Matcher, title: str, summary: str, extra: str, to_title: bool) -> None:
    EXAMPLES["count"] += 1
    after = (f"{title} {extra}", summary) if to_title else (title, f"{summary} {extra}")
    before_scores, after_scores = scores(engine, title, summary), scores(engine, *after)
    for spec in (t.spec for t in engine.themes):
        probe = exclude_probe(spec)
        if probe and probe.match(*after) and not probe.match(title, summary):
            continue  # the added text brought an exclude term: the one thing allowed to remove a match
        assert after_scores.get(spec.key, 0) >= before_scores.get(spec.key, 0), (spec.key, before_scores, after_scores)


item_texts = st.lists(st.one_of(theme_texts(), st.sampled_from(FILLER)), min_size=1, max_size=6).map(" ".join)


@FUZZ
@given(theme_texts(), item_texts, item_texts, st.booleans())
def test_appending_text_never_lowers_a_shipped_themes_score(
    title: str, summary: str, extra: str, to_title: bool
) -> None:
    assert_appending_never_lowers(matcher(), title, summary, extra, to_title)


terms = st.sampled_from(VOCABULARY).flatmap(
    lambda w: st.sampled_from([w, w.title()] + ([w[: max(3, len(w) - 2)] + "*"] if len(w) >= 4 else []))
)
groups = st.lists(terms, min_size=1, max_size=4).map(tuple)
rules = st.builds(
    RuleSpec,
    name=st.sampled_from(["r1", "r2", "r3"]),
    groups=st.lists(groups, min_size=1, max_size=3).map(tuple),
    within=st.integers(1, 25),
    score=st.integers(50, 100),
    ordered=st.booleans(),
)
phrases = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=5).map(" ".join)
generated_themes = st.builds(
    ThemeSpec,
    key=st.just("g"),
    label=st.just("g"),
    phrases=st.lists(phrases, max_size=3).map(tuple),
    rules=st.lists(rules, max_size=3).map(tuple),
    require=st.lists(terms, max_size=2).map(tuple),
    exclude=st.lists(terms, max_size=2).map(tuple),
    threshold=st.integers(0, 100),
)


@FUZZ
@given(generated_themes, theme_texts(), item_texts, item_texts, st.booleans())
def test_appending_text_never_lowers_a_generated_themes_score(
    spec: ThemeSpec, title: str, summary: str, extra: str, to_title: bool
) -> None:
    assert_appending_never_lowers(Matcher({"g": spec}), title, summary, extra, to_title)
