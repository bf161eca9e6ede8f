"""EDGE: the SQL of weekly digests: what a week holds, and each week's delivery state.

Beside `items` (feeds and items) in storage, one responsibility each; both work on the same connection
and transactions. A digest's life, in the `digests` table:

    rendered -> sending -> sent (accepted for at least one recipient; refusals of others are noted)
                        -> failed -> sending ... (retried with backoff)
                        -> uncertain (the process died mid-delivery: never resent without --resend)

`-> sending` is a compare-and-set (`claim`): of two processes sending the same week, one wins; the other
sees who is sending (pid, host, since when) in the row.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..types import EventRow, Evidence, FeedTrouble, Outage, Span, ThemedItem, WeekData, evidence_records
from ..units import from_iso, iso
from . import observed
from .connection import NEWEST, STALE, SUCCESSES, Connection

LATE_LOOKBACK = timedelta(weeks=8)  # how far back an unreported item may still be caught up
_RECORD = (
    "SELECT week, state, subject, message_id, items, attempts, rendered_at, sent_at, last_error, "
    "next_attempt_at, failing_since, claimed_pid, claimed_host, claimed_at, refused, delivery_note FROM digests"
)
WENT_OUT = ("sending", "sent", "uncertain")  # states in which the week's message may have reached someone


def key(subscription: str | None, week: str) -> str:
    """A digest's row: the week's label for the [email] digest (as always), `<subscription>/<week>` for a weekly
    subscription to some themes, which has a digest of its own (issue 24)."""
    return f"{subscription}/{week}" if subscription else week


def split(row_key: str) -> tuple[str | None, str]:
    """(subscription or None, week label) of a digest's row."""
    subscription, _, week = row_key.rpartition("/")
    return subscription or None, week


def _scope(column: str, row_key: str) -> tuple[str, list[Any]]:
    """SQL that keeps the rows of `row_key`'s digest series: the [email] digest's, or one subscription's. Late items
    are each series' own: an item one subscription reported is still late news for another."""
    subscription, _ = split(row_key)
    if subscription is None:
        return f"instr({column}, '/') = 0", []
    return f"substr({column}, 1, ?) = ?", [len(subscription) + 1, f"{subscription}/"]


@dataclass(frozen=True, slots=True)
class DigestRecord:
    week: str
    state: str
    subject: str
    message_id: str
    items: int
    attempts: int
    rendered_at: datetime
    sent_at: datetime | None
    last_error: str | None
    next_attempt_at: datetime | None
    failing_since: datetime | None = None  # the first failed delivery of the week, if any
    claimed_pid: int | None = None  # the process that last claimed the week for sending...
    claimed_host: str | None = None  # ...on this host...
    claimed_at: datetime | None = None  # ...at this time
    refused: dict[str, str] | None = None  # recipient -> the server's reply, of a delivery that went out
    delivery_note: str | None = None  # what went wrong after the server accepted the message


@dataclass(frozen=True, slots=True)
class Claimant:
    """Who claims a week for sending: this process, on this host, now."""

    pid: int
    host: str
    at: datetime


def week_data(
    store: Connection,
    week: str,
    start: datetime,
    end: datetime,
    themes: list[str],
    *,
    now: datetime | None = None,
    stale_after: timedelta | None = None,
) -> WeekData:
    """Read everything the digest of [start, end) needs; with `stale_after`, the feeds that answered during
    the week but had brought nothing new for that long at its end (or `now`, for a week not over)."""
    items = _themed_items(store, "i.published >= ? AND i.published < ?", [iso(start), iso(end)], themes)
    items += _late_items(store, week, start, themes)
    previous_start = start - (end - start)
    previous: dict[str, int] = defaultdict(int)
    for theme, count in store.conn.execute(
        "SELECT m.theme, count(*) FROM matches m JOIN items i ON i.id = m.item_id "
        "WHERE i.published >= ? AND i.published < ? GROUP BY m.theme",
        (iso(previous_start), iso(start)),
    ):
        previous[theme] = count
    total = store.conn.execute(
        "SELECT count(*) FROM items WHERE published >= ? AND published < ?", (iso(start), iso(end))
    ).fetchone()[0]
    return WeekData(
        week=week,
        start=start,
        end=end,
        items=tuple(items),
        total_items=total,
        previous=dict(previous),
        troubled=_troubled(store, start, end) + _stale(store, start, min(end, now or end), stale_after),
        polled_since=polled_since(store),
        feed_tags=feed_tags(store),
        carried=_carried(store, start, end),
        # Two weeks back: a gap that began before the week is named from its start.
        observed=observed.spans(store, previous_start - (end - start), end),
        outages=_outages(store, start, end),
    )


