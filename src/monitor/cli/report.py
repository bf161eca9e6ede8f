"""What the CLI prints: poll lines, round summaries, feed health, search results. Pure text formatting.

Every text that a feed or a server supplied (titles, snippets, links, errors, notes) and every feed URL
goes through `textsafe.shown` here: no terminal control characters, no credentials, whatever the
database holds (text stored before control characters were stripped at parse time included).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..config.settings import POLLING, default_of
from ..learn.quality import Change, ThemeQuality, macro_f1
from ..learn.suggestions import MIN_SUPPORT, Suggestions
from ..learn.teach import NearMiss
from ..text.safe import one_line, shown
from ..types import FeedReport, FetchOutcome, Span, ThemeMatch
from ..units import format_size, from_iso
from ..update.policy import in_future

_LABELS = {
    FetchOutcome.OK: "ok",
    FetchOutcome.PARTIAL: "partial",
    FetchOutcome.NOT_MODIFIED: "not modified",
    FetchOutcome.UNCHANGED: "unchanged",
    FetchOutcome.ERROR: "error",
    FetchOutcome.GONE: "gone",
    FetchOutcome.SKIPPED: "skipped",
}


def feed_line(report: FeedReport) -> str:
    """One line per feed and round: `ok  name  3 new, 1 updated, 20 seen  (200, 41.2 kB, 0.31s)`."""
    label = _LABELS[report.outcome]
    if report.outcome in (FetchOutcome.OK, FetchOutcome.PARTIAL):
        counts = report.counts
        detail = f"{counts.new} new, {counts.updated} updated, {counts.seen} seen"
        if counts.matched:
            detail += f"; {counts.matched} on themes"
    elif report.outcome is FetchOutcome.SKIPPED:
        detail = shown(report.note)
    elif report.outcome in (FetchOutcome.NOT_MODIFIED, FetchOutcome.UNCHANGED):
        detail = "nothing new"
    else:
        detail = shown(report.error) or "failed"
    if report.outcome is FetchOutcome.PARTIAL and report.error:
        detail += f"; {shown(report.error)}"
    facts = []
    if report.status is not None:
        facts.append(str(report.status))
    if report.bytes_read:
        facts.append(format_size(report.bytes_read))
    if report.outcome is not FetchOutcome.SKIPPED:
        facts.append(f"{report.duration:.2f}s")
    line = f"{label:<13} {report.feed:<28} {detail}" + (f"  ({', '.join(facts)})" if facts else "")
    if report.note and report.outcome is not FetchOutcome.SKIPPED:
        line += f"\n{'':<13} {'':<28} note: {shown(report.note)}"
    return line


def round_summary(reports: Sequence[FeedReport], seconds: float) -> str:
    by_outcome = Counter(_LABELS[r.outcome] for r in reports)
    new = sum(r.counts.new for r in reports)
    updated = sum(r.counts.updated for r in reports)
    matched = sum(r.counts.matched for r in reports)
    outcomes = ", ".join(f"{count} {label}" for label, count in sorted(by_outcome.items()))
    return (
        f"{len(reports)} feed{'s' if len(reports) != 1 else ''} in {seconds:.1f}s: {outcomes or 'none'}; "
        f"{new} new item{'s' if new != 1 else ''}, {updated} updated, {matched} on themes"
    )


def health_rows(rows: Sequence[dict[str, Any]], now: datetime, stale_after: timedelta) -> list[dict[str, Any]]:
    """Feed rows with a plain `state` (ok, stale, failing, dead, never polled), when the next poll is due and
    how old the newest item is (`store.NEWEST`): a feed that answers with nothing new for `stale_after` is
    stale (`store.STALE`, which status counts, says the same)."""
    out = []
    for row in rows:
        newest = from_iso(row.get("newest"))
        if row["dead"]:
            state, next_poll = "dead", "never (revive)"
        elif row["last_fetch_at"] is None:
            state, next_poll = "new", "next round"
        else:
            state = "failing" if row["consecutive_failures"] else "ok"
            if state == "ok" and row["last_success_at"] and newest and newest < now - stale_after:
                state = "stale"
            last_fetch = from_iso(row["last_fetch_at"])
            assert last_fetch is not None
            due = last_fetch + timedelta(seconds=row["interval_seconds"])
            retry = from_iso(row["retry_not_before"])
            if retry and retry > due:
                due = retry
            if in_future(last_fetch, now):  # the clock was set back: it counts as due (policy.as_of)
                due = now
            next_poll = "now" if due <= now else f"{due:%Y-%m-%d %H:%M}"
        out.append(
            {
                "name": row["name"],
                "url": shown(row["url"]),
                "state": state,
                "items": row["items"],
                "last_success_at": _short(from_iso(row["last_success_at"])),
                "last_error": shown(row["last_error"]) or None,
                "last_error_at": _short(from_iso(row["last_error_at"])),
                "consecutive_failures": row["consecutive_failures"],
                "next_poll": next_poll,
                "dead": bool(row["dead"]),
                "title": shown(row["title"]) or None,
                "newest_item_at": _short(newest),
                "newest_item_age": _ago(now - newest) if newest else None,
            }
        )
    return out


def search_lines(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = []
    for row in map(shown_row, rows):
        date = row["published"][:10] + ("*" if row["date_source"] == "first_seen" else "")
        lines.append(f"{date}  {row['feed']}  {row['title']}")
        if row["snippet"] and row["snippet"] != row["title"]:
            lines.append(f"    {row['snippet']}")
        if row["link"]:
            lines.append(f"    {row['link']}")
    return lines


def shown_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row read back from the database, each text made printable (`textsafe.shown`)."""
    return {key: shown(value) if isinstance(value, str) else value for key, value in row.items()}


