"""When things are due: feeds after a restart, and the weekly digest. Pure: `now` is an argument.

The schedule lives in the database (when each feed was last polled, when it may be polled again), so a
restarted daemon neither polls a feed again too soon nor forgets one that is overdue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..types import FeedState
from ..weeks import WEEKDAYS, week_coverage, week_end, week_start
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


def digest_send_moment(week: datetime, timezone: str, first_day: str, send_day: str, send_time: str) -> datetime:
    """When the digest of the week starting at `week` is due: the first `send_day` at `send_time` after the
    week has ended."""
    zone = ZoneInfo(timezone)
    local_end = (week.astimezone(zone) + timedelta(days=7)).date()
    days = (WEEKDAYS.index(send_day) - WEEKDAYS.index(first_day)) % 7
    day = local_end + timedelta(days=days)
    hour, minute = (int(part) for part in send_time.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def due_digest_week(now: datetime, timezone: str, first_day: str, send_day: str, send_time: str) -> datetime:
    """The start of the latest week whose digest is due by `now`."""
    week = week_start(now, timezone, first_day) - timedelta(days=7)
    week = week_start(week + timedelta(hours=12), timezone, first_day)  # exact local midnight despite DST
    while digest_send_moment(week, timezone, first_day, send_day, send_time) > now:
        week = week_start(week - timedelta(hours=12), timezone, first_day)
    return week


def due_digest(
    now: datetime, timezone: str, first_day: str, send_day: str, send_time: str, polled_since: datetime | None
) -> datetime | None:
    """The start of the week whose digest is due by `now`, or None when that week ended before the first
    successful poll (`polled_since`; None: none yet): a week nothing was polled in is not digested unless
    someone asks for it by name, so a first start does not e-mail an empty or back-catalogue digest."""
    week = due_digest_week(now, timezone, first_day, send_day, send_time)
    return None if week_coverage(week, week_end(week, timezone), polled_since) == "none" else week
