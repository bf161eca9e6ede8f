"""`config/feeds.toml` -> a validated, immutable `Config`.

Validation is complete before anything runs: every problem is collected with its key path and line, and
all are reported in one `ConfigError`. Nothing invalid is ever silently ignored or defaulted.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import ConfigError, ConfigProblem
from ..identity import canonical_url
from ..text.terms import check_phrase, expand
from ..types import FeedSource, RuleSpec, ThemeSpec
from .locate import data_home
from .settings import (
    ALERT_KEYS,
    BACKFILL,
    DIGEST,
    EMAIL,
    FEED,
    METRICS,
    MIN_INTERVAL,
    MONITOR,
    POLLING,
    REQUIRED,
    RULE,
    SECRET_KEYS,
    SECTIONS,
    SUBSCRIPTION,
    THEME,
    Setting,
    _string_list,
    default_of,
)

BOM = "\ufeff"
THEME_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")
FOLDER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")  # a subscription's digests folder


# The records' defaults are the settings table's (`default_of`): a field without a setting fails at import, and a
# setting without a field fails every load (test_config checks both).


@dataclass(frozen=True, slots=True)
class PollingSettings:
    interval: timedelta = default_of(POLLING, "interval")
    concurrency: int = default_of(POLLING, "concurrency")
    per_host: int = default_of(POLLING, "per_host")
    connect_timeout: timedelta = default_of(POLLING, "connect_timeout")
    read_timeout: timedelta = default_of(POLLING, "read_timeout")
    deadline: timedelta = default_of(POLLING, "deadline")
    max_bytes: int = default_of(POLLING, "max_bytes")
    user_agent: str = default_of(POLLING, "user_agent")
    backoff_max: timedelta = default_of(POLLING, "backoff_max")
    parse_processes: int = default_of(POLLING, "parse_processes")
    allow_private_redirects: bool = default_of(POLLING, "allow_private_redirects")
    allow_short_intervals: bool = default_of(POLLING, "allow_short_intervals")
    keep_fetches: timedelta = default_of(POLLING, "keep_fetches")
    stale_after: timedelta = default_of(POLLING, "stale_after")


@dataclass(frozen=True, slots=True)
class DigestSettings:
    week_start: str = default_of(DIGEST, "week_start")
    send_day: str = default_of(DIGEST, "send_day")
    send_time: str = default_of(DIGEST, "send_time")
    templates_dir: str | None = default_of(DIGEST, "templates_dir")
    groups: tuple[str, ...] = default_of(
        DIGEST, "groups"
    )  # feed tags that make the outlet groups; (): every feed's first


@dataclass(frozen=True, slots=True)
class EmailSettings:
    enabled: bool = default_of(EMAIL, "enabled")
    host: str = default_of(EMAIL, "host")
    port: int = default_of(EMAIL, "port")
    security: str = default_of(EMAIL, "security")
    user: str | None = default_of(EMAIL, "user")
    password_env: str | None = default_of(EMAIL, "password_env")
    ca_file: str | None = default_of(EMAIL, "ca_file")
    sender: str = default_of(EMAIL, "from")  # `from` in the file, a keyword in Python
    to: tuple[str, ...] = default_of(EMAIL, "to")
    subject: str = default_of(EMAIL, "subject")


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    enabled: bool = default_of(METRICS, "enabled")
    address: str = default_of(METRICS, "address")


@dataclass(frozen=True, slots=True)
class BackfillSettings:
    archive_url: str = default_of(BACKFILL, "archive_url")
    pace: timedelta = default_of(BACKFILL, "pace")
    per_day: int = default_of(BACKFILL, "per_day")
    timeout: timedelta = default_of(BACKFILL, "timeout")
    retries: int = default_of(BACKFILL, "retries")
    max_wait: timedelta = default_of(BACKFILL, "max_wait")


@dataclass(frozen=True, slots=True)
class Subscription:
    """One [[subscriptions]] entry: who gets what, how often (issue 24). The [email] section alone is one weekly
    subscription to every theme, as before."""

    name: str
    cadence: str  # weekly | daily | alerts
    to: tuple[str, ...]
    themes: tuple[str, ...] = default_of(SUBSCRIPTION, "themes")  # (): every theme
    timezone: str = default_of(MONITOR, "timezone")  # its own, else monitor.timezone
    send_time: str = default_of(SUBSCRIPTION, "send_time")
    outlets: int = default_of(SUBSCRIPTION, "outlets")
    outlet_groups: int = default_of(SUBSCRIPTION, "outlet_groups")
    within: timedelta = default_of(SUBSCRIPTION, "within")
    follow_up_outlets: int = default_of(SUBSCRIPTION, "follow_up_outlets")
    spike_ratio: int = default_of(SUBSCRIPTION, "spike_ratio")
    spike_min: int = default_of(SUBSCRIPTION, "spike_min")
    max_per_day: int = default_of(SUBSCRIPTION, "max_per_day")
    batch: timedelta = default_of(SUBSCRIPTION, "batch")
    quiet_hours: tuple[str, str] | None = default_of(SUBSCRIPTION, "quiet_hours")
    line: int | None = None

    def wants(self, theme: str) -> bool:
        return not self.themes or theme in self.themes


@dataclass(frozen=True, slots=True)
class Config:
    path: str
    database: str = default_of(MONITOR, "database")
    digests_dir: str = default_of(MONITOR, "digests_dir")
    timezone: str = default_of(MONITOR, "timezone")
    busy_timeout: timedelta = default_of(MONITOR, "busy_timeout")
    polling: PollingSettings = PollingSettings()
    feeds: tuple[FeedSource, ...] = ()
    themes: dict[str, ThemeSpec] = field(default_factory=dict)
    terms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    digest: DigestSettings = DigestSettings()
    email: EmailSettings = EmailSettings()
    metrics: MetricsSettings = MetricsSettings()
    backfill: BackfillSettings = BackfillSettings()
    subscriptions: tuple[Subscription, ...] = ()

    def feed(self, name: str) -> FeedSource | None:
        return next((f for f in self.feeds if f.name == name), None)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file. Raises ConfigError listing every problem."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        problem = ConfigProblem("", "file not found (give another with --config or MONITOR_CONFIG)")
        raise ConfigError(file, [problem]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(file, [ConfigProblem("", f"cannot be read: {error}")]) from error
    config = parse_config(text, file)
    home = data_home(file, os.environ)
    if home is None:  # relative to the working directory, as always: a project folder's config, or one given
        return config
    # The user-folder config is read from wherever the user stands: its files need one fixed place.
    return replace(config, database=str(home / config.database), digests_dir=str(home / config.digests_dir))


def parse_config(text: str, file: str = "<config>") -> Config:
    """Validate TOML text. Pure: the file name is only used in messages."""
    text = text.removeprefix(BOM)  # Windows Notepad starts a UTF-8 file with one; TOML does not allow it
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line = _line_of_decode_error(str(error))
        raise ConfigError(file, [ConfigProblem("", f"not valid TOML: {error}", line)]) from error
    validator = _Validator(text)
    config = validator.config(data, file)
    if validator.problems:
        raise ConfigError(file, sorted(validator.problems, key=lambda p: p.line or 0))
    return config


class _Validator:
    """Collects problems instead of stopping at the first one."""

    def __init__(self, text: str):
        self.lines = _KeyLines(text)
        self.problems: list[ConfigProblem] = []
        self.allow_short = False  # polling.allow_short_intervals, once read

    def problem(self, path: tuple[str | int, ...], message: str) -> None:
        self.problems.append(ConfigProblem(_dotted(path), message, self.lines.find(path)))

    def config(self, data: dict[str, Any], file: str) -> Config:
        for section in data:
            if section not in SECTIONS:
                self.problem((section,), f"unknown section; expected one of {', '.join(SECTIONS)}")
        monitor = self.table(data.get("monitor", {}), ("monitor",), MONITOR)
        polling = self.table(data.get("polling", {}), ("polling",), POLLING)
        digest = self.table(data.get("digest", {}), ("digest",), DIGEST)
        email = self.table(data.get("email", {}), ("email",), EMAIL)
        metrics = self.table(data.get("metrics", {}), ("metrics",), METRICS)
        backfill = self.table(data.get("backfill", {}), ("backfill",), BACKFILL)
        email["sender"] = email.pop("from", None)
        zone = monitor.get("timezone") or default_of(MONITOR, "timezone")
        subscriptions = self.subscriptions(data.get("subscriptions", []), zone, data.get("themes", {}))
        # A weekly subscription to every theme is the weekly digest's: its recipients join email.to's. One to some
        # themes has a digest of its own (digest.publish.editions).
        weekly = [a for s in subscriptions if s.cadence == "weekly" and not s.themes for a in s.to]
        if weekly and "to" in email:
            email["to"] = tuple(dict.fromkeys((*email["to"], *weekly)))
        if email.get("enabled") and not email.get("to") and not subscriptions:
            self.problem(("email", "to"), 'e-mail is enabled but has no recipients; add to = ["you@example.org"]')
        self.allow_short = bool(polling.get("allow_short_intervals"))
        self.check_interval(("polling", "interval"), data.get("polling", {}), polling.get("interval"))
        default_interval = polling.get("interval") or default_of(POLLING, "interval")  # the one written was refused
        return Config(
            path=file,
            polling=PollingSettings(**_present(polling)),
            feeds=self.feeds(data.get("feeds", []), default_interval),
            themes=self.themes(data.get("themes", {}), terms := self.terms(data.get("terms", {}))),
            terms=terms,
            digest=DigestSettings(**_present(digest)),
            email=EmailSettings(**_present(email)),
            metrics=MetricsSettings(**_present(metrics)),
            backfill=BackfillSettings(**_present(backfill)),
            subscriptions=subscriptions,
            **_present(monitor),
        )

    def table(self, raw: Any, path: tuple[str | int, ...], settings: tuple[Setting, ...]) -> dict[str, Any]:
        """Convert one table found at `path`; a missing one takes every default. Values that fail are
        reported and left out."""
        if not isinstance(raw, dict):
            self.problem(path, f"expected a table such as [{_dotted(path)}], got {type(raw).__name__}")
            return {}
        known = {s.key: s for s in settings}
        out: dict[str, Any] = {}
        for key in raw:
            if key in SECRET_KEYS:
                self.problem(
                    (*path, key),
                    "secrets never live in the config file: put it in an environment "
                    'variable and name that variable (for example password_env = "MONITOR_SMTP_PASSWORD")',
                )
            elif key not in known:
                self.problem((*path, key), f"unknown key; expected one of {', '.join(known)}")
        for setting in settings:
            if setting.key not in raw:
                if setting.default is REQUIRED:
                    self.problem((*path, setting.key), f"missing; {setting.doc}")
                else:
                    out[setting.key] = default_of(settings, setting.key)
                continue
            try:
                out[setting.key] = setting.convert(raw[setting.key])
            except ValueError as error:
                self.problem((*path, setting.key), str(error))
        return out

    def check_interval(self, path: tuple[str | int, ...], raw: Any, interval: timedelta | None) -> None:
        """An interval under a minute is refused unless the operator says so: "1ms" for "1m" once sent
        thousands of requests in seconds to a server that was not ours."""
        if interval is None or self.allow_short or interval >= MIN_INTERVAL:
            return
        written = raw.get(path[-1]) if isinstance(raw, dict) else interval
        self.problem(
            path,
            f'{written!r} is shorter than a minute (a typo for "1m"?); set '
            "polling.allow_short_intervals = true if you mean it",
        )

    def feeds(self, raw: Any, default_interval: timedelta) -> tuple[FeedSource, ...]:
        if not isinstance(raw, list):
            self.problem(("feeds",), "expected a list of [[feeds]] tables")
            return ()
        feeds: list[FeedSource] = []
        names: dict[str, int] = {}
        urls: dict[str, int] = {}
        for index, entry in enumerate(raw):
            values = self.table(entry, ("feeds", index), FEED)
            self.check_interval(("feeds", index, "interval"), entry, values.get("interval"))
            name, url = values.get("name"), values.get("url")
            if name is not None:
                if name in names:
                    self.problem(("feeds", index, "name"), f"duplicate feed name {name!r} (also feeds[{names[name]}])")
                names.setdefault(name, index)
            if url is not None:
                key = (canonical_url(url) or url).split(":", 1)[1]  # http and https are one feed
                if key in urls:
                    self.problem(("feeds", index, "url"), f"duplicate feed URL {url!r} (also feeds[{urls[key]}])")
                urls.setdefault(key, index)
            if name is None or url is None:
                continue
            feeds.append(
                FeedSource(
                    name=name,
                    url=url,
                    interval=values.get("interval") or default_interval,
                    language=values.get("language"),
                    tags=values.get("tags", ()),
                    allow_private_redirects=values.get("allow_private_redirects"),
                    line=self.lines.find(("feeds", index)),
                )
            )
        return tuple(feeds)

    def subscriptions(self, raw: Any, zone: str, theme_keys: Any) -> tuple[Subscription, ...]:
        """[[subscriptions]], each checked whole: its themes against [themes], the alert settings written only
        on an alerts subscription. They are sent through the [email] server when e-mail is on; until then alerts
        are found and listed (`monitor alerts`), never sent."""
        if not isinstance(raw, list):
            self.problem(("subscriptions",), "expected a list of [[subscriptions]] tables")
            return ()
        themes = list(theme_keys) if isinstance(theme_keys, dict) else []
        out: list[Subscription] = []
        names: dict[str, int] = {}
        for index, entry in enumerate(raw):
            path: tuple[str | int, ...] = ("subscriptions", index)
            before = len(self.problems)
            values = self.table(entry, path, SUBSCRIPTION)
            name, cadence = values.get("name"), values.get("cadence")
            if name is not None:
                if name in names:
                    self.problem(
                        (*path, "name"), f"duplicate subscription name {name!r} (also subscriptions[{names[name]}])"
                    )
                names.setdefault(name, index)
            if cadence and cadence != "alerts" and isinstance(entry, dict):
                for key in sorted(ALERT_KEYS & entry.keys()):
                    self.problem((*path, key), f"only an alerts subscription reads it; this one is {cadence}")
            if cadence == "weekly" and values.get("themes") and name is not None and not FOLDER_NAME.fullmatch(name):
                # Its digest has a folder of its own, digests/<name>/.
                self.problem(
                    (*path, "name"),
                    f"a weekly subscription to some themes names its digests' folder (digests/<name>/): letters, "
                    f"digits, - and _, not {name!r}",
                )
            unknown = [t for t in values.get("themes", ()) if t not in themes]
            if unknown:
                self.problem(
                    (*path, "themes"),
                    f"no theme {', '.join(map(repr, unknown))}; expected keys of [themes.<key>]: "
                    f"{', '.join(themes) or '(none defined)'}",
                )
            if len(self.problems) > before:
                continue
            values["timezone"] = values.get("timezone") or zone
            out.append(Subscription(**_present(values), line=self.lines.find(path)))
        return tuple(out)

    def terms(self, raw: Any) -> dict[str, tuple[str, ...]]:
        """[terms]: named vocabularies, each a list of terms, referred to as @name in themes."""
        if not isinstance(raw, dict):
            self.problem(("terms",), 'expected a table [terms] of name = ["term", ...]')
            return {}
        sets: dict[str, tuple[str, ...]] = {}
        for name, value in raw.items():
            if not THEME_KEY.fullmatch(name):
                self.problem(("terms", name), "a term set name is lower-case letters, digits and _")
                continue
            try:
                words = expand(_string_list(value), sets)  # a set may include sets defined above it
            except ValueError as error:
                self.problem(("terms", name), str(error))
                continue
            if not words:  # every rule or filter using it would silently match nothing, or everything
                self.problem(("terms", name), "a term set needs at least one term")
            sets[name] = words
        return sets

    def themes(self, raw: Any, sets: dict[str, tuple[str, ...]]) -> dict[str, ThemeSpec]:
        if not isinstance(raw, dict):
            self.problem(("themes",), "expected [themes.<key>] tables")
            return {}
        themes = {}
        for key in raw:
            if not THEME_KEY.fullmatch(key):
                self.problem(("themes", key), "a theme key is lower-case letters, digits and _, starting with a letter")
            if not isinstance(raw[key], dict):
                self.problem(("themes", key), "expected a table [themes.<key>] with label and phrases or rules")
                continue
            values = self.table(raw[key], ("themes", key), THEME)
            for phrase in values.get("phrases", ()):
                try:
                    check_phrase(phrase)
                except ValueError as error:
                    self.problem(("themes", key, "phrases"), str(error))
            for field_name in ("require", "exclude"):
                values[field_name] = self.expanded(("themes", key, field_name), values.get(field_name, ()), sets)
            rules = tuple(
                self.rule(("themes", key, "rules", n), rule, sets) for n, rule in enumerate(values.pop("rules", ()))
            )
            if not raw[key].get("phrases") and not raw[key].get("rules"):
                where = ("themes", key, "phrases") if "phrases" in raw[key] else ("themes", key)
                self.problem(where, "needs at least one phrase or rule to match anything")
            if {"label", "threshold"} <= values.keys() and None not in rules:  # else a problem is reported
                themes[key] = ThemeSpec(key=key, rules=tuple(r for r in rules if r), **values)
        return themes

    def rule(
        self, path: tuple[str | int, ...], raw: dict[str, Any], sets: dict[str, tuple[str, ...]]
    ) -> RuleSpec | None:
        problems_before = len(self.problems)
        values = self.table(raw, path, RULE)
        if "all" not in values:
            return None
        groups = tuple(self.expanded((*path, "all"), group, sets) for group in values["all"])
        if len(self.problems) == problems_before and not all(groups):
            self.problem((*path, "all"), "an entry names no terms (an empty term set?), so the rule could never match")
        agent = self.expanded((*path, "agent"), values.get("agent", ()), sets)
        unless = self.expanded((*path, "unless"), values.get("unless", ()), sets)
        unless_before = self.expanded((*path, "unless_before"), values.get("unless_before", ()), sets)
        if "agent" in raw and not agent and len(self.problems) == problems_before:
            self.problem((*path, "agent"), "names no terms (an empty term set?), so the rule could never match")
        for key, blockers in (("unless", unless), ("unless_before", unless_before)):
            if blockers and not agent:
                self.problem((*path, key), f"`{key}` says when an agent does not act: give the rule an `agent` too")
        if len(self.problems) > problems_before or not all(groups):
            return None
        return RuleSpec(
            name=values.get("name") or f"rule {int(path[-1]) + 1}",
            groups=groups,
            within=values["within"],
            score=values["score"],
            ordered=values["ordered"],
            agent=agent,
            unless=unless,
            unless_before=unless_before,
        )

    def expanded(
        self, path: tuple[str | int, ...], entries: tuple[str, ...], sets: dict[str, tuple[str, ...]]
    ) -> tuple[str, ...]:
        try:
            return expand(entries, sets)
        except ValueError as error:
            self.problem(path, str(error))
            return ()


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _line_of_decode_error(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


class _KeyLines:
    """Finds the line of a key path in TOML text, for messages (tomllib keeps no positions).

    It understands the shapes a config is written in: `[table]`, `[[array]]` and `key = value` lines.
    A path it cannot place falls back to its table's header line, or to no line at all.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str):
        self.lines: dict[tuple[str | int, ...], int] = {}
        counts: dict[str, int] = {}
        table: tuple[str | int, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                parts = tuple(p.strip().strip("\"'") for p in header.group(2).split("."))
                if header.group(1) == "[[":
                    index = counts.get(header.group(2), 0)
                    counts[header.group(2)] = index + 1
                    table = (*parts, index)
                else:
                    table = parts
                self.lines.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.lines.setdefault((*table, key.group(1).strip("\"'")), number)

    def find(self, path: tuple[str | int, ...]) -> int | None:
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None
