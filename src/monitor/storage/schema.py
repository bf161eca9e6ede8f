"""The database schema, as numbered migrations. Shipped migrations are never edited: a change of schema
is a new migration appended here, so a user's existing database is carried forward, never broken.

Each migration runs as one transaction together with the row that records it in `schema_migrations`, so a
crash leaves the database either before or after a migration, never half-way. docs/database.md documents every
table and column; `tests/test_docs.py` checks that it does.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "feeds, items, sightings, fetches and full-text search",
        """
CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,            -- the name given in the config
    url TEXT NOT NULL,                    -- the URL polled (moved by a permanent redirect)
    config_url TEXT NOT NULL,             -- the URL the config gives
    title TEXT,                           -- the feed's own title, from its last parsed document
    language TEXT,
    tags TEXT NOT NULL DEFAULT '[]',      -- JSON array
    interval_seconds INTEGER NOT NULL,
    in_config INTEGER NOT NULL DEFAULT 1, -- 0 once removed from the config; its items are kept
    etag TEXT,
    last_modified TEXT,
    content_hash TEXT,                    -- of the last body parsed: the same body is not parsed again
    last_fetch_at TEXT,
    last_success_at TEXT,
    last_error TEXT,
    last_error_at TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    retry_not_before TEXT,                -- backoff or Retry-After: no poll before this
    dead INTEGER NOT NULL DEFAULT 0,      -- 1 after 410 Gone, until revived
    created_at TEXT NOT NULL
);

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,             -- identity: url:..., guid:<feed>:..., hash:<feed>:...
    feed_id INTEGER NOT NULL REFERENCES feeds(id),  -- the first feed that carried it
    title TEXT NOT NULL,
    link TEXT,                            -- canonical link
    summary TEXT NOT NULL DEFAULT '',     -- plain text
    summary_html TEXT NOT NULL DEFAULT '',-- sanitized HTML
    author TEXT,
    language TEXT,
    guid TEXT,
    published TEXT NOT NULL,              -- UTC ISO 8601; first_seen when the feed gave no date
    date_source TEXT NOT NULL,            -- published | updated | first_seen
    first_seen TEXT NOT NULL,
    updated_at TEXT,                      -- last change of title, link or summary; NULL if never
    content_hash TEXT NOT NULL
);
CREATE INDEX items_published ON items(published);
CREATE INDEX items_feed_published ON items(feed_id, published);

CREATE TABLE item_sources (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    link TEXT,                            -- the link as this feed gave it (canonical)
    content_hash TEXT NOT NULL,           -- of this feed's copy, to tell its edits from other copies
    PRIMARY KEY (item_id, feed_id)
) WITHOUT ROWID;
CREATE INDEX item_sources_feed ON item_sources(feed_id, first_seen);

CREATE TABLE fetches (
    id INTEGER PRIMARY KEY,
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    url TEXT NOT NULL,
    status INTEGER,                       -- HTTP status; NULL when no response arrived
    bytes INTEGER NOT NULL DEFAULT 0,
    outcome TEXT NOT NULL,                -- ok | partial | not_modified | unchanged | error | gone
    error TEXT,
    bozo TEXT,                            -- why the document was ill-formed, when it was
    items_total INTEGER NOT NULL DEFAULT 0,
    items_new INTEGER NOT NULL DEFAULT 0,
    items_updated INTEGER NOT NULL DEFAULT 0,
    items_seen INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX fetches_feed_started ON fetches(feed_id, started_at);
CREATE INDEX fetches_started ON fetches(started_at);

-- Full-text search over title and summary, an external-content FTS5 table kept in sync by triggers.
-- porter: "refugee" finds "refugees"; remove_diacritics: "Sheki" finds "Şəki".
CREATE VIRTUAL TABLE items_fts USING fts5(
    title, summary, content='items', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary);
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary ON items BEGIN
    INSERT INTO items_fts(items_fts, rowid, title, summary) VALUES ('delete', old.id, old.title, old.summary);
    INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary);
END;
""",
    ),
    Migration(
        2,
        "theme matches",
        """
