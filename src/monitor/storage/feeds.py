"""EDGE: the SQL of feeds: the config's feeds synced in (renames followed), their polling state, their health."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from ..identity import address
from ..types import FeedSource, FeedState
from ..units import from_iso, iso
from .connection import FOREVER, NEWEST, Connection, _marks


def sync_feeds(store: Connection, feeds: Sequence[FeedSource], now: datetime) -> list[tuple[str, str]]:
    """Make the feeds table match the config: add new feeds, follow edits and renames, retire removed
    ones (their items stay). Returns the renames followed, as (old name, new name).

    A stored feed is its address, not its name: the identity keys of its items (`identity.item_key`, scoped by
    feed id when guids are not URLs) and its sightings belong to one outlet. So a configured feed continues
    the row at its address (its configured URL, or the one a 301 moved it to) whatever that row is called,
    and a name moved to an address no row holds starts a new row, with that address's own history: a rename
    that gives the old name to another outlet, or two feeds swapping names, store nothing twice and mix no
    outlets. A row left at an address no configured feed names gives its name up when the config uses it
    elsewhere, and is kept, retired, as `name (address)`.

    Safe beside other processes doing the same (a `monitor poll` while the daemon reloads): the table is
    read inside the IMMEDIATE transaction that writes it, so no process inserts a name another has just
    inserted."""
    with store.transaction():
        rows = list(store.db.query("SELECT id, name, url, config_url, in_config FROM feeds"))
        claims = feed_claims(feeds, rows)
        _rename(store, feeds, rows, claims)
        for feed in feeds:
            values = {
                "language": feed.language,
                "tags": json.dumps(list(feed.tags)),
                "interval_seconds": int(feed.interval.total_seconds()),
                "in_config": 1,
            }
            existing = claims.get(feed.name)
            if existing is None:
                store.db.table("feeds").insert(
                    {"name": feed.name, "url": feed.url, "config_url": feed.url, "created_at": iso(now), **values}
                )
                continue
            if existing["config_url"] != feed.url:
                values.update(config_url=feed.url)
                if address(existing["url"]) != address(feed.url):  # not merely following a 301
                    values.update(
                        url=feed.url,
                        etag=None,
                        last_modified=None,
                        content_hash=None,
                        dead=0,
                        consecutive_failures=0,
                        retry_not_before=None,
                    )
            store.db.table("feeds").update(existing["id"], values)
        names = [f.name for f in feeds]
        retired = f"name NOT IN ({_marks(names)})" if names else "1"
        store.conn.execute(f"UPDATE feeds SET in_config = 0 WHERE in_config = 1 AND {retired}", names)
    return [(row["name"], name) for name, row in claims.items() if row["name"] != name]


def _rename(
    store: Connection, feeds: Sequence[FeedSource], rows: Sequence[dict[str, Any]], claims: dict[str, dict[str, Any]]
) -> None:
    """Give each claimed row its configured name, and each unclaimed row holding a configured name its retired
    label. Names are unique at every statement, so the rows renamed pass through placeholder names first:
    two feeds swapping names never collide."""
    moving = {row["id"]: name for name, row in claims.items() if row["name"] != name}
    claimed = {row["id"] for row in claims.values()}
    configured = {f.name for f in feeds}
    used = configured | {row["name"] for row in rows}
    for row_id in moving:
        store.conn.execute("UPDATE feeds SET name = ? WHERE id = ?", (f"\x00renaming {row_id}", row_id))
    for row in rows:
        if row["id"] not in claimed and row["name"] in configured:
            label = retired_name(row, used)
            used.add(label)
            store.conn.execute("UPDATE feeds SET name = ? WHERE id = ?", (label, row["id"]))
    for row_id, name in moving.items():
        store.conn.execute("UPDATE feeds SET name = ? WHERE id = ?", (name, row_id))


def feed_states(store: Connection, names: Iterable[str] | None = None) -> list[FeedState]:
    """States of the configured feeds (or of the named ones), in config order of insertion."""
    sql = "SELECT * FROM feeds WHERE in_config = 1"
    params: list[Any] = []
    if names is not None:
        names = list(names)
        sql += f" AND name IN ({_marks(names)})"
        params = names
    return [_feed_state(row) for row in store.db.query(sql + " ORDER BY id", params)]


def feed_state(store: Connection, name: str) -> FeedState | None:
    rows = feed_states(store, [name])
    return rows[0] if rows else None


def revive(store: Connection, states: Sequence[FeedState]) -> None:
    with store.transaction():
        for state in states:
            save_feed_state(store, state)


def save_feed_state(store: Connection, state: FeedState, title: str | None = None) -> None:
    """Write a feed's state; call inside a transaction."""
    values = {
        "url": state.url,
        "etag": state.etag,
        "last_modified": state.last_modified,
        "content_hash": state.content_hash,
        "last_fetch_at": iso(state.last_fetch_at),
        "last_success_at": iso(state.last_success_at),
        "last_error": state.last_error,
        "last_error_at": iso(state.last_error_at),
        "consecutive_failures": state.consecutive_failures,
        "retry_not_before": iso(state.retry_not_before),
        "dead": int(state.dead),
    }
    if title:
        values["title"] = title
    store.db.table("feeds").update(state.id, values)