def _short(moment: datetime | None) -> str | None:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else None


def highlight(text: str, spans: Sequence[Span], mark: Callable[[str], str], context: int = 70) -> str:
    """`text` with each span marked, cut to the neighbourhood of the spans."""
    if not spans:
        return one_line(text)
    ordered = sorted({(s.start, s.end) for s in spans})
    start = max(0, ordered[0][0] - context)
    end = min(len(text), ordered[-1][1] + context)
    out, position = [], start
    for span_start, span_end in ordered:
        if span_start < position:
            continue
        # Cleaned piece by piece: the spans index the text as given, and `mark` may add terminal styling.
        out += [one_line(text[position:span_start]), mark(one_line(text[span_start:span_end]))]
        position = span_end
    out.append(one_line(text[position:end]))
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(text) else "")


def match_lines(
    matches: Sequence[ThemeMatch], labels: dict[str, str], title: str, summary: str, mark: Callable[[str], str]
) -> list[str]:
    """What `monitor match "text"` prints: each theme with its score and the evidence highlighted."""
    lines = []
    fields = {"title": title, "summary": summary}
    for match in matches:
        lines.append(f"{match.theme}  {match.score}  {labels.get(match.theme, '')}")
        for evidence in match.evidence:
            who = f", agent: {evidence.agent}" if evidence.agent else ""
            lines.append(f'  {evidence.kind} "{evidence.name}" ({evidence.score}{who})')
            for field in ("title", "summary"):
                spans = [s for s in evidence.spans if s.field == field]
                if spans:
                    lines.append(f"    {field}: {highlight(fields[field], spans, mark)}")
    return lines


def health_problems(pid: int | None, figures: dict[str, Any], config: Any, now: datetime) -> list[str]:
    """Why the service is unhealthy (none: healthy): no daemon, no poll for too long, every feed failing."""
    problems = []
    if not pid:
        problems.append("the daemon is not running (`monitor run`)")
    longest = max((f.interval for f in config.feeds), default=default_of(POLLING, "interval"))
    last = from_iso(figures["last_fetch"])
    if pid and last and now - last > max(2 * longest, timedelta(minutes=15)):
        problems.append(f"no feed polled since {last:%Y-%m-%d %H:%M} UTC")
    future = figures.get("future")
    if pid and not last and future and future["fetches"]:
        problems.append(
            f"no feed polled since the clock was set back (the last polls are dated up to "
            f"{future['latest'][:16].replace('T', ' ')} UTC, in the future)"
        )
    feeds = figures["feeds"]
    # A stale feed answers: the service works, the outlet is quiet (shown, not a health problem).
    polled = feeds.get("ok", 0) + feeds.get("stale", 0) + feeds.get("failing", 0) + feeds.get("dead", 0)
    if polled and not feeds.get("ok") and not feeds.get("stale"):
        problems.append("every polled feed is failing or dead")
    return problems


