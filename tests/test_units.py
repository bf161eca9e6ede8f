"""Durations, sizes and timestamps as the config and the database write them (`monitor.units`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from monitor.units import (
    MAX_DURATION,
    MAX_SIZE,
    format_duration,
    format_size,
    from_iso,
    iso,
    listen_address,
    parse_duration,
    parse_size,
)

NOW = datetime(2023, 9, 30, 12, tzinfo=UTC)


# --- parse_duration -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("250ms", timedelta(milliseconds=250)),
        ("1m5s", timedelta(minutes=1, seconds=5)),  # "m" then "s", not "ms"
        ("1.5h", timedelta(minutes=90)),
        ("1H30M", timedelta(minutes=90)),  # units are case-insensitive
        (" 1h 30m ", timedelta(minutes=90)),  # spaces around and between parts
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_parse_duration_accepts_the_written_forms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "30", "abc", "30 minutes", "1h30", "h", "-5m", "5x", "1.5.5h", "m30", "1h,30m"],
)
def test_parse_duration_rejects_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0s", "0m", "0h0m", "0.0d"])
def test_parse_duration_rejects_zero(text: str) -> None:
    with pytest.raises(ValueError, match="greater than zero"):
        parse_duration(text)


def test_parse_duration_error_names_the_input_and_the_accepted_forms() -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration("soon")
    assert "'soon'" in str(caught.value)
    assert "'30m'" in str(caught.value)


# --- format_duration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=5400), "1h30m"),
        (timedelta(seconds=90), "1m30s"),
        (timedelta(seconds=1), "1s"),
        (timedelta(hours=12), "12h"),
        (timedelta(days=1), "1d"),
        (timedelta(weeks=1), "7d"),
        (timedelta(days=1, hours=2, minutes=3, seconds=4), "1d2h3m4s"),
        (timedelta(days=2, seconds=5), "2d5s"),  # zero parts in the middle are left out
        (timedelta(seconds=59.6), "1m"),  # rounded to whole seconds
    ],
)
def test_format_duration(delta: timedelta, expected: str) -> None:
    assert format_duration(delta) == expected


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(seconds=-30), timedelta(milliseconds=400)])
def test_format_duration_of_nothing_or_negative_is_zero_seconds(delta: timedelta) -> None:
    assert format_duration(delta) == "0s"


@pytest.mark.parametrize("seconds", [1, 59, 60, 61, 3599, 3600, 5400, 86399, 86400, 90061, 604800 * 3 + 7])
def test_format_then_parse_round_trips_whole_seconds(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


# --- parse_size -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10MB", 10_000_000),
        ("10mb", 10_000_000),
        ("10 MB", 10_000_000),
        ("512KiB", 512 * 1024),
        ("1kb", 1000),
        ("1KiB", 1024),
        ("2MiB", 2 * 1024**2),
        ("1GB", 1000**3),
        ("1GiB", 1024**3),
        ("1.5GB", 1_500_000_000),
        ("100", 100),
        ("100b", 100),
        (" 7B ", 7),
        (1048576, 1048576),
        (1, 1),
    ],
)
def test_parse_size_accepts_the_written_forms(value: str | int, expected: int) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["", "MB", "ten MB", "10TB", "10 M B", "-1MB", "10MB extra", "1e6"])
def test_parse_size_rejects_what_is_not_a_size(value: str) -> None:
    with pytest.raises(ValueError, match="expected a size"):
        parse_size(value)


@pytest.mark.parametrize("value", [0, -5, "0", "0MB", "0.0001B"])
def test_parse_size_rejects_zero_and_negative(value: str | int) -> None:
    with pytest.raises(ValueError, match="greater than zero"):
        parse_size(value)


@pytest.mark.parametrize("text", ["999999999999d", "9" * 400 + "w", "3651d"])
def test_parse_duration_refuses_past_its_maximum_instead_of_overflowing(text: str) -> None:
    with pytest.raises(ValueError, match="at most 3650d"):
        parse_duration(text)
    assert parse_duration("3650d") == MAX_DURATION
    with pytest.raises(ValueError, match="at most 1h"):
        parse_duration("61m", timedelta(hours=1))


@pytest.mark.parametrize("value", ["1001GB", "9" * 400 + "GB", 10**13])
def test_parse_size_refuses_past_its_maximum_instead_of_overflowing(value: str | int) -> None:
    with pytest.raises(ValueError, match="at most 1.0 TB"):
        parse_size(value)
    assert parse_size("1000GB") == MAX_SIZE


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        ("localhost:80", ("localhost", 80)),
        ("[::1]:9464", ("::1", 9464)),
        ("[::]:1", ("::", 1)),
    ],
)
def test_listen_address_reads_host_and_port_ipv6_in_brackets(text: str, expected: tuple[str, int]) -> None:
    assert listen_address(text) == expected


@pytest.mark.parametrize(
    "text", ["9464", ":9464", "::1:9464", "[::1]", "[nonsense]:9464", "host:0", "host:65536", "host:http"]
)
def test_listen_address_refuses_what_cannot_be_served(text: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        listen_address(text)


@pytest.mark.parametrize("value", [True, False])
def test_parse_size_does_not_take_a_boolean_for_a_number(value: bool) -> None:
    with pytest.raises(ValueError):
        parse_size(value)


# --- format_size ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1000, "1.0 kB"),
        (1500, "1.5 kB"),
        (10_000_000, "10.0 MB"),
        (2_500_000_000, "2.5 GB"),
    ],
)
def test_format_size_uses_decimal_units(size: int, expected: str) -> None:
    assert format_size(size) == expected


# --- iso / from_iso -------------------------------------------------------------------------------


def test_iso_writes_utc_with_a_z() -> None:
    assert iso(NOW) == "2023-09-30T12:00:00Z"


def test_iso_converts_other_offsets_to_utc() -> None:
    yerevan = timezone(timedelta(hours=4))
    assert iso(datetime(2023, 9, 30, 16, 30, tzinfo=yerevan)) == "2023-09-30T12:30:00Z"


def test_iso_drops_fractions_of_a_second() -> None:
    assert iso(NOW.replace(microsecond=999_999)) == "2023-09-30T12:00:00Z"


def test_iso_of_none_is_none() -> None:
    assert iso(None) is None


def test_iso_strings_sort_as_time() -> None:
    moments = [NOW + timedelta(hours=h) for h in (30, -5, 0, 2, -200)]
    assert sorted(iso(m) for m in moments) == [iso(m) for m in sorted(moments)]


def test_from_iso_reads_z_as_utc() -> None:
    moment = from_iso("2023-09-30T12:00:00Z")
    assert moment == NOW
    assert moment is not None and moment.utcoffset() == timedelta(0)


def test_from_iso_converts_an_offset_to_utc() -> None:
    moment = from_iso("2023-09-30T16:00:00+04:00")
    assert moment == NOW
    assert moment is not None and moment.tzinfo == UTC


@pytest.mark.parametrize("text", [None, ""])
def test_from_iso_of_nothing_is_none(text: str | None) -> None:
    assert from_iso(text) is None


def test_from_iso_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        from_iso("last Tuesday")


def test_iso_round_trip() -> None:
    moment = datetime(2023, 9, 19, 6, 45, 12, tzinfo=UTC)
    assert from_iso(iso(moment)) == moment
