"""SIGTERM, SIGINT and SIGHUP for the daemon, as uvicorn does it: the handlers only set flags and wake the
main loop, which does the work.

A handler that reloaded itself re-entered the reload when a second SIGHUP came during the first, and waited
forever for the store lock its own thread held. No lock here either: a handler runs in the main thread
between two of its bytecodes, possibly while that thread holds the very lock it would take (an Event's, the
store's), and would then wait for itself forever. A second stop signal exits at once.

Once stopping, SIGHUP is ignored (SIG_IGN, in the kernel) until the process is gone. A reload has no use then,
and a HUP that arrived at the wrong moment killed the daemon with 129 after "monitor stopped", so systemd
recorded a failed stop: at interpreter shutdown Python puts back the default action (termination) for every
signal that had a Python handler, but leaves an ignored one ignored."""

from __future__ import annotations

import logging
import os
import select
import signal
from types import FrameType

log = logging.getLogger("monitor.daemon")


class Signals:
    def __init__(self) -> None:
        self.stop_asked = False
        self.reload_asked = False
        self.count = 0  # stop signals received
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        signal.signal(signal.SIGHUP, self._reload)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.ignore_reloads()
        self.count += 1
        if self.count > 1:
            log.warning("second signal: exiting now")
            os._exit(1)
        log.info("signal %s: finishing the feeds being polled, then stopping", signal.Signals(signum).name)
        self.stop_asked = True
        self._poke()

    def ignore_reloads(self) -> None:
        """From now to the exit, SIGHUP does nothing (the stop path; main thread only, as every handler runs)."""
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        self.reload_asked = False

    def _reload(self, signum: int, frame: FrameType | None) -> None:
        self.reload_asked = True
        self._poke()

    def _poke(self) -> None:
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:
            pass  # the pipe is full: the main loop has a wake-up waiting already

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less when a signal handler pokes the main loop."""
        select.select([self._wake_read], [], [], seconds)
        try:
            while os.read(self._wake_read, 512):
                pass
        except BlockingIOError:
            pass
