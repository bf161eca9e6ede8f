"""The daemon's upkeep, once a day and soon after start-up: fetches older than `polling.keep_fetches` are
pruned, the summaries an older monitor stored are cleaned, and items waiting for the search index stemmed.

A run that finds the write lock held past `monitor.busy_timeout` (an analyst's BEGIN IMMEDIATE, a `monitor
rematch`) is tried again soon, as a poll is at its next turn and a reload after RELOAD_RETRY: first after
RETRY_FIRST, doubling up to RETRY_MAX, until it gets through. Before, one held lock put it off by a day, and
after an upgrade that day's digests quoted the boilerplate the cleaning removes. What it did before the lock
stopped it is committed (a chunk per transaction), so a retry goes on from there."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..errors import MonitorError, StoreError
from ..storage import Store, status
from ..storage import search as search_store
from ..update.rematch import clean_pending
from .host import Host
from .pidlock import lock_suspects

log = logging.getLogger("monitor.daemon")

PRUNE_EVERY = timedelta(days=1)
PRUNE_FIRST = timedelta(seconds=10)  # after start-up: a daemon restarted daily still prunes
RETRY_FIRST = timedelta(seconds=5)  # after a run that found the database's write lock held (as RELOAD_RETRY)
RETRY_MAX = timedelta(minutes=10)  # the doubling delay stops here: a lock held for hours costs a try per 10 min


class Upkeep:
    def __init__(self, host: Host):
        self.host = host
        self.retry_delay = RETRY_FIRST  # until the next try after a locked database; back to RETRY_FIRST on success
        self.running = threading.Lock()  # the daily run and a retry never overlap

    def schedule(self) -> None:
        self.host.scheduler.add_job(
            self.job,
            IntervalTrigger(seconds=PRUNE_EVERY.total_seconds()),
            next_run_time=datetime.now(UTC) + PRUNE_FIRST,
            id="upkeep:prune",
            replace_existing=True,
        )

    def job(self) -> None:
        if not self.running.acquire(blocking=False):
            return  # the other run is at it
        try:
            self.run()
        finally:
            self.running.release()

    def run(self) -> None:
        """Delete fetches older than polling.keep_fetches, clean the summaries an older monitor stored, and
        stem the items waiting for the search index (an upgraded archive, an analyst's SQL edits), a chunk per
        transaction, on a connection of its own (the polls' connection is not held; each chunk waits for and
        holds the write lock briefly)."""
        host = self.host
        keep, now, stop = host.config.polling.keep_fetches, host.clock(), host.stopping.is_set
        try:
            with Store.open(host.db_path, host.config.busy_timeout) as store:
                total = status.prune_fetches(store, now - keep, now, stop=stop)
                cleaned = clean_pending(store, host.matcher, now, stop=stop)
                stemmed = search_store.stem_pending(store, stop=stop)
        except MonitorError as error:
            if isinstance(error, StoreError) and error.locked:
                self.retry_later(error)
                return
            log.error(
                "upkeep (pruning the fetches log, cleaning and stemming items) failed: %s; tried again in a day", error
            )
            return
        self.retry_delay = RETRY_FIRST
        if total:
            log.info("pruned %d fetch(es) older than %g days from the fetches log", total, keep.total_seconds() / 86400)
        if cleaned:
            log.info(
                "cleaned the summaries of %d stored item(s) (boilerplate left out) and matched them again", cleaned
            )
        if stemmed:
            log.info("stemmed %d item(s) for the search index", stemmed)

    def retry_later(self, error: StoreError) -> None:
        """Another process held the write lock past busy_timeout: the upkeep is tried again after the delay."""
        host = self.host
        if host.stopping.is_set():
            return
        delay, self.retry_delay = self.retry_delay, min(self.retry_delay * 2, RETRY_MAX)
        holders = lock_suspects(host.db_path)
        log.warning(
            "upkeep (pruning, cleaning, stemming) waits for the database: %s (%s); tried again in %.0fs",
            error,
            "open in: " + ", ".join(holders) if holders else "the holder is not visible",
            delay.total_seconds(),
        )
        host.scheduler.add_job(
            self.job,
            DateTrigger(run_date=datetime.now(UTC) + delay),  # APScheduler's wall clock, as schedule() uses
            id="upkeep:retry",
            replace_existing=True,
        )
