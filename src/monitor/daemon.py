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
- A lock file beside the database (`<db>.lock`, holding the pid) keeps a second daemon off the same file;
  CLI commands keep working beside the daemon (SQLite WAL, busy timeout).
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import IO

from apscheduler.events import EVENT_JOB_ERROR, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .config import Config, load_config
from .deliver import Sender, SmtpSender
from .errors import MonitorError
from .fetch import Fetcher
from .match import Matcher
from .metrics import Metrics
from .metrics import start as start_metrics
from .parsers import make_parser
from .pipeline import poll_feed
from .publish import publish, retry_failed, settle_interrupted
from .schedule import due_digest_week, first_poll
from .store import Store
from .store_digest import record
from .weeks import week_label

log = logging.getLogger("monitor.daemon")

STOP_TIMEOUT = 30.0  # seconds from the first signal to exit
DIGEST_CHECK = timedelta(minutes=10)
MISFIRE_GRACE = 300  # seconds: a poll that could not start on time still runs within this
STARTUP_DIGEST_DELAY = timedelta(seconds=5)


class AlreadyRunning(MonitorError):
    exit_code = 3


def lock_path(db_path: str) -> Path:
    return Path(str(db_path) + ".lock")


def running_pid(db_path: str) -> int | None:
    """The pid of the daemon holding the database's lock, or None when no daemon runs."""
    path = lock_path(db_path)
    if not path.exists():
        return None
    with path.open("r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            text = handle.read().strip()
            return int(text) if text.isdigit() else -1
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


class Daemon:
    def __init__(self, config_path: str, db_path: str | None, clock: Callable[[], datetime],
                 sender_factory: Callable[[Config], Sender | None] | None = None):
        self.config_path = config_path
        self.db_override = db_path
        self.clock = clock
        self.config = load_config(config_path)
        self.db_path = db_path or self.config.database
        self.sender_factory = sender_factory or _smtp_sender
        self.stopping = threading.Event()
        self.store_lock = threading.Lock()
        self.busy = 0
        self.busy_lock = threading.Condition()
        self._lock_file: IO[str] | None = None
        self.signals = 0
        self.metrics: Metrics | None = None
        self.last_first_poll = clock()

    # -- life cycle -------------------------------------------------------------------------------

    def run(self) -> int:
        self._acquire_lock()
        self.store = Store.open(self.db_path, self.config.busy_timeout)
        self.matcher = Matcher(self.config.themes)
        self.fetcher = Fetcher(self.config.polling, clock=self.clock)
        self.parser = make_parser(self.config.polling.parse_processes)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(self.config.polling.concurrency),
                       "digest": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
            timezone=self.config.timezone)
        self.scheduler.add_listener(self._job_failed, EVENT_JOB_ERROR)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop_signal)
        signal.signal(signal.SIGHUP, lambda *_: self.reload())
        with self.store_lock:
            self.store.sync_feeds(self.config.feeds, self.clock())
        self._schedule_feeds(initial=True)
        self._schedule_digest()
        self.metrics = start_metrics(self.config.metrics.enabled, self.config.metrics.address)
        self.scheduler.start()
        log.info("monitor running: %d feeds, %d themes, database %s (pid %d)", len(self.config.feeds),
                 len(self.config.themes), self.db_path, os.getpid())
        self.stopping.wait()
        return self._shutdown()

    def _stop_signal(self, signum: int, frame: FrameType | None) -> None:
        self.signals += 1
        if self.signals > 1:
            log.warning("second signal: exiting now")
            os._exit(1)
        log.info("signal %s: finishing the feeds being polled, then stopping", signal.Signals(signum).name)
        self.stopping.set()

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
        log.info("monitor stopped%s", f" ({abandoned} feed(s) abandoned mid-fetch)" if abandoned else "")
        self._release_lock()
        if abandoned:
            os._exit(0)  # threads stuck in a fetch must not hold the exit past the bound
        return 0

    def _acquire_lock(self) -> None:
        path = lock_path(self.db_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            handle.close()
            raise AlreadyRunning(f"another monitor daemon (pid {pid}) already runs on {self.db_path}; "
                                 f"stop it first, or give this one another --db") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

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
                self._poll_job, IntervalTrigger(seconds=seconds, jitter=min(seconds * 0.1, 300)),
                misfire_grace_time=None,
                next_run_time=first or now + feed.interval, args=[feed.name], id=f"feed:{feed.name}",
                name=feed.name, replace_existing=True)
            self.last_first_poll = max(self.last_first_poll, first or now)

    def _poll_job(self, name: str) -> None:
        if self.stopping.is_set():
            return
        with self.busy_lock:
            self.busy += 1
        try:
            report = poll_feed(self.config, self.store, self.fetcher, self.clock, name, self.matcher,
                               self.store_lock, parser=self.parser)
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
        self.scheduler.add_job(self._digest_job, CronTrigger(day_of_week=d.send_day[:3], hour=hour, minute=minute,
                                                             timezone=self.config.timezone),
                               id="digest:weekly", executor="digest", replace_existing=True,
                               misfire_grace_time=None)
        self.scheduler.add_job(self._digest_job, IntervalTrigger(seconds=DIGEST_CHECK.total_seconds()),
                               id="digest:check", executor="digest", replace_existing=True)
        # At start-up, once the overdue feeds have had their first poll, so a missed digest has their items.
        start_check = max(self.clock(), self.last_first_poll) + STARTUP_DIGEST_DELAY
        self.scheduler.add_job(self._digest_job, DateTrigger(run_date=start_check),
                               id="digest:startup", executor="digest", replace_existing=True)

    def _digest_job(self) -> None:
        """Produce the digest that is due if it has not been, and retry failed deliveries. Idempotent."""
        if self.stopping.is_set():
            return
        config, now = self.config, self.clock()
        d = config.digest
        week = due_digest_week(now, config.timezone, d.week_start, d.send_day, d.send_time)
        sender = self.sender_factory(config)
        try:
            with self.store_lock:
                # A daemon killed during an SMTP exchange left its week `sending`; a week already produced is
                # not published again below, so without this it would stay `sending`, as if still on its way,
                # forever.
                settle_interrupted(self.store)
                existing = record(self.store, week_label(week, config.timezone))
                wanted = existing is None or (existing.state == "rendered" and sender is not None)
                results = [publish(config, self.store, week, now, sender=sender)] if wanted else []
                if sender is not None:
                    results += retry_failed(config, self.store, now, sender)
        except MonitorError as error:
            # An unwritable digests folder or a locked database: nothing of the week was recorded or sent,
            # so the next check produces it; the daemon and its polling go on.
            log.error("%s; tried again at the next digest check (every %d minutes)", error,
                      DIGEST_CHECK.total_seconds() // 60)
            return
        for result in results:
            if self.metrics and result.state in ("sent", "failed"):
                self.metrics.digest(result.state)
            (log.error if result.state == "failed" else log.info)("digest %s", result.message)

    def _job_failed(self, event: JobExecutionEvent) -> None:
        log.error("job %s failed: %r", event.job_id, event.exception)

    # -- reload -----------------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the config; keep the old one when the new one is broken."""
        try:
            new = load_config(self.config_path)
        except MonitorError as error:
            log.error("reload refused, keeping the running config: %s", str(error).replace("\n", " | "))
            return
        old = self.config
        old_feeds = {f.name: f for f in old.feeds}
        new_feeds = {f.name: f for f in new.feeds}
        changed = {name for name, feed in new_feeds.items() if old_feeds.get(name) != feed}
        removed = set(old_feeds) - set(new_feeds)
        self.config = new
        if new.themes != old.themes:
            self.matcher = Matcher(new.themes)
            log.info("themes changed: new items use them; `monitor rematch` updates stored ones")
        if new.polling.parse_processes != old.polling.parse_processes:
            self.parser, previous = make_parser(new.polling.parse_processes), self.parser
            previous.close()  # after the feeds it is parsing
        with self.store_lock:
            self.store.sync_feeds(new.feeds, self.clock())
        for name in removed:
            self.scheduler.remove_job(f"feed:{name}")
        self._schedule_feeds(initial=False, changed=changed)
        if new.digest != old.digest or new.timezone != old.timezone:
            self._schedule_digest()
        log.info("reloaded %s: %d feed(s) added or changed, %d removed", self.config_path, len(changed),
                 len(removed))


def _smtp_sender(config: Config) -> Sender | None:
    if not config.email.enabled or not config.email.to:
        return None
    try:
        return SmtpSender(config.email)
    except MonitorError as error:
        log.error("e-mail is enabled but cannot be used: %s", error)
        return None

