"""What the daemon's parts (digests, upkeep, reload) share with it: the running config and matcher, the
clock, the scheduler, and the count of jobs that shutdown waits for. `Daemon` is the one `Host`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Protocol

from apscheduler.schedulers.background import BackgroundScheduler

from ..config.load import Config
from ..types import Matching
from .metrics import Metrics


class Host(Protocol):
    config: Config  # replaced by a reload: read it afresh in each job

    @property
    def matcher(self) -> Matching:  # likewise; read-only here, so a daemon's narrower matcher type fits
        ...

    clock: Callable[[], datetime]
    db_path: str
    scheduler: BackgroundScheduler
    stopping: threading.Event  # set once a stop was asked; jobs look at it
    busy: int  # jobs running that shutdown waits for, under busy_lock
    busy_lock: threading.Condition
    metrics: Metrics | None
    last_first_poll: datetime  # the latest first poll of an overdue feed after (re)scheduling the feeds

    def scheduler_time(self, moment: datetime) -> datetime: ...


@contextmanager
def counted(host: Host) -> Iterator[None]:
    """A job that shutdown waits for, within STOP_TIMEOUT, as for a poll."""
    with host.busy_lock:
        host.busy += 1
    try:
        yield
    finally:
        with host.busy_lock:
            host.busy -= 1
            host.busy_lock.notify_all()
