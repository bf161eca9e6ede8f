"""The daemon's upkeep, once a day and soon after start-up: fetches older than `polling.keep_fetches` are
pruned, the summaries an older monitor stored are cleaned, and items waiting for the search index stemmed."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger

from ..errors import MonitorError
from ..storage import Store, status
from ..storage import search as search_store
from ..update.rematch import clean_pending
from .host import Host

log = logging.getLogger("monitor.daemon")

PRUNE_EVERY = timedelta(days=1)
PRUNE_FIRST = timedelta(seconds=10)  # after start-up: a daemon restarted daily still prunes


class Upkeep:
    def __init__(self, host: Host):
        self.host = host

    def schedule(self) -> None:
        self.host.scheduler.add_job(
            self.job,
            IntervalTrigger(seconds=PRUNE_EVERY.total_seconds()),
            next_run_time=datetime.now(UTC) + PRUNE_FIRST,
            id="upkeep:prune",
            replace_existing=True,
        )

    def job(self) -> None:
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
            log.error(
                "upkeep (pruning the fetches log, cleaning and stemming items) failed: %s; tried again in a day", error
            )
            return
        if total:
            log.info("pruned %d fetch(es) older than %g days from the fetches log", total, keep.total_seconds() / 86400)
        if cleaned:
            log.info(
                "cleaned the summaries of %d stored item(s) (boilerplate left out) and matched them again", cleaned
            )
        if stemmed:
            log.info("stemmed %d item(s) for the search index", stemmed)
