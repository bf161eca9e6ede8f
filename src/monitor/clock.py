"""EDGE: the one place that reads the wall clock for the CLI and the daemon (`utc_now`).

A test seam, documented in docs/development.md: the environment variable
`MONITOR_CLOCK_OFFSET` (seconds, may be negative or fractional) is added to the real time, so tests can run
real `monitor` processes as if the clock were set ahead or back (a clock step) without root or fakes. It is
read at each call, so an in-process CLI run sees the value its caller set. Unset, the clock is the real one.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from .errors import UsageError

OFFSET_ENV = "MONITOR_CLOCK_OFFSET"


def offset() -> timedelta:
    """The test offset added to the real time; a value that is not a number is a usage error (exit 2)."""
    raw = os.environ.get(OFFSET_ENV, "").strip()
    if not raw:
        return timedelta(0)
    try:
        return timedelta(seconds=float(raw))
    except (ValueError, OverflowError):
        raise UsageError(
            f"{OFFSET_ENV}: expected a number of seconds to add to the clock (a test setting), got {raw!r}"
        ) from None


def utc_now() -> datetime:
    return datetime.now(UTC) + offset()
