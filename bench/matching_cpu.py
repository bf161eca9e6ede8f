"""Benchmark: matching's cost as a share of feedparser's parse of the same items, in CPU seconds of this
process, parse and match runs alternated, best of each: a figure a busy machine barely moves (wall-clock
rates in `matching.py` swing 2-3x under load).

    python bench/matching_cpu.py [--items N] [--rounds R]
"""

from __future__ import annotations

import argparse
import sys
import time

import feedparser
from common import REPO, document, eval_texts, news_items

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.match.rules import Matcher
from monitor.parse.feed import plain_text


def match_to_parse(items: int, rounds: int, samples_only: bool) -> float:
    """CPU time of matching the items over that of parsing them, best of `rounds` alternated runs."""
    texts = [(plain_text(t), plain_text(s)) for t, s in news_items(items, samples_only=samples_only)]
    body = document(items, samples_only=samples_only)
    matcher = Matcher(load_config(REPO / "config" / "feeds.toml").themes)
    [matcher.match(t, s) for t, s in texts]  # warm, as a daemon is
    parse, match = [], []
    for _ in range(rounds):
        start = time.process_time()
        feedparser.parse(body, sanitize_html=False, resolve_relative_uris=True)  # as parse.py calls it
        parse.append(time.process_time() - start)
        start = time.process_time()
        [matcher.match(t, s) for t, s in texts]
        match.append(time.process_time() - start)
    return min(match) / min(parse)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    for samples_only, name in ((False, "on-topic (eval items)"), (True, "general mix (samples)")):
        if not samples_only and not eval_texts():
            print(f"{name}: skipped, ../shared/eval is absent")
            continue
        ratio = match_to_parse(args.items, args.rounds, samples_only)
        print(f"matching / feedparser parse, CPU seconds, {name}: {ratio:.3f}")


if __name__ == "__main__":
    main()
