"""`monitor run`: the service. The composition: start-up (the lock file, the database, APScheduler), the main
loop, the feeds' jobs, the reload, shutdown. One daemon per database; calls only the pipeline. Its parts:
`signals` (SIGTERM, SIGINT, SIGHUP), `digests` (the digest jobs), `upkeep` (pruning, cleaning, stemming),
`clock_steps` (steps of the wall clock), `reloading` (what a reload swaps and cannot apply); `host` is what
they share with the daemon.

- One job per feed (id `feed:<name>`, stable, so a reload touches only feeds that changed) at the feed's
  interval with jitter, `max_instances=1`, coalescing and a misfire grace time. Each job polls only when
  the database says the feed is due (`policy.is_due`): a restart, or a `monitor poll` beside the daemon,
  never makes a feed be polled twice within its interval. Overdue feeds start spread out.
- SIGTERM/SIGINT: stop taking new work, let the feeds being polled finish (each is bounded by
  `polling.deadline`), commit, exit 0 within `STOP_TIMEOUT`; a second signal exits at once. SIGHUP re-reads
  the config; a broken one is refused with a log line and the old one stays. From the stop on, SIGHUP is
  ignored to the exit (`Signals.ignore_reloads`).
- The signal handlers only set flags; the main thread does the work (`_main_loop`). A reload that finds the
  database's write lock held (an analyst's BEGIN IMMEDIATE) waits at most RELOAD_TRY, keeps the running
  config and is tried again RELOAD_RETRY later: never fatal, and SIGTERM is never held up for long.
- A reload applies everything it says: new feeds, themes, `[polling]` (a new fetcher; the old one is closed
  after its in-flight fetches), the digest schedule, `busy_timeout`; what only a restart can apply
  (`reloading.restart_needed`) is named in the log line.
- A step of the wall clock reschedules every job (`clock_steps`).
- A lock file beside the database (`pidlock`) keeps a second daemon off the same file; CLI commands keep
  working beside the daemon (SQLite WAL, busy timeout).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from ..config.load import Config, load_config
from ..digest.deliver import Sender
from ..errors import MonitorError, StoreError
from ..fetch.http import Fetcher
from ..match.model import with_models
from ..match.rules import Matcher
from ..parse.pool import Parser, make_parser
from ..storage import Store
from ..storage import feeds as feed_store
from ..storage import models as model_rows
from ..update.poll import poll_feed, record_settings
from ..update.schedule import OVERDUE_SPREAD, first_poll
from .alerts import Alerts
from .clock_steps import CLOCK_CHECK, ClockWatch, log_future
from .digests import Digests
from .metrics import Metrics
from .metrics import start as start_metrics
from .pidlock import acquire, lock_suspects
from .reloading import Swappable, changes
from .signals import Signals
from .upkeep import Upkeep

log = logging.getLogger("monitor.daemon")

STOP_TIMEOUT = 30.0  # seconds from the first signal to exit
MISFIRE_GRACE = 300  # seconds: a poll that could not start on time still runs within this
STARTUP_TRY = timedelta(seconds=1)  # one start-up try's wait for another process's write lock
STARTUP_PAUSE = 0.2  # seconds between start-up tries
STARTUP_LOG_EVERY = 60.0  # seconds: a lock held for hours is not logged five times a second
RELOAD_TRY = timedelta(seconds=1)  # one reload's wait for another process's write lock (see STARTUP_TRY)
RELOAD_RETRY = 5.0  # seconds until a reload that found the database locked is tried again


class Daemon:
    def __init__(
        self,
        config_path: str,
        db_path: str | None,
        clock: Callable[[], datetime],
        sender_factory: Callable[[Config], Sender | None] | None = None,
    ):
        self.config_path = config_path
        self.db_override = db_path
        self.clock = clock
        self.config = load_config(config_path)
        self.db_path = db_path or self.config.database
        self.stopping = threading.Event()  # set by the main thread once a stop was asked; jobs look at it
        self.signals = Signals()  # the handlers only set its flags and wake the main loop
        self.store_lock = threading.Lock()
        self.busy = 0
        self.busy_lock = threading.Condition()
        self._lock_file: IO[str] | None = None
        self.metrics: Metrics | None = None
        self.last_first_poll = clock()
        self.clock_watch = ClockWatch(clock)
        self.digests = Digests(self, sender_factory)
        self.alerts = Alerts(self)
        self.upkeep = Upkeep(self)

    # -- life cycle -------------------------------------------------------------------------------

    def run(self) -> int:
        try:
            return self._run()
        finally:  # however it ends (an error too): a HUP must not turn the exit into death by signal 129
            self.signals.ignore_reloads()

    def _run(self) -> int:
        self._acquire_lock()
        self.signals.install()  # SIGHUP also before the scheduler exists: done once it does
        store = self._open_store()
        if store is None:
            log.info("monitor stopped while waiting for the database")
            self._release_lock()
            return 0
        self.store = store
        self.matcher = with_models(Matcher(self.config.themes), self.config.themes, model_rows.newest(store))
        self.fetcher = Swappable(Fetcher(self.config.polling, clock=self.clock), Fetcher.close)
        self.parser: Swappable[Parser] = Swappable(
            make_parser(self.config.polling.parse_processes), lambda parser: parser.close()
        )
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(self.config.polling.concurrency), "digest": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
            timezone=self.config.timezone,
        )
        self.scheduler.add_listener(self._job_failed, EVENT_JOB_ERROR)
        self._schedule_feeds(initial=True)
        self.digests.schedule()
        self.alerts.schedule()
        self.upkeep.schedule()
        self.metrics = start_metrics(self.config.metrics.enabled, self.config.metrics.address)
        self.scheduler.start()
        log.info(
            "monitor running: %d feeds, %d themes, database %s (pid %d)",
            len(self.config.feeds),
            len(self.config.themes),
            self.db_path,
            os.getpid(),
        )
        self._main_loop()
        return self._shutdown()

    def _main_loop(self) -> None:
        """Until a stop signal: reloads asked by SIGHUP (retried while the database is locked), and steps of
        the wall clock. Here, in the main thread outside any signal handler, a reload never interrupts
        another."""
        retry_at: float | None = None
        self.clock_watch.start()
        while True:
            self.signals.sleep(
                CLOCK_CHECK if retry_at is None else min(CLOCK_CHECK, max(0.0, retry_at - time.monotonic()))
            )
            if self.signals.stop_asked:
                self.stopping.set()
                return
            if self.clock_watch.stepped():
                self._schedule_feeds(initial=False)
                self.digests.schedule()
                self.alerts.schedule()
                self.upkeep.schedule()
            if self.signals.reload_asked or (retry_at is not None and time.monotonic() >= retry_at):
                self.signals.reload_asked = False
                retry_at = None if self.reload() else time.monotonic() + RELOAD_RETRY

    def _open_store(self) -> Store | None:
        """The database opened and the configured feeds recorded in it, however long another process holds
        its write lock; None when a signal stopped the wait.

        Each try waits at most STARTUP_TRY for the lock: SQLite's wait is one C call, during which Python
        runs no signal handler, so a try as long as `busy_timeout` (30 s by default) would delay SIGTERM."""
        attempt = min(self.config.busy_timeout, STARTUP_TRY)
        waiting_since: float | None = None
        logged = -STARTUP_LOG_EVERY
        while True:
            store = None
            try:
                store = Store.open(self.db_path, attempt)
                with self.store_lock:
                    feed_store.sync_feeds(store, self.config.feeds, self.clock())
                    record_settings(store, self.config)
                store.set_busy_timeout(self.config.busy_timeout)
                if waiting_since is not None:
                    log.info(
                        "database %s: the other process released its write lock after %.0fs; starting",
                        self.db_path,
                        time.monotonic() - waiting_since,
                    )
                return store
            except StoreError as error:
                if store is not None:
                    store.close()
                if not error.locked:
                    raise
            now = time.monotonic()
            waiting_since = now if waiting_since is None else waiting_since
            if now - logged >= STARTUP_LOG_EVERY:
                logged = now
                holders = lock_suspects(self.db_path)
                log.warning(
                    "database %s is locked: another process holds its write lock (%s); start-up waits until "
                    "that process commits or exits (an analyst's BEGIN IMMEDIATE, a `monitor rematch`), "
                    "trying again every %.1fs (waited %.0fs so far; SIGTERM stops the wait)",
                    self.db_path,
                    "open in: " + ", ".join(holders) if holders else "which one is not visible",
                    attempt.total_seconds() + STARTUP_PAUSE,
                    now - waiting_since,
                )
            self.signals.sleep(STARTUP_PAUSE)
            if self.signals.stop_asked:
                self.stopping.set()
                return None

    def _shutdown(self) -> int:
        self.scheduler.shutdown(wait=False)  # no new jobs; running ones go on below
        deadline = time.monotonic() + STOP_TIMEOUT
        with self.busy_lock:
            while self.busy and time.monotonic() < deadline:
                self.busy_lock.wait(timeout=0.2)
            abandoned = self.busy
        with self.store_lock:  # no write in progress: what is committed is all there is
            self.store.close()
        self.fetcher.close()
        self.parser.close()
        if self.metrics:
            self.metrics.close()
        log.info("monitor stopped%s", f" ({abandoned} job(s) abandoned mid-way)" if abandoned else "")
        self._release_lock()
        if abandoned:
            os._exit(0)  # threads stuck in a fetch must not hold the exit past the bound
        return 0

    def _acquire_lock(self) -> None:
        self._lock_file = acquire(self.db_path)

    def _release_lock(self) -> None:
        if self._lock_file:
            self._lock_file.close()
            self._lock_file = None

    # -- feeds ------------------------------------------------------------------------------------

    def _schedule_feeds(self, *, initial: bool, changed: set[str] | None = None) -> None:
        now = self.clock()
        with self.store_lock:
            states = {s.name: s for s in feed_store.feed_states(self.store)}
        feeds = [f for f in self.config.feeds if changed is None or f.name in changed]
        log_future([states[f.name] for f in feeds if f.name in states], now)
        for index, feed in enumerate(feeds):
            state = states.get(feed.name)
            if state is None:
                continue
            first = first_poll(state, feed.interval, now, index, len(feeds))
            seconds = feed.interval.total_seconds()
            # next_run_time, not start_date: an interval trigger whose start has just passed would wait a
            # whole interval for its first run. No misfire limit: after a sleep, an overdue feed runs once
            # (coalesced) on waking rather than waiting for its next slot.
            self.scheduler.add_job(
                self._poll_job,
                IntervalTrigger(seconds=seconds, jitter=min(seconds * 0.1, 300)),
                misfire_grace_time=None,
                next_run_time=self.scheduler_time(first or now + feed.interval),
                args=[feed.name],
                id=f"feed:{feed.name}",
                name=feed.name,
                replace_existing=True,
            )
            # Only feeds due now (or within the overdue spread) hold the start-up digest check back: one polled
            # recently has its items stored already, and waiting for its next turn (up to its interval) would
            # leave a missed digest to the next 10-minute check or later.
            if first is not None and first <= now + OVERDUE_SPREAD:
                self.last_first_poll = max(self.last_first_poll, first)

    def _poll_job(self, name: str) -> None:
        if self.stopping.is_set():
            return
        with self.busy_lock:
            self.busy += 1
        try:
            with self.fetcher.borrow() as fetcher, self.parser.borrow() as parser:
                report = poll_feed(
                    self.config, self.store, fetcher, self.clock, name, self.matcher, self.store_lock, parser=parser
                )
            if report and self.metrics:
                self.metrics.poll(report)
            if report and report.counts.matched:
                self.alerts.after_poll()
        finally:
            with self.busy_lock:
                self.busy -= 1
                self.busy_lock.notify_all()

    # -- everything else ----------------------------------------------------------------------------

    def _job_failed(self, event: JobExecutionEvent) -> None:
        log.error("job %s failed: %r", event.job_id, event.exception)

    # -- reload -----------------------------------------------------------------------------------

    def reload(self) -> bool:
        """Re-read the config and apply it; keep the old one when the new one is broken. False when the
        database could not be written (locked past RELOAD_TRY, or a full disk): nothing was applied, and the
        main loop tries again."""
        try:
            new = load_config(self.config_path)
        except MonitorError as error:
            log.error("reload refused, keeping the running config: %s", str(error).replace("\n", " | "))
            return True
        try:
            renames = self._sync_feeds(new)
        except StoreError as error:
            log.warning(
                "reload waits for the database: %s; the running config stays until the reload can be "
                "applied, tried again in %.0fs",
                error,
                RELOAD_RETRY,
            )
            return False
        old, self.config = self.config, new
        apply = changes(old, new, database_given=self.db_override is not None)
        # A reload also picks up models `monitor train` stored since: they change no config.
        with self.store_lock:  # the pollers' connection
            matcher = with_models(Matcher(new.themes), new.themes, model_rows.newest(self.store))
        if matcher.version != self.matcher.version:
            self.matcher = matcher
            log.info("themes or trained models changed: new items use them; `monitor rematch` updates stored ones")
        if apply.fetcher:
            self.fetcher.replace(Fetcher(new.polling, clock=self.clock))  # the old one closes after its fetches
        if apply.parser:
            self.parser.replace(make_parser(new.polling.parse_processes))  # after the feeds it is parsing
        for name in apply.removed:
            try:
                self.scheduler.remove_job(f"feed:{name}")
            except JobLookupError:
                pass  # never scheduled: it had no row when the feeds were scheduled
        self._schedule_feeds(initial=False, changed=set(apply.feeds))
        if apply.digest:
            self.digests.schedule()
        self.alerts.schedule()
        for before, after in renames:
            log.info("feed %s renamed %s: its items and history stay with it", before, after)
        needs = "; these settings need a restart to take effect: " + ", ".join(apply.restart) if apply.restart else ""
        log.info(
            "reloaded %s: %d feed(s) added or changed, %d removed%s",
            self.config_path,
            len(apply.feeds),
            len(apply.removed),
            needs,
        )
        return True

    def _sync_feeds(self, config: Config) -> list[tuple[str, str]]:
        """The feeds table brought to `config`, waiting at most RELOAD_TRY for another process's write lock
        (the main thread waits inside one SQLite call, deaf to signals, and poll jobs wait for the store
        lock meanwhile); then `monitor.busy_timeout` of `config` applies."""
        with self.store_lock:
            self.store.set_busy_timeout(min(config.busy_timeout, RELOAD_TRY))
            try:
                renames = feed_store.sync_feeds(self.store, config.feeds, self.clock())
                record_settings(self.store, config)
            except BaseException:
                self.store.set_busy_timeout(self.config.busy_timeout)
                raise
            self.store.set_busy_timeout(config.busy_timeout)
            return renames

    def scheduler_time(self, moment: datetime) -> datetime:
        """A moment of `self.clock` as APScheduler's real wall clock reads it (see ClockWatch)."""
        return self.clock_watch.scheduler_time(moment)
