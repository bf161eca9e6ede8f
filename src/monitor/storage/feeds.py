"""EDGE: the SQL of feeds: the config's feeds synced in (renames followed), their polling state, their health."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..identity import canonical_url
from ..types import FeedSource, FeedState
from ..units import from_iso, iso
from .connection import FOREVER, NEWEST, Connection, _marks


def sync_feeds(store: Connection, feeds: Sequence[FeedSource], now: datetime) -> list[tuple[str, str]]:
    """Make the feeds table match the config: add new feeds, follow edits and renames, retire removed
    ones (their items stay). A feed whose configured URL changed starts afresh at the new URL.
    Returns the renames followed, as (old name, new name).

    Safe beside other processes doing the same (a `monitor poll` while the daemon reloads): the table is
    read inside the IMMEDIATE transaction that writes it, so no process inserts a name another has just
    inserted. A feed new to the config at the address of a feed that left it (its configured URL, or
    the one a 301 moved it to) is that feed renamed: the row keeps its id, so the identity keys of its
    items (`identity.item_key`, scoped by feed id when guids are not URLs) and its sightings stay."""
    with store.transaction():
        rows = {row["name"]: row for row in store.db.query("SELECT id, name, url, config_url, in_config FROM feeds")}
        renames = feed_renames(feeds, list(rows.values()))
        for new_name, old_name in renames.items():
            row = rows.pop(old_name)
            store.conn.execute("UPDATE feeds SET name = ? WHERE id = ?", (new_name, row["id"]))
            rows[new_name] = {**row, "name": new_name}
        for feed in feeds:
            values = {
                "language": feed.language,
                "tags": json.dumps(list(feed.tags)),
                "interval_seconds": int(feed.interval.total_seconds()),
                "in_config": 1,
            }
            existing = rows.get(feed.name)
            if existing is None:
                store.db.table("feeds").insert(
                    {"name": feed.name, "url": feed.url, "config_url": feed.url, "created_at": iso(now), **values}
                )
                continue
            if existing["config_url"] != feed.url:
                values.update(config_url=feed.url)
                if _address(existing["url"]) != _address(feed.url):  # not merely following a 301
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
    return [(old, new) for new, old in renames.items()]


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


def feed_renames(feeds: Sequence[FeedSource], rows: Sequence[dict[str, Any]]) -> dict[str, str]:
    """new name -> old name, for each configured feed unknown by name whose address is that of a stored feed
    no longer in the config (its `config_url`, or the `url` a permanent redirect moved it to). A feed that
    has just left the config is preferred over one retired long ago; each stored feed is claimed once."""
    configured = {f.name for f in feeds}
    leaving = sorted((r for r in rows if r["name"] not in configured), key=lambda r: (-r["in_config"], -r["id"]))
    taken: set[str] = set()
    renames: dict[str, str] = {}
    known = {r["name"] for r in rows}
    for feed in feeds:
        if feed.name in known:
            continue
        address = _address(feed.url)
        for row in leaving:
            if row["name"] not in taken and address in (_address(row["config_url"]), _address(row["url"])):
                taken.add(row["name"])
                renames[feed.name] = row["name"]
                break
    return renames


def _address(url: str) -> str:
    """A feed's address as the config compares them: http and https of one URL are the same feed."""
    canonical = canonical_url(url) or url
    return canonical.split(":", 1)[1] if canonical.startswith(("http:", "https:")) else canonical


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
