"""Alerts on real weeks: what the shipped themes and the default thresholds would have alerted over real reports.

    python bench/alerts_replay.py [--eval DIR] [--outlets N] [--within 12h]

The real items of ../shared/eval (every *items.jsonl: headlines and summaries of about 300 outlets, 2020-2025)
are imported as each outlet's feed (`monitor import --feed`), so each source is one outlet, and
`monitor alerts --dry-run` goes over two periods as the poll rounds would have (every polling.interval):

- the crisis: 18 September - 8 October 2023 (the offensive, the exodus, the fuel depot blast);
- general news: 2022 and the first half of 2023 (the blockade's months included), with the same settings.

For each, the alerts, how long after its crossing report each was found, and alerts per day; for the crisis,
which of the editors' events of ../shared/eval/events.jsonl (reported by several outlets) alerted; and each
theme's busiest `within` (its most items in one, and how many times its usual level that was): the figures the
spike defaults are chosen on (docs/alerts.md, "Thresholds").

A spike is measured on observed hours only, and an import observes only the stretch each of its documents
covered (a few hours of each thin sample): imported as they are, the items give no theme a usual level and no
spike can be found. The outlets published all along, so each is marked observed over the whole span of the
items, as a feed set polled all along would have been (`--as-imported` leaves the import's own observation).
The set is a thin sample of each outlet (a few hundred items over years), so it shows whether the thresholds
alert on what editors grouped as widely reported, and stay silent otherwise; not how a full feed set times them.
Skipped, with a message, where ../shared is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import EVAL, REPO

sys.path.insert(0, str(REPO / "src"))
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config.load import load_config
from monitor.config.settings import SUBSCRIPTION, default_of
from monitor.digest.alerting import dry_run
from monitor.digest.alerts import SPIKE_HISTORY, SPIKE_MIN_HISTORY, levels
from monitor.digest.observed import union
from monitor.storage import Store
from monitor.storage import alerts as store_alerts
from monitor.storage import observed as store_observed
from monitor.storage.observed import observe
from monitor.types import AlertFound
from monitor.units import from_iso

PERIODS = {
    "crisis": (datetime(2023, 9, 18, tzinfo=UTC), datetime(2023, 10, 9, tzinfo=UTC)),
    "general news": (datetime(2022, 1, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC)),
}


def config_text(outlets: int, within: str) -> str:
    """The starter config's themes, one alerts subscription to every theme with the thresholds given."""
    starter = (REPO / "src" / "monitor" / "starter" / "feeds.toml").read_text(encoding="utf-8")
    themes = starter[starter.index("\n[terms]") : starter.index("\n[digest]")]
    subscription = (
        f'[[subscriptions]]\nname = "bench"\ncadence = "alerts"\nto = ["desk@example.org"]\n'
        f'outlets = {outlets}\nwithin = "{within}"\n'
    )
    return '[polling]\ninterval = "1h"\n\n' + themes + "\n" + subscription


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval", type=Path, default=EVAL)
    parser.add_argument("--outlets", type=int, default=4)
    parser.add_argument("--within", default="12h")
    parser.add_argument("--spike-ratio", type=int, default=default_of(SUBSCRIPTION, "spike_ratio"))
    parser.add_argument("--spike-min", type=int, default=default_of(SUBSCRIPTION, "spike_min"))
    parser.add_argument("--as-imported", action="store_true", help="only the observation the import recorded")
    args = parser.parse_args()
    files = sorted(args.eval.glob("*items.jsonl")) if args.eval.is_dir() else []
    if not files:
        print(f"skipped: no real items at {args.eval} (../shared is absent)")
        return 0
    by_source: dict[str, list[str]] = defaultdict(list)
    for file in files:
        for line in file.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            if item.get("published"):
                by_source[str(item.get("source") or "unknown")].append(line)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "feeds.toml"
        spike = f"spike_ratio = {args.spike_ratio}\nspike_min = {args.spike_min}\n"
        config.write_text(config_text(args.outlets, args.within) + spike, encoding="utf-8")
        db = Path(folder) / "monitor.db"
        runner = CliRunner()
        for n, (_source, lines) in enumerate(sorted(by_source.items())):
            part = Path(folder) / f"source{n}.jsonl"
            part.write_text("\n".join(lines) + "\n", encoding="utf-8")
            url = f"https://source{n}.example.org/feed"
            base = ["--config", str(config), "--db", str(db), "import", str(part)]
            runner.invoke(cli, [*base, "--feed", f"source{n}", "--url", url], catch_exceptions=False)
        loaded = load_config(config)
        with Store.open(db) as store:
            if not args.as_imported:
                observed_all_along(store)
            links = dict(store.conn.execute("SELECT id, link FROM items").fetchall())
            matched = store.conn.execute("SELECT count(DISTINCT item_id) FROM matches").fetchone()[0]
            print(f"{len(links)} real items of {len(by_source)} outlets imported, {matched} matched a theme")
            for name, (since, until) in PERIODS.items():
                found = dry_run(loaded, store, since, until)
                report(name, found, links, since, until, args.eval)
                busiest(store, loaded.subscriptions[0].within, since, until)
    return 0


