"""Durations ("30m", "1h30m"), sizes ("10MB") and listen addresses as people write them in the config,
and back."""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime, timedelta
from typing import overload

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "kib": 1024, "mib": 1024**2, "gib": 1024**3}
# Past these a value is a typo, not a wish; datetime arithmetic on a larger timedelta overflows.
MAX_DURATION = timedelta(days=3650)
MAX_SIZE = 1000**4


def parse_duration(text: str, maximum: timedelta = MAX_DURATION) -> timedelta:
    """'90s', '30m', '1h30m', '2d', '1w' -> timedelta, at most `maximum`. Raises ValueError with the
    accepted forms."""
    cleaned = text.strip().replace(" ", "")
    parts = _DURATION_PART.findall(cleaned)
    if not cleaned or "".join(n + u for n, u in parts).lower() != cleaned.lower():
        raise ValueError(f"expected a duration such as '90s', '30m', '1h30m' or '1d', got {text!r}")
    seconds = sum(float(number) * _DURATION_UNITS[unit.lower()] for number, unit in parts)
    if seconds <= 0:
        raise ValueError(f"expected a duration greater than zero, got {text!r}")
    if seconds > maximum.total_seconds():  # checked before timedelta(), which overflows on "999999999999d"
        raise ValueError(f"expected a duration of at most {format_duration(maximum)}, got {text!r}")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The inverse of `parse_duration` for display: 5400 s -> '1h30m'."""
    remaining = int(round(delta.total_seconds()))
    if remaining <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, remaining = divmod(remaining, size)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)


def parse_size(value: str | int, maximum: int = MAX_SIZE) -> int:
    """'10MB', '512KiB', 1048576 -> bytes, at most `maximum`. Raises ValueError with the accepted forms."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(f"expected a size greater than zero, got {value}")
        return int(_at_most(value, maximum, value))
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"expected a size such as '10MB', '512KiB' or a number of bytes, got {value!r}")
    number, unit = match.groups()
    size = float(number) * _SIZE_UNITS[(unit or "b").lower()]
    if size < 1:
        raise ValueError(f"expected a size greater than zero, got {value!r}")
    return int(_at_most(size, maximum, value))  # compared as a float: int() of an endless number overflows


def _at_most(size: float, maximum: int, value: str | int) -> float:
    if size > maximum:
        raise ValueError(f"expected a size of at most {format_size(maximum)}, got {value!r}")
    return size


def format_size(size: int) -> str:
    for unit, factor in (("TB", 1000**4), ("GB", 1000**3), ("MB", 1000**2), ("kB", 1000)):
        if size >= factor * 0.9995:  # so 999,999 bytes reads "1.0 MB", not "1000.0 kB"
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: None) -> None: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, the one format of every timestamp in the database (sorts as text)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    # Every timestamp is written in UTC; one typed in by hand without a zone means UTC too.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def listen_address(text: str) -> tuple[str, int]:
    """'127.0.0.1:9464', 'localhost:9464', '[::1]:9464' -> (host, port). Raises ValueError."""
    host, _, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):  # an IPv6 address is bracketed, as in a URL (RFC 3986)
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            host = ""
    elif ":" in host:  # "::1:9464" is ambiguous: which colon starts the port?
        host = ""
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f'expected host:port such as "127.0.0.1:9464" or "[::1]:9464", got {text!r}')
    return host, int(port)