CREATE TABLE matches (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    theme TEXT NOT NULL,                  -- the key of [themes.<key>]
    score INTEGER NOT NULL,               -- 0-100
    evidence TEXT NOT NULL,               -- JSON: [{kind, name, score, spans: [{field, start, end, text}]}]
    matcher_version TEXT NOT NULL,        -- matcher and themes that produced it
    matched_at TEXT NOT NULL,
    PRIMARY KEY (item_id, theme)
) WITHOUT ROWID;
CREATE INDEX matches_theme ON matches(theme, score);

-- The matcher version each item was last matched with (NULL: never), so `monitor rematch` can tell
-- which items the current themes have not seen.
ALTER TABLE items ADD COLUMN matcher_version TEXT;
""",
    ),
    Migration(
        3,
        "weekly digests and what each reported",
        """
CREATE TABLE digests (
    week TEXT PRIMARY KEY,                -- ISO week of the week's first day, such as 2023-W39
    week_start TEXT NOT NULL,             -- UTC instant the week began (midnight in monitor.timezone)
    week_end TEXT NOT NULL,
    state TEXT NOT NULL,                  -- rendered | sending | sent | failed | uncertain
    subject TEXT NOT NULL,
    message_id TEXT NOT NULL,             -- kept across retries: a resent copy can be recognised
    items INTEGER NOT NULL DEFAULT 0,     -- stories' items reported, late ones included
    attempts INTEGER NOT NULL DEFAULT 0,  -- SMTP deliveries tried
    rendered_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT,
    next_attempt_at TEXT                  -- a failed delivery is retried after this
);

CREATE TABLE digest_items (
    week TEXT NOT NULL REFERENCES digests(week) ON DELETE CASCADE,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    theme TEXT NOT NULL,
    late INTEGER NOT NULL DEFAULT 0,      -- 1: published in an earlier week, arrived after its digest
    PRIMARY KEY (week, item_id, theme)
) WITHOUT ROWID;
CREATE INDEX digest_items_item ON digest_items(item_id);
""",
    ),
    Migration(
        4,
        "when a week's failed deliveries began",
        """
-- Set by the first failed delivery of a week and kept: a digest delivered after failures says it is late
-- and since when it was due.
ALTER TABLE digests ADD COLUMN failing_since TEXT;
""",
    ),
    Migration(
        5,
        "who claimed a week for sending, and what the server said of a delivery it accepted",
        """
-- Claiming a week for sending is a compare-and-set on `state`; the claimant is recorded so another process
-- can tell a live delivery (leave it alone, say who sends) from one whose process died (settle it).
ALTER TABLE digests ADD COLUMN claimed_pid INTEGER;
ALTER TABLE digests ADD COLUMN claimed_host TEXT;
ALTER TABLE digests ADD COLUMN claimed_at TEXT;
-- A message accepted for at least one recipient is sent; these say what went wrong around it.
ALTER TABLE digests ADD COLUMN refused TEXT;          -- JSON object: recipient -> the server's reply
ALTER TABLE digests ADD COLUMN delivery_note TEXT;    -- e.g. QUIT answered with 421 after the message
""",
    ),
    Migration(
        6,
        "when each feed was first polled, and first polled successfully",
        """
-- Kept on the feed, not read from `fetches`, whose old rows are pruned: a digest says which part of its
-- week was polled (nothing before the first successful poll of any feed), and a feed first polled during
-- the week is "failing since it was added", not "failed all week".
ALTER TABLE feeds ADD COLUMN first_fetch_at TEXT;
ALTER TABLE feeds ADD COLUMN first_success_at TEXT;
UPDATE feeds SET
    first_fetch_at = coalesce((SELECT min(started_at) FROM fetches x WHERE x.feed_id = feeds.id), last_fetch_at),
    first_success_at = coalesce((SELECT min(started_at) FROM fetches x WHERE x.feed_id = feeds.id
                                 AND x.outcome NOT IN ('error', 'gone')), last_success_at);
