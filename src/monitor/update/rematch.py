"""Stored items matched again (`monitor rematch`, after the themes or models changed) and stored summaries made
again with today's cleaning (an archive an older monitor stored): storage reads and writes, this module derives
and matches (the parser's `stored_summary_text`, the matcher), purely, between its reads and writes."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from ..identity import content_hash
from ..parse.feed import stored_summary_text
from ..storage import Store, cleaning, items
from ..types import Cleaned, Cleanup, Matching, StoredText


def rematch(
    store: Store, matcher: Matching, now: datetime, *, everything: bool = False, batch: int = 500
) -> Iterator[int]:
    """Match stored items again (those not matched with `matcher`'s version, or all), `batch` items per short
    transaction (a running daemon waits at most for one batch), matched outside it. Yields the number of items
    done after each batch. An item a poll changed between the batch's read and its write is matched again on
    the text it holds now, and written then: a stale match would quote text the item no longer has."""
    last_id = 0
    while True:
        rows = items.to_match(store, last_id, matcher.version, everything=everything, limit=batch)
        if not rows:
            return
        pending: Sequence[tuple[int, str, str]] = rows
        while pending:
            matched = [(item_id, title, summary, matcher.match(title, summary)) for item_id, title, summary in pending]
            pending = items.write_matches(store, matched, matcher.version, now)
        last_id = rows[-1][0]
        store.checkpoint()
        yield len(rows)


def cleaner(matcher: Matching | None) -> Callable[[Sequence[StoredText]], Cleanup]:
    """PURE: what storage calls inside its write transaction with the stored texts of a chunk of the items to
    clean: those whose summary, made again from its sanitized original, changed, with their new content hash
    and, with a `matcher`, their matches (without one they are left for `rematch`)."""

    def clean(rows: Sequence[StoredText]) -> Cleanup:
        cleaned = []
        for row in rows:
            text = stored_summary_text(row.summary_html) if row.summary_html else row.summary
            if text != row.summary:
                new_hash = content_hash(row.title, row.link, text)
                matches = matcher.match(row.title, text) if matcher else None
                cleaned.append(Cleaned(row.item_id, row.title, text, row.content_hash, new_hash, matches))
        return Cleanup(cleaned, matcher.version if matcher else None)

    return clean


def clean_pending(
    store: Store,
    matcher: Matching | None,
    now: datetime,
    *,
    chunk: int = cleaning.CLEAN_CHUNK,
    stop: Callable[[], bool] = lambda: False,
    progress: Callable[[int], object] = lambda done: None,
) -> int:
    """The summaries of the items an older monitor stored made again (`cleaning.clean_pending`), and matched again
    where their text changed. Returns how many changed."""
    return cleaning.clean_pending(store, cleaner(matcher), now, chunk=chunk, stop=stop, progress=progress)
