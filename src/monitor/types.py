"""Typed records handed between the stages of `monitor`.

Every record is frozen: a stage returns new records instead of changing the ones it was given. All
datetimes are timezone-aware UTC. Each docstring says which stage produces the record and which consumes
it, so the data flow can be read from this file alone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

# A Retry-After past this is absurd (10**12 seconds, a date in 9999): the feed is polled again after it.
RETRY_AFTER_CAP = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FeedSource:
    """One `[[feeds]]` entry of the config. Produced by `config`, consumed by `pipeline` and `store`."""

    name: str
    url: str
    interval: timedelta
    language: str | None = None
    tags: tuple[str, ...] = ()
    line: int | None = None  # where the entry starts in the config file, for error messages
    allow_private_redirects: bool | None = None  # None: polling.allow_private_redirects decides


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """Terms that together express a theme: one term of each group, all within `within` words."""

    name: str
    groups: tuple[tuple[str, ...], ...]  # @sets already expanded
    # Settings of the theme's author, required by keyword: their defaults are the settings table's
    # (config/settings.py, applied by config/load.py), written nowhere else.
    within: int = field(kw_only=True)
    score: int = field(kw_only=True)
    ordered: bool = field(kw_only=True)  # the groups must occur in their given order
    # Who acts (match/actors.py): a term of `agent` must stand before the first group's term in its sentence,
    # with no `unless` term between them and no `unless_before` term just before the agent. Empty: anyone may.
    agent: tuple[str, ...] = field(default=(), kw_only=True)
    unless: tuple[str, ...] = field(default=(), kw_only=True)
    unless_before: tuple[str, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True, slots=True)
class ThemeSpec:
    """A theme as the analyst wrote it (term sets expanded). Produced by `config`, compiled by `match`."""

    key: str
    label: str
    phrases: tuple[str, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    description: str = ""
    require: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    threshold: int = field(kw_only=True)  # required by keyword, as the settings of RuleSpec are


@dataclass(frozen=True, slots=True)
class FeedState:
    """What the database remembers about a feed between polls.

    Produced by `store`, read by `policy` (may we poll now?) and `fetch` (conditional GET headers);
    `policy.after_fetch` returns the next one, which `store` writes back.
    """

    id: int
    name: str
    url: str  # the URL polled: the configured one, or where a permanent redirect moved it
    config_url: str  # the URL the config gave, to notice when the user edits it
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None  # sha256 of the last body parsed, to skip an unchanged body
    last_fetch_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    retry_not_before: datetime | None = None  # from backoff or Retry-After; `--force` ignores it
    dead: bool = False  # 410 Gone: never polled again until revived


class FetchOutcome(enum.StrEnum):
    """How one attempt to poll a feed ended; stored in `fetches.outcome`."""

    OK = "ok"  # a body was fetched and parsed
    PARTIAL = "partial"  # the body was cut at the size cap; what parsed is stored
    NOT_MODIFIED = "not_modified"  # 304: nothing downloaded, nothing parsed
    UNCHANGED = "unchanged"  # 200 with the same bytes as last time: nothing parsed
    ERROR = "error"  # network error, timeout, HTTP error status, unparseable body
    GONE = "gone"  # 410: the feed is now dead
    SKIPPED = "skipped"  # not polled: dead, backing off or told to retry later (never stored)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One HTTP exchange for one feed. Produced by `fetch`, consumed by `policy` and `pipeline`.

    `error` is set for every failure; fetching never raises for a feed's own problems.
    """

    url: str  # the URL requested first
    final_url: str  # after redirects
    status: int | None  # None when no HTTP response arrived (DNS, refused, timeout)
    started_at: datetime
    duration: float  # seconds
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    permanent_redirect: str | None = None  # set when every redirect hop was 301/308
    truncated: bool = False  # the body exceeded the size cap and was cut there
    retry_after: timedelta | None = None  # from a 429/503 Retry-After header, at most RETRY_AFTER_CAP
    error: str | None = None
    bytes_read: int = 0

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