-- Every fetch is logged, whoever logs it; the earliest wins, so a clock set back cannot move them later.
CREATE TRIGGER fetches_first AFTER INSERT ON fetches BEGIN
    UPDATE feeds SET
        first_fetch_at = CASE WHEN first_fetch_at IS NULL OR new.started_at < first_fetch_at
                              THEN new.started_at ELSE first_fetch_at END,
        first_success_at = CASE WHEN new.outcome NOT IN ('error', 'gone')
                                 AND (first_success_at IS NULL OR new.started_at < first_success_at)
                                THEN new.started_at ELSE first_success_at END
    WHERE id = new.feed_id;
END;
""",
    ),
    Migration(
        8,
        "what pruning deleted from the fetches log",
        """
-- `fetches` keeps polling.keep_fetches (90 days by default); older rows are deleted, and counted here so
-- that `monitor status` can say how much history was let go.
CREATE TABLE pruned (
    table_name TEXT PRIMARY KEY,          -- the log pruned: fetches
    rows INTEGER NOT NULL DEFAULT 0,      -- rows deleted so far, every prune together
    last_pruned_at TEXT,                  -- when rows were last deleted
    older_than TEXT                       -- the last prune deleted rows that started before this
);
""",
    ),
    Migration(
        11,
        "full-text search in every language: an index of stemmed text",
        """
