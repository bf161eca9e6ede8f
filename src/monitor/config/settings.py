"""Every setting of `config/feeds.toml`, declared once: its type, default and meaning.

This table drives validation (`config.py`), the summary of `monitor check`, and the README's settings
reference (a test checks that every setting here is documented there).
"""

from __future__ import annotations

import os
import re
import ssl
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from monitor import __version__

from ..units import MAX_DURATION, listen_address, parse_duration, parse_size

REQUIRED = object()  # marks a setting without a default


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    convert: Callable[[Any], Any]  # raises ValueError("expected ...") for a bad value
    default: Any
    doc: str


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a non-empty string, got {value!r}")
    return value.strip()


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string in quotes, got {value!r}")
    return value.strip()


def _optional_string(value: Any) -> str | None:
    return None if value is None else _string(value)


def _string_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list):
        raise ValueError(f'expected a list of strings such as ["a", "b"], got {value!r}')
    bad = [v for v in value if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ValueError(f"expected a list of non-empty strings, found {bad[0]!r}")
    return tuple(v.strip() for v in value)


def _table_list(value: Any) -> tuple[dict[str, Any], ...]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ValueError("expected a list of tables such as [[themes.<key>.rules]] or [{ all = [...] }]")
    return tuple(value)


def _term_groups(value: Any) -> tuple[tuple[str, ...], ...]:
    if isinstance(value, str) or not isinstance(value, list) or not value:
        raise ValueError(
            "expected a list whose entries are terms, @sets or lists of terms, "
            'such as ["@russia", ["betray*", "abandon*"]]'
        )
    groups = []
    for number, entry in enumerate(value, start=1):
        group = (_string(entry),) if isinstance(entry, str) else _string_list(entry)
        if not group:  # one term of each entry must appear: an empty one can never be satisfied
            raise ValueError(
                f"entry {number} is an empty list, so the rule could never match; "
                "give it at least one term or remove it"
            )
        groups.append(group)
    return tuple(groups)


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def convert(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {value!r}")
        return value

    return convert


def auto_processes() -> int:
    """One helper process per core beyond the first (the main process keeps one core for fetching,
    matching and storing), at most four."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def _processes(value: Any) -> int:
    if value == "auto":
        return auto_processes()
    try:
        return _integer(0, 16)(value)
    except ValueError:
        raise ValueError(f'expected "auto" or a whole number from 0 to 16, got {value!r}') from None


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _optional_boolean(value: Any) -> bool | None:
    return None if value is None else _boolean(value)


def _duration(value: Any, maximum: timedelta = MAX_DURATION) -> timedelta:
    if not isinstance(value, str):
        raise ValueError(f'expected a duration in quotes such as "30m", got {value!r}')
    return parse_duration(value, maximum)


def _duration_upto(maximum: str) -> Callable[[Any], timedelta]:
    limit = parse_duration(maximum)
    return lambda value: _duration(value, limit)


# Bounds past which a setting is a typo: no fetch is worth waiting an hour for, SQLite's busy timeout is a
# 32-bit count of milliseconds (24 days), and a body is held in memory while it is parsed.
_wait = _duration_upto("1h")
_period = _duration_upto("365d")
MIN_INTERVAL = timedelta(minutes=1)  # shorter only with polling.allow_short_intervals
MAX_BODY = 1000**3
MIN_FETCH_WINDOW = timedelta(days=14)


def _fetch_window(value: Any) -> timedelta:
    window = _duration(value)
    if window < MIN_FETCH_WINDOW:  # the digest reports on last week's fetches, up to 14 days back
        raise ValueError(f"expected at least 14d, so that the digest still sees last week's fetches, got {value!r}")
    return window


def _size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f'expected a size such as "10MB", got {value!r}')
    return parse_size(value, MAX_BODY)


def http_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an http:// or https:// URL in quotes, got {value!r}")
    text = value.strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise ValueError(f"expected an http:// or https:// URL, got {value!r} ({error})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in text:
        raise ValueError(f"expected an http:// or https:// URL with a host, got {value!r}")
    return text


def _timezone(value: Any) -> str:
    name = _string(value)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'expected an IANA time zone such as "Europe/Berlin" or "UTC", got {value!r}') from None
    return name


def _language(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", value):
        raise ValueError(f'expected a language code such as "en" or "ru", got {value!r}')
    return value.lower()


def _choice(*options: str) -> Callable[[Any], str]:
    def convert(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in options:
            raise ValueError(f"expected one of {', '.join(repr(o) for o in options)}, got {value!r}")
        return value.lower()

    return convert


def _clock_time(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
        raise ValueError(f'expected a time of day as "HH:MM" (24-hour), got {value!r}')
    return value.strip()


def _env_name(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(f'expected the name of an environment variable such as "MONITOR_SMTP_PASSWORD", got {value!r}')
    return value


def _ca_file(value: Any) -> str | None:
    """A PEM file of CA certificates that exists and loads, so a typo is a config error, not a failed
    digest on Monday."""
    if value is None:
        return None
    path = _string(value)
    if not os.path.isfile(path):
        raise ValueError(
            f"expected a file of PEM CA certificates; {path!r} does not exist (a relative path is "
            "taken from the working directory)"
        )
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, OSError) as error:
        raise ValueError(f"expected a file of PEM CA certificates; {path!r} cannot be loaded: {error}") from None
    return path


def _address(value: Any) -> str:
    text = _string(value)
    if not re.fullmatch(r"[^@\s<>\r\n]+@[^@\s<>\r\n]+", text):
        raise ValueError(f'expected an e-mail address such as "analyst@example.org", got {value!r}')
    return text


def _address_list(value: Any) -> tuple[str, ...]:
    return tuple(_address(v) for v in _string_list(value))


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
USER_AGENT_TEMPLATE = "monitor/{version} (news feed monitor; polls politely with conditional GET)"


def _user_agent(value: Any) -> str:
    """A User-Agent; `{version}` in it becomes monitor's version, so a config never names a stale one."""
    return _string(value).replace("{version}", __version__)


USER_AGENT = _user_agent(USER_AGENT_TEMPLATE)

MONITOR = (
    Setting("database", _string, "data/monitor.db", "SQLite file, relative to the working directory"),
    Setting("digests_dir", _string, "digests", "folder the weekly digests are written to"),
    Setting("timezone", _timezone, "UTC", "IANA time zone for dates shown to people"),
    Setting(
        "busy_timeout",
        _duration_upto("1d"),
        "30s",
        "how long a write waits while another process holds the database's write lock",
    ),
)

POLLING = (
    Setting(
        "interval",
        _period,
        "30m",
        "how often each feed is polled, unless a feed sets its own; at least a minute unless allow_short_intervals",
    ),
    Setting(
        "allow_short_intervals",
        _boolean,
        False,
        "accept intervals shorter than a minute (for a test "
        'server; against anyone else\'s server it is a typo, such as "1ms" for "1m")',
    ),
    Setting("concurrency", _integer(1, 200), 10, "feeds fetched at the same time"),
    Setting("per_host", _integer(1, 50), 2, "requests to one host at the same time"),
    Setting("connect_timeout", _wait, "10s", "time to open a connection (at most 1h)"),
    Setting("read_timeout", _wait, "30s", "longest silence while reading a response (at most 1h)"),
    Setting("deadline", _wait, "60s", "total time one feed's fetch may take (at most 1h)"),
    Setting("max_bytes", _size, "10MB", "largest body read (at most 1 GB); a larger one is cut off and reported"),
    Setting(
        "user_agent",
        _user_agent,
        USER_AGENT_TEMPLATE,
        "User-Agent header; add a contact address for feed owners; `{version}` stands for monitor's version",
    ),
    Setting("backoff_max", _period, "12h", "longest wait after repeated failures"),
    Setting(
        "stale_after",
        _period,
        "7d",
        "a feed that answers but has brought no item published within this "
        "long is `stale` in `monitor feeds`, `monitor status` and the digest",
    ),
    Setting(
        "keep_fetches",
        _fetch_window,
        "90d",
        "how long each fetch stays in the fetches log (at least 14d); the daemon prunes older rows once a day",
    ),
    Setting(
        "parse_processes",
        _processes,
        "auto",
        "helper processes that parse feeds, so a round uses "
        'every core; 0 parses in the main process; "auto" is one per core beyond the first',
    ),
    Setting(
        "allow_private_redirects",
        _boolean,
        False,
        "follow redirects into loopback, private and link-local networks that the feed's own address is not in",
    ),
)

FEED = (
    Setting("name", _string, REQUIRED, "unique short name, used by `monitor poll --feed`"),
    Setting("url", http_url, REQUIRED, "address of the RSS or Atom feed"),
    Setting("interval", _period, None, "polling interval for this feed (default: polling.interval)"),
    Setting("language", _language, None, 'language code of the feed\'s items, such as "en" or "ru"'),
    Setting("tags", _string_list, (), 'free labels such as ["armenia", "state-media"]'),
    Setting("allow_private_redirects", _optional_boolean, None, "this feed's own polling.allow_private_redirects"),
)

THEME = (
    Setting("label", _string, REQUIRED, "name shown in digests"),
    Setting("description", _text, "", "one line saying what the theme covers"),
    Setting("phrases", _string_list, (), "phrases that express the theme, fuzzy-matched"),
    Setting("rules", _table_list, (), "combinations of terms that express the theme in other words"),
    Setting("require", _string_list, (), "terms of which at least one must appear in the item"),
    Setting("exclude", _string_list, (), "terms that keep an item out of the theme"),
    Setting("threshold", _integer(0, 100), 80, "lowest score (0-100) that counts as a match"),
)

RULE = (
    Setting("name", _string, None, "what the rule recognises, shown as evidence (default: rule N)"),
    Setting("all", _term_groups, REQUIRED, "one term of each entry must appear: a term, @set or list of terms"),
    Setting("within", _integer(1, 1000), 30, "the terms must stand in a stretch of at most this many words"),
    Setting(
        "ordered",
        _boolean,
        False,
        'the terms must stand in the order of `all` ("criticised Russia" is not "Russia criticised")',
    ),
    Setting("score", _integer(0, 100), 85, "score (0-100) of a match by this rule"),
    Setting(
        "agent",
        _string_list,
        (),
        "who acts: one of these terms must stand within 12 words of the first entry of `all` (the verb), in its"
        " sentence, before it or after it (a headline's verb may take it from the lede)",
    ),
    Setting(
        "unless",
        _string_list,
        (),
        "with `agent`: terms that make the agent not the one acting when they stand between it and the verb"
        ' ("Baku must guarantee", "Moscow said Yerevan failed")',
    ),
    Setting(
        "unless_before",
        _string_list,
        (),
        "with `agent`: terms that make the agent the one asked, not the one acting, in the 4 words before it"
        ' ("urges Baku to guarantee")',
    ),
)

DIGEST = (
    Setting("week_start", _choice(*WEEKDAYS), "monday", "first day of a digest week"),
    Setting("send_day", _choice(*WEEKDAYS), "monday", "day the weekly digest is produced"),
    Setting("send_time", _clock_time, "08:00", "time of day (monitor.timezone) the digest is produced"),
    Setting("templates_dir", _optional_string, None, "folder with templates that override the shipped ones"),
    Setting(
        "groups",
        _string_list,
        (),
        'feed tags that make the outlet groups of "who says what", in the '
        "order shown (default: every feed's first tag)",
    ),
)

EMAIL = (
    Setting("enabled", _boolean, False, "send each digest by e-mail"),
    Setting("host", _string, "localhost", "SMTP server"),
    Setting("port", _integer(1, 65535), 587, "SMTP port"),
    Setting("security", _choice("starttls", "tls", "none"), "starttls", '"starttls", "tls" or "none"'),
    Setting("user", _optional_string, None, "SMTP user name"),
    Setting("password_env", _env_name, None, "environment variable that holds the SMTP password"),
    Setting(
        "ca_file",
        _ca_file,
        None,
        "PEM file of the CA certificates that sign the SMTP server's certificate, "
        "trusted instead of the system's (for a private CA); the certificate is always verified",
    ),
    Setting("from", _address, "monitor@localhost", "sender address"),
    Setting("to", _address_list, (), "recipient addresses"),
    Setting("subject", _string, "Media monitor digest {week}", "subject line; {week} is the ISO week"),
)


def _optional_timezone(value: Any) -> str | None:
    return None if value is None else _timezone(value)


def _quiet_hours(value: Any) -> tuple[str, str] | None:
    """ "22:00-07:00": a stretch of the day (it may run past midnight) in which alerts are held, then sent."""
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else ""
    found = re.fullmatch(r"(\d\d:\d\d)\s*-\s*(\d\d:\d\d)", text)
    if not found:
        raise ValueError(f'expected a stretch of the day as "HH:MM-HH:MM", such as "22:00-07:00", got {value!r}')
    start, end = (_clock_time(part) for part in found.groups())
    if start == end:
        raise ValueError(f"expected two different times, got {value!r} (quiet all day would hold every alert)")
    return start, end


CADENCES = ("weekly", "daily", "alerts")

# Defaults chosen on real weeks (docs/alerts.md, "Thresholds"): in the editors' set of real reports
# (../shared/eval/events.jsonl, a thin sample of ~100 feeds) the most reported events (the fuel depot blast, the
# truce of 10 October 2020, the Yevlakh talks) had three outlets of three sides within 16-23 hours, and 87 of 104
# events one report; a full feed set carries more of each, sooner. Four outlets, or three sides, within 12 hours.
SUBSCRIPTION = (
    Setting("name", _string, REQUIRED, "unique short name, shown in `monitor alerts` and in each message"),
    Setting("cadence", _choice(*CADENCES), REQUIRED, '"weekly" (the weekly digest), "daily" or "alerts"'),
    Setting("to", _address_list, REQUIRED, "recipient addresses"),
    Setting("themes", _string_list, (), "theme keys subscribed to (default: every theme)"),
    Setting("timezone", _optional_timezone, None, "time zone of its days and quiet hours (default: monitor.timezone)"),
    Setting("send_time", _clock_time, "08:00", "daily: time of day the day before is sent"),
    Setting("outlets", _integer(2, 1000), 4, "alerts: an event reported by at least this many outlets alerts"),
    Setting(
        "outlet_groups",
        _integer(0, 100),
        3,
        "alerts: or by outlets of at least this many outlet groups (digest.groups); 0: outlets only",
    ),
    Setting("within", _duration_upto("7d"), "12h", "alerts: those reports published within this long of one another"),
    Setting(
        "follow_up_outlets",
        _integer(0, 1000),
        0,
        "alerts: one follow-up when an alerted event reaches this many outlets; 0: never",
    ),
    Setting(
        "spike_ratio",
        _integer(0, 100),
        3,
        "alerts: a theme's items in the last `within` at least this many times its usual level alert; 0: never",
    ),
    # On real weeks (bench/alerts_replay.py) and the sample's (tests/test_alerts.py), general news never had more
    # than 2 items of a theme in 12 hours, the crises 5 (sample) and 7 (real), at 4.8 and 21 times the usual level.
    Setting("spike_min", _integer(1, 100000), 4, "alerts: and at least this many items, for a spike"),
    Setting("max_per_day", _integer(1, 1000), 6, "alerts: at most this many alerts a day (its time zone)"),
    Setting(
        "batch",
        _duration_upto("1h"),
        "5m",
        "alerts: alerts found within this long of a sent one wait, then go together",
    ),
    Setting("quiet_hours", _quiet_hours, None, 'alerts: "HH:MM-HH:MM" when alerts are held, then sent together'),
)
# The settings only an `alerts` subscription reads: written on another cadence, they are a mistake to report.
ALERT_KEYS = frozenset(
    ("outlets", "outlet_groups", "within", "follow_up_outlets", "spike_ratio", "spike_min", "max_per_day", "batch")
    + ("quiet_hours",)
)


def _listen_address(value: Any) -> str:
    text = _string(value)
    listen_address(text)
    return text


METRICS = (
    Setting("enabled", _boolean, False, "serve metrics for Prometheus from the daemon"),
    Setting("address", _listen_address, "127.0.0.1:9464", "host:port the metrics are served on, at /metrics"),
)


def _archive(value: Any) -> str:
    return http_url(value).rstrip("/")


BACKFILL = (
    Setting(
        "archive_url",
        _archive,
        "https://web.archive.org",
        "base address of a web archive that speaks the "
        "CDX API (the Internet Archive's Wayback Machine, or another, or a local test server)",
    ),
    Setting(
        "pace",
        _duration_upto("1h"),
        "1s",
        "time between the starts of two requests to the archive (one request at a time)",
    ),
    Setting("per_day", _integer(1, 1000), 4, "most captures of one feed imported per day"),
    Setting("timeout", _wait, "60s", "total time one request to the archive may take (at most 1h)"),
    Setting(
        "retries",
        _integer(0, 20),
        5,
        "times a request refused with 429 or 503, or failing on the network, "
        "is tried again, after its Retry-After or a doubling wait",
    ),
    Setting(
        "max_wait",
        _wait,
        "10m",
        "longest wait before a retry; an archive that asks for more stops the run (run it again later: it resumes)",
    ),
)

SECTIONS: dict[str, tuple[Setting, ...]] = {
    "monitor": MONITOR,
    "polling": POLLING,
    "feeds": FEED,
    "terms": (),  # free names, each a list of terms (see terms.py)
    "themes": THEME,
    "digest": DIGEST,
    "email": EMAIL,
    "metrics": METRICS,
    "backfill": BACKFILL,
    "subscriptions": SUBSCRIPTION,
}

# Every table of settings, nested ones included, by the heading the README gives it.
DOCUMENTED: dict[str, tuple[Setting, ...]] = {**SECTIONS, "themes.<key>.rules": RULE}


def default_of(settings: tuple[Setting, ...], key: str) -> Any:
    """The value `key` takes where the file leaves it out: its default, converted as it would be if written
    ("30m" is a timedelta, "auto" a number of processes). The records of `config/load.py` take their field
    defaults from here, so each default is written once, in the table above."""
    setting = next((s for s in settings if s.key == key), None)
    if setting is None or setting.default is REQUIRED:
        raise LookupError(f"no default for {key!r} among {', '.join(s.key for s in settings)}")
    return setting.convert(setting.default) if isinstance(setting.default, str) else setting.default


# Keys that would hold a secret: refused with a pointer to the environment variable instead.
SECRET_KEYS = {"password", "pass", "secret", "token", "api_key"}
