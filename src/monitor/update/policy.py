"""Politeness rules, as pure functions of a feed's state, a fetch result and `now`.

- A dead feed (410 Gone) is never polled until revived.
- After a failure the feed waits: one interval, then twice that, four times..., capped at `backoff_max`.
  A Retry-After header (sent with 429 and 503, RFC 9110 §10.2.3; honoured on any error) pushes that
  further, capped at a week against absurd values.
- The next success resets all of it.
- A chain of permanent redirects (301/308) moves the stored URL; a temporary one (302/307) does not.
- A last fetch dated in the future (the clock was set back, or was ahead when it was written) cannot be
  right: its schedule counts as unknown, so the feed is due now rather than silently waiting for the clock
  to catch up; its next fetch writes times of the real clock (`as_of`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from ..types import RETRY_AFTER_CAP, FeedState, FetchOutcome, FetchResult

CLOCK_SLACK = timedelta(minutes=1)  # a stored time this far ahead of now is still taken at its word

__all__ = [
    "CLOCK_SLACK",
    "RETRY_AFTER_CAP",
    "after_fetch",
    "as_of",
    "backoff",
    "classify",
    "in_future",
    "is_due",
    "revive",
    "skip_reason",
]
SUCCESSES = {FetchOutcome.OK, FetchOutcome.PARTIAL, FetchOutcome.NOT_MODIFIED, FetchOutcome.UNCHANGED}


def in_future(moment: datetime | None, now: datetime) -> bool:
    """Whether a stored time lies ahead of `now` by more than a clock's ordinary drift."""
    return moment is not None and moment > now + CLOCK_SLACK


def as_of(state: FeedState, now: datetime) -> FeedState:
    """The feed's state as the rules read it at `now`: a last fetch in the future is forgotten, and with it
    the wait it set (backoff or Retry-After counted from that impossible time), so the feed is due now."""
    if not in_future(state.last_fetch_at, now):
        return state
    return replace(state, last_fetch_at=None, retry_not_before=None)


def skip_reason(state: FeedState, now: datetime, *, force: bool = False) -> str | None:
    """Why the feed must not be polled now, or None when it may be. `force` overrides every rule."""
    if force:
        return None
    state = as_of(state, now)
    if state.dead:
        return f"dead since it answered 410 Gone; revive it with `monitor feeds revive {state.name}`"
    if state.retry_not_before and now < state.retry_not_before:
        failures = state.consecutive_failures
        why = f"after {failures} failure{'s' if failures != 1 else ''}" if failures else "as the server asked"
        return f"waiting until {state.retry_not_before:%Y-%m-%d %H:%M} UTC {why} (--force polls now)"
    return None


def is_due(state: FeedState, interval: timedelta, now: datetime) -> bool:
    """Whether the regular schedule calls for a poll (the daemon's question; `monitor poll` polls anyway)."""
    if skip_reason(state, now):
        return False
    state = as_of(state, now)
    return state.last_fetch_at is None or now >= state.last_fetch_at + interval


def classify(result: FetchResult, state: FeedState, body_hash: str | None) -> FetchOutcome | None:
    """The outcome decided by HTTP alone, or None when the body must be parsed to know."""
    if result.status == 304:
        return FetchOutcome.NOT_MODIFIED
    if result.status == 410:
        return FetchOutcome.GONE
    if result.status is None or result.error and not result.truncated:
        return FetchOutcome.ERROR
    if not 200 <= result.status < 300 or result.body is None:
        return FetchOutcome.ERROR
    if body_hash is not None and body_hash == state.content_hash and not result.truncated:
        return FetchOutcome.UNCHANGED
    return None


def backoff(failures: int, interval: timedelta, cap: timedelta) -> timedelta:
    """Wait after the n-th consecutive failure: interval, 2x, 4x ... capped."""
    exponent = min(max(failures - 1, 0), 20)  # 2**20 intervals is past any cap; keeps the number small
    return min(interval * (1 << exponent), cap)


def after_fetch(
    state: FeedState,
    result: FetchResult,
    outcome: FetchOutcome,
    *,
    now: datetime,
    interval: timedelta,
    backoff_max: timedelta,
    error: str | None = None,
    body_hash: str | None = None,
) -> FeedState:
    """The feed's state after one fetch."""
    moved = result.permanent_redirect or state.url
    if outcome in SUCCESSES:
        complete = outcome is not FetchOutcome.PARTIAL
        keep_validators = outcome is FetchOutcome.NOT_MODIFIED
        return replace(
            state,
            url=moved,
            etag=(result.etag or (state.etag if keep_validators else None)) if complete else None,
            last_modified=(result.last_modified or (state.last_modified if keep_validators else None))
            if complete
            else None,
            content_hash=(body_hash or state.content_hash) if complete else None,
            last_fetch_at=now,
            last_success_at=now,
            last_error=error if outcome is FetchOutcome.PARTIAL else None,
            last_error_at=now if outcome is FetchOutcome.PARTIAL else state.last_error_at,
            consecutive_failures=0,
            retry_not_before=None,
            dead=False,
        )
    failures = state.consecutive_failures + 1
    wait = backoff(failures, interval, backoff_max)
    if result.retry_after:
        wait = max(wait, min(result.retry_after, RETRY_AFTER_CAP))
    return replace(
        state,
        url=moved,
        last_fetch_at=now,
        last_error=error or result.error or f"HTTP {result.status}",
        last_error_at=now,
        consecutive_failures=failures,
        retry_not_before=now + wait,
        dead=outcome is FetchOutcome.GONE,
    )


def revive(state: FeedState) -> FeedState:
    """Let a dead or backed-off feed be polled again at the next round."""
    return replace(state, dead=False, consecutive_failures=0, retry_not_before=None)
