"""JSON lines read one line at a time: a bad line is named with its reason and the reading goes on.

Every JSON lines file monitor reads (imports, label files, `match --jsonl`) comes from elsewhere, so no line
may end the read: not bytes that are not UTF-8, not nesting deeper than Python's stack, not a line of a
gigabyte. The file is read as bytes, one bounded line at a time, so its size costs no memory."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

# Far above any real item (a long article's text as JSON is ~100 kB), far below what hurts memory.
MAX_LINE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class JsonLine:
    """Line `number` of a file (from 1): its `value`, or the `problem` that kept it from being read."""

    number: int
    value: Any = None
    problem: str | None = None


def json_lines(stream: IO[bytes], max_line_bytes: int = MAX_LINE_BYTES) -> Iterator[JsonLine]:
    """Each non-blank line of `stream` as a JsonLine. One leading byte order mark is allowed, as editors on
    Windows write one."""
    for number, raw in enumerate(_bounded_lines(stream, max_line_bytes), start=1):
        if raw is None:
            yield JsonLine(number, problem=f"longer than {max_line_bytes} bytes")
            continue
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as error:
            yield JsonLine(number, problem=f"not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1})")
            continue
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except RecursionError:  # json's C scanner recurses once per level of nesting
            yield JsonLine(number, problem="not JSON (nested too deeply)")
            continue
        except ValueError as error:
            yield JsonLine(number, problem=f"not JSON ({error})")
            continue
        yield JsonLine(number, value)


def _bounded_lines(stream: IO[bytes], limit: int) -> Iterator[bytes | None]:
    """The lines of `stream`, None for a line longer than `limit` (whose rest is read and dropped)."""
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        while line and not line.endswith(b"\n"):
            line = stream.readline(limit + 1)
        yield None