@dataclass(frozen=True, slots=True)
class Item:
    """One entry of a feed, normalised. Produced by `parse`, stored by `store`, read by matching and digests.

    `key` is the item's identity across feeds and polls (see `identity.item_key`).
    """

    key: str
    title: str  # plain text
    link: str | None  # canonical link (tracking parameters and fragment dropped)
    summary_html: str  # sanitized, safe to show
    summary_text: str  # plain text, for matching and full-text search
    published: datetime  # UTC; first-seen time when the feed gives no usable date
    date_source: str  # "published", "updated" or "first_seen": where `published` came from
    guid: str | None = None
    author: str | None = None
    language: str | None = None
    content_hash: str = ""  # of title, link and summary: a change means the item was updated
    # (title, summary) as their words' stems, for the search index (`stemming.stem_text`): made where the item
    # is parsed, which in a poll round is a helper process, not the one that stores; None: the store stems.
    stems: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed body turned into items. Produced by `parse`, consumed by `pipeline` and `store`."""

    title: str | None
    items: tuple[Item, ...]
    bozo: str | None = None  # why feedparser found the document ill-formed, if it did
    version: str | None = None  # "rss20", "atom10", ... as feedparser names it
    parser: str = "feedparser"  # which read it: "fast" (parse.fast, lxml) or "feedparser" (the fallback)


@dataclass(frozen=True, slots=True)
class ItemCounts:
    """What storing one feed's items changed. Produced by `store`, reported by `pipeline` and the CLI."""

    new: int = 0
    updated: int = 0
    seen: int = 0  # already stored and unchanged
    matched: int = 0  # of the new and updated ones, how many match a theme


@dataclass(frozen=True, slots=True)
class FeedReport:
    """The result of one feed in one poll round: one line of `monitor poll`, one row of `fetches`."""

    feed: str
    url: str
    outcome: FetchOutcome
    status: int | None = None
    counts: ItemCounts = ItemCounts()
    error: str | None = None
    note: str | None = None  # something worth saying that is not an error: a moved URL, a bozo feed
    duration: float = 0.0
    bytes_read: int = 0
    started_at: datetime | None = None
    store_failed: bool = False  # the database refused the results: an operational failure, not the feed's
    parser: str | None = None  # ParsedFeed.parser of the document read ("fast" or "feedparser"); None: none read


@dataclass(frozen=True, slots=True)
class Span:
    """Where evidence stands: a character range of the item's title or summary (plain text, in composed
    Unicode form, NFC, as items are stored)."""

    field: str  # "title" or "summary"
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a theme matched: one phrase or rule, its score and the text it matched."""

    kind: str  # "phrase" or "rule"
    name: str  # the phrase as written in the config, or the rule's name
    score: int
    spans: tuple[Span, ...]
    agent: str = ""  # the words that filled a rule's agent slot, as written (a span quotes them too)


def evidence_records(evidence: Sequence[Evidence]) -> list[dict[str, Any]]:
    """Evidence as plain dicts (the stored JSON and `match --jsonl`); by hand, as dataclasses.asdict
    deep-copies every field and cost more than the matching itself."""
    return [
        {
            "kind": e.kind,
            "name": e.name,
            "score": e.score,
            "spans": [{"field": s.field, "start": s.start, "end": s.end, "text": s.text} for s in e.spans],
            **({"agent": e.agent} if e.agent else {}),
        }
        for e in evidence
    ]


@dataclass(frozen=True, slots=True)
class ThemeMatch:
    """An item matched to a theme. Produced by `match`, stored in `matches`, shown by the CLI and digests."""

    theme: str
    score: int  # 0-100
    evidence: tuple[Evidence, ...]


@dataclass(frozen=True, slots=True)
class ThemedItem:
    """A stored item matched to a theme, as a digest needs it. Produced by `store_digest`, read by `digest`."""

    item_id: int
    theme: str
    score: int
    evidence: tuple[Evidence, ...]
    title: str
    link: str | None
    summary: str  # plain text
    published: datetime
    date_source: str
    outlets: tuple[str, ...]  # feeds that carried it, the first one first
    late: bool = False  # published in an earlier week, stored after that week's digest went out


@dataclass(frozen=True, slots=True)
class FeedTrouble:
    """A feed that failed every poll of the week, or from some poll of it to its end, is dead, or is stale:
    it answered, but brought nothing published within `polling.stale_after` of the week's end. Produced by
    `store_digest`."""

    name: str
    url: str
    last_error: str | None
    dead: bool
    failures: int
    since: datetime | None = None  # its first poll, when that fell within the week: failing since it was added
    # The first of the polls that failed to the week's end, after one that worked in the week (None: it
    # failed all week): its items of the days before are in, those after may be missing.
    failing_from: datetime | None = None
    stale: datetime | None = None  # it answered, but its newest item is this old (polling.stale_after)


@dataclass(frozen=True, slots=True)
class Outage:
    """A feed's polls failed from `since` (the first failure) until `back` (the poll that worked again)."""

    feed: str
    since: datetime
    back: datetime


