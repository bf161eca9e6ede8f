"""When feeds are due after a restart (when a digest is due: weeks, digest.decide). Pure: `now` is an argument.

The schedule lives in the database (when each feed was last polled, when it may be polled again), so a
restarted daemon neither polls a feed again too soon nor forgets one that is overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..types import FeedState
from .policy import as_of

OVERDUE_SPREAD = timedelta(seconds=60)  # overdue feeds start within this, not all at once...
OVERDUE_RATE = 20  # ...at about this many a second, so a handful start at once and a thousand over 50 s


def first_poll(state: FeedState, interval: timedelta, now: datetime, index: int, count: int) -> datetime | None:
    """When a feed's first poll after (re)start is due; None for a dead feed. `index` of `count`
    overdue-or-not feeds spreads the overdue ones evenly over OVERDUE_SPREAD (or the interval, if shorter)."""
    if state.dead:
        return None
    state = as_of(state, now)  # a last poll dated in the future: due now (policy.as_of)
    due = state.last_fetch_at + interval if state.last_fetch_at else now
    if state.retry_not_before and state.retry_not_before > due:  # backoff or Retry-After
        due = state.retry_not_before
    if due > now:
        return due
    spread = min(OVERDUE_SPREAD, interval, timedelta(seconds=count / OVERDUE_RATE))
    return now + spread * (index / max(count, 1))
