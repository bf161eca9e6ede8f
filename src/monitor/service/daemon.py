"""`monitor run`: the service. APScheduler wiring, signals, one daemon per database; calls only the pipeline.

- One job per feed (id `feed:<name>`, stable, so a reload touches only feeds that changed) at the feed's
  interval with jitter, `max_instances=1`, coalescing and a misfire grace time. Each job polls only when
  the database says the feed is due (`policy.is_due`): a restart, or a `monitor poll` beside the daemon,
  never makes a feed be polled twice within its interval. Overdue feeds start spread out.
- A digest job at `digest.send_day`/`send_time` in `monitor.timezone`, and the same check at start-up and
  every few minutes: the digest that is due and not yet produced is produced once (after a restart or a
  long sleep too), and failed deliveries are retried when their backoff has passed.
- SIGTERM/SIGINT (as uvicorn does it): stop taking new work, let the feeds being polled finish (each is
  bounded by `polling.deadline`), commit, exit 0 within `STOP_TIMEOUT`; a second signal exits at once.
  SIGHUP re-reads the config; a broken one is refused with a log line and the old one stays.
- Signal handlers only set flags; the main thread does the work (`_main_loop`). A handler that reloaded
  itself re-entered the reload when a second SIGHUP came during the first, and waited forever for the store
  lock its own thread held. A reload that finds the database's write lock held (an analyst's BEGIN
  IMMEDIATE) waits at most RELOAD_TRY, keeps the running config and is tried again RELOAD_RETRY later:
  never fatal, and SIGTERM is never held up for long.
- A reload applies everything it says: new feeds, themes, `[polling]` (a new fetcher; the old one is closed
  after its in-flight fetches), the digest schedule, `busy_timeout`; what only a restart can apply
  (`reloading.restart_needed`) is named in the log line.
- The wall clock may step (set back by hand or by NTP after a sleep): APScheduler's run times are wall-clock
  times, so a step back of a day would leave every job waiting a day. The main loop notices a step (against
  the monotonic clock) and reschedules; times stored in the future count as due (`policy.as_of`).
- Upkeep once a day (and soon after start-up): fetches older than `polling.keep_fetches` are pruned.
- A lock file beside the database (`pidlock`) keeps a second daemon off the same file; CLI commands keep
  working beside the daemon (SQLite WAL, busy timeout).
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import IO

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from ..config.load import Config, load_config
from ..digest.deliver import Sender, SmtpSender
from ..digest.publish import busy_message, publish, retry_failed, settle_interrupted
from ..errors import MonitorError, StoreError
from ..fetch.http import Fetcher
from ..match.model import with_models
from ..match.rules import Matcher
from ..parse.pool import Parser, make_parser
from ..storage import Store
from ..storage import models as model_rows
from ..storage.digests import polled_since, record
from ..storage.history import live_since
from ..types import FeedState
from ..update.policy import in_future
from ..update.poll import poll_feed, record_settings
from ..update.rematch import clean_pending
from ..update.schedule import OVERDUE_SPREAD, due_digest, due_digest_week, first_poll
from ..weeks import week_label
from .metrics import Metrics
from .metrics import start as start_metrics
from .pidlock import acquire, lock_suspects
from .reloading import Swappable, restart_needed

log = logging.getLogger("monitor.daemon")

STOP_TIMEOUT = 30.0  # seconds from the first signal to exit
DIGEST_CHECK = timedelta(minutes=10)
MISFIRE_GRACE = 300  # seconds: a poll that could not start on time still runs within this
STARTUP_DIGEST_DELAY = timedelta(seconds=5)
STARTUP_TRY = timedelta(seconds=1)  # one start-up try's wait for another process's write lock
STARTUP_PAUSE = 0.2  # seconds between start-up tries
PRUNE_EVERY = timedelta(days=1)
PRUNE_FIRST = timedelta(seconds=10)  # after start-up: a daemon restarted daily still prunes
STARTUP_LOG_EVERY = 60.0  # seconds: a lock held for hours is not logged five times a second
RELOAD_TRY = timedelta(seconds=1)  # one reload's wait for another process's write lock (see STARTUP_TRY)
RELOAD_RETRY = 5.0  # seconds until a reload that found the database locked is tried again
CLOCK_CHECK = 5.0  # seconds between the main loop's looks at the wall clock
CLOCK_STEP = timedelta(minutes=1)  # a jump of the wall clock against the monotonic one larger than this


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
        self.sender_factory = sender_factory or _smtp_sender
        self.stopping = threading.Event()  # set by the main thread once a stop was asked; jobs look at it
        # The signal handlers only set these flags and write a byte to the pipe, which wakes the main loop.
        # No lock: a handler runs in the main thread between two of its bytecodes, possibly while that thread
        # holds the very lock it would take (an Event's, the store's), and would then wait for itself forever.
        self.stop_asked = False
        self.reload_asked = False
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self.store_lock = threading.Lock()
        self.busy = 0
        self.busy_lock = threading.Condition()
        self._lock_file: IO[str] | None = None
        self.signals = 0
        self.metrics: Metrics | None = None
        self.last_first_poll = clock()
        self.unpolled_week: str | None = None  # the due week last found unpolled, said once in the log

    # -- life cycle -------------------------------------------------------------------------------

    def run(self) -> int:
        self._acquire_lock()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop_signal)
        signal.signal(signal.SIGHUP, self._reload_signal)  # also before the scheduler exists: done once it does
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
        self._schedule_digest()
        self._schedule_upkeep()
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
        skew = self._skew()
        while True:
            self._sleep(CLOCK_CHECK if retry_at is None else min(CLOCK_CHECK, max(0.0, retry_at - time.monotonic())))
            if self.stop_asked:
                self.stopping.set()
                return
            skew = self._clock_stepped(skew)
            if self.reload_asked or (retry_at is not None and time.monotonic() >= retry_at):
                self.reload_asked = False
                retry_at = None if self.reload() else time.monotonic() + RELOAD_RETRY

    def _reload_signal(self, signum: int, frame: FrameType | None) -> None:
        self.reload_asked = True
        self._poke()

    def _poke(self) -> None:
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:
            pass  # the pipe is full: the main loop has a wake-up waiting already

    def _sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less when a signal handler pokes the main loop."""
        select.select([self._wake_read], [], [], seconds)
        try:
            while os.read(self._wake_read, 512):
                pass
        except BlockingIOError:
            pass

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
                    store.sync_feeds(self.config.feeds, self.clock())
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
            self._sleep(STARTUP_PAUSE)
            if self.stop_asked:
                self.stopping.set()
                return None

    def _stop_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1
        if self.signals > 1:
            log.warning("second signal: exiting now")
            os._exit(1)
        log.info("signal %s: finishing the feeds being polled, then stopping", signal.Signals(signum).name)
        self.stop_asked = True
        self._poke()

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
            states = {s.name: s for s in self.store.feed_states()}
        feeds = [f for f in self.config.feeds if changed is None or f.name in changed]
        _log_future([states[f.name] for f in feeds if f.name in states], now)
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
                next_run_time=self._scheduler_time(first or now + feed.interval),
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
        finally:
            with self.busy_lock:
                self.busy -= 1
                self.busy_lock.notify_all()

    # -- digests ----------------------------------------------------------------------------------

    def _schedule_digest(self) -> None:
        d = self.config.digest
        hour, minute = d.send_time.split(":")
        self.scheduler.add_job(
            self._digest_job,
            CronTrigger(day_of_week=d.send_day[:3], hour=hour, minute=minute, timezone=self.config.timezone),
            id="digest:weekly",
            executor="digest",
            replace_existing=True,
            misfire_grace_time=None,
        )
        self.scheduler.add_job(
            self._digest_job,
            IntervalTrigger(seconds=DIGEST_CHECK.total_seconds()),
            id="digest:check",
            executor="digest",
            replace_existing=True,
        )
        # At start-up, once the overdue feeds have had their first poll, so a missed digest has their items
        # (at most OVERDUE_SPREAD and the delay after start).
        start_check = max(self.clock(), self.last_first_poll) + STARTUP_DIGEST_DELAY
        self.scheduler.add_job(
            self._startup_digest_job,
            DateTrigger(run_date=self._scheduler_time(start_check)),
            id="digest:startup",
            executor="digest",
            replace_existing=True,
        )

    def _startup_digest_job(self) -> None:
        self._digest_job()
        # The overdue feeds have had their first poll and a missed digest is out: what a start does is done.
        log.info("start-up digest check done")

    def _digest_job(self) -> None:
        """Produce the digest that is due if it has not been, and retry failed deliveries. Idempotent.

        Counted as busy: shutdown waits for it as for a poll, within STOP_TIMEOUT, then leaves it (the week
        stays `sending`, settled by the next start)."""
        if self.stopping.is_set():
            return
        with self.busy_lock:
            self.busy += 1
        try:
            self._digest_round()
        finally:
            with self.busy_lock:
                self.busy -= 1
                self.busy_lock.notify_all()

    def _digest_round(self) -> None:
        config, now = self.config, self.clock()
        d = config.digest
        week = due_digest_week(now, config.timezone, d.week_start, d.send_day, d.send_time)
        sender = self.sender_factory(config)
        try:
            # Its own connection, not the pollers' under store_lock: reading a big week and the SMTP exchange
            # block no poll (WAL readers never block the writer), and the few state writes are short
            # transactions of their own.
            with Store.open(self.db_path, config.busy_timeout) as store:
                # A daemon killed during an SMTP exchange left its week `sending`; a week already produced is
                # not published again below, so without this it would stay `sending`, as if still on its way,
                # forever. Another live process's claim is left alone.
                settle_interrupted(store, now)
                existing = record(store, week_label(week, config.timezone))
                since = polled_since(store)
                # A week that ended before the first successful live poll is not digested unbidden, even when
                # imports of the past filled it (issue 15).
                unpolled = (
                    due_digest(now, config.timezone, d.week_start, d.send_day, d.send_time, live_since(store)) is None
                )
                wanted = not unpolled and (existing is None or (existing.state == "rendered" and sender is not None))
                if existing and existing.state == "sending":
                    log.info("digest %s", busy_message(existing))
                results = [publish(config, store, week, now, sender=sender)] if wanted else []
                if sender is not None:
                    results += retry_failed(config, store, now, sender)
        except MonitorError as error:
            # An unwritable digests folder or a locked database: nothing of the week was recorded or sent,
            # so the next check produces it; the daemon and its polling go on.
            log.error(
                "%s; tried again at the next digest check (every %d minutes)", error, DIGEST_CHECK.total_seconds() // 60
            )
            return
        if unpolled and self.unpolled_week != week_label(week, config.timezone):
            self.unpolled_week = week_label(week, config.timezone)
            log.info(
                "digest %s: not produced: nothing was polled that week (%s); `monitor digest --week %s` writes it",
                self.unpolled_week,
                f"polling began {since:%Y-%m-%d %H:%M} UTC" if since else "no successful poll yet",
                self.unpolled_week,
            )
        for result in results:
            if self.metrics and result.state in ("sent", "failed"):
                self.metrics.digest(result.state)
            (log.error if result.error else log.info)("digest %s", result.message)

    # -- upkeep -----------------------------------------------------------------------------------

    def _schedule_upkeep(self) -> None:
        self.scheduler.add_job(
            self._prune_job,
            IntervalTrigger(seconds=PRUNE_EVERY.total_seconds()),
            next_run_time=datetime.now(UTC) + PRUNE_FIRST,
            id="upkeep:prune",
            replace_existing=True,
        )

    def _prune_job(self) -> None:
        """Delete fetches older than polling.keep_fetches, clean the summaries an older monitor stored, and
        stem the items waiting for the search index (an upgraded archive, an analyst's SQL edits), a chunk per
        transaction, on a connection of its own (the polls' connection is not held; each chunk waits for and
        holds the write lock briefly)."""
        keep, now = self.config.polling.keep_fetches, self.clock()
        try:
            with Store.open(self.db_path, self.config.busy_timeout) as store:
                total = store.prune_fetches(now - keep, now, stop=self.stopping.is_set)
                cleaned = clean_pending(store, self.matcher, now, stop=self.stopping.is_set)
                stemmed = store.stem_pending(stop=self.stopping.is_set)
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
        old = self.config
        # Where an entry stands in the file is no change of the feed: an edit above it moves it.
        old_feeds = {f.name: replace(f, line=None) for f in old.feeds}
        new_feeds = {f.name: replace(f, line=None) for f in new.feeds}
        changed = {name for name, feed in new_feeds.items() if old_feeds.get(name) != feed}
        removed = set(old_feeds) - set(new_feeds)
        self.config = new
        # A reload also picks up models `monitor train` stored since: they change no config.
        with self.store_lock:  # the pollers' connection
            matcher = with_models(Matcher(new.themes), new.themes, model_rows.newest(self.store))
        if matcher.version != self.matcher.version:
            self.matcher = matcher
            log.info("themes or trained models changed: new items use them; `monitor rematch` updates stored ones")
        if new.polling != old.polling:
            self.fetcher.replace(Fetcher(new.polling, clock=self.clock))  # the old one closes after its fetches
        if new.polling.parse_processes != old.polling.parse_processes:
            self.parser.replace(make_parser(new.polling.parse_processes))  # after the feeds it is parsing
        for name in removed:
            try:
                self.scheduler.remove_job(f"feed:{name}")
            except JobLookupError:
                pass  # never scheduled: it had no row when the feeds were scheduled
        self._schedule_feeds(initial=False, changed=changed)
        if new.digest != old.digest or new.timezone != old.timezone:
            self._schedule_digest()
        for before, after in renames:
            log.info("feed %s renamed %s: its items and history stay with it", before, after)
        pending = restart_needed(old, new, database_given=self.db_override is not None)
        needs = "; these settings need a restart to take effect: " + ", ".join(pending) if pending else ""
        log.info(
            "reloaded %s: %d feed(s) added or changed, %d removed%s",
            self.config_path,
            len(changed),
            len(removed),
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
                renames = self.store.sync_feeds(config.feeds, self.clock())
                record_settings(self.store, config)
            except BaseException:
                self.store.set_busy_timeout(self.config.busy_timeout)
                raise
            self.store.set_busy_timeout(config.busy_timeout)
            return renames

    # -- the wall clock ---------------------------------------------------------------------------

    def _skew(self) -> float:
        return self.clock().timestamp() - time.monotonic()

    def _clock_stepped(self, skew: float) -> float:
        """Reschedule every job when the wall clock stepped since the last look; returns the new skew."""
        now = self._skew()
        step = now - skew
        if abs(step) > CLOCK_STEP.total_seconds():
            log.warning(
                "clock: the wall clock stepped %s by %s; rescheduling every job",
                "back" if step < 0 else "forward",
                timedelta(seconds=round(abs(step))),
            )
            self._schedule_feeds(initial=False)
            self._schedule_digest()
            self._schedule_upkeep()
        return now

    def _scheduler_time(self, moment: datetime) -> datetime:
        """A moment of `self.clock` as APScheduler's real wall clock reads it (they differ in tests that set
        MONITOR_CLOCK_OFFSET)."""
        return datetime.now(UTC) + (moment - self.clock())


def _log_future(states: list[FeedState], now: datetime) -> None:
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


def _smtp_sender(config: Config) -> Sender | None:
    if not config.email.enabled or not config.email.to:
        return None
    try:
        return SmtpSender(config.email)
    except MonitorError as error:
        log.error("e-mail is enabled but cannot be used: %s", error)
        return None
