"""`monitor digest` as a user meets it: files written, one e-mail to a real SMTP server on 127.0.0.1,
never a second one, failures retried, hostile feed content made harmless."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from monitor.cli import cli

from .conftest import backdate_polling
from .helpers import BROWSER, STORIES, THEMES, WEEK, email_section, entry, screenshot
from .mailserver import MailServer, free_port
from .samples import Entry, rss


@pytest.fixture
def digest_setup(feed_server, write_config, run_cli, tmp_path, mail, db_path):
    """A config with the sample theme, e-mail to the local server, and W39's items polled by a monitor
    that has been polling since before W39 (a week polled by none is not e-mailed unbidden: test_coverage)."""

    def make(entries=STORIES, email: str | None = None):
        url = feed_server.add("/wire", body=rss(entries))
        config = write_config(
            [{"name": "sample-wire", "url": url}],
            extra=THEMES
            + "\n"
            + (email or email_section(mail.port))
            + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
        )
        run_cli(config, "poll")
        backdate_polling(db_path)
        return config

    return make


def test_digest_writes_files_and_sends_one_email_never_two(digest_setup, run_cli, mail, tmp_path):
    config = digest_setup()
    result = run_cli(config, "digest", "--week", WEEK)
    assert f"{WEEK}: written and sent to analyst@example.org, desk@example.org" in result.output
    text = (tmp_path / "digests" / f"{WEEK}.txt").read_text()
    html = (tmp_path / "digests" / f"{WEEK}.html").read_text()
    assert STORIES[0].title in text and STORIES[0].link in text and "[fled]" in text
    assert "<mark" in html and f'href="{STORIES[1].link}"' in html and 'class="bar"' in html
    assert STORIES[2].title not in text  # matched no theme

    [(recipients, message)] = mail.messages
    assert recipients == ["analyst@example.org", "desk@example.org"]
    assert message["Subject"] == f"Sample digest {WEEK}" and message["Message-ID"] and message["Date"]
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # SMTP's line ends
    rich = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    assert plain == text and rich == html
    assert "Sample exodus" in plain and STORIES[1].title in plain and "Stepanakert" in plain

    again = run_cli(config, "digest", "--week", WEEK)
    assert "already sent" in again.output and len(mail.messages) == 1
    listing = run_cli(config, "digests").output
    assert re.search(rf"{WEEK}\s+sent\s+2\s+1", listing)

    run_cli(config, "digest", "--week", WEEK, "--resend")
    assert len(mail.messages) == 2 and mail.messages[1][1]["Message-ID"] == message["Message-ID"]


def test_smtp_down_leaves_the_week_failed_and_a_later_run_delivers_once(digest_setup, run_cli, mail):
    config = digest_setup(email=email_section(free_port()))  # nothing listens there
    result = run_cli(config, "digest", "--week", WEEK, expect=1)
    assert "NOT sent" in result.output and "cannot reach SMTP server" in result.output
    assert "failed" in run_cli(config, "digests").output
    config.write_text(re.sub(r"port = \d+", f"port = {mail.port}", config.read_text()))
    run_cli(config, "digest", "--week", WEEK)
    run_cli(config, "digest", "--week", WEEK)
    assert len(mail.messages) == 1


def test_a_refused_login_is_a_clear_error_and_nothing_is_sent(digest_setup, run_cli, db_path, tmp_path):
    guarded = MailServer(user="analyst", password="right").start()
    try:
        config = digest_setup(email=email_section(guarded.port, user="analyst", password_env="SAMPLE_SMTP_PW"))
        runner_env = {"SAMPLE_SMTP_PW": "wrong"}
        result = CliRunner(env=runner_env).invoke(
            cli, ["--config", str(config), "--db", str(db_path), "digest", "--week", WEEK]
        )
        assert result.exit_code == 1 and "refused the login of 'analyst'" in result.output
        assert not guarded.messages
        result = CliRunner(env={"SAMPLE_SMTP_PW": "right"}).invoke(
            cli, ["--config", str(config), "--db", str(db_path), "digest", "--week", WEEK]
        )
        assert result.exit_code == 0, result.output
        assert len(guarded.messages) == 1
    finally:
        guarded.stop()


def test_an_interrupted_delivery_is_not_sent_again_without_resend(digest_setup, run_cli, mail, query, db_path):
    config = digest_setup()
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    import sqlite3

    conn = sqlite3.connect(db_path)  # what a process killed during the SMTP exchange leaves behind
    conn.execute("UPDATE digests SET state = 'sending', attempts = 1")
    conn.commit()
    conn.close()
    result = run_cli(config, "digest", "--week", WEEK)
    assert "already uncertain" in result.output and not mail.messages
    assert query("SELECT state FROM digests")[0]["state"] == "uncertain"
    run_cli(config, "digest", "--week", WEEK, "--resend")
    assert len(mail.messages) == 1


def test_a_late_item_goes_into_the_next_digest_marked_late(digest_setup, feed_server, run_cli, mail, tmp_path):
    config = digest_setup()
    run_cli(config, "digest", "--week", WEEK)
    late = entry(9, "Sample: more refugees from Karabakh registered in Goris", day=30)
    feed_server.add("/wire", body=rss([*STORIES, late]))
    run_cli(config, "poll")
    assert "already sent" in run_cli(config, "digest", "--week", WEEK).output
    run_cli(config, "digest", "--week", "2023-W40")
    text = (tmp_path / "digests" / "2023-W40.txt").read_text()
    assert late.title in text and "[LATE]" in text and "1 late item" in text
    assert len(mail.messages) == 2
    assert late.title not in mail.messages[0][1].get_body(("plain",)).get_content()


def test_an_empty_week_is_a_short_clear_digest(digest_setup, run_cli, tmp_path):
    config = digest_setup()
    run_cli(config, "digest", "--week", "2023-W10", "--no-send")
    text = (tmp_path / "digests" / "2023-W10.txt").read_text()
    assert "A quiet week" in text and len(text.splitlines()) < 12


def test_dry_run_prints_and_changes_nothing(digest_setup, run_cli, mail, tmp_path, query):
    config = digest_setup()
    result = run_cli(config, "digest", "--week", WEEK, "--dry-run")
    assert result.output.startswith(f"Subject: Sample digest {WEEK}") and STORIES[0].title in result.output
    assert not (tmp_path / "digests").exists() and not mail.messages
    assert query("SELECT count(*) AS n FROM digests")[0]["n"] == 0


def test_same_story_from_two_outlets_is_one_story(feed_server, write_config, run_cli, tmp_path):
    wire = [entry(1, "Sample: thousands of Armenians flee Karabakh as the road reopens")]
    other = [
        entry(
            51,
            "Thousands of Armenians flee Karabakh as road reopens - Sample Dispatch",
            site="https://dispatch.example.org",
        )
    ]
    config = write_config(
        [
            {"name": "sample-wire", "url": feed_server.add("/a", body=rss(wire))},
            {"name": "sample-dispatch", "url": feed_server.add("/b", body=rss(other))},
        ],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    run_cli(config, "poll")
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    text = (tmp_path / "d" / f"{WEEK}.txt").read_text()
    assert "1 event ==" in text
    assert re.search(r"2 outlets, 2 reports, first: sample-(wire|dispatch), Tue 26 Sep 10:00", text)


def test_hostile_feed_content_comes_out_harmless(digest_setup, run_cli, mail, tmp_path):
    hostile = [
        replace(
            entry(1, 'Sample: families fled Stepanakert <script>alert("x")</script><img src=x onerror=alert(1)>'),
            summary='<p onclick="steal()">Sample <a href="javascript:alert(1)">text</a> <style>body{}</style></p>',
        ),
        Entry(
            title="Sample: refugees from Karabakh\r\nBcc: victim@example.org",
            link="javascript:alert(2)",
            guid="urn:sample:2",
            published=datetime(2023, 9, 27, tzinfo=UTC),
        ),
    ]
    config = digest_setup(entries=hostile)
    run_cli(config, "digest", "--week", WEEK)
    html = (tmp_path / "digests" / f"{WEEK}.html").read_text()
    lowered = html.lower()
    assert "<script" not in lowered and "<img" not in lowered and "javascript:" not in lowered
    tags = re.findall(r"<[^>]+>", lowered)  # what the browser reads as markup, not escaped text
    assert not [t for t in tags if re.search(r"\son\w+=", t)]
    assert "Sample: families fled Stepanakert" in html  # the story is still there, without its markup
    [(recipients, message)] = mail.messages
    assert recipients == ["analyst@example.org", "desk@example.org"] and message["Bcc"] is None
    assert "\n" not in message["Subject"]


def test_templates_can_be_overridden_from_a_folder(digest_setup, run_cli, tmp_path):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "digest.txt.j2").write_text(
        "Custom {{ d.week }}: {% for s in d.sections %}{{ s.key }}={{ s.items }} {% endfor %}\n"
    )
    config = digest_setup()
    config.write_text(config.read_text() + f'\n[digest]\ntemplates_dir = "{folder}"\n')
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    assert (tmp_path / "digests" / f"{WEEK}.txt").read_text() == f"Custom {WEEK}: exodus=2 "
    assert "<html" in (tmp_path / "digests" / f"{WEEK}.html").read_text()  # the shipped one still serves


def test_bad_week_and_missing_recipients_are_usage_errors(digest_setup, run_cli):
    config = digest_setup()
    assert "expected a week such as 2023-W39" in run_cli(config, "digest", "--week", "last", expect=2).output


def test_failing_feeds_are_listed(feed_server, write_config, run_cli, tmp_path):
    config = write_config(
        [{"name": "sample-down", "url": feed_server.add("/down", status=503)}],
        extra=THEMES + f'\n[monitor]\ndigests_dir = "{tmp_path / "d"}"\n',
    )
    run_cli(config, "poll")
    now = datetime.now(UTC)
    week = f"{now.isocalendar()[0]}-W{now.isocalendar()[1]:02d}"
    run_cli(config, "digest", "--week", week, "--no-send")
    text = (tmp_path / "d" / f"{week}.preview.txt").read_text()  # this week is not over: a preview
    assert "FAILING FEEDS" in text and "sample-down: failing since it was added on" in text and "HTTP 503" in text


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium here (.ci/run installs Debian's chromium)")
def test_the_html_digest_renders_in_a_real_browser(digest_setup, run_cli, tmp_path):
    config = digest_setup()
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    png = tmp_path / "digest.png"
    screenshot(tmp_path / "digests" / f"{WEEK}.html", png, tmp_path / "profile", "700,1200")
    assert png.exists() and png.stat().st_size > 5_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_late_item_is_reported_next_week_where_digests_are_only_written(digest_setup, feed_server, run_cli, tmp_path):
    config = digest_setup()
    run_cli(config, "digest", "--week", WEEK, "--no-send")
    late = entry(9, "Sample: more refugees from Karabakh registered in Goris", day=30)
    feed_server.add("/wire", body=rss([*STORIES, late]))
    run_cli(config, "poll")
    run_cli(config, "digest", "--week", "2023-W40", "--no-send")
    assert "[LATE]" in (tmp_path / "digests" / "2023-W40.txt").read_text()