def feed_tags(store: Connection) -> dict[str, tuple[str, ...]]:
    """Each feed's tags, removed feeds' too (their items still count), in the order the feeds were added."""
    return {
        name: tuple(json.loads(tags or "[]"))
        for name, tags in store.conn.execute("SELECT name, tags FROM feeds ORDER BY id")
    }


def _carried(store: Connection, start: datetime, end: datetime) -> tuple[tuple[tuple[str, ...], int], ...]:
    """The week's items counted by the set of feeds that carried them: a few rows however many items, and
    enough to count each outlet group's own output with an item two of its feeds carried counted once."""
    counts: Counter[tuple[str, ...]] = Counter()
    for names, n in store.conn.execute(
        "SELECT outlets, count(*) FROM (SELECT group_concat(f.name, char(31)) AS outlets "
        "FROM items i JOIN item_sources s ON s.item_id = i.id JOIN feeds f ON f.id = s.feed_id "
        "WHERE i.published >= ? AND i.published < ? GROUP BY i.id) GROUP BY outlets",
        (iso(start), iso(end)),
    ):
        counts[tuple(sorted(names.split("\x1f")))] += n  # group_concat's order is not defined: sorted here
    return tuple(sorted(counts.items()))


def themed_items(store: Connection, start: datetime, end: datetime, themes: list[str]) -> list[ThemedItem]:
    """The matched items of `themes` published in [start, end), as a digest reads them (alerts read theirs so)."""
    return _themed_items(store, "i.published >= ? AND i.published < ?", [iso(start), iso(end)], themes)


def polled_since(store: Connection) -> datetime | None:
    """Where the monitor's record begins (None: nothing observed yet): the earliest time any feed, removed
    ones included, was observed (storage/observed.py: a first poll observes back to the oldest item its feed
    still carried), or its first successful poll where no span says more. One rule for what the digest says
    of a week and for which weeks are digested: a week that ended before it was observed by no one."""
    return from_iso(
        store.conn.execute(
            "SELECT min(t) FROM (SELECT min(since) AS t FROM observed "
            "UNION ALL SELECT min(first_success_at) FROM feeds)"
        ).fetchone()[0]
    )


def _themed_items(
    store: Connection, where: str, params: list[Any], themes: list[str], late: bool = False
) -> list[ThemedItem]:
    if not themes:
        return []
    marks = ",".join("?" * len(themes))
    rows = store.conn.execute(
        f"SELECT i.id, m.theme, m.score, m.evidence, i.title, i.link, i.summary, i.published, i.date_source, "
        f"(SELECT group_concat(name, char(31)) FROM (SELECT f.name FROM item_sources s JOIN feeds f "
        f" ON f.id = s.feed_id WHERE s.item_id = i.id ORDER BY s.first_seen, f.name)) AS outlets "
        f"FROM matches m JOIN items i ON i.id = m.item_id WHERE {where} AND m.theme IN ({marks}) "
        f"ORDER BY i.published, i.id",
        [*params, *themes],
    ).fetchall()
    return [
        ThemedItem(
            item_id=r[0],
            theme=r[1],
            score=r[2],
            evidence=_evidence(r[3]),
            title=r[4],
            link=r[5],
            summary=r[6],
            published=from_iso(r[7]),  # type: ignore[arg-type]
            date_source=r[8],
            outlets=tuple((r[9] or "").split("\x1f")),
            late=late,
        )
        for r in rows
    ]


