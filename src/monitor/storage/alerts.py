"""EDGE: the SQL of alerts and of the messages that carry alerts and daily digests (issue 24).

An alert's life, in `alerts`: found and recorded at once (`pending`, unique per subscription, kind and key:
a later round finding the same happening changes nothing), then put in one message (`queued`), or left out
by the subscription's max_per_day (`capped`). A message's life, in `alert_messages`, is a weekly digest's:

    rendered -> sending -> sent | failed -> sending ... | uncertain (never resent unless asked)

`-> sending` is a compare-and-set, so of two processes one sends; composing a message takes its alerts from
`pending` in the same transaction, so no alert is put in two messages.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..types import AlertFound, KnownAlert
from ..units import from_iso, iso
from .connection import Connection

_MESSAGE = (
    "SELECT id, subscription, kind, label, state, recipients, subject, text, html, message_id, attempts, "
    "created_at, sent_at, last_error, next_attempt_at, claimed_pid, claimed_host, claimed_at, refused, "
    "delivery_note FROM alert_messages"
)
_ALERT = (
    "SELECT a.id, a.subscription, a.kind, a.key, a.theme, a.headline, a.reason, a.outlets, a.outlet_groups, "
    "a.items, a.crossed_at, a.found_at, a.status, a.message, a.detail, m.state FROM alerts a "
    "LEFT JOIN alert_messages m ON m.id = a.message"
)


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: int
    subscription: str
    kind: str
    key: str
    theme: str
    headline: str
    reason: str
    outlets: int
    outlet_groups: int
    items: int
    crossed_at: datetime
    found_at: datetime
    status: str  # pending | queued | capped
    message: int | None
    detail: dict[str, Any]
    message_state: str | None  # its message's state, once queued


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    subscription: str
    kind: str  # alerts | daily
    label: str
    state: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    message_id: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None
    next_attempt_at: datetime | None
    claimed_pid: int | None
    claimed_host: str | None
    claimed_at: datetime | None
    refused: dict[str, str] | None
    delivery_note: str | None

    @property
    def name(self) -> str:
        """How the log and the CLI name it: "desk alerts #3", "desk daily 2023-09-26"."""
        return f"{self.subscription} {self.kind} " + (self.label if self.kind == "daily" else f"#{self.id}")


def record_found(store: Connection, found: Sequence[AlertFound], now: datetime) -> list[AlertFound]:
    """Record what a round found; returns those that are new (an alert of the same subscription, kind and key
    recorded before, by this process or another, is left as it was)."""
    new = []
    with store.transaction():
        for alert in found:
            cursor = store.conn.execute(
                "INSERT OR IGNORE INTO alerts (subscription, kind, key, theme, headline, reason, outlets, "
                "outlet_groups, items, crossed_at, found_at, last_seen, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    alert.subscription,
                    alert.kind,
                    alert.key,
                    alert.theme,
                    alert.headline,
                    alert.reason,
                    alert.outlets,
                    alert.outlet_groups,
                    len(alert.items) or alert.detail.get("count", 0),
                    iso(alert.crossed_at),
                    iso(now),
                    iso(now),
                    json.dumps(alert.detail, ensure_ascii=False, default=str),
                ),
            )
            if cursor.rowcount != 1:
                continue
            alert_id = int(cursor.lastrowid or 0)
            store.conn.executemany(
                "INSERT OR IGNORE INTO alert_items (alert, item_id) VALUES (?,?)", [(alert_id, i) for i in alert.items]
            )
            new.append(alert)
    return new


def known(store: Connection, subscription: str, since: datetime) -> list[KnownAlert]:
    """The subscription's alerts found since `since`, with the reports each counted."""
    items: dict[int, set[int]] = {}
    for alert, item in store.conn.execute(
        "SELECT x.alert, x.item_id FROM alert_items x JOIN alerts a ON a.id = x.alert "
        "WHERE a.subscription = ? AND a.found_at >= ?",
        (subscription, iso(since)),
    ):
        items.setdefault(alert, set()).add(item)
    return [
        KnownAlert(r[0], r[1], r[2], r[3], frozenset(items.get(r[0], ())), from_iso(r[4]))  # type: ignore[arg-type]
        for r in store.conn.execute(
            "SELECT id, kind, key, theme, last_seen FROM alerts WHERE subscription = ? AND found_at >= ? ORDER BY id",
            (subscription, iso(since)),
        )
    ]


