"""Calendar weeks as analysts count them: in their time zone, starting on the configured weekday. Pure."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def week_start(now: datetime, timezone: str, first_day: str = "monday") -> datetime:
    """The start (midnight local time, as UTC) of the week that contains `now`."""
    local = now.astimezone(ZoneInfo(timezone))
    back = (local.weekday() - WEEKDAYS.index(first_day)) % 7
    midnight = (local - timedelta(days=back)).replace(hour=0, minute=0, second=0, microsecond=0)
    # Rebuilt from the date so a DST change within the week does not shift midnight by an hour.
    start = datetime(midnight.year, midnight.month, midnight.day, tzinfo=ZoneInfo(timezone))
    return start.astimezone(UTC)


def week_end(start: datetime, timezone: str) -> datetime:
    """Midnight local time seven days after `start` (a DST change makes it 167 or 169 hours later)."""
    local = start.astimezone(ZoneInfo(timezone)) + timedelta(days=7)
    return datetime(local.year, local.month, local.day, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def week_label(start: datetime, timezone: str) -> str:
    """`2023-W39`: the ISO week of the week's first day, in the analysts' time zone."""
    year, week, _ = start.astimezone(ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(label: str, timezone: str, first_day: str = "monday") -> datetime:
    """The start of the week labelled `2023-W39`: its first day (`first_day`) within that ISO week.
    Raises ValueError with the accepted form."""
    try:
        year, week = label.strip().upper().split("-W")
        first = date.fromisocalendar(int(year), int(week), WEEKDAYS.index(first_day) + 1)
    except ValueError:
        raise ValueError(f"expected a week such as 2023-W39, got {label!r}") from None
    return datetime(first.year, first.month, first.day, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def last_complete_week(now: datetime, timezone: str, first_day: str = "monday") -> datetime:
    """The start of the last week that has ended by `now`."""
    current = week_start(now, timezone, first_day)
    return week_start(current - timedelta(days=1), timezone, first_day)


def week_coverage(start: datetime, end: datetime, polled_since: datetime | None) -> str:
    """How much of the week [start, end) was polled, given the first successful poll (None: none yet):
    "full", "partial" (polling began during it) or "none" (it ended before polling began)."""
    if polled_since is None or polled_since >= end:
        return "none"
    return "partial" if polled_since > start else "full"


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
