"""Benchmark: grouping a week's items into events, with the digest built and rendered, at three sizes.

    python bench/events.py [--sizes 1000,3000,10000]

A week of N items, all on one theme, with distinct titles and summaries made of the words of the real
items in ../shared/eval (or of the sample sentences where it is absent), from 20 outlets, spread over the
week; one item in five is another outlet's report of an earlier item's event, in other words (a third of
its words replaced, the rest shuffled). Each size runs in a process of its own, so its peak memory is its
own: the time (wall clock, and CPU time, which a busy machine disturbs less) of `digest.build` + text and
HTML rendering, tracemalloc's peak of the same work run again,
the peak resident size of the process, and the events found. Goal (issue 13, at 10,000 items): < 5 s and
< 300 MB.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import resource
import subprocess
import sys
import time
import tracemalloc
from datetime import UTC, datetime, timedelta

from common import REPO, SAMPLE_SENTENCES, eval_texts

sys.path.insert(0, str(REPO / "src"))
from monitor.digest.build import build
from monitor.digest.render import environment, render_html, render_text
from monitor.types import Evidence, Span, ThemedItem, ThemeSpec, WeekData

START = datetime(2023, 9, 25, tzinfo=UTC)
OUTLETS = [f"sample-outlet-{n:02d}" for n in range(20)]
THEMES = {"exodus": ThemeSpec(key="exodus", label="Exodus", phrases=("exodus",), threshold=80)}
_TAG = re.compile(r"<[^>]+>")


def vocabulary(seed: int) -> tuple[list[str], list[str]]:
    """Words of titles and of summaries to draw from."""
    texts = eval_texts() or [(s, s) for s in SAMPLE_SENTENCES]
    titles = [w for title, _ in texts for w in title.split() if w.isalpha()]
    summaries = [w for _, summary in texts for w in html.unescape(_TAG.sub(" ", summary)).split() if w.isalpha()]
    random.Random(seed).shuffle(titles)
    return titles, summaries


def week_items(count: int, seed: int = 13) -> list[ThemedItem]:
    rng = random.Random(seed)
    title_words, summary_words = vocabulary(seed)
    items: list[ThemedItem] = []
    for n in range(count):
        published = START + timedelta(seconds=rng.randrange(7 * 86400))
        if items and n % 5 == 4:  # another outlet's report of an earlier event, in its own words
            source = rng.choice(items[-50:])
            title = _reworded(source.title, title_words, rng)
            summary = _reworded(source.summary, summary_words, rng)
            published = source.published + timedelta(hours=rng.randrange(1, 30))
        else:
            title = " ".join(rng.choice(title_words) for _ in range(rng.randrange(7, 13))) + f" {n}"
            summary = " ".join(rng.choice(summary_words) for _ in range(rng.randrange(30, 60)))
        items.append(
            ThemedItem(
                item_id=n + 1,
                theme="exodus",
                score=rng.randrange(80, 100),
                evidence=(
                    Evidence("phrase", "exodus", 90, (Span("title", 0, len(title.split()[0]), title.split()[0]),)),
                ),
                title=title,
                link=f"https://outlet{n % 20}.example.org/{n}",
                summary=summary,
                published=published,
                date_source="published",
                outlets=(OUTLETS[n % len(OUTLETS)],),
            )
        )
    items.sort(key=lambda i: (i.published, i.item_id))
    return items


def _reworded(text: str, pool: list[str], rng: random.Random) -> str:
    words = text.split()
    for n in rng.sample(range(len(words)), len(words) // 3):
        words[n] = rng.choice(pool)
    rng.shuffle(words)
    return " ".join(words)


def run_once(items: list[ThemedItem]) -> tuple[int, int]:
    data = WeekData(
        week="2023-W39",
        start=START,
        end=START + timedelta(days=7),
        items=tuple(items),
        total_items=len(items),
        previous={},
        troubled=(),
        polled_since=START,
    )
    digest = build(data, THEMES, timezone="UTC", now=START + timedelta(days=8), subject_template="Digest {week}")
    env = environment()
    text, page = render_text(digest, env), render_html(digest, env)
    return len(digest.sections[0].stories), len(text) + len(page)


def measure(size: int) -> dict[str, float]:
    items = week_items(size)
    started, cpu = time.perf_counter(), time.process_time()
    events, chars = run_once(items)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    tracemalloc.start()
    run_once(items)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return {
        "items": size,
        "seconds": seconds,
        "cpu": cpu,
        "traced_mb": peak / 1e6,
        "rss_mb": rss,
        "events": events,
        "chars": chars,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,3000,10000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a size, in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    print(f"{'items':>8} {'seconds':>9} {'CPU s':>7} {'traced MB':>10} {'peak RSS MB':>12} {'events':>7}  growth")
    previous = None
    for size in (int(s) for s in args.sizes.split(",")):
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(size)], capture_output=True, text=True, check=True
        )
        row = json.loads(done.stdout)
        growth = ""
        if previous:
            growth = (
                f"x{row['cpu'] / previous['cpu']:.1f} CPU time for x{size / previous['items']:.1f} items, "
                f"x{row['traced_mb'] / previous['traced_mb']:.1f} memory"
            )
        print(
            f"{size:>8,} {row['seconds']:>9.2f} {row['cpu']:>7.2f} {row['traced_mb']:>10.1f} {row['rss_mb']:>12.1f} "
            f"{row['events']:>7,}  {growth}"
        )
        previous = row


if __name__ == "__main__":
    main()
