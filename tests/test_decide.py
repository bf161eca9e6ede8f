"""One decision for `monitor digest` and the daemon's digest round (issue 19): which week, whether it is
written or skipped as unpolled, whether it is e-mailed and why not. `decide` is pure: a table of cases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.digest.decide import DAEMON_ROUND, DigestDecision, DigestFacts, DigestRequest, decide

W39 = datetime(2023, 9, 25, tzinfo=UTC)  # Monday 25 September 2023, UTC weeks starting on Monday
W40 = W39 + timedelta(days=7)
NOW = datetime(2023, 10, 4, 12, tzinfo=UTC)  # Wednesday of W40: W39 is the last complete week
EARLY = datetime(2023, 1, 1, tzinfo=UTC)  # polling began long before W39
MID_W39 = datetime(2023, 9, 28, 6, tzinfo=UTC)
IN_W40 = datetime(2023, 10, 3, 7, tzinfo=UTC)  # after W39 ended

FACTS = DigestFacts(
    timezone="UTC",
    week_start="monday",
    send_day="monday",
    send_time="08:00",
    email_enabled=True,
    recipients=True,
    polled_since=EARLY,
    live_since=EARLY,
)


def facts(**changes: object) -> DigestFacts:
    return replace(FACTS, **changes)  # type: ignore[arg-type]


def test_the_command_digests_the_last_complete_week_and_mails_it_as_email_enabled_says():
    decision = decide(DigestRequest(), FACTS, NOW)
    assert decision == DigestDecision(W39, "2023-W39", True, True, None, True, None, retry=True)
    assert not decide(DigestRequest(), facts(email_enabled=False), NOW).mail


@pytest.mark.parametrize(
    ("send", "enabled", "mail"),
    [(None, True, True), (None, False, False), (True, False, True), (False, True, False), (True, True, True)],
)
def test_send_and_no_send_overrule_email_enabled_for_a_week_over(send, enabled, mail):
    decision = decide(DigestRequest(week=W39, send=send), facts(email_enabled=enabled), NOW)
    assert (decision.write, decision.mail, decision.not_mailed) == (True, mail, None)


@pytest.mark.parametrize(("send", "mail"), [(None, False), (False, False), (True, True)])
def test_a_week_not_over_is_a_preview_e_mailed_only_on_send(send, mail):
    decision = decide(DigestRequest(week=W40, send=send), FACTS, NOW)
    assert (decision.over, decision.write, decision.mail) == (False, True, mail)


def test_a_dry_run_mails_nothing_but_still_needs_recipients_when_mail_is_wanted():
    assert not decide(DigestRequest(dry_run=True), FACTS, NOW).mail
    assert decide(DigestRequest(dry_run=True), facts(recipients=False), NOW).needs_recipients


@pytest.mark.parametrize(
    ("request_", "enabled", "needs"),
    [
        (DigestRequest(send=True), False, True),
        (DigestRequest(), True, True),  # email.enabled without email.to
        (DigestRequest(), False, False),
        (DigestRequest(send=False), True, False),
        (DigestRequest(week=W40), True, False),  # a preview is not e-mailed unbidden: needs no one
        (DigestRequest(week=W40, send=True), False, True),
    ],
)
def test_mail_wanted_without_recipients_is_a_usage_error_and_nothing_is_done(request_, enabled, needs):
    decision = decide(request_, facts(email_enabled=enabled, recipients=False), NOW)
    assert decision.needs_recipients is needs
    if needs:
        assert (decision.write, decision.mail) == (False, False)


@pytest.mark.parametrize(
    ("polled", "said"),
    [(None, "no successful poll yet"), (IN_W40, "observation began 2023-10-03 07:00 UTC")],
)
def test_an_unpolled_week_is_skipped_unless_named(polled, said):
    unnamed = decide(DigestRequest(), facts(polled_since=polled, live_since=polled), NOW)
    assert (unnamed.write, unnamed.mail) == (False, True)  # not written; failed deliveries are retried all the same
    assert not decide(DigestRequest(send=False), facts(polled_since=polled), NOW).mail
    assert not decide(DigestRequest(dry_run=True), facts(polled_since=polled), NOW).mail
    assert unnamed.skipped == f"nothing was observed that week ({said})"
    named = decide(DigestRequest(week=W39), facts(polled_since=polled, live_since=polled), NOW)
    assert (named.write, named.skipped, named.mail) == (True, None, False)
    assert named.not_mailed == "nothing was observed that week (--send sends it)"
    sent = decide(DigestRequest(week=W39, send=True), facts(polled_since=polled, live_since=polled), NOW)
    assert (sent.write, sent.mail, sent.not_mailed) == (True, True, None)


def test_a_week_polled_only_in_part_is_digested_and_mailed():
    decision = decide(DigestRequest(), facts(polled_since=MID_W39, live_since=MID_W39), NOW)
    assert (decision.write, decision.mail, decision.skipped) == (True, True, None)


def test_a_week_imports_filled_before_the_first_live_poll_is_written_not_mailed_unless_send():
    imported = facts(polled_since=EARLY, live_since=IN_W40)
    decision = decide(DigestRequest(), imported, NOW)
    assert (decision.write, decision.mail) == (True, False)
    assert decision.not_mailed == "it is before the first live poll (--send sends it)"
    assert decide(DigestRequest(send=True), imported, NOW).mail
    quiet = decide(DigestRequest(), replace(imported, email_enabled=False), NOW)
    assert (quiet.mail, quiet.not_mailed) == (False, None)  # nothing to explain: e-mail is off


def test_the_daemon_digests_the_week_due_by_the_send_schedule():
    assert decide(DAEMON_ROUND, FACTS, datetime(2023, 10, 2, 7, 59, tzinfo=UTC)).label == "2023-W38"
    decision = decide(DAEMON_ROUND, FACTS, datetime(2023, 10, 2, 8, tzinfo=UTC))
    assert decision == DigestDecision(W39, "2023-W39", True, True, None, True, None, retry=True)
    tuesday = decide(DAEMON_ROUND, replace(FACTS, send_day="tuesday"), datetime(2023, 10, 2, 9, tzinfo=UTC))
    assert tuesday.label == "2023-W38"


@pytest.mark.parametrize(
    ("polled", "live", "skipped"),
    [
        (None, None, "nothing was observed that week (no successful poll yet)"),
        (IN_W40, IN_W40, "nothing was observed that week (observation began 2023-10-03 07:00 UTC)"),
        # Imports filled the week: the daemon does not produce it unbidden either (issue 15).
        (EARLY, IN_W40, "it is before the first live poll (live polling began 2023-10-03 07:00 UTC)"),
        (EARLY, None, "it is before the first live poll (no live poll yet)"),
        (MID_W39, MID_W39, None),
        (EARLY, EARLY, None),
    ],
)
def test_the_daemon_skips_a_week_before_the_first_live_poll(polled, live, skipped):
    decision = decide(DAEMON_ROUND, facts(polled_since=polled, live_since=live), NOW)
    assert (decision.label, decision.skipped, decision.write) == ("2023-W39", skipped, skipped is None)
    assert decision.mail  # failed deliveries are retried all the same


@pytest.mark.parametrize(
    ("state", "enabled", "write"),
    [
        (None, True, True),
        (None, False, True),
        ("rendered", True, True),  # written while e-mail was off: sent now
        ("rendered", False, False),
        ("sending", True, False),
        ("sent", True, False),
        ("failed", True, False),  # retried after its backoff, not published again
        ("uncertain", True, False),
    ],
)
def test_the_daemon_produces_its_week_once(state, enabled, write):
    recorded = {"2023-W39": state} if state else {"2023-W38": "sent"}
    decision = decide(DAEMON_ROUND, facts(recorded=recorded, email_enabled=enabled), NOW)
    assert (decision.write, decision.mail, decision.not_mailed) == (write, enabled, None)


def test_the_daemon_mails_only_with_recipients():
    assert not decide(DAEMON_ROUND, facts(recipients=False), NOW).mail
    assert not decide(DAEMON_ROUND, facts(recipients=False), NOW).needs_recipients