def _late_items(store: Connection, week: str, start: datetime, themes: list[str]) -> list[ThemedItem]:
    """Matched items of earlier weeks that no digest has reported although their week's digest went
    out (was sent, or written where e-mail is off): they arrived too late for it, and are reported now,
    marked late."""
    # The weeks that went out are matched in SQL (ISO strings in UTC compare as times), so the months of
    # lookback are not all read and parsed to keep a few.
    reported, reported_params = _scope("week", week)
    went_out, went_out_params = _scope("d.week", week)
    return _themed_items(
        store,
        f"i.published < ? AND i.published >= ? AND i.id NOT IN "
        f"(SELECT item_id FROM digest_items WHERE week != ? AND {reported}) AND EXISTS (SELECT 1 FROM digests d "
        f"WHERE d.state IN ('rendered', 'sent', 'uncertain') AND d.week != ? AND {went_out} "
        f"AND i.published >= d.week_start AND i.published < d.week_end)",
        [iso(start), iso(start - LATE_LOOKBACK), week, *reported_params, week, *went_out_params],
        themes,
        late=True,
    )


def _outages(store: Connection, start: datetime, end: datetime) -> tuple[Outage, ...]:
    """Each run of the week's failed polls of a feed that a poll which worked ended (the feed came back),
    from its first failure to that poll."""
    rows = store.conn.execute(
        """
        SELECT f.name, min(x.started_at), back FROM (
            SELECT x.feed_id, x.started_at, (SELECT min(ok.started_at) FROM fetches ok WHERE ok.feed_id = x.feed_id
                AND ok.started_at > x.started_at AND ok.outcome NOT IN ('error', 'gone')) AS back
            FROM fetches x WHERE x.started_at >= :start AND x.started_at < :end AND x.outcome IN ('error', 'gone')
        ) x JOIN feeds f ON f.id = x.feed_id WHERE back IS NOT NULL GROUP BY x.feed_id, back ORDER BY f.name, back""",
        {"start": iso(start), "end": iso(end)},
    ).fetchall()
    return tuple(Outage(name, from_iso(since), from_iso(back)) for name, since, back in rows)  # type: ignore[arg-type]


def _troubled(store: Connection, start: datetime, end: datetime) -> tuple[FeedTrouble, ...]:
    """Feeds polled during the week without a single success, and dead feeds; with the first poll of
    those added during the week, which have not failed *all* week."""
    rows = store.conn.execute(
        """
        SELECT f.name, f.url, f.last_error, f.dead, f.consecutive_failures,
               CASE WHEN f.first_fetch_at >= :start AND f.first_fetch_at < :end THEN f.first_fetch_at END
        FROM feeds f
        WHERE f.in_config = 1 AND (f.dead = 1 OR (
            EXISTS (SELECT 1 FROM fetches x WHERE x.feed_id = f.id AND x.started_at >= :start
                    AND x.started_at < :end)
            AND NOT EXISTS (SELECT 1 FROM fetches x WHERE x.feed_id = f.id AND x.started_at >= :start
                            AND x.started_at < :end AND x.outcome NOT IN ('error', 'gone'))))
        ORDER BY f.dead DESC, f.name""",
        {"start": iso(start), "end": iso(end)},
    ).fetchall()
    troubled = [
        FeedTrouble(name=r[0], url=r[1], last_error=r[2], dead=bool(r[3]), failures=r[4], since=from_iso(r[5]))
        for r in rows
    ]
    return tuple(troubled) + _failing_from(store, start, end, {t.name for t in troubled})


def _failing_from(store: Connection, start: datetime, end: datetime, known: set[str]) -> tuple[FeedTrouble, ...]:
    """Feeds whose polls worked during the week and then failed to its end: part of the week is missing
    for them, from the first of those failures. (A failure followed by a poll that worked loses nothing a
    feed still carries, so it is not one.)"""
    rows = store.conn.execute(
        """
        SELECT f.name, f.url, f.last_error, f.consecutive_failures, min(x.started_at)
        FROM feeds f
        JOIN fetches x ON x.feed_id = f.id AND x.started_at < :end AND x.outcome IN ('error', 'gone')
        WHERE f.in_config = 1 AND f.dead = 0 AND x.started_at > (
            SELECT max(ok.started_at) FROM fetches ok WHERE ok.feed_id = f.id AND ok.started_at >= :start
            AND ok.started_at < :end AND ok.outcome NOT IN ('error', 'gone'))
        GROUP BY f.id ORDER BY f.name""",
        {"start": iso(start), "end": iso(end)},
    ).fetchall()
    return tuple(
        FeedTrouble(name=r[0], url=r[1], last_error=r[2], dead=False, failures=r[3], failing_from=from_iso(r[4]))
        for r in rows
        if r[0] not in known
    )


