"""The service: `monitor run` starts it, `monitor reload` re-reads its config, `monitor status` says how it is doing."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import click

from ..errors import UsageError
from ..storage import clock_figures, health_figures
from ..units import iso
from ..update.policy import CLOCK_SLACK
from ..weeks import digest_send_moment, week_end, week_label, week_start
from .group import Context, cli, setup_logging, utc_now
from .report import (
    health_problems,
    status_lines,
)


@cli.command()
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Log lines for people, or JSON lines for a log collector.",
)
@click.pass_obj
def run(obj: Context, log_format: str) -> None:
    """Run as a service: poll every feed on its schedule, write and send the weekly digest."""
    obj.config  # noqa: B018 - a broken config stops here, with every problem listed
    setup_logging(log_format, verbose=True)
    from ..service.daemon import Daemon  # APScheduler costs a tenth of a second to import: only for the service

    sys.exit(Daemon(obj.config_path, obj.db_override, utc_now).run())


@cli.command()
@click.pass_obj
def reload(obj: Context) -> None:
    """Tell the running daemon to re-read the config (as SIGHUP does); a broken config is refused."""
    obj.config  # noqa: B018 - check it here too, so the problem is shown to the person who asked
    from ..service.pidlock import running_pid

    pid = running_pid(obj.db_path)
    if not pid or pid < 0:
        raise UsageError(f"no monitor daemon runs on {obj.db_path}")
    os.kill(pid, signal.SIGHUP)
    click.echo(f"asked the daemon (pid {pid}) to reload {obj.config_path}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def status(obj: Context, as_json: bool) -> None:
    """How the service is doing; exit 1 when unhealthy, so it serves as a container health check."""
    config, now = obj.config, utc_now()
    from ..service.pidlock import running_pid

    pid = running_pid(obj.db_path)
    zone = ZoneInfo(config.timezone)
    local = now.astimezone(zone)
    day_start = datetime(local.year, local.month, local.day, tzinfo=zone)
    day_end = datetime.combine(day_start.date() + timedelta(days=1), day_start.timetz())  # 23 or 25 h at DST
    this_week = week_start(now, config.timezone, config.digest.week_start)
    with obj.store(must_exist=True) as store:
        figures = health_figures(
            store,
            (iso(day_start) or "", iso(day_end) or ""),
            (iso(this_week) or "", iso(week_end(this_week, config.timezone)) or ""),
            iso(now - config.polling.stale_after) or "",
        )
        figures |= clock_figures(store, iso(now + CLOCK_SLACK) or "")  # the last poll not in the future
    d = config.digest
    due = week_start(now, config.timezone, d.week_start)  # this week's digest comes next
    next_digest = digest_send_moment(due, config.timezone, d.week_start, d.send_day, d.send_time)
    problems = health_problems(pid, figures, config, now)
    report = {
        "daemon": {"running": bool(pid), "pid": pid},
        **figures,
        "next_digest": {"week": week_label(due, config.timezone), "due": next_digest.isoformat()},
        "healthy": not problems,
        "problems": problems,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    else:
        for line in status_lines(report, config.timezone, now):
            click.echo(line)
    if problems:
        sys.exit(1)
