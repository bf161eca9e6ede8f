"""EDGE: the SQL of status figures: feed health, items and themes of the day and week, the clock, the fetches log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..units import iso
from .connection import FOREVER, STALE, SUCCESSES, Connection

PRUNE_CHUNK = 5000  # fetches deleted per transaction: a poll waits at most for one chunk


def prune_fetches(
    store: Connection,
    older_than: datetime,
    now: datetime,
    *,
    stop: Callable[[], bool] = lambda: False,
    chunk: int = PRUNE_CHUNK,
) -> int:
    """Delete the rows of the fetches log that started before `older_than`, `chunk` rows per transaction
    (a poll waits at most for one), until none is left or `stop()` says so; count them in `pruned`.
    Each feed's first successful fetch is kept: it says when polling began, which weeks a digest covers.
    Returns how many rows were deleted."""
    total = 0
    while not stop():
        with store.transaction():
            deleted = int(
                store.conn.execute(
                    f"""
                DELETE FROM fetches WHERE id IN (
                    SELECT id FROM fetches WHERE started_at < ? AND id NOT IN (
                        SELECT first FROM (SELECT (SELECT x.id FROM fetches x WHERE x.feed_id = f.id
                            AND x.outcome IN {SUCCESSES} ORDER BY x.started_at, x.id LIMIT 1) AS first
                            FROM feeds f) WHERE first IS NOT NULL)
                    ORDER BY started_at LIMIT ?)""",
                    (iso(older_than), chunk),
                ).rowcount
            )
            if deleted:
                store.conn.execute(
                    "INSERT INTO pruned (table_name, rows, last_pruned_at, older_than) VALUES ('fetches', ?, ?, ?) "
                    "ON CONFLICT (table_name) DO UPDATE SET rows = rows + excluded.rows, "
                    "last_pruned_at = excluded.last_pruned_at, older_than = excluded.older_than",
                    (deleted, iso(now), iso(older_than)),
                )
        total += deleted
        if deleted < chunk:
            break
    if total:
        store.checkpoint()
    return total


def theme_counts(store: Connection, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
    """theme -> (matches of items published in [start, end), matches in all)."""
    rows = store.conn.execute(
        "SELECT m.theme, sum(i.published >= ? AND i.published < ?), count(*) FROM matches m "
        "JOIN items i ON i.id = m.item_id GROUP BY m.theme",
        (iso(start), iso(end)),
    )
    return {theme: (int(recent or 0), int(total)) for theme, recent, total in rows}


def matches_per_theme(store: Connection) -> dict[str, int]:
    """theme -> its matches, of every stored item."""
    return dict(store.conn.execute("SELECT theme, count(*) FROM matches GROUP BY theme").fetchall())


def health_figures(store: Connection, day: tuple[str, str], week: tuple[str, str], stale_cut: str) -> dict[str, Any]:
    """What `monitor status` reports, in few queries (timestamps as stored: UTC ISO text). `day` and `week`
    are [start, end) in monitor.timezone: an item counts in the day and week it was published (first seen
    when undated), as in `monitor themes` and the digest (issue 13). A feed with nothing new since
    `stale_cut` is stale."""
    conn = store.conn
    feeds = dict(
        conn.execute(
            "SELECT CASE WHEN dead THEN 'dead' WHEN consecutive_failures > 0 THEN 'failing' "
            f"WHEN last_fetch_at IS NULL THEN 'new' WHEN {STALE} THEN 'stale' ELSE 'ok' END AS state, count(*) "
            "FROM feeds f WHERE in_config = 1 GROUP BY state",
            {"cut": stale_cut, "upto": FOREVER},
        ).fetchall()
    )
    last_fetch = conn.execute("SELECT max(started_at) FROM fetches").fetchone()[0]
    today, this_week = (
        conn.execute("SELECT count(*) FROM items WHERE published >= ? AND published < ?", span).fetchone()[0]
        for span in (day, week)
    )
    themes, themes_today = (
        dict(
            conn.execute(
                "SELECT m.theme, count(*) FROM matches m JOIN items i ON i.id = m.item_id "
                "WHERE i.published >= ? AND i.published < ? GROUP BY m.theme",
                span,
            ).fetchall()
        )
        for span in (week, day)
    )
    last_digest = conn.execute("SELECT week, state, sent_at FROM digests ORDER BY week DESC LIMIT 1").fetchone()
    kept, oldest = conn.execute("SELECT count(*), min(started_at) FROM fetches").fetchone()
    pruned = conn.execute("SELECT rows, last_pruned_at FROM pruned WHERE table_name = 'fetches'").fetchone()
    return {
        "feeds": feeds,
        "last_fetch": last_fetch,
        "items_today": today,
        "items_week": this_week,
        "themes_week": themes,
        "themes_today": themes_today,
        "last_digest": list(last_digest) if last_digest else None,
        "fetch_log": {
            "rows": kept,
            "oldest": oldest,
            "pruned": pruned[0] if pruned else 0,
            "last_pruned": pruned[1] if pruned else None,
        },
    }


def clock_figures(store: Connection, limit: str) -> dict[str, Any]:
    """What `monitor status` says about time: the last poll not after `limit` (now and a clock's drift, as
    stored UTC text), and what is dated after it (a clock set back): feeds last polled then, fetch rows, and
    the latest such time; `future` is None when nothing is."""
    conn = store.conn
    last = conn.execute("SELECT max(started_at) FROM fetches WHERE started_at <= ?", (limit,)).fetchone()[0]
    feeds, latest_feed = conn.execute(
        "SELECT count(*), max(last_fetch_at) FROM feeds WHERE in_config = 1 AND last_fetch_at > ?", (limit,)
    ).fetchone()
    fetches, latest_fetch = conn.execute(
        "SELECT count(*), max(started_at) FROM fetches WHERE started_at > ?", (limit,)
    ).fetchone()
    future = None
    if feeds or fetches:
        future = {"feeds": feeds, "fetches": fetches, "latest": max(filter(None, [latest_feed, latest_fetch]))}
    return {"last_fetch": last, "future": future}