def _stale(
    store: Connection, start: datetime, upto: datetime, stale_after: timedelta | None
) -> tuple[FeedTrouble, ...]:
    """Feeds polled successfully during the week that had brought nothing new for `stale_after` by `upto`."""
    if stale_after is None:
        return ()
    rows = store.conn.execute(
        f"""
        SELECT f.name, f.url, {NEWEST} FROM feeds f
        WHERE f.in_config = 1 AND f.dead = 0 AND {STALE} AND EXISTS (SELECT 1 FROM fetches x WHERE x.feed_id = f.id
            AND x.started_at >= :start AND x.started_at <= :upto AND x.outcome IN {SUCCESSES})
        ORDER BY f.name""",
        {"start": iso(start), "upto": iso(upto), "cut": iso(upto - stale_after)},
    ).fetchall()
    return tuple(
        FeedTrouble(name=r[0], url=r[1], last_error=None, dead=False, failures=0, stale=from_iso(r[2])) for r in rows
    )


def _evidence(text: str) -> tuple[Evidence, ...]:
    out = []
    for e in json.loads(text or "[]"):
        spans = tuple(Span(s["field"], s["start"], s["end"], s["text"]) for s in e.get("spans", ()))
        out.append(Evidence(e["kind"], e["name"], e["score"], spans))
    return tuple(out)


# -- delivery state -------------------------------------------------------------------------------


def record(store: Connection, week: str) -> DigestRecord | None:
    row = store.conn.execute(f"{_RECORD} WHERE week = ?", (week,)).fetchone()
    return _record(row) if row else None


def records(store: Connection) -> list[DigestRecord]:
    rows = store.conn.execute(f"{_RECORD} ORDER BY week DESC").fetchall()
    return [_record(row) for row in rows]


def _record(row: Any) -> DigestRecord:
    return DigestRecord(
        week=row[0],
        state=row[1],
        subject=row[2],
        message_id=row[3],
        items=row[4],
        attempts=row[5],
        rendered_at=from_iso(row[6]),  # type: ignore[arg-type]
        sent_at=from_iso(row[7]),
        last_error=row[8],
        next_attempt_at=from_iso(row[9]),
        failing_since=from_iso(row[10]),
        claimed_pid=row[11],
        claimed_host=row[12],
        claimed_at=from_iso(row[13]),
        refused=json.loads(row[14]) if row[14] else None,
        delivery_note=row[15],
    )


def reported(store: Connection, week: str) -> set[tuple[int, str]]:
    """(item, theme) pairs the week's digest reported."""
    return {(r[0], r[1]) for r in store.conn.execute("SELECT item_id, theme FROM digest_items WHERE week = ?", (week,))}


def save_rendered(
    store: Connection, data: WeekData, subject: str, message_id: str, now: datetime, events: Sequence[EventRow] = ()
) -> None:
    """Record the week as rendered, with the items it reports and the events it grouped them into
    (replacing an earlier unsent rendering). A week that may have gone out (sending, sent, uncertain) is
    left as it is: what it reported is fixed."""
    with store.transaction():
        existing = record(store, data.week)
        if existing and existing.state in WENT_OUT:
            return
        _upsert(store, data, subject, message_id, now, events)


def _upsert(
    store: Connection, data: WeekData, subject: str, message_id: str, now: datetime, events: Sequence[EventRow] = ()
) -> None:
    """Inside a transaction: the week's row (its state and message id kept), its items and its events."""
    store.conn.execute(
        "INSERT INTO digests (week, week_start, week_end, state, subject, message_id, items, rendered_at) "
        "VALUES (?,?,?,'rendered',?,?,?,?) ON CONFLICT(week) DO UPDATE SET subject = excluded.subject, "
        "items = excluded.items, rendered_at = excluded.rendered_at",
        (
            data.week,
            iso(data.start),
            iso(data.end),
            subject,
            message_id,
            len({i.item_id for i in data.items}),
            iso(now),
        ),
    )
    store.conn.execute("DELETE FROM digest_items WHERE week = ?", (data.week,))
    event_of = {item: e.event for e in events for item in e.items}
    store.conn.executemany(
        "INSERT OR IGNORE INTO digest_items (week, item_id, theme, late, event, score, evidence, outlets) "
        "VALUES (?,?,?,?,?,?,?,?)",
        [
            (
                data.week,
                i.item_id,
                i.theme,
                int(i.late),
                event_of.get(i.item_id),
                i.score,
                json.dumps(evidence_records(i.evidence), ensure_ascii=False),
                json.dumps([o for o in i.outlets if o], ensure_ascii=False),
            )
            for i in data.items
        ],
    )
    _save_events(store, data.week, events)
    _save_output(store, data)


