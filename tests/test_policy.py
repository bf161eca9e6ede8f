"""Politeness rules (`monitor.update.policy`): pure functions of a feed's state, one fetch result and `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.types import FeedState, FetchOutcome, FetchResult
from monitor.update.policy import RETRY_AFTER_CAP, after_fetch, backoff, classify, is_due, revive, skip_reason

NOW = datetime(2023, 9, 30, 12, tzinfo=UTC)
URL = "https://example.org/sample-wire/feed.xml"
INTERVAL = timedelta(minutes=30)
CAP = timedelta(hours=12)


def state(**changes: Any) -> FeedState:
    return FeedState(id=1, name="sample-wire", url=URL, config_url=URL, **changes)


def result(
    status: int | None = 200, body: bytes | None = b"<rss/>", headers: dict[str, str] | None = None, **changes: Any
) -> FetchResult:
    return FetchResult(
        url=URL,
        final_url=changes.pop("final_url", URL),
        status=status,
        started_at=NOW,
        duration=0.2,
        body=body,
        headers=headers or {},
        **changes,
    )


def after(before: FeedState, fetched: FetchResult, outcome: FetchOutcome, **kw: Any) -> FeedState:
    return after_fetch(before, fetched, outcome, now=NOW, interval=INTERVAL, backoff_max=CAP, **kw)


# --- skip_reason / is_due -------------------------------------------------------------------------


def test_a_fresh_feed_may_be_polled() -> None:
    assert skip_reason(state(), NOW) is None


def test_a_dead_feed_is_skipped_with_the_way_to_revive_it() -> None:
    reason = skip_reason(state(dead=True), NOW)
    assert reason is not None
    assert "410" in reason and "monitor feeds revive sample-wire" in reason


def test_a_backing_off_feed_is_skipped_until_its_time() -> None:
    backing_off = state(consecutive_failures=3, retry_not_before=NOW + timedelta(hours=1))
    reason = skip_reason(backing_off, NOW)
    assert reason is not None
    assert "2023-09-30 13:00" in reason and "after 3 failures" in reason and "--force" in reason
    assert skip_reason(backing_off, NOW + timedelta(hours=1)) is None
    assert skip_reason(backing_off, NOW + timedelta(hours=2)) is None


def test_skip_reason_grammar_for_one_failure_and_for_a_server_request() -> None:
    one = skip_reason(state(consecutive_failures=1, retry_not_before=NOW + INTERVAL), NOW)
    assert one is not None and "after 1 failure " in one
    asked = skip_reason(state(retry_not_before=NOW + INTERVAL), NOW)
    assert asked is not None and "as the server asked" in asked


@pytest.mark.parametrize(
    "blocked",
    [state(dead=True), state(consecutive_failures=5, retry_not_before=NOW + timedelta(days=1))],
)
def test_force_overrides_every_rule(blocked: FeedState) -> None:
    assert skip_reason(blocked, NOW) is not None
    assert skip_reason(blocked, NOW, force=True) is None


@pytest.mark.parametrize(
    ("last_fetch", "due"),
    [(None, True), (NOW - timedelta(minutes=10), False), (NOW - INTERVAL, True), (NOW - timedelta(days=3), True)],
)
def test_is_due_follows_the_interval(last_fetch: datetime | None, due: bool) -> None:
    assert is_due(state(last_fetch_at=last_fetch), INTERVAL, NOW) is due


@pytest.mark.parametrize(
    "blocked",
    [
        state(dead=True, last_fetch_at=NOW - timedelta(days=3)),
        state(last_fetch_at=NOW - timedelta(days=3), consecutive_failures=2, retry_not_before=NOW + INTERVAL),
    ],
)
def test_is_due_is_false_for_dead_or_backing_off_feeds(blocked: FeedState) -> None:
    assert is_due(blocked, INTERVAL, NOW) is False


# --- classify -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fetched", "expected"),
    [
        (result(status=None, body=None, error="connection refused"), FetchOutcome.ERROR),
        (result(status=304, body=None), FetchOutcome.NOT_MODIFIED),
        (result(status=410, body=b"gone"), FetchOutcome.GONE),
        (result(status=500, body=b"oops"), FetchOutcome.ERROR),
        (result(status=404, body=b"missing"), FetchOutcome.ERROR),
        (result(status=429, body=b"", retry_after=timedelta(minutes=5)), FetchOutcome.ERROR),
        (result(status=302, body=b""), FetchOutcome.ERROR),
        (result(status=200, body=None), FetchOutcome.ERROR),
        (result(status=200, error="read timeout"), FetchOutcome.ERROR),
        (result(status=200), None),
        (result(status=203), None),
        (result(status=200, truncated=True, error="body cut at 10 MB"), None),  # parse what arrived
    ],
)
def test_classify_by_http_alone(fetched: FetchResult, expected: FetchOutcome | None) -> None:
    assert classify(fetched, state(), body_hash=None) is expected


def test_classify_an_unchanged_body_by_its_hash() -> None:
    assert classify(result(), state(content_hash="abc"), body_hash="abc") is FetchOutcome.UNCHANGED
    assert classify(result(), state(content_hash="abc"), body_hash="def") is None


def test_classify_no_hash_on_either_side_is_not_unchanged() -> None:
    assert classify(result(), state(content_hash=None), body_hash=None) is None


def test_classify_a_truncated_body_is_never_unchanged() -> None:
    assert classify(result(truncated=True), state(content_hash="abc"), body_hash="abc") is None


# --- backoff --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "wait"),
    [(0, INTERVAL), (1, INTERVAL), (2, 2 * INTERVAL), (3, 4 * INTERVAL), (5, 16 * INTERVAL), (6, CAP), (1000, CAP)],
)
def test_backoff_doubles_up_to_the_cap(failures: int, wait: timedelta) -> None:
    assert backoff(failures, INTERVAL, CAP) == wait


def test_backoff_never_exceeds_a_cap_smaller_than_the_interval() -> None:
    assert backoff(1, timedelta(hours=2), timedelta(hours=1)) == timedelta(hours=1)


# --- after_fetch: success -------------------------------------------------------------------------

FAILING = state(
    etag='"old"',
    last_modified="Fri, 29 Sep 2023 08:00:00 GMT",
    content_hash="oldhash",
    last_fetch_at=NOW - CAP,
    last_success_at=NOW - timedelta(days=1),
    last_error="HTTP 500",
    last_error_at=NOW - CAP,
    consecutive_failures=4,
    retry_not_before=NOW - timedelta(minutes=1),
)
NEW_HEADERS = {"etag": '"new"', "last-modified": "Sat, 30 Sep 2023 11:00:00 GMT"}


@pytest.mark.parametrize(
    "outcome", [FetchOutcome.OK, FetchOutcome.NOT_MODIFIED, FetchOutcome.UNCHANGED, FetchOutcome.PARTIAL]
)
def test_any_success_resets_failures_and_retry(outcome: FetchOutcome) -> None:
    status = 304 if outcome is FetchOutcome.NOT_MODIFIED else 200
    new = after(FAILING, result(status=status), outcome, body_hash="newhash")
    assert new.consecutive_failures == 0
    assert new.retry_not_before is None
    assert new.dead is False
    assert new.last_fetch_at == NOW and new.last_success_at == NOW
    assert skip_reason(new, NOW) is None


def test_ok_stores_validators_and_hash_and_clears_the_error() -> None:
    new = after(FAILING, result(headers=NEW_HEADERS), FetchOutcome.OK, body_hash="newhash")
    assert (new.etag, new.content_hash) == ('"new"', "newhash")
    assert new.last_modified == NEW_HEADERS["last-modified"]
    assert new.last_error is None
    assert new.last_error_at == FAILING.last_error_at  # history of the last error is kept


def test_ok_without_validators_drops_the_old_ones() -> None:
    # The old ETag named the old body; sending it with the next request could get a wrong 304.
    new = after(FAILING, result(headers={}), FetchOutcome.OK, body_hash="newhash")
    assert new.etag is None and new.last_modified is None


def test_not_modified_keeps_the_validators_and_hash() -> None:
    new = after(FAILING, result(status=304, body=None), FetchOutcome.NOT_MODIFIED)
    assert (new.etag, new.last_modified, new.content_hash) == ('"old"', FAILING.last_modified, "oldhash")


def test_not_modified_takes_a_refreshed_etag() -> None:
    refreshed = result(status=304, body=None, headers={"etag": '"newer"'})
    new = after(FAILING, refreshed, FetchOutcome.NOT_MODIFIED)
    assert new.etag == '"newer"' and new.last_modified == FAILING.last_modified


def test_partial_stores_no_validators_or_hash_and_records_the_error() -> None:
    # A cut body must be fetched in full next time: no conditional GET, no "unchanged" shortcut.
    cut = result(headers=NEW_HEADERS, truncated=True, error="body cut at 10 MB")
    new = after(FAILING, cut, FetchOutcome.PARTIAL, error="body cut at 10 MB", body_hash="newhash")
    assert (new.etag, new.last_modified, new.content_hash) == (None, None, None)
    assert new.last_error == "body cut at 10 MB" and new.last_error_at == NOW
    assert classify(result(), new, body_hash="newhash") is None


# --- after_fetch: failure -------------------------------------------------------------------------


def test_first_failure_waits_one_interval() -> None:
    ok = state(etag='"e"', content_hash="h", last_success_at=NOW - INTERVAL)
    new = after(ok, result(status=500, body=b"oops"), FetchOutcome.ERROR)
    assert new.consecutive_failures == 1
    assert new.retry_not_before == NOW + INTERVAL
    assert new.last_error == "HTTP 500" and new.last_error_at == NOW and new.last_fetch_at == NOW
    assert (new.etag, new.content_hash, new.last_success_at) == ('"e"', "h", ok.last_success_at)
    assert new.dead is False


def test_repeated_failures_double_the_wait_up_to_backoff_max() -> None:
    current, waits = state(), []
    for _ in range(7):
        current = after(current, result(status=503, body=b""), FetchOutcome.ERROR)
        assert current.retry_not_before is not None
        waits.append(current.retry_not_before - NOW)
    assert waits == [INTERVAL * n for n in (1, 2, 4, 8, 16)] + [CAP, CAP]
    assert current.consecutive_failures == 7


def test_failure_message_prefers_the_given_error_then_the_result_error() -> None:
    timed_out = result(status=None, body=None, error="read timeout after 30s")
    assert after(state(), timed_out, FetchOutcome.ERROR).last_error == "read timeout after 30s"
    assert after(state(), timed_out, FetchOutcome.ERROR, error="not a feed").last_error == "not a feed"


@pytest.mark.parametrize(
    ("retry_after", "expected_wait"),
    [
        (timedelta(hours=3), timedelta(hours=3)),  # longer than the backoff: the server wins
        (timedelta(minutes=1), INTERVAL),  # shorter than the backoff: the backoff wins
        (timedelta(days=2), timedelta(days=2)),  # past backoff_max: the server still wins
        (timedelta(days=30), RETRY_AFTER_CAP),  # absurd: capped at a week
    ],
)
def test_retry_after_extends_the_wait(retry_after: timedelta, expected_wait: timedelta) -> None:
    limited = result(status=429, body=b"", retry_after=retry_after)
    new = after(state(), limited, FetchOutcome.ERROR)
    assert new.retry_not_before == NOW + expected_wait
    assert RETRY_AFTER_CAP == timedelta(days=7)


def test_410_marks_the_feed_dead() -> None:
    new = after(state(), result(status=410, body=b""), FetchOutcome.GONE)
    assert new.dead is True and new.last_error == "HTTP 410"
    assert "410" in (skip_reason(new, NOW + timedelta(days=365)) or "")


# --- redirects and revive -------------------------------------------------------------------------

MOVED = "https://example.org/sample-wire/rss"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [(FetchOutcome.OK, 200), (FetchOutcome.NOT_MODIFIED, 304), (FetchOutcome.ERROR, 500)],
)
def test_permanent_redirect_moves_the_url_but_not_the_config_url(outcome: FetchOutcome, status: int) -> None:
    new = after(state(), result(status=status, final_url=MOVED, permanent_redirect=MOVED), outcome)
    assert new.url == MOVED and new.config_url == URL


def test_temporary_redirect_keeps_the_url() -> None:
    new = after(state(), result(final_url=MOVED), FetchOutcome.OK, body_hash="h")
    assert new.url == URL


def test_revive_lets_a_dead_or_backing_off_feed_be_polled() -> None:
    dead = after(state(etag='"e"'), result(status=410, body=b""), FetchOutcome.GONE)
    revived = revive(dead)
    assert (revived.dead, revived.consecutive_failures, revived.retry_not_before) == (False, 0, None)
    assert skip_reason(revived, NOW) is None
    assert revived.etag == '"e"' and revived.last_error == "HTTP 410"  # history is kept


# --- times in the future (a clock set back) -------------------------------------------------------


def test_a_last_fetch_in_the_future_makes_the_feed_due_now_not_when_the_clock_catches_up() -> None:
    from monitor.update.schedule import first_poll

    ahead = NOW + timedelta(days=1)
    polled_ahead = state(last_fetch_at=ahead, last_success_at=ahead)
    assert is_due(polled_ahead, INTERVAL, NOW)
    assert first_poll(polled_ahead, INTERVAL, NOW, 0, 1) == NOW
    failing_ahead = state(last_fetch_at=ahead, consecutive_failures=2, retry_not_before=ahead + INTERVAL)
    assert skip_reason(failing_ahead, NOW) is None
    # a few seconds ahead is a clock's drift, not a step: the rules take it at its word
    just_polled = state(last_fetch_at=NOW + timedelta(seconds=5))
    assert not is_due(just_polled, INTERVAL, NOW)
    assert skip_reason(state(last_fetch_at=NOW, retry_not_before=NOW + timedelta(days=2)), NOW)  # a real wait