def status_lines(report: dict[str, Any], timezone: str, now: datetime) -> list[str]:
    daemon = report["daemon"]
    feeds = report["feeds"]
    last = from_iso(report["last_fetch"])
    ago = f" ({_ago(now - last)} ago)" if last else ""
    week_themes = ", ".join(f"{k} {v}" for k, v in sorted(report["themes_week"].items())) or "none"
    today_themes = ", ".join(f"{k} {v}" for k, v in sorted(report["themes_today"].items())) or "none"
    digest = report["last_digest"]
    lines = [
        f"daemon       {'running (pid ' + str(daemon['pid']) + ')' if daemon['running'] else 'not running'}",
        f"last poll    {f'{last:%Y-%m-%d %H:%M} UTC' if last else 'never'}{ago}",
        "feeds        " + (", ".join(f"{n} {s}" for s, n in sorted(feeds.items())) or "none configured"),
        f"items        today {report['items_today']}, this week {report['items_week']}",
        f"themes       today: {today_themes}; this week: {week_themes}",
        f"next digest  {report['next_digest']['week']} due {report['next_digest']['due'][:16].replace('T', ' ')} "
        f"{timezone}" + (f" (last: {digest[0]} {digest[1]})" if digest else ""),
        _fetch_log_line(report.get("fetch_log")),
        *_clock_lines(report.get("future"), now),
        "health       " + ("ok" if report["healthy"] else "UNHEALTHY: " + "; ".join(report["problems"])),
    ]
    return lines


def _clock_lines(future: dict[str, Any] | None, now: datetime) -> list[str]:
    """Times stored in the future: the clock was set back (or was ahead when they were written)."""
    if not future:
        return []
    latest = from_iso(future["latest"])
    assert latest is not None
    what = " and ".join(
        part
        for part in (
            f"{future['feeds']} feed(s) last polled" if future["feeds"] else "",
            f"{future['fetches']} poll(s) logged" if future["fetches"] else "",
        )
        if part
    )
    return [
        f"clock        {what} in the future, up to {latest:%Y-%m-%d %H:%M} UTC ({_ago(latest - now)} ahead): "
        f"the clock was set back, or was ahead then; such feeds count as due and are polled"
    ]


def _fetch_log_line(log: dict[str, Any] | None) -> str:
    if not log:
        return "fetch log    empty"
    since = f" since {log['oldest'][:10]}" if log["oldest"] else ""
    pruned = f"{log['pruned']:,} pruned, last on {log['last_pruned'][:10]}" if log["last_pruned"] else "none pruned yet"
    return f"fetch log    {log['rows']:,} rows kept{since}; {pruned}"


def _ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h"
    return f"{minutes // 1440} days"


def quality_lines(figures: Sequence[ThemeQuality], items: int) -> list[str]:
    """What `monitor themes --quality` prints: a table of figures per theme, then what each gets wrong."""
    if not items:
        return ["no labelled items yet: `monitor label ITEM_ID THEME yes|no` or `monitor label --import FILE.jsonl`"]
    lines = [f"{'theme':<20}{'P':>7}{'R':>7}{'F1':>7}{'TP':>5}{'FP':>5}{'FN':>5}{'judged':>8}"]
    for f in figures:
        lines.append(
            f"{f.theme:<20}{f.precision:>7.3f}{f.recall:>7.3f}{f.f1:>7.3f}{f.tp:>5}{f.fp:>5}{f.fn:>5}{f.judged:>8}"
        )
    lines.append(f"macro F1 {macro_f1(figures):.3f} on {items} labelled item(s), matched with the config's themes")
    for f in figures:
        if f.wrong:
            lines.append(f"\n{f.theme}: {f.fp} wrongly matched, {f.fn} missed")
        for w in f.wrong:
            what = "missed " if w.verdict else "matched"
            lines.append(f"  {what} {w.item_id:>7} {w.score:>4}  {shown(one_line(w.title))}")
    return lines