def still_seen(store: Connection, ids: Sequence[int], now: datetime) -> None:
    """Spikes a round found still above their theme's level: the same spike, not a new one."""
    if ids:
        with store.transaction():
            store.conn.executemany("UPDATE alerts SET last_seen = ? WHERE id = ?", [(iso(now), i) for i in ids])


def expire(store: Connection, ids: Sequence[int]) -> None:
    """Pending alerts too old to be news: `expired`, never sent."""
    if ids:
        with store.transaction():
            store.conn.executemany(
                "UPDATE alerts SET status = 'expired' WHERE id = ? AND status = 'pending'", [(i,) for i in ids]
            )


def alerts(store: Connection, *, subscription: str | None = None, status: str | None = None) -> list[AlertRow]:
    where, params = [], []
    if subscription is not None:
        where.append("a.subscription = ?")
        params.append(subscription)
    if status is not None:
        where.append("a.status = ?")
        params.append(status)
    sql = _ALERT + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.found_at, a.id"
    return [_alert(r) for r in store.conn.execute(sql, params)]


def _alert(r: Any) -> AlertRow:
    return AlertRow(
        id=r[0],
        subscription=r[1],
        kind=r[2],
        key=r[3],
        theme=r[4],
        headline=r[5],
        reason=r[6],
        outlets=r[7],
        outlet_groups=r[8],
        items=r[9],
        crossed_at=from_iso(r[10]),  # type: ignore[arg-type]
        found_at=from_iso(r[11]),  # type: ignore[arg-type]
        status=r[12],
        message=r[13],
        detail=json.loads(r[14] or "{}"),
        message_state=r[15],
    )


def alerted_since(store: Connection, subscription: str, since: datetime) -> int:
    """Alerts put in the subscription's messages since `since` (the start of its day): what max_per_day counts."""
    return int(
        store.conn.execute(
            "SELECT count(*) FROM alerts a JOIN alert_messages m ON m.id = a.message "
            "WHERE a.subscription = ? AND m.kind = 'alerts' AND m.created_at >= ?",
            (subscription, iso(since)),
        ).fetchone()[0]
    )


def last_composed(store: Connection, subscription: str) -> datetime | None:
    return from_iso(
        store.conn.execute(
            "SELECT max(created_at) FROM alert_messages WHERE subscription = ? AND kind = 'alerts'", (subscription,)
        ).fetchone()[0]
    )


@dataclass(frozen=True, slots=True)
class Composed:
    """A message about to be recorded: what it says, to whom, and which pending alerts it carries or leaves out."""

    subscription: str
    kind: str
    label: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    message_id: str
    carries: tuple[int, ...] = ()  # alerts put in it
    capped: tuple[int, ...] = ()  # alerts left out by max_per_day


def compose(store: Connection, message: Composed, now: datetime) -> MessageRecord | None:
    """Record the message and take its alerts from `pending` (and the capped ones out of it), in one IMMEDIATE
    transaction; None when another process took one of them first (it composes them), or recorded the same
    daily digest. Capped alerts are recorded even with nothing to carry."""
    alerts_named = [*message.carries, *message.capped]
    with store.transaction():
        still = store.where_in("SELECT id FROM alerts WHERE status = 'pending' AND id IN ({ids})", alerts_named)
        if len(still) != len(alerts_named):
            return None
        store.conn.executemany("UPDATE alerts SET status = 'capped' WHERE id = ?", [(a,) for a in message.capped])
        if message.kind == "alerts" and not message.carries:
            return None
        cursor = store.conn.execute(
            "INSERT OR IGNORE INTO alert_messages (subscription, kind, label, state, recipients, subject, text, html, "
            "message_id, created_at) VALUES (?,?,?,'rendered',?,?,?,?,?,?)",
            (
                message.subscription,
                message.kind,
                message.label,
                json.dumps(list(message.recipients)),
                message.subject,
                message.text,
                message.html,
                message.message_id,
                iso(now),
            ),
        )
        if cursor.rowcount != 1:
            return None
        number = int(cursor.lastrowid or 0)
        store.conn.executemany(
            "UPDATE alerts SET status = 'queued', message = ? WHERE id = ?", [(number, a) for a in message.carries]
        )
    return message_record(store, number)


def message_record(store: Connection, number: int) -> MessageRecord | None:
    row = store.conn.execute(f"{_MESSAGE} WHERE id = ?", (number,)).fetchone()
    return _message(row) if row else None