def feed_rows(store: Connection) -> list[tuple[int, str, str, str | None]]:
    """Every stored feed, in the config or not: id, name, url, language."""
    return list(store.conn.execute("SELECT id, name, url, language FROM feeds"))


def feed_health(store: Connection) -> list[dict[str, Any]]:
    return list(
        store.db.query(
            f"""
        SELECT f.*, (SELECT count(*) FROM item_sources s WHERE s.feed_id = f.id) AS items, {NEWEST} AS newest
        FROM feeds f WHERE f.in_config = 1 ORDER BY f.id""",
            {"upto": FOREVER},
        )
    )


def feed_claims(feeds: Sequence[FeedSource], rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Configured name -> the stored row it continues: the row at its address. Its own row if that is still at
    its address; else a row configured at that address; else one a permanent redirect moved there. Among
    several, a feed that has just left the config is preferred over one retired long ago; each row is claimed
    once. A feed with no row at its address is new, whatever its name was before."""
    claims: dict[str, dict[str, Any]] = {}
    newest_first = sorted(rows, key=lambda r: (-r["in_config"], -r["id"]))
    passes: tuple[Callable[[FeedSource, dict[str, Any]], bool], ...] = (
        lambda f, r: r["name"] == f.name and address(f.url) in (address(r["config_url"]), address(r["url"])),
        lambda f, r: address(f.url) == address(r["config_url"]),
        lambda f, r: address(f.url) == address(r["url"]),
    )
    claimed: set[int] = set()
    for fits in passes:
        for feed in (f for f in feeds if f.name not in claims):
            row = next((r for r in newest_first if r["id"] not in claimed and fits(feed, r)), None)
            if row is not None:
                claims[feed.name] = row
                claimed.add(row["id"])
    return claims


def feed_renames(feeds: Sequence[FeedSource], rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """new name -> old name, for each configured feed that continues a stored feed of another name."""
    return {name: row["name"] for name, row in feed_claims(feeds, rows).items() if row["name"] != name}


def retired_name(row: dict[str, Any], used: set[str]) -> str:
    """The name a retired feed keeps once the config gives its name to a feed at another address: its old
    name and its address, so what it carried is still told apart from the new feed's."""
    where = address(row["config_url"]).lstrip("/")
    label, n = f"{row['name']} ({where})", 2
    while label in used:
        label, n = f"{row['name']} ({where}, {n})", n + 1
    return label


def _feed_state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        config_url=row["config_url"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        content_hash=row["content_hash"],
        last_fetch_at=from_iso(row["last_fetch_at"]),
        last_success_at=from_iso(row["last_success_at"]),
        last_error=row["last_error"],
        last_error_at=from_iso(row["last_error_at"]),
        consecutive_failures=row["consecutive_failures"],
        retry_not_before=from_iso(row["retry_not_before"]),
        dead=bool(row["dead"]),
    )
