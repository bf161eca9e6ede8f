"""The daemon's alerts and daily digests: a check after each poll that stored something (so an event is alerted
within the poll that brought its crossing report), and every ALERT_CHECK (held alerts after quiet hours, a
batch's wait, a day's digest at its send_time, retries). What a check does is `digest.alerting`'s."""

from __future__ import annotations

import logging
from datetime import timedelta

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..digest.alerting import check
from ..digest.deliver import SmtpSender
from ..errors import MonitorError
from ..storage import Store
from .host import Host, counted

log = logging.getLogger("monitor.alerts")

ALERT_CHECK = timedelta(minutes=1)
AFTER_POLL = timedelta(seconds=1)  # polls finishing together are checked once
STARTUP_CHECK = timedelta(seconds=3)


class Alerts:
    def __init__(self, host: Host):
        self.host = host
        self.last_error: str | None = None  # said once, not at every check

    def wanted(self) -> bool:
        return any(s.cadence in ("alerts", "daily") for s in self.host.config.subscriptions)

    def schedule(self) -> None:
        host = self.host
        if not self.wanted():
            if host.scheduler.get_job("alerts:check"):
                host.scheduler.remove_job("alerts:check")
            return
        host.scheduler.add_job(
            self.job,
            IntervalTrigger(seconds=ALERT_CHECK.total_seconds()),
            id="alerts:check",
            executor="digest",
            replace_existing=True,
        )
        # At start-up: a send a killed daemon left half-done is settled, and what waited is sent, at once.
        host.scheduler.add_job(
            self.job,
            DateTrigger(run_date=host.scheduler_time(host.clock() + STARTUP_CHECK)),
            id="alerts:startup",
            executor="digest",
            replace_existing=True,
        )

    def after_poll(self) -> None:
        """A poll stored its round: check soon, once for polls that finish together."""
        host = self.host
        if not self.wanted() or host.stopping.is_set():
            return
        host.scheduler.add_job(
            self.job,
            DateTrigger(run_date=host.scheduler_time(host.clock() + AFTER_POLL)),
            id="alerts:after-poll",
            executor="digest",
            replace_existing=True,
        )

    def job(self) -> None:
        if self.host.stopping.is_set():
            return
        with counted(self.host):
            self.round()

    def round(self) -> None:
        host = self.host
        config, now = host.config, host.clock()
        try:
            sender = SmtpSender(config.email) if config.email.enabled else None
            with Store.open(host.db_path, config.busy_timeout) as store:
                outcomes = check(config, store, now, sender)
        except MonitorError as error:
            if str(error) != self.last_error:
                log.error("%s; alerts are checked again every minute and after each poll", error)
            self.last_error = str(error)
            return
        self.last_error = None
        for outcome in outcomes:
            (log.error if outcome.error else log.info)("%s", outcome.line)
