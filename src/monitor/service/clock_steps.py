"""Steps of the wall clock (set back by hand, or by NTP after a sleep). APScheduler's run times are
wall-clock times, so a step back of a day would leave every job waiting a day: the main loop looks every
CLOCK_CHECK, and reschedules on a step; times stored in the future count as due (`policy.as_of`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ..types import FeedState
from ..update.policy import in_future

log = logging.getLogger("monitor.daemon")

CLOCK_CHECK = 5.0  # seconds between the main loop's looks at the wall clock
CLOCK_STEP = timedelta(minutes=1)  # a jump of the wall clock against the monotonic one larger than this


class ClockWatch:
    """The wall clock (`clock`) against the monotonic one."""

    def __init__(self, clock: Callable[[], datetime]):
        self.clock = clock
        self.skew = self._skew()

    def start(self) -> None:
        """Look from now on (a step while start-up waited for the database is no step of the schedule)."""
        self.skew = self._skew()

    def _skew(self) -> float:
        return self.clock().timestamp() - time.monotonic()

    def stepped(self) -> bool:
        """Whether the wall clock stepped since the last look (said in the log)."""
        now = self._skew()
        step, self.skew = now - self.skew, now
        if abs(step) <= CLOCK_STEP.total_seconds():
            return False
        log.warning(
            "clock: the wall clock stepped %s by %s; rescheduling every job",
            "back" if step < 0 else "forward",
            timedelta(seconds=round(abs(step))),
        )
        return True

    def scheduler_time(self, moment: datetime) -> datetime:
        """A moment of `clock` as APScheduler's real wall clock reads it (they differ in tests that set
        MONITOR_CLOCK_OFFSET)."""
        return datetime.now(UTC) + (moment - self.clock())


def log_future(states: list[FeedState], now: datetime) -> None:
    """One line when feeds were last polled at times in the future (policy.as_of makes them due)."""
    ahead = [s.last_fetch_at for s in states if s.last_fetch_at and in_future(s.last_fetch_at, now)]
    if ahead:
        latest = max(ahead)
        log.warning(
            "clock: %d feed(s) were last polled at times in the future (up to %s UTC, %s ahead): the clock "
            "was set back, or was ahead when they were polled; they count as due and are polled now",
            len(ahead),
            f"{latest:%Y-%m-%d %H:%M}",
            timedelta(seconds=round((latest - now).total_seconds())),
        )
