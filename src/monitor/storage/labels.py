"""EDGE: the SQL of analysts' judgements (`labels`) and the item reads that measuring a theme needs.

Beside `items` as `digests` is: the same connection and transactions. One
current judgement per item, theme and analyst; judging again replaces it (schema migration 12).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..identity import canonical_url
from ..units import iso
from .connection import Connection

MAX_ID = 2**63 - 1  # SQLite's integers are 64-bit: a bigger id is no row, and sqlite3 raises OverflowError for it


@dataclass(frozen=True, slots=True)
class Judgement:
    """An analyst's verdict on one item and theme. Made by `monitor label` (one, or a file's worth), stored
    in `labels`, read back by `current`."""

    item_id: int
    theme: str
    verdict: bool  # True: the item is about the theme
    who: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Saved:
    new: int = 0
    changed: int = 0
    unchanged: int = 0


def link_key(link: str | None) -> str | None:
    """How a link is compared with stored items: canonical and without its scheme, as item keys are (an
    http copy of an https page is the same story)."""
    canonical = canonical_url(link)
    return canonical.split(":", 1)[1] if canonical else None


def item_ids(store: Connection, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are stored items."""
    possible = dict.fromkeys(i for i in ids if 0 < i <= MAX_ID)
    return {row[0] for row in store.where_in("SELECT id FROM items WHERE id IN ({ids})", possible)}


def items_by_link(store: Connection) -> dict[str, int]:
    """link key -> item id, for every link any feed gave an item (an item carried by two feeds under two
    links is found by either)."""
    out: dict[str, int] = {}
    rows = store.conn.execute(
        "SELECT id, link FROM items WHERE link IS NOT NULL "
        "UNION ALL SELECT item_id, link FROM item_sources WHERE link IS NOT NULL"
    )
    for item_id, link in rows:
        key = link_key(link)
        if key:
            out.setdefault(key, item_id)
    return out


def save(store: Connection, judgements: Sequence[Judgement], now: datetime) -> Saved:
    """Connection judgements in one transaction. The same verdict and note again changes nothing (not even
    labelled_at), so importing a file twice is harmless."""
    new = changed = 0
    with store.transaction():
        for j in judgements:
            verdict = "yes" if j.verdict else "no"
            row = store.conn.execute(
                "SELECT verdict, note FROM labels WHERE item_id = ? AND theme = ? AND who = ?",
                (j.item_id, j.theme, j.who),
            ).fetchone()
            if row is not None and (row[0], row[1]) == (verdict, j.note):
                continue
            store.conn.execute(
                "INSERT INTO labels (item_id, theme, verdict, who, labelled_at, note) VALUES (?,?,?,?,?,?) "
                "ON CONFLICT (item_id, theme, who) DO UPDATE SET verdict = excluded.verdict, "
                "labelled_at = excluded.labelled_at, note = excluded.note",
                (j.item_id, j.theme, verdict, j.who, iso(now), j.note),
            )
            if row is None:
                new += 1
            else:
                changed += 1
    return Saved(new, changed, len(judgements) - new - changed)


def current(store: Connection) -> dict[tuple[int, str], bool]:
    """(item id, theme) -> the verdict that counts: where analysts disagree, the most recent one."""
    rows = store.conn.execute("SELECT item_id, theme, verdict FROM labels ORDER BY labelled_at, who")
    return {(item_id, theme): verdict == "yes" for item_id, theme, verdict in rows}


def item_texts(store: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """item id -> (title, summary), for the stored items among `ids`."""
    rows = store.where_in("SELECT id, title, summary FROM items WHERE id IN ({ids})", dict.fromkeys(ids))
    return {item_id: (title, summary) for item_id, title, summary in rows}


def all_items(store: Connection, batch: int = 500) -> Iterator[list[tuple[int, str, str, dict[str, int]]]]:
    """Every stored item, `batch` at a time: (id, title, summary, {theme: stored score})."""
    last_id = 0
    while True:
        rows = store.conn.execute(
            "SELECT i.id, i.title, i.summary, (SELECT json_group_object(m.theme, m.score) FROM matches m "
            "WHERE m.item_id = i.id) FROM items i WHERE i.id > ? ORDER BY i.id LIMIT ?",
            (last_id, batch),
        ).fetchall()
        if not rows:
            return
        yield [(item_id, title, summary, json.loads(stored or "{}")) for item_id, title, summary, stored in rows]
        last_id = rows[-1][0]


def recent_items(store: Connection, scan: int, leave_out: set[int]) -> list[tuple[int, str, str]]:
    """The `scan` most recently published items (id, title, summary), without those in `leave_out`."""
    rows = store.conn.execute(
        "SELECT id, title, summary FROM items ORDER BY published DESC, id DESC LIMIT ?", (scan + len(leave_out),)
    )
    return [row for row in rows if row[0] not in leave_out][:scan]
