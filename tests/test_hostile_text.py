"""Hostile text and secrets (issue 11): terminal control sequences a feed sends, and the credentials an
operator puts in a feed's URL, never reach a terminal, a log, a digest, an e-mail, an OPML file or the
metrics. Feeds are served by real HTTP servers on 127.0.0.1, the CLI and the daemon run as subprocesses,
the digest goes to a real SMTP server; outputs are read back and searched.

Every sample is marked as one ("Sample Wire", example.org) and none is real reporting.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import httpx
import pytest

from monitor.text.safe import one_line, redact, shown, strip_controls

from .conftest import backdate_polling
from .feedserver import FeedServer
from .helpers import THEMES, WEEK, Running, count, email_section, entry, line_of, wait_for
from .mailserver import MailServer, body, free_port
from .samples import rss

SITE = "https://sample-wire.example.org"
# Window title, clear screen, red (a C1 CSI, one byte in Latin-1), cursor home: what a hostile feed sends.
ESCAPES = ["\x1b]0;pwned\x07", "\x1b[2J", "\x9b31m", "\x1b[H"]
# The same written as XML character references: expat refuses them, feedparser's loose parser decodes them.
REFERENCES = ["&#27;]0;pwned&#7;", "&#x1b;[2J", "&#x9b;31m", "&#27;[H"]


def controls(text: str) -> list[str]:
    """The control characters of `text` (C0, DEL, C1) other than newline and tab."""
    return sorted({repr(c) for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"})


def monitor(config: Path, db: Path, *args: str, expect: int | None = 0) -> str:
    """`monitor --config CONFIG --db DB ARGS...` as an operator runs it, logging details (-v); stdout and stderr
    together."""
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), "-v", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    if expect is not None:
        assert done.returncode == expect, f"exit {done.returncode}\n{output}"
    return output


def backdate_into_week(db: Path) -> None:
    """Move the record of today's polls into the sample week. The CLI reads the real clock, and a digest's
    failing-feeds section is about polls made during its week: the polls are real, only their dates move."""
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE fetches SET started_at = '2023-09-27T12:00:00Z'")
        conn.execute(
            "UPDATE feeds SET created_at = '2023-09-20T12:00:00Z', last_fetch_at = '2023-09-27T12:00:00Z',"
            " first_fetch_at = '2023-09-20T12:00:00Z', first_success_at = CASE WHEN first_success_at IS NULL"
            " THEN NULL ELSE '2023-09-20T12:00:00Z' END, first_live_at = CASE WHEN first_live_at IS NULL"
            " THEN NULL ELSE '2023-09-20T12:00:00Z' END,"
            " last_error_at = CASE WHEN last_error_at IS NULL THEN NULL ELSE '2023-09-27T12:00:00Z' END,"
            " last_success_at = CASE WHEN last_success_at IS NULL THEN NULL ELSE '2023-09-27T12:00:00Z' END"
        )
    conn.close()


def database_text(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


# --- the pure functions ------------------------------------------------------------------------------


def test_control_characters_go_and_line_structure_stays_where_it_belongs():
    text = "Sample\x1b]0;pwned\x07 title\x9b31m\r\nline two\tcell\x00\x7f\x85end"
    assert strip_controls(text) == "Sample]0;pwned title31m\nline two\tcellend"
    assert one_line(text) == "Sample]0;pwned title31m line two cell end"
    assert shown(None) == "" and shown("plain") == "plain"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://user:secret@host.example.org/feed", "https://user:***@host.example.org/feed"),
        ("https://secret-token@host.example.org/feed", "https://***@host.example.org/feed"),  # a token as user
        ("http://user:se@cret@host.example.org:8080/x?a=b@c", "http://user:***@host.example.org:8080/x?a=b@c"),
        (
            "redirect loop at http://user:secret@127.0.0.1:9/loop; see https://a:secret@b.example.org",
            "redirect loop at http://user:***@127.0.0.1:9/loop; see https://a:***@b.example.org",
        ),
        (
            "https://host.example.org/rss?lang=en&access_token=abc;sig=xyz#top and https://x.example.org/?author=a",
            "https://host.example.org/rss?lang=en&access_token=***;sig=***#top and https://x.example.org/?author=a",
        ),
        (
            "https://h.example.org/x?X-Amz-Signature=z&keyword=k&apiKey=q",
            "https://h.example.org/x?X-Amz-Signature=***&keyword=k&apiKey=***",
        ),
        ("key=value outside a URL", "key=value outside a URL"),
        (
            "https://host.example.org/a@b and mail desk@example.org",
            "https://host.example.org/a@b and mail desk@example.org",
        ),
    ],
)
def test_redact_hides_the_secret_of_every_url_in_a_text(given, expected):
    assert redact(given) == expected


# --- 1. terminal escapes -------------------------------------------------------------------------------


def escape_feeds(feed_server: FeedServer) -> list[dict[str, str]]:
    """Two sample feeds: one with raw control sequences in its title, item titles and summaries (ill-formed
    XML that the loose parser reads anyway), one with the same written as character references."""
    raw = rss(
        [
            entry(1, f"Sample: families fled Stepanakert {ESCAPES[0]}at night{ESCAPES[1]}"),
            entry(2, f"Sample: refugees from Karabakh {ESCAPES[2]}reach Goris{ESCAPES[3]}", day=27),
        ],
        title=f"Sample Wire {ESCAPES[0]}",
    )
    raw = raw.replace(b"Sample text for monitor", "Sample \x1b[2Jtext\x9b31m\x07 for monitor".encode())
    referenced = (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>Sample Ref Wire {REFERENCES[0]}</title><link>{SITE}/</link>"
        f"<item><title>Sample: families fled Karabakh {REFERENCES[0]}by road{REFERENCES[1]}</title>"
        f"<link>{SITE}/2023/09/ref-1</link><guid>{SITE}/2023/09/ref-1</guid>"
        f"<description>Sample {REFERENCES[2]}summary &amp;#27;[2J{REFERENCES[3]} for monitor's tests</description>"
        "<pubDate>Wed, 27 Sep 2023 10:00:00 +0000</pubDate></item></channel></rss>"
    ).encode()
    return [
        {"name": "sample-raw", "url": feed_server.add("/raw", body=raw)},
        {"name": "sample-refs", "url": feed_server.add("/refs", body=referenced)},
    ]


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_control_sequences_from_feeds_never_reach_the_terminal_the_digest_or_the_email(
    feed_server, write_config, tmp_path
):
    mail = MailServer().start()
    try:
        config = write_config(escape_feeds(feed_server), extra=THEMES + "\n" + email_section(mail.port))
        db = tmp_path / "data" / "monitor.db"
        polled = monitor(config, db, "poll")
        assert "2 new" in line_of(polled, "sample-raw") and "1 new" in line_of(polled, "sample-refs")
        # Stored clean: the parse step strips them, so every later reader gets clean text.
        conn = sqlite3.connect(db)
        stored = conn.execute(
            "SELECT title || ' ' || summary || ' ' || summary_html || ' ' || coalesce(link, '') "
            "|| ' ' || coalesce(guid, '') "
            "FROM items UNION ALL SELECT coalesce(title, '') FROM feeds"
        ).fetchall()
        conn.close()
        assert len(stored) == 5 and "Sample Wire" in " ".join(r[0] for r in stored)
        assert controls(" ".join(r[0] for r in stored)) == [], "control characters were stored"
        # Text a previous version stored as it came: the printing side guards it too.
        conn = sqlite3.connect(db)
        with conn:
            conn.execute("UPDATE items SET title = title || ' \x1b]0;old\x07\x9b2J'")
            conn.execute("UPDATE feeds SET title = 'Sample old \x1b[2J', last_error = 'Sample error \x1b]0;x\x07'")
        conn.close()
        outputs = {
            "poll": polled,
            "search": monitor(config, db, "search", "Stepanakert"),
            "search --json": monitor(config, db, "search", "Karabakh", "--json"),
            "feeds": monitor(config, db, "feeds"),
            "feeds --json": monitor(config, db, "feeds", "--json"),
            "match": monitor(config, db, "match", "Sample: families fled Stepanakert \x1b]0;pwned\x07 now"),
        }
        assert "Stepanakert" in outputs["search"] and "Karabakh" in outputs["search --json"]
        out = tmp_path / "out"
        backdate_polling(db)  # polled all along, as the sample week's digest assumes
        outputs["digest"] = monitor(config, db, "digest", "--week", WEEK, "--out", str(out))
        outputs["digest .txt"] = (out / f"{WEEK}.txt").read_text()
        outputs["digest .html"] = (out / f"{WEEK}.html").read_text()
        [(_, message)] = mail.messages
        # CR LF ends the lines of a message on the wire: the only CR allowed.
        outputs["e-mail text"] = body(message, "plain").replace("\r\n", "\n")
        outputs["e-mail html"] = body(message, "html").replace("\r\n", "\n")
    finally:
        mail.stop()
    assert "families fled Stepanakert" in outputs["digest .txt"] and "Karabakh" in outputs["e-mail text"]
    found = {name: controls(text) for name, text in outputs.items() if controls(text)}
    assert found == {}, f"control characters reached: {found}"


# --- 2. credentials in feed URLs -------------------------------------------------------------------------


@pytest.mark.timeout(180)
@pytest.mark.slow
def test_credentials_in_feed_urls_are_sent_to_their_host_only_and_shown_nowhere(feed_server, write_config, tmp_path):
    other = FeedServer(host="127.0.0.2").start()  # another host that also asks for credentials
    mail = MailServer().start()
    try:
        stories = rss(
            [
                entry(1, "Sample: families fled Stepanakert overnight"),
                entry(2, "Sample: refugees from Karabakh reach Goris", day=27),
            ]
        )
        feed_server.add("/private", body=stories, auth="user:secret")
        # The site moved its feed within itself, with an absolute Location that carries no userinfo.
        feed_server.add("/moved", status=301, headers={"Location": feed_server.url("/private")})
        feed_server.add("/token", body=rss([entry(3, "Sample: families fled Karabakh by night")]), auth="secret-token:")
        other.add("/private", body=stories, auth="user:secret")
        feed_server.add("/elsewhere", status=302, headers={"Location": other.url("/private")})
        feed_server.add("/loop", status=302, headers={"Location": "/loop"})  # its error quotes the URL
        feed_server.add("/query", status=302, headers={"Location": "/query?lang=en&access_token=secret-query"})
        with_secret = feed_server.base_url.replace("http://", "http://user:secret@")
        feeds = [
            {"name": "sample-moved", "url": f"{with_secret}/moved"},
            {"name": "sample-token", "url": feed_server.base_url.replace("http://", "http://secret-token@") + "/token"},
            {"name": "sample-elsewhere", "url": f"{with_secret}/elsewhere"},
            {"name": "sample-loop", "url": f"{with_secret}/loop"},
            # A token as a query parameter: the server fails, and the error, the feed list and the OPML
            # export would quote it.
            {"name": "sample-query", "url": feed_server.url("/query") + "?lang=en&access_token=secret-query"},
        ]
        config = write_config(feeds, extra=THEMES + "\n" + email_section(mail.port))
        db = tmp_path / "data" / "monitor.db"
        outputs = {
            "check": monitor(config, db, "check"),
            "poll 1": monitor(config, db, "poll"),
            "poll 2": monitor(config, db, "poll", "--force"),
        }
        polled = outputs["poll 1"]
        # The same host got the credentials after the redirect; the other host never did.
        assert "2 new" in line_of(polled, "sample-moved"), polled
        assert "1 new" in line_of(polled, "sample-token"), polled
        assert "user:***@" in line_of(polled, "sample-loop") and "user:***@" in polled  # the note of the move
        assert line_of(polled, "sample-elsewhere").startswith("error") and "401" in line_of(polled, "sample-elsewhere")
        assert other.hits("/private") and all("authorization" not in r.headers for r in other.hits("/private"))
        assert "nothing new" in line_of(outputs["poll 2"], "sample-moved")  # polled at its new address
        outputs["feeds"] = monitor(config, db, "feeds")
        outputs["feeds --json"] = monitor(config, db, "feeds", "--json")
        outputs["opml"] = monitor(config, db, "feeds", "export")
        assert "user:***@" in outputs["opml"] and "xmlUrl" in outputs["opml"]
        backdate_into_week(db)
        out = tmp_path / "out"
        outputs["digest"] = monitor(config, db, "digest", "--week", WEEK, "--out", str(out))
        outputs["digest .txt"] = (out / f"{WEEK}.txt").read_text()
        outputs["digest .html"] = (out / f"{WEEK}.html").read_text()
        [(_, message)] = mail.messages
        outputs["e-mail"] = message.as_string()
        assert "sample-loop" in outputs["digest .txt"] and "user:***@" in outputs["digest .txt"]  # failing feeds

        # The daemon, on a database of its own, with metrics: its log and /metrics.
        port = free_port()
        daemon_config = write_config(
            feeds, name="daemon.toml", extra=f'[metrics]\nenabled = true\naddress = "127.0.0.1:{port}"\n'
        )
        daemon_db, log = tmp_path / "daemon" / "monitor.db", tmp_path / "daemon.log"
        daemon = Running(daemon_config, daemon_db, log)
        try:
            wait_for(
                lambda: count(daemon_db, "SELECT count(DISTINCT feed_id) FROM fetches") == 5, what="a poll of each"
            )
            outputs["metrics"] = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        finally:
            daemon.stop()
        outputs["daemon log"] = log.read_text()
    finally:
        mail.stop()
        other.stop()
    assert "started failing" in outputs["daemon log"] and "monitor_polls_total" in outputs["metrics"]
    leaks = {name: text.count("secret") for name, text in outputs.items() if "secret" in text}
    assert leaks == {}, f"credentials shown in: {leaks}"
    # The database keeps the URL as configured (it is the operator's), moved within the same host.
    assert "user:secret@" in database_text(db)
    assert "secret" in monitor(config, db, "feeds", "export", "--with-credentials")
