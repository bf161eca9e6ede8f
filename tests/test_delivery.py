"""Digests delivered once under real operations (issue 11): a server that accepts the message for some
recipients only, or answers QUIT badly after accepting it; several senders at once, and a daemon starting
while a CLI is mid-send; weeks that are not over yet; `--no-send` on a sent week; and a daemon whose slow
digest exchange neither stops its polling nor holds up SIGTERM.

Everything runs against real processes: the CLI (in-process or as `python -m monitor` subprocesses),
`monitor run`, a real SQLite file and the real SMTP server of `tests/mailserver.py` on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from monitor.config.load import load_config
from monitor.digest.deliver import SmtpSender
from monitor.digest.publish import publish
from monitor.storage import Store
from monitor.weeks import week_end, week_label, week_start

from .conftest import backdate_polling
from .helpers import (
    STOP_BOUND,
    STORIES,
    THEMES,
    WEEK,
    canned,
    count,
    email_section,
    entry,
    last_week_entries,
    pretend,
    rows,
    wait_for,
)
from .mailserver import MailServer
from .samples import Entry, rss

ANALYST, DESK = "analyst@example.org", "desk@example.org"


# Last week's digest is due (Monday 00:00 has passed): the daemon's start-up check sends it.
DIGEST_DUE_MONDAY = '\n[digest]\nweek_start = "monday"\nsend_day = "monday"\nsend_time = "00:00"\n'


def configure(feed_server, write_config, tmp_path, port: int, entries=STORIES, extra: str = "") -> Path:
    url = feed_server.add("/wire", body=rss(entries))
    return write_config(
        [{"name": "sample-wire", "url": url, "interval": "1h"}],
        extra=THEMES + "\n" + email_section(port) + extra + f'\n[monitor]\ndigests_dir = "{tmp_path / "digests"}"\n',
    )


def monitor(config: Path, db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(db), *args]


# -- 1. partial acceptance -------------------------------------------------------------------------


def test_a_message_refused_for_one_recipient_is_sent_once_and_says_who_did_not_get_it(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    with MailServer(refuse=[DESK]) as mail:
        config = configure(feed_server, write_config, tmp_path, mail.port)
        run_cli(config, "poll")
        backdate_polling(db_path)  # polled all along: the sample week counts as polled
        first = run_cli(config, "digest", "--week", WEEK, expect=None)
        again = run_cli(config, "digest", "--week", WEEK, expect=None)  # a retry, a cron job, an operator
        copies = mail.copies(ANALYST)
    print(f"\npartly refused delivery: {copies} copies to the accepting recipient after two runs")
    assert copies == 1, f"{ANALYST} got {copies} copies"
    assert first.exit_code == 0, first.output
    assert "sent to analyst@example.org" in first.output and f"REFUSED {DESK}" in first.output
    assert "550" in first.output and "already sent" in again.output
    [row] = rows(db_path, "SELECT state, refused FROM digests")
    assert row["state"] == "sent" and DESK in json.loads(str(row["refused"]))
    table = run_cli(config, "digests").output
    assert f"REFUSED {DESK}" in table and "550" in table
    [listed] = json.loads(run_cli(config, "digests", "--json").output)
    assert list(listed["refused"]) == [DESK] and listed["refused"][DESK].startswith("550")


@pytest.mark.parametrize(
    "misbehaviour",
    [{"quit_reply": "421 4.3.2 shutting down"}, {"drop_at_quit": True}],
    ids=["quit-421", "dropped-at-quit"],
)
def test_a_bad_answer_to_quit_after_the_message_was_accepted_is_still_sent_once(
    feed_server, write_config, run_cli, tmp_path, db_path, misbehaviour
):
    with MailServer(**misbehaviour) as mail:
        config = configure(feed_server, write_config, tmp_path, mail.port)
        run_cli(config, "poll")
        backdate_polling(db_path)  # polled all along: the sample week counts as polled
        first = run_cli(config, "digest", "--week", WEEK, expect=None)
        run_cli(config, "digest", "--week", WEEK, expect=None)
        copies = len(mail.messages)
    print(f"\n{next(iter(misbehaviour))}: {copies} copies after two runs")
    assert copies == 1 and first.exit_code == 0, first.output
    [row] = rows(db_path, "SELECT state, delivery_note FROM digests")
    assert row["state"] == "sent" and "QUIT" in str(row["delivery_note"])
    assert "QUIT" in run_cli(config, "digests").output


def test_a_message_sent_whole_whose_answer_never_came_is_uncertain_and_not_sent_again(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    with MailServer(drop_at_data=True) as mail:
        config = configure(feed_server, write_config, tmp_path, mail.port)
        run_cli(config, "poll")
        backdate_polling(db_path)  # polled all along: the sample week counts as polled
        first = run_cli(config, "digest", "--week", WEEK, expect=1)
        again = run_cli(config, "digest", "--week", WEEK)
        copies = len(mail.messages)
    print(f"\nno answer to the final '.': {copies} copies after two runs")
    assert copies == 1 and "UNCERTAIN" in first.output and "already uncertain" in again.output, first.output
    assert rows(db_path, "SELECT state FROM digests") == [{"state": "uncertain"}]


# -- 2. two senders --------------------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_concurrent_digest_commands_send_the_week_once(feed_server, write_config, run_cli, tmp_path, db_path):
    senders = 4
    with MailServer(reply_delay=6.0) as mail:  # the others start while the first waits for its 250
        config = configure(feed_server, write_config, tmp_path, mail.port)
        run_cli(config, "poll")
        backdate_polling(db_path)  # polled all along: the sample week counts as polled
        processes = [
            subprocess.Popen(
                monitor(config, db_path, "digest", "--week", WEEK, "--send"),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(senders)
        ]
        outputs = [p.communicate(timeout=60)[0] for p in processes]
        copies = len(mail.messages)
    print(f"\n{senders} concurrent `monitor digest --week {WEEK} --send`: {copies} copies")
    assert copies == 1, "\n".join(outputs)
    assert [p.returncode for p in processes] == [0] * senders, "\n".join(outputs)
    assert sum("written and sent" in out for out in outputs) == 1
    others = [out for out in outputs if "written and sent" not in out]
    assert all("being sent by pid" in out or "already sent" in out for out in others), "\n".join(others)
    assert any("being sent by pid" in out for out in others)
    assert rows(db_path, "SELECT state, attempts FROM digests") == [{"state": "sent", "attempts": 1}]


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_a_daemon_starting_while_a_cli_is_sending_leaves_its_claim_alone(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    log = tmp_path / "daemon.log"
    with MailServer(reply_delay=15.0) as mail:
        config = configure(
            feed_server, write_config, tmp_path, mail.port, entries=last_week_entries(), extra=DIGEST_DUE_MONDAY
        )
        run_cli(config, "poll")  # the feed is not due for an hour: the daemon's start-up check comes quickly
        backdate_polling(db_path)  # polled all along: the sample week counts as polled
        cli = subprocess.Popen(
            monitor(config, db_path, "digest", "--send"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert mail.inbox.received.wait(30), "the CLI never sent"
        daemon = subprocess.Popen(monitor(config, db_path, "run"), stdout=log.open("ab"), stderr=subprocess.STDOUT)
        try:
            wait_for(
                lambda: (
                    "digest check" in log.read_text()
                    or "being sent by" in log.read_text()
                    or "marked uncertain" in log.read_text()
                ),
                timeout=12,
                what="the daemon's start-up digest check",
            )
            states = [r["state"] for r in rows(db_path, "SELECT state FROM digests")]
            cli_output = cli.communicate(timeout=30)[0]
            time.sleep(0.5)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=STOP_BOUND)
        copies = len(mail.messages)
    text = log.read_text()
    print(f"\ndaemon start during a CLI's send: week {states} while the CLI was still sending; {copies} copies")
    assert "marked uncertain" not in text, text
    assert states == ["sending"], text
    assert cli.returncode == 0 and "written and sent" in cli_output, cli_output
    assert copies == 1 and [r["state"] for r in rows(db_path, "SELECT state FROM digests")] == ["sent"]


# -- 3. weeks that are not over ----------------------------------------------------------------------


def test_a_week_not_over_is_only_previewed_and_its_real_digest_still_goes_out_once(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    now = datetime.now(UTC)
    start = week_start(now, "UTC")
    label = week_label(start, "UTC")
    stories = [
        Entry(
            title=f"Sample: families fled Stepanakert, report {n}",
            link=f"https://sample-wire.example.org/c/{n}",
            guid=f"https://sample-wire.example.org/c/{n}",
            published=start + (now - start) * n / 4,
        )
        for n in (1, 2, 3)
    ]
    folder = tmp_path / "digests"
    with MailServer() as mail:
        config = configure(feed_server, write_config, tmp_path, mail.port, entries=stories)
        run_cli(config, "poll")
        backdate_polling(db_path)  # polled all along: the sample week counts as polled
        quiet = run_cli(config, "digest", "--week", label)  # e-mail is on, but a preview is e-mailed only on --send
        assert "preview" in quiet.output.lower() and not mail.messages
        sent = run_cli(config, "digest", "--week", label, "--send")
        assert "preview" in sent.output.lower()
        previews = len(mail.messages)
        assert rows(db_path, "SELECT count(*) AS n FROM digests") == [{"n": 0}]
        assert rows(db_path, "SELECT count(*) AS n FROM digest_items") == [{"n": 0}]
        assert not (folder / f"{label}.txt").exists()
        text = (folder / f"{label}.preview.txt").read_text()
        html = (folder / f"{label}.preview.html").read_text()
        assert text.startswith("PREVIEW") and "PREVIEW" in html[:2000] and stories[0].title in text
        assert previews == 1 and "Preview" in str(mail.messages[0][1]["Subject"])

        # Once the week is over (the daemon's digest job, with its clock past the week), the real digest.
        loaded = load_config(config)
        after = week_end(start, "UTC") + timedelta(hours=8)
        with Store.open(db_path) as store:
            real = publish(loaded, store, start, after, sender=SmtpSender(loaded.email))
            again = publish(loaded, store, start, after + timedelta(minutes=10), sender=SmtpSender(loaded.email))
        real_copies = len(mail.messages) - previews
    print(f"\npreview of {label}, then the week over: {real_copies} real digest(s) sent ({real.state})")
    assert real.state == "sent" and again.state == "sent" and real_copies == 1
    assert "Preview" not in str(mail.messages[-1][1]["Subject"])
    assert not (folder / f"{label}.txt").read_text().startswith("PREVIEW")


# -- 4. --no-send on a sent week -------------------------------------------------------------------


def test_no_send_rewrites_a_sent_weeks_files_and_changes_nothing_it_recorded(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    with MailServer() as mail:
        config = configure(feed_server, write_config, tmp_path, mail.port)
        run_cli(config, "poll")
        backdate_polling(db_path)  # polled all along: the sample week counts as polled
        run_cli(config, "digest", "--week", WEEK)
        record = "SELECT week, state, subject, message_id, items, sent_at, rendered_at, attempts FROM digests"
        items = "SELECT week, item_id, theme, late FROM digest_items ORDER BY item_id, theme"
        before, reported = rows(db_path, record), rows(db_path, items)
        late = entry(9, "Sample: more refugees from Karabakh registered in Goris", day=30)
        feed_server.add("/wire", body=rss([*STORIES, late]))
        run_cli(config, "poll", "--force")
        text = tmp_path / "digests" / f"{WEEK}.txt"
        text.unlink()
        rewritten = run_cli(config, "digest", "--week", WEEK, "--no-send")
        assert text.exists(), rewritten.output
        assert late.title not in text.read_text()  # the files say what was e-mailed
        assert rows(db_path, record) == before and rows(db_path, items) == reported
        run_cli(config, "digest", "--week", WEEK, "--resend", "--no-send")
        assert rows(db_path, record) == before and rows(db_path, items) == reported
        assert len(mail.messages) == 1
        run_cli(config, "digest", "--week", "2023-W40")  # the late item goes to the next week, marked late
        assert late.title in (tmp_path / "digests" / "2023-W40.txt").read_text()


def part(message: EmailMessage, kind: str) -> str:
    body = message.get_body((kind,))
    assert body is not None, f"no {kind} part"
    return str(body.get_content())


def test_a_sent_week_is_rewritten_and_resent_as_it_was_sent_after_its_theme_is_renamed(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    """What went out is a record: the theme it reported on renamed (so no stored match bears its old name
    after a rematch), `--no-send` writes the files the e-mail had, not "a quiet week", and `--resend` sends
    the same message again."""
    with MailServer() as mail:
        config = configure(feed_server, write_config, tmp_path, mail.port)
        run_cli(config, "poll")
        backdate_polling(db_path)
        run_cli(config, "digest", "--week", WEEK)
        assert len(mail.messages) == 1
        sent = mail.messages[0][1]
        sent_text, sent_html = part(sent, "plain"), part(sent, "html")
        assert STORIES[0].title in sent_text
        renamed = THEMES.replace("themes.exodus", "themes.departures").replace("Sample exodus", "Departures")
        config.write_text(config.read_text().replace(THEMES, renamed))
        run_cli(config, "rematch", "--all")
        assert count(db_path, "SELECT count(*) FROM matches WHERE theme = 'exodus'") == 0
        run_cli(config, "digest", "--week", WEEK, "--no-send")
        files = tmp_path / "digests"
        assert (files / f"{WEEK}.txt").read_text() == sent_text.replace("\r\n", "\n")
        assert (files / f"{WEEK}.html").read_text() == sent_html.replace("\r\n", "\n")
        assert "quiet week" not in (files / f"{WEEK}.txt").read_text()
        run_cli(config, "digest", "--week", WEEK, "--resend")
        assert len(mail.messages) == 2
        again = mail.messages[1][1]
        assert part(again, "plain") == sent_text
        assert again["Message-ID"] == sent["Message-ID"] and again["Subject"] == sent["Subject"]


def test_a_rebuild_is_a_version_of_its_own_and_datasette_shows_a_sent_week_as_it_was_sent(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    """Rebuilding a sent week with today's matches is an explicit action that writes `.rebuilt` files and never
    changes the record; Datasette's theme query shows a sent week as it was reported (score and evidence as
    shown), an unsent one as matched today, and says which."""
    with MailServer() as mail:
        config = configure(feed_server, write_config, tmp_path, mail.port)
        run_cli(config, "poll")
        backdate_polling(db_path)
        unsent = canned(db_path, "theme_this_week", theme="exodus", week=WEEK)
        assert unsent and all(r["shown"] == "today's matches (no digest of this week went out)" for r in unsent)
        run_cli(config, "digest", "--week", WEEK)
        files = tmp_path / "digests"
        sent_text = (files / f"{WEEK}.txt").read_text()
        record = "SELECT week, state, subject, message_id, items, sent_at, attempts FROM digests"
        items = "SELECT * FROM digest_items ORDER BY item_id, theme"
        before, reported = rows(db_path, record), rows(db_path, items)
        as_sent = canned(db_path, "theme_this_week", theme="exodus", week=WEEK)
        assert as_sent and all(r["shown"].startswith("as the digest reported it (sent ") for r in as_sent)
        renamed = THEMES.replace("themes.exodus", "themes.departures").replace("Sample exodus", "Departures")
        config.write_text(config.read_text().replace(THEMES, renamed))
        run_cli(config, "rematch", "--all")

        assert canned(db_path, "theme_this_week", theme="exodus", week=WEEK) == as_sent  # no match bears it now
        themes = rows(db_path, "SELECT key, label, in_config FROM themes ORDER BY key")
        assert themes == [  # the rematch brought the themes table up to date: the new label at once
            {"key": "departures", "label": "Departures", "in_config": 1},
            {"key": "exodus", "label": "Sample exodus", "in_config": 0},
        ]
        out = run_cli(config, "digest", "--week", WEEK, "--rebuild").output
        assert "REBUILT" in out and "nothing recorded or sent" in out
        rebuilt = (files / f"{WEEK}.rebuilt.txt").read_text()
        assert rebuilt.startswith("REBUILT: week 2023-W39 built again") and "Departures" in rebuilt
        assert f"the digest recorded as sent is {WEEK}.txt" in rebuilt and (files / f"{WEEK}.rebuilt.html").exists()
        assert (files / f"{WEEK}.txt").read_text() == sent_text
        assert rows(db_path, record) == before and rows(db_path, items) == reported and len(mail.messages) == 1
        refused = run_cli(config, "digest", "--week", WEEK, "--rebuild", "--send", expect=2)
        assert "--rebuild never sends" in refused.output


# -- 5. no long lock -------------------------------------------------------------------------------


@pytest.mark.timeout(150)
@pytest.mark.slow
def test_a_slow_digest_exchange_neither_stops_polling_nor_holds_up_sigterm(
    feed_server, write_config, run_cli, tmp_path, db_path
):
    log = tmp_path / "daemon.log"
    # Each RCPT TO answered after 25 s: with two recipients the exchange lasts 50 s, longer than STOP_TIMEOUT,
    # and no single reply takes longer than SMTP_TIMEOUT.
    with MailServer(rcpt_delay=25.0) as mail:
        config = configure(
            feed_server, write_config, tmp_path, mail.port, entries=last_week_entries(), extra=DIGEST_DUE_MONDAY
        )
        run_cli(config, "feeds")  # a database that has polled since before last week: its digest is due
        backdate_polling(db_path)
        daemon = subprocess.Popen(monitor(config, db_path, "run"), stdout=log.open("ab"), stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: count(db_path, "SELECT count(*) FROM items") == 3, what="the first poll")
            assert mail.inbox.rcpt_seen.wait(30), "the daemon never began its digest exchange"
            second = rss([Entry("Sample: a second feed", "https://b.example.org/1")])
            config.write_text(
                config.read_text().replace(
                    "\n[monitor]",
                    f'\n[[feeds]]\nname = "sample-second"\nurl = "{feed_server.add("/b", body=second)}"\n\n[monitor]',
                    1,
                )
            )
            run_cli(config, "reload")
            asked = time.monotonic()
            stored = None
            while time.monotonic() - asked < 12:
                if count(db_path, "SELECT count(*) FROM items") == 4:
                    stored = time.monotonic() - asked
                    break
                time.sleep(0.1)
            during = not mail.messages and rows(db_path, "SELECT state FROM digests") == [{"state": "sending"}]
        finally:
            started = time.monotonic()
            daemon.send_signal(signal.SIGTERM)
            try:
                code = daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                code = daemon.wait()
            took = time.monotonic() - started
    print(
        f"\nslow digest exchange: new feed stored {stored and round(stored, 1)}s after the reload "
        f"(digest still sending: {during}); SIGTERM exited {code} after {took:.1f}s"
    )
    assert stored is not None, "no item stored during the digest exchange"
    assert during
    assert code == 0 and took < STOP_BOUND, log.read_text()[-3000:]
    # The exchange was abandoned at the bound: `sending`, settled by the next run as uncertain, never resent.
    assert rows(db_path, "SELECT state FROM digests") == [{"state": "sending"}]
    assert f"being sent by pid {daemon.pid}" in run_cli(config, "digests").output
    assert f"pid {daemon.pid} is gone" in run_cli(config, "digests").output
    with MailServer() as mail:
        config.write_text(re.sub(r"\nport = \d+", f"\nport = {mail.port}", config.read_text()))
        result = run_cli(config, "digest", expect=None)
        assert "uncertain" in result.output and not mail.messages


# -- 6. a cron run whose own week is skipped ----------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_cron_run_whose_due_week_was_never_polled_still_sends_an_old_weeks_due_retry_once(
    feed_server, write_config, run_cli, tmp_path, db_path, monkeypatch
):
    mail = MailServer(reply_delay=3.0)  # down at first: its port is chosen, nothing listens on it yet
    config = configure(feed_server, write_config, tmp_path, mail.port)
    midweek = week_start(datetime.now(UTC), "UTC") + timedelta(days=2, hours=12)  # no Monday in the next minutes
    pretend(monkeypatch, midweek)
    run_cli(config, "poll")  # polling begins now: last week, the cron job's week, was never polled
    first = run_cli(config, "digest", "--week", WEEK, "--send", expect=1)  # a backfilled week, mail is down
    assert f"{WEEK}: written, NOT sent" in first.output, first.output
    [failed] = rows(db_path, "SELECT state, next_attempt_at FROM digests")
    assert failed["state"] == "failed"
    # The cron job's next runs, after the retry's time has come (10 minutes later; the backoff is 5), three at
    # once (overlapping cron jobs, an operator): the old week goes out once, and the due week says why it does not.
    offset = midweek + timedelta(minutes=10) - datetime.now(UTC)
    later = {**os.environ, "MONITOR_CLOCK_OFFSET": str(offset.total_seconds())}
    due = week_label(week_start(midweek, "UTC") - timedelta(days=7), "UTC")
    with mail:
        runs = [
            subprocess.Popen(
                monitor(config, db_path, "digest"),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=later,
            )
            for _ in range(3)
        ]
        outputs = [run.communicate(timeout=60)[0] for run in runs]
        again = subprocess.run(
            monitor(config, db_path, "digest"), capture_output=True, text=True, env=later, timeout=60
        )
        copies = len(mail.messages)
    print(f"\na failed week's retry in cron runs whose own week was never polled: {copies} copies after 4 runs")
    assert copies == 1, "\n".join(outputs)
    assert [run.returncode for run in runs] == [0, 0, 0], "\n".join(outputs)
    # The due week was never polled, but the first poll's document still carried it (the feed's items reach back
    # to 2023): it is written, and held back from e-mail until live polling covers a week.
    said = f"{due}: not e-mailed: it is before the first live poll"
    assert all(said in out for out in [*outputs, again.stdout]), "\n".join(outputs)
    assert sum(f"{WEEK}: written and sent" in out for out in outputs) == 1, "\n".join(outputs)
    assert f"{WEEK}:" not in again.stdout and again.returncode == 0, again.stdout
    assert rows(db_path, "SELECT week, state, attempts FROM digests ORDER BY week") == [
        {"week": WEEK, "state": "sent", "attempts": 2},
        {"week": due, "state": "rendered", "attempts": 0},
    ]
