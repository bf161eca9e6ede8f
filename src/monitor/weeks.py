"""Calendar weeks as analysts count them: in their time zone, starting on the configured weekday. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
