"""The daemon's digests: a job at `digest.send_day`/`send_time` in `monitor.timezone`, and the same check at
start-up and every few minutes. The digest that is due and not yet produced is produced once (after a restart
or a long sleep too), and failed deliveries are retried when their backoff has passed. What is due, written
and e-mailed is `digest.decide`'s to say, as for `monitor digest`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..config.load import Config
from ..digest.decide import DAEMON_ROUND, decide
from ..digest.deliver import Sender, SmtpSender
from ..digest.publish import busy_message, digest_facts, editions, publish, retry_failed, settle_interrupted
from ..errors import MonitorError
from ..storage import Store
from ..storage.digests import record
from .host import Host, counted

log = logging.getLogger("monitor.daemon")

DIGEST_CHECK = timedelta(minutes=10)
STARTUP_DIGEST_DELAY = timedelta(seconds=5)


class Digests:
    def __init__(self, host: Host, sender_factory: Callable[[Config], Sender | None] | None = None):
        self.host = host
        self.sender_factory = sender_factory or smtp_sender
        self.unpolled_week: str | None = None  # the due week last found unpolled, said once in the log

    def schedule(self) -> None:
        host = self.host
        d = host.config.digest
        hour, minute = d.send_time.split(":")
        host.scheduler.add_job(
            self.job,
            CronTrigger(day_of_week=d.send_day[:3], hour=hour, minute=minute, timezone=host.config.timezone),
            id="digest:weekly",
            executor="digest",
            replace_existing=True,
            misfire_grace_time=None,
        )
        host.scheduler.add_job(
            self.job,
            IntervalTrigger(seconds=DIGEST_CHECK.total_seconds()),
            id="digest:check",
            executor="digest",
            replace_existing=True,
        )
        # At start-up, once the overdue feeds have had their first poll, so a missed digest has their items
        # (at most OVERDUE_SPREAD and the delay after start).
        start_check = max(host.clock(), host.last_first_poll) + STARTUP_DIGEST_DELAY
        host.scheduler.add_job(
            self.startup_job,
            DateTrigger(run_date=host.scheduler_time(start_check)),
            id="digest:startup",
            executor="digest",
            replace_existing=True,
        )

    def startup_job(self) -> None:
        self.job()
        # The overdue feeds have had their first poll and a missed digest is out: what a start does is done.
        log.info("start-up digest check done")

    def job(self) -> None:
        """Produce the digest that is due if it has not been, and retry failed deliveries. Idempotent.

        Counted as busy: shutdown waits for it as for a poll, within STOP_TIMEOUT, then leaves it (the week
        stays `sending`, settled by the next start)."""
        if self.host.stopping.is_set():
            return
        with counted(self.host):
            self.round()

    def round(self) -> None:
        host = self.host
        config, now = host.config, host.clock()
        sender = self.sender_factory(config)
        try:
            # Its own connection, not the pollers' under store_lock: reading a big week and the SMTP exchange
            # block no poll (WAL readers never block the writer), and the few state writes are short
            # transactions of their own.
            with Store.open(host.db_path, config.busy_timeout) as store:
                # A daemon killed during an SMTP exchange left its week `sending`; a week already produced is
                # not published again below, so without this it would stay `sending`, as if still on its way,
                # forever. Another live process's claim is left alone.
                settle_interrupted(store, now)
                results = []
                decisions = []
                for edition in editions(config):  # the [email] digest, and each weekly subscription's to some themes
                    view, subscription = edition.config, edition.subscription
                    facts = digest_facts(view, store, email_enabled=sender is not None, subscription=subscription)
                    decisions.append(decide(DAEMON_ROUND, facts, now))
                    if facts.recorded.get(decisions[-1].label) == "sending":
                        claimed = record(store, edition.key(decisions[-1].label))
                        if claimed:
                            log.info("digest %s", busy_message(claimed))
                    if decisions[-1].write:
                        week = decisions[-1].week
                        results.append(publish(view, store, week, now, sender=sender, subscription=subscription))
                decision = decisions[0]  # the [email] digest's: its week's skip is said once below
                if sender is not None:
                    results += retry_failed(config, store, now, sender)
        except MonitorError as error:
            # An unwritable digests folder or a locked database: nothing of the week was recorded or sent,
            # so the next check produces it; the daemon and its polling go on.
            log.error(
                "%s; tried again at the next digest check (every %d minutes)", error, DIGEST_CHECK.total_seconds() // 60
            )
            return
        if decision.skipped and self.unpolled_week != decision.label:
            self.unpolled_week = decision.label  # said once a week, not every DIGEST_CHECK
            log.info(
                "digest %s: not produced: %s; `monitor digest --week %s` writes it",
                decision.label,
                decision.skipped,
                decision.label,
            )
        for result in results:
            if host.metrics and result.state in ("sent", "failed"):
                host.metrics.digest(result.state)
            (log.error if result.error else log.info)("digest %s", result.message)


def smtp_sender(config: Config) -> Sender | None:
    if not config.email.enabled or not config.email.to:
        return None
    try:
        return SmtpSender(config.email)
    except MonitorError as error:
        log.error("e-mail is enabled but cannot be used: %s", error)
        return None