def change_lines(changes: Sequence[Change], themes: Sequence[str]) -> list[str]:
    """What `monitor rematch --dry-run` prints: per theme, the items that would enter (+) or leave (-)."""
    lines = []
    for theme in themes:
        mine = [c for c in changes if c.theme == theme]
        entering = sum(c.entering for c in mine)
        lines.append(f"{theme}: {entering} would enter, {len(mine) - entering} would leave")
        lines += [
            f"  {'+' if c.entering else '-'} {c.item_id:>7} {c.score:>4}  {shown(one_line(c.title))}" for c in mine
        ]
    gone = sorted({c.theme for c in changes} - set(themes))
    for theme in gone:
        gone_matches = sum(c.theme == theme for c in changes)
        lines.append(f"{theme}: no longer configured; {gone_matches} stored match(es) would go")
    lines.append("nothing changed (--dry-run)")
    return lines


def review_lines(number: int, miss: NearMiss, title: str, summary: str, mark: Callable[[str], str]) -> list[str]:
    """One item of `monitor review`: why it is a near miss, then the evidence of the loosened theme."""
    lines = [
        f"{number}. item {miss.item_id}  score {miss.score}  ({', '.join(miss.reasons)})",
        f"   {shown(one_line(title))}",
    ]
    fields = {"title": title, "summary": summary}
    for evidence in miss.evidence:
        lines.append(f'   {evidence.kind} "{evidence.name}" ({evidence.score})')
        for field in ("title", "summary"):
            spans = [s for s in evidence.spans if s.field == field]
            if spans:
                lines.append(f"     {field}: {highlight(fields[field], spans, mark)}")  # cleaned piece by piece
    return lines


def suggestion_lines(found: Suggestions, limit: int) -> list[str]:
    """What `monitor suggest` prints: numbered rules, those that help the labelled F1 first, each with what it
    would add and catch on the labels and the theme's precision and F1 with it."""
    now = found.without
    if not found.missed:
        return [f"{found.theme}: no labelled positive is missed: nothing to suggest"]
    lines = [
        f"{found.theme}: {found.missed} labelled positive(s) missed, {found.negatives} labelled negative(s); "
        f"now precision {now.precision:.3f}, F1 {now.f1:.3f}",
    ]
    if not found.found:
        return [*lines, "  no word or two of the missed positives would add one of them: nothing to suggest"]
    header = f"  {'N':>3} {'+yes':>5} {'+no':>4} {'P with':>7} {'F1 with':>8}  term, and where in the theme"
    shown_ = found.found[:limit]
    helping = [s for s in shown_ if s.helps]
    if helping:
        lines += ["suggestions that raise the labelled F1:", header]
    for number, s in enumerate(shown_, start=1):
        if number == len(helping) + 1:
            lines += [
                f"suggestions that do not help (F1 not raised, fewer than {MIN_SUPPORT} labelled yes added, "
                "too many labelled no among them, precision lost, or the term as common in labelled no):",
                header,
            ]
        lines.append(
            f"  {number:>3} {s.catches:>5} {s.wrongly:>4} {s.with_it.precision:>7.3f} {s.with_it.f1:>8.3f}  "
            f"{shown(s.term)} {shown(s.where)}  (adds {', '.join(map(str, s.examples[:3]))}"
            + (f"; catches {', '.join(map(str, s.caught[:3]))})" if s.caught else ")")
        )
    lines.append(
        f"`monitor suggest {found.theme} --apply N` writes suggestion N into the config as a new rule "
        "(nothing is changed until then)"
    )
    return lines


def suggestions_json(found: Suggestions, limit: int) -> dict[str, Any]:
    def figures(f: Any) -> dict[str, Any]:
        return {"tp": f.tp, "fp": f.fp, "fn": f.fn, "precision": round(f.precision, 3), "f1": round(f.f1, 3)}

    return {
        "theme": found.theme,
        "missed_positives": found.missed,
        "negatives": found.negatives,
        "now": figures(found.without),
        "suggestions": [
            {
                "number": number,
                "term": s.term,
                "where": s.where,
                "rule": s.rule.name,
                "helps": s.helps,
                "catches": s.catches,
                "wrongly": s.wrongly,
                "examples": list(s.examples),
                "caught": list(s.caught),
                "with": figures(s.with_it),
            }
            for number, s in enumerate(found.found[:limit], start=1)
        ],
    }