@dataclass(frozen=True, slots=True)
class ObservedSpan:
    """A span of time a feed was observed without a break (the `observed` table): whatever it published
    from `since` to `until` was in a document the monitor stored. `resumed` is the observation that began
    it: after a gap, when the feed came back."""

    since: datetime
    until: datetime
    resumed: datetime


@dataclass(frozen=True, slots=True)
class WeekData:
    """Everything one week's digest is built from. Produced by `store_digest`, consumed by `digest`."""

    week: str  # "2023-W39"
    start: datetime
    end: datetime
    items: tuple[ThemedItem, ...]  # matched items of the week, and late ones
    total_items: int  # every item published in the week, matched or not
    previous: dict[str, int]  # items per theme the week before
    troubled: tuple[FeedTrouble, ...]
    polled_since: datetime | None  # the first successful poll of any feed (None: none yet), so the digest
    # can tell a week nothing was polled in, or only part of, from a quiet one
    # Each feed's tags (removed feeds too), in the order of the feeds table: they make the outlet groups.
    feed_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Every item published in the week, counted by the set of feeds that carried it (sorted names): each
    # group's own output, an item that two of its feeds carried counted once.
    carried: tuple[tuple[tuple[str, ...], int], ...] = ()
    # Each feed's observed spans that touch the week or the one before (None: not read, as before issue 22:
    # the first successful poll, `polled_since`, says what was observed).
    observed: dict[str, tuple[ObservedSpan, ...]] | None = None
    outages: tuple[Outage, ...] = ()  # the week's failed polls followed by one that worked, a run a feed


@dataclass(frozen=True, slots=True)
class EventTheme:
    """Where a week's event stands in one theme's section of the digest."""

    theme: str
    place: int  # its place in the theme's section, 1 = first shown
    items: tuple[int, ...]  # items.id of its reports matched to the theme, the first published first
    score: int  # the best of those items' scores for the theme


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event of a week's digest as the `events` and `event_themes` tables keep it: the same happening,
    reported by one or several outlets, as the digest grouped the week's items (across its themes).
    Produced by `digest.event_rows`, written by `store_digest`."""

    event: int  # its number in the week, 1 = the most widely reported (the week at a glance's order)
    headline_item: int  # items.id of the report shown as the event's headline
    headline: str
    outlets: int  # outlets that reported it
    outlet_groups: int  # outlet groups among them
    items: tuple[int, ...]  # items.id of every report of it, the first published first
    first_outlet: str
    first_item: int
    first_published: datetime  # UTC
    score: int  # the best of its items' scores for any theme
    themes: tuple[EventTheme, ...]  # the themes it touches, in the digest's order
    glance: int | None = None  # its place in the week at a glance; None: not there


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One training of a theme as `theme_models` holds it: the model's weights as JSON (None: no model), its
    cross-validated figures, and whether matching may use it. Written by storage, read back into a model
    by `match.model.trainings`."""

    theme: str
    weights: str | None
    trained_at: str
    labels_used: int
    positives: int
    f1_rules: float
    f1_model: float
    active: bool
    why: str
    precision_model: float | None = None