-- items_fts (porter) stems English only. items_stemmed holds each item's title and summary as word stems,
-- each word stemmed by the Snowball stemmer of its script (monitor.stemming): Russian, Armenian, English.
-- Stems are computed in Python, so the store fills this table; the triggers below only keep it honest: an
-- item whose text changes by any means (an analyst's UPDATE too) loses its stems and waits in
-- items_unstemmed until the store stems it again (at the next poll, search, rematch or open).
CREATE TABLE items_stemmed (
    item_id INTEGER PRIMARY KEY,          -- items.id
    title TEXT NOT NULL,                  -- the title's words as stems, separated by spaces
    summary TEXT NOT NULL                 -- the summary's words as stems
);
CREATE VIRTUAL TABLE items_stemmed_fts USING fts5(
    title, summary, content='items_stemmed', content_rowid='item_id',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER items_stemmed_insert AFTER INSERT ON items_stemmed BEGIN
    INSERT INTO items_stemmed_fts(rowid, title, summary) VALUES (new.item_id, new.title, new.summary);
END;
CREATE TRIGGER items_stemmed_delete AFTER DELETE ON items_stemmed BEGIN
    INSERT INTO items_stemmed_fts(items_stemmed_fts, rowid, title, summary)
        VALUES ('delete', old.item_id, old.title, old.summary);
END;
CREATE TABLE items_unstemmed (
    item_id INTEGER PRIMARY KEY           -- an item not in items_stemmed yet: new, edited or from before 11
);
CREATE TRIGGER items_unstemmed_insert AFTER INSERT ON items BEGIN
    INSERT OR IGNORE INTO items_unstemmed VALUES (new.id);
END;
CREATE TRIGGER items_unstemmed_update AFTER UPDATE OF title, summary ON items BEGIN
    DELETE FROM items_stemmed WHERE item_id = old.id;
    INSERT OR IGNORE INTO items_unstemmed VALUES (new.id);
END;
CREATE TRIGGER items_unstemmed_delete AFTER DELETE ON items BEGIN
    DELETE FROM items_stemmed WHERE item_id = old.id;
    DELETE FROM items_unstemmed WHERE item_id = old.id;
END;
-- Existing items are stemmed by the store after this migration, in short transactions.
INSERT INTO items_unstemmed SELECT id FROM items;
""",
    ),
    Migration(
        12,
        "analysts' judgements of which items belong to which theme",
        """
-- One current judgement per item, theme and analyst: judging again replaces it (labelled_at says when it
-- was last changed), so a corrected mistake does not linger. Where analysts disagree, `monitor themes
-- --quality` goes by the most recent judgement of the item and theme.
CREATE TABLE labels (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    theme TEXT NOT NULL,                  -- the key of [themes.<key>]
    verdict TEXT NOT NULL CHECK (verdict IN ('yes', 'no')),  -- is the item about the theme?
    who TEXT NOT NULL,                    -- the analyst: --by, else the user running monitor
    labelled_at TEXT NOT NULL,            -- UTC ISO 8601, when the verdict or note last changed
    note TEXT,                            -- why, in the analyst's words; for an import, the file
    PRIMARY KEY (item_id, theme, who)
) WITHOUT ROWID;
CREATE INDEX labels_theme ON labels(theme, item_id);
""",
    ),
    Migration(
        13,
        "trained models of themes (the learned second stage)",
        """
-- Every `monitor train` of a theme adds a row; the newest row of a theme decides whether a model is used, and
-- it is used (active = 1) only where its cross-validation beat the theme's rules alone.
CREATE TABLE theme_models (
    id INTEGER PRIMARY KEY,
    theme TEXT NOT NULL,                  -- the key of [themes.<key>]
    weights TEXT,                         -- JSON: feature weights, bias, threshold, veto, theme fingerprint;
                                          -- NULL where too few labels to train
    trained_at TEXT NOT NULL,             -- UTC ISO 8601
    labels_used INTEGER NOT NULL,         -- judged items of the theme it was trained on
    positives INTEGER NOT NULL,           -- of them, judged "yes"
    cv_f1_rules REAL NOT NULL,            -- F1 of the rules alone on those items
    cv_f1_model REAL NOT NULL,            -- F1 of rules + model, cross-validated (0 where not trained)
    cv_precision_model REAL NOT NULL,     -- precision of rules + model, cross-validated
    active INTEGER NOT NULL DEFAULT 0,    -- 1: matching uses it (only the newest row of a theme can be)
    why TEXT NOT NULL                     -- the verdict `monitor train` printed
);
CREATE INDEX theme_models_theme ON theme_models(theme, id);
""",
    ),
    Migration(
        14,
        "the events each digest grouped its items into",
        """
-- An event is one happening as several outlets reported it, in their own words: the digest groups a
-- theme's items of the week into events (monitor.cluster) and shows each once. What it grouped is kept,
-- so SQL and Datasette see what the digest saw; rewritten with the week's digest_items.
CREATE TABLE events (
    week TEXT NOT NULL REFERENCES digests(week) ON DELETE CASCADE,
    theme TEXT NOT NULL,                  -- the key of [themes.<key>]
    event INTEGER NOT NULL,               -- its place in the theme's section of the digest: 1 = shown first
    headline TEXT NOT NULL,               -- the title the digest shows for it
    headline_item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,  -- that report (NULL once deleted)
    outlets INTEGER NOT NULL,             -- how many outlets (feeds) reported it
    items INTEGER NOT NULL,               -- how many items (reports) it groups
    first_outlet TEXT NOT NULL,           -- the feed that reported it first
    first_item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,  -- the first report
    first_published TEXT NOT NULL,        -- UTC ISO 8601, when the first report was published
    score INTEGER NOT NULL,               -- the best of its items' scores for the theme
    PRIMARY KEY (week, theme, event)
) WITHOUT ROWID;
-- The event of each item the digest reported (NULL: reported before events were kept).
ALTER TABLE digest_items ADD COLUMN event INTEGER;
""",
    ),
    Migration(
        15,
        "each item's week, and the themes' labels, for SQL and Datasette users",
        """
-- SQLite before 3.46 has no ISO week (%G/%V) and no time zones but UTC, so the week an item belongs to is
-- computed in Python (monitor.weeks) and stored: the week of `published` in monitor.timezone, labelled as
-- the digests are. The store fills it as items are written, and again for every item when
-- monitor.timezone or digest.week_start change (the `calendar` row says which it was computed with).
ALTER TABLE items ADD COLUMN week TEXT;   -- such as 2026-W01; NULL until the store computes it
CREATE INDEX items_week ON items(week);
CREATE TABLE calendar (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row
    timezone TEXT NOT NULL,               -- the monitor.timezone items.week was computed in
    week_start TEXT NOT NULL              -- the digest.week_start it was computed with
);
INSERT INTO calendar VALUES (1, 'UTC', 'monday');
-- The themes of the config, kept in sync at start-up, reload and each poll round, so that queries can
-- show a theme's label beside matches.theme.
CREATE TABLE themes (
    key TEXT PRIMARY KEY,                 -- the key of [themes.<key>], as in matches.theme
    label TEXT NOT NULL,                  -- the name shown in digests
    description TEXT NOT NULL DEFAULT '',
    threshold INTEGER NOT NULL,           -- lowest score that counts as a match
    in_config INTEGER NOT NULL DEFAULT 1  -- 0 once removed from the config; its matches are kept
);
""",
    ),
    Migration(
        20,
        "history: imported documents, archive captures, and when live polling began",
        """
-- `monitor import` and `monitor backfill` store past documents through the poll's path, each as if polled at
-- its capture time; this says where every such document came from. Not part of the fetches log (which is
-- pruned by age, and these are old by nature).
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    origin TEXT NOT NULL,                 -- file (monitor import) | archive (monitor backfill)
    source TEXT NOT NULL,                 -- the file's path, or the capture's address in the archive
    captured_at TEXT NOT NULL,            -- UTC ISO 8601: the "now" the document was stored as polled at
    body_hash TEXT NOT NULL,              -- sha256 of the document: one document is imported once per feed
    imported_at TEXT NOT NULL,
    items_total INTEGER NOT NULL DEFAULT 0,
    items_new INTEGER NOT NULL DEFAULT 0,
    items_updated INTEGER NOT NULL DEFAULT 0,
    UNIQUE (feed_id, body_hash)
);
-- The import that made a sighting (NULL: a live poll made it).
ALTER TABLE item_sources ADD COLUMN import_id INTEGER REFERENCES imports(id);
-- Each archive capture backfill has dealt with, so an interrupted run goes on where it stopped.
CREATE TABLE captures (
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    timestamp TEXT NOT NULL,              -- the archive's 14-digit capture time (UTC), such as 20230925120000
    original TEXT NOT NULL,               -- the URL the archive captured
    digest TEXT,                          -- the archive's hash of the body
    state TEXT NOT NULL,                  -- imported | failed (failed ones are tried again by the next run)
    error TEXT,                           -- why it failed
    import_id INTEGER REFERENCES imports(id),  -- the document stored (NULL: failed, or a document already imported)
    done_at TEXT NOT NULL,
    PRIMARY KEY (feed_id, timestamp, original)
) WITHOUT ROWID;
-- Imports make a feed's record begin earlier (first_success_at, which sets what a digest counts as
-- polled), but e-mail waits for live polling: a week before first_live_at is written, not sent, unless
-- asked for with --send.
ALTER TABLE feeds ADD COLUMN first_live_at TEXT;
UPDATE feeds SET first_live_at = first_success_at;
DROP TRIGGER fetches_first;
CREATE TRIGGER fetches_first AFTER INSERT ON fetches BEGIN
    UPDATE feeds SET
        first_fetch_at = CASE WHEN first_fetch_at IS NULL OR new.started_at < first_fetch_at
                              THEN new.started_at ELSE first_fetch_at END,
        first_success_at = CASE WHEN new.outcome NOT IN ('error', 'gone')
                                 AND (first_success_at IS NULL OR new.started_at < first_success_at)
                                THEN new.started_at ELSE first_success_at END,
        first_live_at = CASE WHEN new.outcome NOT IN ('error', 'gone')
                              AND (first_live_at IS NULL OR new.started_at < first_live_at)
                             THEN new.started_at ELSE first_live_at END
    WHERE id = new.feed_id;
