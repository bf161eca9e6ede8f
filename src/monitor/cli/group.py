"""The command line: parse arguments, build the real config, store and fetcher, call `pipeline`.

Exit codes: 0 success; 1 an operational failure (the database cannot be opened or written, including a
poll round whose results could not all be stored); 2 a usage or configuration error. A poll round in
which some feeds failed still exits 0: failing feeds are normal for a monitor and are reported per feed
(see `monitor feeds`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import click

from .. import __version__, clock
from ..config.load import Config, load_config
from ..config.locate import PROJECT_CONFIG, STARTER, Found, find_config
from ..errors import MonitorError, UsageError
from ..storage import Store
from ..text.safe import shown_block

DEFAULT_CONFIG = PROJECT_CONFIG


utc_now = clock.utc_now  # the real time, plus MONITOR_CLOCK_OFFSET in tests (clock.py)


@dataclass
class Context:
    config_path: str
    db_override: str | None
    _config: Config | None = None
    using_starter: bool = False  # no config file was found: the packaged starter config stands in
    found: Found | None = None  # how the config search went (config/locate.py); None: config_path was given as is

    @property
    def config(self) -> Config:
        if self._config is None:
            if self.found and self.found.path is None:
                raise UsageError(
                    f"{self.found.reason}. `monitor init` writes a starter config here (`monitor "
                    "init --user`: for every folder), or give one with --config or MONITOR_CONFIG"
                )
            self._config = load_config(self.config_path)
        return self._config

    @property
    def themes_config(self) -> Config:
        """The config, for a command that needs only its themes: with no config file found (an installed
        monitor run from any folder), the starter config shipped in the package."""
        if self._config is None and self.found and self.found.path is None:
            starter = str(resources.files("monitor").joinpath(*STARTER))
            click.echo(f"{self.found.reason}: using the starter config shipped with monitor ({starter})", err=True)
            self._config = load_config(starter)
            self.using_starter = True
        return self.config

    @property
    def db_path(self) -> str:
        return self.db_override or self.config.database

    @contextmanager
    def store(self, *, must_exist: bool = False) -> Iterator[Store]:
        self.config  # noqa: B018 - a broken config stops every command, even one that needs only the db
        if must_exist and not os.path.exists(self.db_path):
            raise UsageError(f"no database at {self.db_path} yet: `monitor poll` creates it")
        store = Store.open(self.db_path, self.config.busy_timeout)
        try:
            yield store
        finally:
            store.close()


def setup_logging(log_format: str, verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLines() if log_format == "json" else SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    for noisy in ("httpx", "apscheduler"):  # a line per request or per job run would drown ours
        logging.getLogger(noisy).setLevel(logging.WARNING)


class SafeFormatter(logging.Formatter):
    """Log lines quote feed URLs, errors and feed text: whatever a call site passed, no credentials and no
    terminal controls reach the log (`textsafe.shown_block`)."""

    def format(self, record: logging.LogRecord) -> str:
        return shown_block(super().format(record))


class JsonLines(SafeFormatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return shown_block(json.dumps(line, ensure_ascii=False))


class MonitorGroup(click.Group):
    """The one place where a command's `MonitorError` ends it: one clear `Error:` line (no traceback) and the
    error's exit code, for every command and subcommand, since they all run inside the root group's invoke."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as error:
            click.echo(f"Error: {shown_block(str(error))}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    help="Config file (also MONITOR_CONFIG; else ./config/feeds.toml, else $XDG_CONFIG_HOME/monitor/feeds.toml).",
)
@click.option(
    "--db",
    "db_path",
    envvar="MONITOR_DB",
    metavar="FILE",
    help="SQLite database, overriding the config's monitor.database (also MONITOR_DB).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log details to standard error.")
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None, verbose: bool) -> None:
    """Follow news feeds, match them to tracked themes, and keep everything in one SQLite file."""
    setup_logging("text", verbose)
    try:
        clock.offset()  # a bad test setting stops every command here, not a job inside the daemon
    except MonitorError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(error.exit_code)
    found = find_config(config_path, os.environ, os.path.exists)
    ctx.obj = Context(config_path=found.path or DEFAULT_CONFIG, db_override=db_path, found=found)