class Matching(Protocol):
    """A matcher as the stages that only use one need it (`match.Matcher`, `match.model.ModelMatcher`): a
    version and a pure `match`."""

    version: str

    def match(self, title: str, summary: str = "") -> list[ThemeMatch]: ...


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item already stored, as reconciling needs it (read by storage, decided on by `update.reconcile`)."""

    item_id: int
    content_hash: str
    first_seen: str


@dataclass(frozen=True, slots=True)
class Sighting:
    """This feed's sighting of a stored item: the hash of its last copy and when it last carried it."""

    content_hash: str
    last_seen: str


@dataclass(frozen=True, slots=True)
class Stored:
    """What is stored for one feed's items: items by key, this feed's sightings by item id."""

    items: Mapping[str, StoredItem] = field(default_factory=dict)
    sightings: Mapping[int, Sighting] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    """What to write of one feed's items, decided by `update.reconcile` and applied by storage. `new` and
    `updates` are the items to match; the rest only moves sightings and dates.

    - `new`: items never stored (inserted, with a sighting by this feed, at `stamp`)
    - `updates`: (item id, item) this feed edited since it last carried it: the stored text is replaced
    - `new_sightings`: (item id, item) stored items this feed carries for the first time
    - `sighting_updates`: (item id, content hash) this feed's sighting carried forward to `stamp`
    - `earlier_sightings`: item ids whose sighting by this feed begins earlier, at `stamp`
    - `earlier_first_seen`: item ids first seen earlier than stored, at `stamp` (an older capture)
    - `seen`: item ids already stored and unchanged (counted as seen)
    """

    stamp: str
    new: list[Item] = field(default_factory=list)
    updates: list[tuple[int, Item]] = field(default_factory=list)
    new_sightings: list[tuple[int, Item]] = field(default_factory=list)
    sighting_updates: list[tuple[int, str]] = field(default_factory=list)
    earlier_sightings: list[int] = field(default_factory=list)
    earlier_first_seen: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Decision:
    """A plan and the matches of its new and updated items (by item key), made by `update.reconcile.decider`
    from what storage read and handed to storage to apply. `matcher_version` None: nothing was matched (the
    items are left for `rematch`)."""

    plan: Plan
    matches: Mapping[str, Sequence[ThemeMatch]] = field(default_factory=dict)
    matcher_version: str | None = None


# What storage calls inside its write transaction, with what it read there, to learn what to write.
Decide = Callable[[Stored], Decision]


@dataclass(frozen=True, slots=True)
class StoredText:
    """An item's stored text as cleaning reads it (storage -> `update.rematch.cleaner`)."""

    item_id: int
    title: str
    link: str | None
    summary: str
    summary_html: str | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class Cleaned:
    """An item whose summary cleaning made again: the new text, the content hash it had and the one it has now,
    and its matches on the new text (None: not matched, left for `rematch`)."""

    item_id: int
    title: str
    text: str
    old_hash: str
    new_hash: str
    matches: Sequence[ThemeMatch] | None = None


@dataclass(frozen=True, slots=True)
class Cleanup:
    """What cleaning decided of a chunk of items (`update.rematch.cleaner`) for storage to write: the items
    whose text changed, and the version of the matcher that matched them (None: none did)."""

    items: Sequence[Cleaned]
    matcher_version: str | None = None


@dataclass(frozen=True, slots=True)
class AlertFound:
    """An alert a round found for one subscription: an event that crossed its threshold, an alerted event grown
    past the follow-up threshold, or a theme's spike. Made by `digest.alerts`, recorded by `storage.alerts`
    (once per subscription, kind and key, whatever later rounds find)."""

    subscription: str
    kind: str  # event | follow_up | spike
    key: str  # the happening: "event:<first item id>" (a follow-up: its event's key), "spike:<theme>:<time>"
    theme: str
    headline: str
    reason: str  # the threshold met, in words
    outlets: int
    outlet_groups: int
    items: tuple[int, ...]  # every report it counted (a spike: none)
    crossed_at: datetime  # the report that crossed the threshold was published then
    detail: dict[str, Any] = field(default_factory=dict)  # what its message shows: reports, evidence, theme label


@dataclass(frozen=True, slots=True)
class KnownAlert:
    """An alert recorded earlier for a subscription, as detection needs it: its key and the reports it counted."""

    id: int
    kind: str
    key: str
    theme: str
    items: frozenset[int]
    last_seen: datetime