END;
""",
    ),
    Migration(
        21,
        "stored summaries made again without their boilerplate",
        """
-- Items stored before boilerplate removal (lists of related links, share buttons: monitor.boilerplate) keep it
-- in items.summary, where it is matched and searched, until their summary is made again from summary_html,
-- the sanitized original: the store does it (`monitor rematch`, the daemon's upkeep), a chunk at a time, and
-- matches again the items whose text changed. A later change to the cleaning lists every item here again.
CREATE TABLE items_unclean (
    item_id INTEGER PRIMARY KEY           -- items.id of an item whose summary an older cleaning made
);
INSERT INTO items_unclean SELECT id FROM items;
""",
    ),
    Migration(
        22,
        "the copy of each digest claimed for sending",
        """
-- What a digest that may have gone out (sending, sent, uncertain) said is a record: its files are written
-- again, and `--resend` sends it again, from this copy, whatever the themes, matches or templates say since.
-- Written with the claim, in the same transaction, so a claimed week always has its copy. Weeks claimed
-- before this table existed have none, and are rebuilt from digest_items as before.
CREATE TABLE digest_copies (
    week TEXT PRIMARY KEY REFERENCES digests(week) ON DELETE CASCADE,
    subject TEXT NOT NULL,                -- the e-mail's subject
    text TEXT NOT NULL,                   -- its plain text part, as written to digests/YYYY-Www.txt
    html TEXT NOT NULL                    -- its HTML part, as written to digests/YYYY-Www.html
);
""",
    ),
    Migration(
        23,
        "events are the week's: one row per event of a week, and the themes each touched",
        """
-- A digest groups the week's items into events once, across its themes (issue 21): one happening in two
-- themes' sections is one event, under one number and one headline. `events` gets a row per event of the
-- week, numbered from the most widely reported, and `event_themes` says which themes' sections show it
-- and where. digest_items.event now refers to events.event of the same week, whatever the theme.
CREATE TABLE events_23 (
    week TEXT NOT NULL REFERENCES digests(week) ON DELETE CASCADE,
    event INTEGER NOT NULL,               -- its number in the week: 1 = the most widely reported
    headline TEXT NOT NULL,               -- the title the digest shows for it, in every section
    headline_item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,  -- that report (NULL once deleted)
    outlets INTEGER NOT NULL,             -- how many outlets (feeds) reported it
    outlet_groups INTEGER,                -- outlet groups among them (NULL: kept before migration 23)
    items INTEGER NOT NULL,               -- how many items (reports) it groups
    first_outlet TEXT NOT NULL,           -- the feed that reported it first
    first_item_id INTEGER REFERENCES items(id) ON DELETE SET NULL,  -- the first report
    first_published TEXT NOT NULL,        -- UTC ISO 8601, when the first report was published
    score INTEGER NOT NULL,               -- the best of its items' scores, for any theme
    glance INTEGER,                       -- its place in the week at a glance (1 = first); NULL: not there
    PRIMARY KEY (week, event)
) WITHOUT ROWID;
-- Events kept before were grouped per theme, each in one theme: each becomes an event of its week,
-- numbered there by outlets, then reports, then its first report's time.
CREATE TABLE events_renumbered (week TEXT, theme TEXT, old INTEGER, new INTEGER, items INTEGER, score INTEGER);
INSERT INTO events_renumbered
    SELECT week, theme, event, row_number() OVER (PARTITION BY week ORDER BY outlets DESC, items DESC,
                                                  first_published, theme, event), items, score
    FROM events;
INSERT INTO events_23
    SELECT e.week, n.new, e.headline, e.headline_item_id, e.outlets, NULL, e.items, e.first_outlet,
           e.first_item_id, e.first_published, e.score, NULL
    FROM events e JOIN events_renumbered n ON n.week = e.week AND n.theme = e.theme AND n.old = e.event;
UPDATE digest_items SET event = (SELECT n.new FROM events_renumbered n WHERE n.week = digest_items.week
                                 AND n.theme = digest_items.theme AND n.old = digest_items.event)
    WHERE event IS NOT NULL;
DROP TABLE events;
ALTER TABLE events_23 RENAME TO events;
CREATE TABLE event_themes (
    week TEXT NOT NULL,
    event INTEGER NOT NULL,               -- events.event of the same week
    theme TEXT NOT NULL,                  -- the key of [themes.<key>] of a section that shows it
    place INTEGER NOT NULL,               -- its place in that section: 1 = shown first
    items INTEGER NOT NULL,               -- its reports matched to the theme
    score INTEGER NOT NULL,               -- the best of those reports' scores for the theme
    PRIMARY KEY (week, event, theme),
    FOREIGN KEY (week, event) REFERENCES events(week, event) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX event_themes_theme ON event_themes(theme, week);
INSERT INTO event_themes SELECT week, new, theme, old, items, score FROM events_renumbered;
DROP TABLE events_renumbered;
""",
    ),
    Migration(
        24,
        "each digest item's score and evidence as the digest reported them",
        """
-- A week that went out is a record (issue 22): Datasette's queries of a sent week show what was sent, and
-- the score and evidence of an item's match can change afterwards (a rematch, a theme edited or removed).
-- NULL for digests recorded before migration 24: queries fall back to the stored match.
ALTER TABLE digest_items ADD COLUMN score INTEGER;   -- the match's score (0-100) the digest showed
ALTER TABLE digest_items ADD COLUMN evidence TEXT;   -- its evidence as matches.evidence holds it (JSON)
""",
    ),
    Migration(
        25,
        "the spans of time each feed was observed",
        """
-- A successful poll (or an imported capture) at T whose document's oldest item was published at R observed
-- the feed from R to T: whatever it published in between is still in the document. A document not parsed
-- again (304, the same body) or carrying nothing observed it back to its previous observation. `observed`
-- keeps the union of those spans per feed, merged, so that a digest says only what was observed (issue 22).
ALTER TABLE fetches ADD COLUMN reach TEXT;   -- UTC ISO 8601: its document's oldest item (NULL: none, not parsed)
ALTER TABLE imports ADD COLUMN reach TEXT;   -- the same, of the imported document
CREATE TABLE observed (
    feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    since TEXT NOT NULL,                  -- UTC ISO 8601: observed from here...
    until TEXT NOT NULL,                  -- ...to here, without a break
    resumed_at TEXT NOT NULL,             -- the observation that began the span (after a gap: when the feed came back)
    PRIMARY KEY (feed_id, since)
) WITHOUT ROWID;
-- Fetches and imports stored before this migration: an import reaches back to the oldest item the feed still
-- carried at its capture (its sightings); a successful fetch that followed another success of the feed within
-- two hours reaches back to it, any other to the oldest item the feed still carried then (as sighted).
CREATE TABLE observed_25 (feed_id INTEGER, lo TEXT, at TEXT);
INSERT INTO observed_25
    SELECT x.feed_id,
           CASE WHEN x.previous_outcome NOT IN ('error', 'gone')
                     AND julianday(x.started_at) - julianday(x.previous_at) <= 2.0 / 24 THEN x.previous_at
                ELSE min(x.started_at, coalesce((SELECT min(i.published) FROM item_sources s
                     JOIN items i ON i.id = s.item_id WHERE s.feed_id = x.feed_id
                     AND s.first_seen <= x.started_at AND s.last_seen >= x.started_at), x.started_at)) END,
           x.started_at
    FROM (SELECT feed_id, started_at, outcome,
                 lag(started_at) OVER (PARTITION BY feed_id ORDER BY started_at) AS previous_at,
                 lag(outcome) OVER (PARTITION BY feed_id ORDER BY started_at) AS previous_outcome
          FROM fetches) x
    WHERE x.outcome NOT IN ('error', 'gone');
INSERT INTO observed_25
    SELECT m.feed_id, min(m.captured_at, coalesce((SELECT min(i.published) FROM item_sources s
               JOIN items i ON i.id = s.item_id WHERE s.feed_id = m.feed_id
               AND s.first_seen <= m.captured_at AND s.last_seen >= m.captured_at), m.captured_at)),
           m.captured_at
    FROM imports m;
-- Merged: a span begins where one starts after every earlier one of its feed ended (gaps and islands).
INSERT INTO observed
    SELECT feed_id, min(lo), max(at), min(first_at) FROM (
      SELECT feed_id, lo, at, span, first_value(at) OVER (PARTITION BY feed_id, span ORDER BY lo, at) AS first_at
      FROM (
        SELECT feed_id, lo, at, sum(fresh) OVER (PARTITION BY feed_id ORDER BY lo, at ROWS UNBOUNDED PRECEDING) AS span
        FROM (SELECT feed_id, lo, at, CASE WHEN lo > max(at) OVER (PARTITION BY feed_id ORDER BY lo, at
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 1 ELSE 0 END AS fresh
              FROM observed_25)))
    GROUP BY feed_id, span;
DROP TABLE observed_25;
""",
    ),
    Migration(
        26,
        "what a digest's coverage counted: each outlet's and outlet group's items of the week, each item's outlets",
        """
-- A sent week is a record (issue 22): the shares Datasette's queries give of a week that went out divide by the
-- counts its digest used, not by today's items and sightings, which an item arriving late for the week or
-- another feed carrying an item later change. Written with digest_items; none for digests recorded before
-- migration 26 (queries fall back to today's items and sightings for those).
ALTER TABLE digest_items ADD COLUMN outlets TEXT;   -- JSON array: the feeds that carried it as counted, first first
CREATE TABLE digest_outlets (
    week TEXT NOT NULL REFERENCES digests(week) ON DELETE CASCADE,
    feed TEXT NOT NULL,                   -- feeds.name of a feed that carried items of the week
    tags TEXT NOT NULL DEFAULT '[]',      -- JSON array: its tags when the digest was recorded (its outlet groups)
    items INTEGER NOT NULL,               -- the week's items it carried (its own output), as the digest counted them
    PRIMARY KEY (week, feed)
) WITHOUT ROWID;
CREATE TABLE digest_outlet_groups (
    week TEXT NOT NULL REFERENCES digests(week) ON DELETE CASCADE,
    outlet_group TEXT NOT NULL,           -- a tag of those feeds; '(untagged)' for the feeds that had none
    items INTEGER NOT NULL,               -- the week's items its feeds carried, an item two of them carried once
    PRIMARY KEY (week, outlet_group)
) WITHOUT ROWID;
""",
    ),
    Migration(
        27,
        "alerts and the messages that carry alerts and daily digests, each claimed for sending once",
        """
-- Issue 24: subscriptions with a cadence. An alert is found after a poll round and recorded at once, one row per
-- subscription and happening (`key`): found again by a later round, it is the same row, never a second alert.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    subscription TEXT NOT NULL,           -- [[subscriptions]] name
    kind TEXT NOT NULL,                   -- event | follow_up | spike
    key TEXT NOT NULL,                    -- 'event:<first item id>' (a follow-up: its event's), 'spike:<theme>:<time>'
    theme TEXT NOT NULL,                  -- the subscribed theme it is on
    headline TEXT NOT NULL,
    reason TEXT NOT NULL,                 -- the threshold met, in words
    outlets INTEGER NOT NULL DEFAULT 0,   -- outlets that had reported it when it was found
    outlet_groups INTEGER NOT NULL DEFAULT 0,
    items INTEGER NOT NULL DEFAULT 0,     -- its reports (a spike: the theme's items in the window)
    crossed_at TEXT NOT NULL,             -- the report that crossed the threshold was published then (UTC)
    found_at TEXT NOT NULL,               -- the round that found it (UTC)
    last_seen TEXT NOT NULL,              -- a spike: the last round that found the theme still above its level
    status TEXT NOT NULL DEFAULT 'pending', -- pending (batch, quiet hours) | queued (in a message) | capped | expired
    message INTEGER REFERENCES alert_messages(id),
    detail TEXT NOT NULL DEFAULT '{}',    -- JSON: what its message shows (reports with outlets and times, evidence)
    UNIQUE (subscription, kind, key)
);
CREATE INDEX alerts_subscription ON alerts (subscription, status, found_at);
-- Every report the alert counted: a later round's event sharing most of them is the same event.
CREATE TABLE alert_items (
    alert INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    item_id INTEGER NOT NULL REFERENCES items(id),
    PRIMARY KEY (alert, item_id)
) WITHOUT ROWID;
-- One e-mail: a batch of alerts, or a day's digest; claimed for sending as the weekly digests are.
CREATE TABLE alert_messages (
    id INTEGER PRIMARY KEY,
    subscription TEXT NOT NULL,
    kind TEXT NOT NULL,                   -- alerts | daily
    label TEXT NOT NULL,                  -- daily: the day (YYYY-MM-DD, its time zone); alerts: when composed
    state TEXT NOT NULL,                  -- rendered | sending | sent | failed | uncertain, as digests.state
    recipients TEXT NOT NULL,             -- JSON array, as the subscription named them when it was composed
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    html TEXT NOT NULL,
    message_id TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT,
    next_attempt_at TEXT,
    claimed_pid INTEGER,
    claimed_host TEXT,
    claimed_at TEXT,
    refused TEXT,                         -- JSON object: recipient -> the server's reply
    delivery_note TEXT,
    UNIQUE (subscription, kind, label)
);
""",
    ),
)