def observed_all_along(store: Store) -> None:
    """Every imported outlet observed from its first to its last item's time of the whole set (see above)."""
    first, last = store.conn.execute("SELECT min(published), max(published) FROM items").fetchone()
    with store.transaction():
        for (feed,) in store.conn.execute("SELECT id FROM feeds").fetchall():
            observe(store, feed, from_iso(last) + timedelta(hours=1), from_iso(first))  # type: ignore[operator]


def busiest(store: Store, within: timedelta, since: datetime, until: datetime) -> None:
    """Each theme's most items in one `within` over the period (checked every hour), and how many times its
    usual level (over the observed hours of SPIKE_HISTORY before, as the spike check measures it) that was."""
    observed = union(store_observed.spans(store, since - SPIKE_HISTORY, until))
    times = store_alerts.theme_times(store, since - SPIKE_HISTORY, until)
    best: dict[str, tuple[int, float, datetime]] = {}
    moment = since
    while moment <= until:
        for level in levels({t: [m for m in ms if m <= moment] for t, ms in times.items()}, observed, within, moment):
            if level.history_hours < SPIKE_MIN_HISTORY.total_seconds() / 3600:
                continue
            usual = level.history_items / level.history_hours * within.total_seconds() / 3600
            ratio = level.recent / usual if usual else float("inf") if level.recent else 0.0
            if (level.recent, ratio) > best.get(level.theme, (0, 0.0, moment))[:2]:
                best[level.theme] = (level.recent, ratio, moment)
        moment += timedelta(hours=1)
    shown = [f"{t} {n} at {m:%Y-%m-%d %H:00} ({r:.1f}x usual)" for t, (n, r, m) in sorted(best.items())]
    print(f"  busiest {within.total_seconds() / 3600:.0f}h of each theme: {'; '.join(shown) or 'none observed'}")


def report(
    name: str, found: list[AlertFound], links: dict[int, str], since: datetime, until: datetime, eval_dir: Path
) -> None:
    days = (until - since).days
    per_day = Counter(f.detail["found_at"][:10] for f in found)
    delays = [(datetime.fromisoformat(f.detail["found_at"]) - f.crossed_at).total_seconds() / 60 for f in found]
    print(
        f"\n{name} ({since:%Y-%m-%d} to {until:%Y-%m-%d}, {days} days): {len(found)} alerts "
        f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(f.kind for f in found).items())) or 'none'}); "
        f"most in a day {max(per_day.values(), default=0)}; delay after the crossing report "
        f"{', '.join(f'{d:.0f}' for d in sorted(delays)) or '-'} min"
    )
    for f in found:
        print(f"  {f.detail['found_at'][:16]}  {f.kind:<9} {f.theme:<16} {f.headline[:70]}  ({f.reason})")
    editors = eval_dir / "events.jsonl"
    if name != "crisis" or not editors.exists():
        return
    groups: dict[str, set[str]] = defaultdict(set)
    for line in editors.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["editor_1"] == row["editor_2"]:
            groups[row["editor_1"]].add(row["link"])
    alerted = {links.get(i) for f in found for i in f.items}
    period = {e: ls for e, ls in groups.items() if since.date().isoformat() <= e[:10] < until.date().isoformat()}
    wide = {e: ls for e, ls in period.items() if len(ls) >= 3}
    hit = sorted(e for e, ls in wide.items() if ls & alerted)
    print(f"  editors' events of three reports or more in the period: {len(wide)}; alerted: {len(hit)} {hit}")


if __name__ == "__main__":
    sys.exit(main())
