"""Just enough PNG decoding (stdlib only) to count a colour's pixels in a browser's screenshot: 8-bit RGB or
RGBA, not interlaced, as headless Chromium writes them."""

from __future__ import annotations

import struct
import zlib


def pixels(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows of raw pixel bytes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, b"", b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and not interlace, "only 8-bit RGB(A), not interlaced"
    step = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        _unfilter(kind, line, previous, step)
        rows.append(bytes(line))
        previous = line
    return width, height, step, rows


def _unfilter(kind: int, line: bytearray, up: bytearray, step: int) -> None:
    """PNG's five row filters (RFC 2083, 6.3), undone in place."""
    if kind == 0:
        return
    for i in range(len(line)):
        left = line[i - step] if i >= step else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up[i]) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up[i]) // 2) & 0xFF
        else:
            upper_left = up[i - step] if i >= step else 0
            p = left + up[i] - upper_left
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - upper_left)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up[i] if pb <= pc else upper_left)) & 0xFF


def count_colour(data: bytes, rgb: tuple[int, int, int]) -> int:
    """How many pixels of the screenshot are exactly this colour."""
    width, _, step, rows = pixels(data)
    wanted = bytes(rgb)
    return sum(row[x * step : x * step + 3] == wanted for row in rows for x in range(width))