def daily_record(store: Connection, subscription: str, label: str) -> MessageRecord | None:
    row = store.conn.execute(
        f"{_MESSAGE} WHERE subscription = ? AND kind = 'daily' AND label = ?", (subscription, label)
    ).fetchone()
    return _message(row) if row else None


def messages(store: Connection, *, state: str | None = None) -> list[MessageRecord]:
    sql = _MESSAGE + (" WHERE state = ?" if state else "") + " ORDER BY id"
    return [_message(r) for r in store.conn.execute(sql, (state,) if state else ())]


def _message(r: Any) -> MessageRecord:
    return MessageRecord(
        id=r[0],
        subscription=r[1],
        kind=r[2],
        label=r[3],
        state=r[4],
        recipients=tuple(json.loads(r[5])),
        subject=r[6],
        text=r[7],
        html=r[8],
        message_id=r[9],
        attempts=r[10],
        created_at=from_iso(r[11]),  # type: ignore[arg-type]
        sent_at=from_iso(r[12]),
        last_error=r[13],
        next_attempt_at=from_iso(r[14]),
        claimed_pid=r[15],
        claimed_host=r[16],
        claimed_at=from_iso(r[17]),
        refused=json.loads(r[18]) if r[18] else None,
        delivery_note=r[19],
    )


def claim(store: Connection, number: int, pid: int, host: str, at: datetime, *, resend: bool = False) -> bool:
    """`rendered` or `failed` (with `resend`: `sent` or `uncertain` too) -> `sending`, a compare-and-set."""
    allowed = ("rendered", "failed", "sent", "uncertain") if resend else ("rendered", "failed")
    marks = ",".join("?" * len(allowed))
    with store.transaction():
        return (
            store.conn.execute(
                f"UPDATE alert_messages SET state = 'sending', attempts = attempts + 1, claimed_pid = ?, "
                f"claimed_host = ?, claimed_at = ?, refused = NULL, delivery_note = NULL "
                f"WHERE id = ? AND state IN ({marks})",
                (pid, host, iso(at), number, *allowed),
            ).rowcount
            == 1
        )


def mark_sent(
    store: Connection, number: int, now: datetime, refused: dict[str, str] | None = None, note: str | None = None
) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE alert_messages SET state = 'sent', sent_at = ?, last_error = NULL, next_attempt_at = NULL, "
            "refused = ?, delivery_note = ? WHERE id = ?",
            (iso(now), json.dumps(refused) if refused else None, note, number),
        )


def mark_failed(store: Connection, number: int, error: str, retry_at: datetime) -> None:
    with store.transaction():
        store.conn.execute(
            "UPDATE alert_messages SET state = 'failed', last_error = ?, next_attempt_at = ? WHERE id = ?",
            (error, iso(retry_at), number),
        )


def mark_uncertain(store: Connection, number: int, why: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE alert_messages SET state = 'uncertain', last_error = ? WHERE id = ?", (why, number))


def settle(store: Connection, claimed: MessageRecord, why: str) -> bool:
    """`sending` -> `uncertain`, only if the message still holds the very claim judged dead."""
    with store.transaction():
        return (
            store.conn.execute(
                "UPDATE alert_messages SET state = 'uncertain', last_error = ? WHERE id = ? AND state = 'sending' "
                "AND claimed_pid IS ? AND claimed_host IS ? AND claimed_at IS ?",
                (why, claimed.id, claimed.claimed_pid, claimed.claimed_host, iso(claimed.claimed_at)),
            ).rowcount
            == 1
        )


def due_retries(store: Connection, now: datetime) -> list[MessageRecord]:
    return [
        _message(r)
        for r in store.conn.execute(
            f"{_MESSAGE} WHERE state = 'failed' AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id",
            (iso(now),),
        )
    ]


def theme_times(store: Connection, start: datetime, end: datetime) -> dict[str, list[datetime]]:
    """When each theme's matched items of [start, end) were published: what its level is measured on."""
    out: dict[str, list[datetime]] = {}
    for theme, published in store.conn.execute(
        "SELECT m.theme, i.published FROM matches m JOIN items i ON i.id = m.item_id "
        "WHERE i.published >= ? AND i.published < ? ORDER BY i.published",
        (iso(start), iso(end)),
    ):
        out.setdefault(theme, []).append(from_iso(published))  # type: ignore[arg-type]
    return out
