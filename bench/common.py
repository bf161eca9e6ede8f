"""Shared by the benchmarks: where ../shared is, and news-like items to measure with."""

from __future__ import annotations

import gc
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EVAL = SHARED / "eval"

# Sample sentences, plainly invented, in the register of news: a few on the themes, most not, as in the
# general feeds of large outlets.
ON_TOPIC = [
    "Sample wire: families leave Stepanakert along the Lachin road as fuel runs short.",
    "Sample wire: Baku says Karabakh Armenians will keep their rights after reintegration.",
    "Sample wire: critics in Yerevan blame Russian peacekeepers for standing by.",
    "Sample wire: a refugee registration centre opens in Goris.",
]
SAMPLE_SENTENCES = [
    "Sample wire: central bank raises interest rates to curb inflation.",
    "Sample wire: a storm closes ports along the coast; ferries stay in harbour.",
    "Sample wire: the parliament debates a new budget for schools and hospitals.",
    "Sample wire: a tech company reports record profits and plans new offices.",
    "Sample wire: elections in a European country bring a coalition government.",
    "Sample wire: the national football team wins a friendly match in Baku.",
    "Sample wire: ministers meet in Brussels to discuss energy prices and gas storage.",
    "Sample wire: heavy rain floods roads in the north; schools close for a day.",
    "Sample wire: a new exhibition of medieval manuscripts opens at the museum.",
    "Sample wire: negotiators report progress on a border delimitation commission.",
]


def eval_texts() -> list[tuple[str, str]]:
    """(title, summary HTML) of the real items in ../shared/eval, or [] where it is absent."""
    texts = []
    for name in ("items.jsonl", "ledes_items.jsonl"):
        path = EVAL / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    texts.append((item.get("title") or "", item.get("summary") or ""))
    return texts


def news_items(count: int, seed: int = 7, *, samples_only: bool = False, start: int = 0) -> list[tuple[str, str]]:
    """`count` (title, summary HTML) pairs: the eval items cycled (each copy numbered so none repeats
    exactly), or sample sentences shuffled into 60-word summaries where ../shared is absent."""
    rng = random.Random(seed)
    base = [] if samples_only else eval_texts()
    out = []
    for n in range(start + count):  # from 0 even so: item n reads the same whatever `start` is
        if base:
            title, summary = base[n % len(base)]
            out.append((f"{title} ({n})", summary))
        else:  # one item in ten on the themes
            pool = ON_TOPIC if n % 10 == 0 else SAMPLE_SENTENCES
            words = " ".join(rng.choice(pool) for _ in range(5))
            out.append((rng.choice(pool) + f" ({n})", f"<p>{words}</p>"))
    return out[start:]


DOCUMENT_END = datetime(2023, 10, 1, tzinfo=UTC)


def document(count: int, samples_only: bool = False, first: int = 0) -> bytes:
    """An RSS 2.0 document of `count` news items (see news_items), a minute apart, links with tracking;
    items are numbered from `first`: item n is the same in every document that carries it, so documents
    whose ranges overlap share those items (as a feed's successive captures do)."""
    entries = []
    for n, (title, summary) in enumerate(news_items(count, samples_only=samples_only, start=first), start=first):
        date = (DOCUMENT_END - timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        entries.append(
            f"<item><title>{escape(title)}</title><link>https://sample.example.org/{n}?utm_source=rss</link>"
            f"<guid>https://sample.example.org/{n}</guid><pubDate>{date}</pubDate>"
            f"<description>{escape(summary)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Sample Wire</title>'
        f"<link>https://sample.example.org/</link>{''.join(entries)}</channel></rss>"
    ).encode()


def best_of_each(
    runs: int, works: dict[str, Callable[[], object]], cpu: dict[str, float] | None = None
) -> dict[str, float]:
    """The fastest of `runs` timings of each work, taken in turns: a machine that slows for a while (a
    virtual one's neighbours) slows every work's timing in that round, not one work's every timing, so the
    ratios between them hold. `cpu`, when given, gets the least CPU time of this process each work took,
    which the rest of a busy machine barely moves (for work done in this process only)."""
    times: dict[str, list[float]] = {name: [] for name in works}
    cpu_times: dict[str, list[float]] = {name: [] for name in works}
    for _ in range(runs):
        for name, work in works.items():
            gc.collect()  # each starts from a collected heap, not the garbage the work before it left
            start, start_cpu = time.perf_counter(), time.process_time()
            work()
            times[name].append(time.perf_counter() - start)
            cpu_times[name].append(time.process_time() - start_cpu)
    if cpu is not None:
        cpu.update({name: min(timings) for name, timings in cpu_times.items()})
    return {name: min(timings) for name, timings in times.items()}


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs` timings, in seconds: the least disturbed by the rest of the machine."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)