UNTAGGED = "(untagged)"  # the outlet group of feeds with no tag, as Datasette's queries name it


def _save_output(store: Connection, data: WeekData) -> None:
    """What the week's coverage divided by, from the counts the digest used (`data.carried`), so that a sent
    week's shares stay what was sent: each feed's own items of the week, with its tags then, and each tag's
    (every tag of a feed: an outlet group), an item two of its feeds carried counted once."""
    feeds: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    for names, count in data.carried:
        feeds.update(dict.fromkeys(names, count))
        groups.update(dict.fromkeys({t for n in names for t in data.feed_tags.get(n, ()) or (UNTAGGED,)}, count))
    store.conn.execute("DELETE FROM digest_outlets WHERE week = ?", (data.week,))
    store.conn.execute("DELETE FROM digest_outlet_groups WHERE week = ?", (data.week,))
    store.conn.executemany(
        "INSERT INTO digest_outlets (week, feed, tags, items) VALUES (?,?,?,?)",
        [
            (data.week, feed, json.dumps(list(data.feed_tags.get(feed, ())), ensure_ascii=False), n)
            for feed, n in sorted(feeds.items())
        ],
    )
    store.conn.executemany(
        "INSERT INTO digest_outlet_groups (week, outlet_group, items) VALUES (?,?,?)",
        [(data.week, group, n) for group, n in sorted(groups.items())],
    )


def _save_events(store: Connection, week: str, events: Sequence[EventRow]) -> None:
    """The week's events, one row each, and the themes each touched (event_themes)."""
    store.conn.execute("DELETE FROM event_themes WHERE week = ?", (week,))
    store.conn.execute("DELETE FROM events WHERE week = ?", (week,))
    store.conn.executemany(
        "INSERT INTO events (week, event, headline, headline_item_id, outlets, outlet_groups, items, first_outlet, "
        "first_item_id, first_published, score, glance) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                week,
                e.event,
                e.headline,
                e.headline_item,
                e.outlets,
                e.outlet_groups,
                len(e.items),
                e.first_outlet,
                e.first_item,
                iso(e.first_published),
                e.score,
                e.glance,
            )
            for e in events
        ],
    )
    store.conn.executemany(
        "INSERT INTO event_themes (week, event, theme, place, items, score) VALUES (?,?,?,?,?,?)",
        [(week, e.event, t.theme, t.place, len(t.items), t.score) for e in events for t in e.themes],
    )


@dataclass(frozen=True, slots=True)
class Copy:
    """A digest's message as claimed for sending."""

    subject: str
    text: str
    html: str


def claim(
    store: Connection,
    data: WeekData,
    subject: str,
    message_id: str,
    now: datetime,
    claimant: Claimant,
    *,
    resend: bool = False,
    events: Sequence[EventRow] = (),
    copy: Copy | None = None,
) -> tuple[bool, DigestRecord]:
    """Claim the week for sending: record it as rendered if it is not yet, then move it to `sending` only
    from a state that allows it, all in one IMMEDIATE transaction. Returns whether this process won, and the
    row as it is now (when it lost: who is sending, or that it went out). A week that may have gone out is
    claimed only on `resend`, and keeps the items it reported. A won claim records `copy`, the message about to
    be sent, in the same transaction."""
    allowed = ("rendered", "failed", "sent", "uncertain") if resend else ("rendered", "failed")
    with store.transaction():
        existing = record(store, data.week)
        if existing is None or existing.state not in WENT_OUT:
            _upsert(store, data, subject, message_id, now, events)
        won = _take(store, data.week, subject, claimant, allowed)
        if won and copy is not None:
            store.conn.execute(
                "INSERT INTO digest_copies (week, subject, text, html) VALUES (?,?,?,?) ON CONFLICT(week) DO "
                "UPDATE SET subject = excluded.subject, text = excluded.text, html = excluded.html",
                (data.week, copy.subject, copy.text, copy.html),
            )
        now_record = record(store, data.week)
    assert now_record is not None
    return won, now_record


def resend_claim(store: Connection, week: str, claimant: Claimant) -> tuple[bool, DigestRecord]:
    """Claim a week that went out for sending its recorded copy again (`--resend`): won only from `sent` or
    `uncertain`, as `claim` is."""
    with store.transaction():
        won = _take(store, week, None, claimant, ("sent", "uncertain"))
        now_record = record(store, week)
    assert now_record is not None
    return won, now_record


def _take(store: Connection, week: str, subject: str | None, claimant: Claimant, allowed: Sequence[str]) -> bool:
    """Inside a transaction: move the week to `sending` if its state is one of `allowed` (a compare-and-set:
    of two processes, one wins)."""
    marks = ",".join("?" * len(allowed))
    return (
        store.conn.execute(
            f"UPDATE digests SET state = 'sending', attempts = attempts + 1, subject = coalesce(?, subject), "
            f"claimed_pid = ?, claimed_host = ?, claimed_at = ?, refused = NULL, delivery_note = NULL "
            f"WHERE week = ? AND state IN ({marks})",
            (subject, claimant.pid, claimant.host, iso(claimant.at), week, *allowed),
        ).rowcount
        == 1
    )


def copy_of(store: Connection, week: str) -> Copy | None:
    """The message last claimed for sending for `week`; None for a week never claimed, or claimed before
    copies were kept."""
    row = store.conn.execute("SELECT subject, text, html FROM digest_copies WHERE week = ?", (week,)).fetchone()
    return Copy(*row) if row else None


def mark_sent(
    store: Connection, week: str, now: datetime, refused: dict[str, str] | None = None, note: str | None = None
) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE digests SET state = 'sent', sent_at = ?, last_error = NULL, next_attempt_at = NULL, "
            "refused = ?, delivery_note = ? WHERE week = ?",
            (iso(now), json.dumps(refused) if refused else None, note, week),
        )


def mark_failed(store: Connection, week: str, error: str, retry_at: datetime, now: datetime) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE digests SET state = 'failed', last_error = ?, next_attempt_at = ?, "
            "failing_since = coalesce(failing_since, ?) WHERE week = ?",
            (error, iso(retry_at), iso(now), week),
        )


def mark_uncertain(store: Connection, week: str, why: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE digests SET state = 'uncertain', last_error = ? WHERE week = ?", (why, week))


def sending(store: Connection) -> list[DigestRecord]:
    """The weeks some process has claimed for sending and not yet settled."""
    return [_record(row) for row in store.conn.execute(f"{_RECORD} WHERE state = 'sending' ORDER BY week")]


def settle(store: Connection, claimed: DigestRecord, why: str) -> bool:
    """`sending` -> `uncertain`, only if the week still holds the very claim that was judged dead (a
    compare-and-set: a claim made meanwhile by a live process is left alone)."""
    with store.transaction():
        return (
            store.conn.execute(
                "UPDATE digests SET state = 'uncertain', last_error = ? WHERE week = ? AND state = 'sending' "
                "AND claimed_pid IS ? AND claimed_host IS ? AND claimed_at IS ?",
                (why, claimed.week, claimed.claimed_pid, claimed.claimed_host, iso(claimed.claimed_at)),
            ).rowcount
            == 1
        )


def due_retries(store: Connection, now: datetime) -> list[str]:
    return [
        row[0]
        for row in store.conn.execute(
            "SELECT week FROM digests WHERE state = 'failed' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "ORDER BY week",
            (iso(now),),
        )
    ]


def week_start_of(store: Connection, week: str) -> datetime:
    row = store.conn.execute("SELECT week_start FROM digests WHERE week = ?", (week,)).fetchone()
    moment = from_iso(row[0]) if row else None
    if moment is None:
        raise KeyError(week)
    return moment
