"""Benchmark: theme matching throughput, against feedparser's parse of the same items, in one run.

    python bench/matching.py [--items N]

Prints items/s for the shipped themes on one core and the cost of matching as a share of parsing.
Goal (issue 3): >= 10,000 items/s, i.e. matching costs at most a fifth of parsing.
`--models` also measures matching with a learned model for every theme (trained on all ../shared/eval labels
and used whatever its cross-validation says: the most a poll can pay for them). Needs scikit-learn.
"""

from __future__ import annotations

import argparse
import sys

import feedparser
from common import REPO, best_of, document, eval_texts, news_items

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.match.rules import Matcher
from monitor.parse.feed import plain_text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--models", action="store_true", help="also with a trained model of every theme")
    parser.add_argument(
        "--samples",
        action="store_true",
        help="sample sentences (one item in ten on the themes, as in a general news feed) instead of the eval items",
    )
    args = parser.parse_args()
    items = news_items(args.items, samples_only=args.samples)
    body = document(args.items, samples_only=args.samples)
    texts = [(plain_text(t), plain_text(s)) for t, s in items]

    # feedparser as monitor calls it (parse.py): its own sanitizer off, relative links resolved.
    parse_seconds = best_of(args.runs, lambda: feedparser.parse(body, sanitize_html=False, resolve_relative_uris=True))
    matcher = Matcher(load_config(REPO / "config" / "feeds.toml").themes)
    [matcher.match(t, s) for t, s in texts[:200]]  # warm the compiled themes, as a daemon would be
    fresh = Matcher(load_config(REPO / "config" / "feeds.toml").themes)
    cold_seconds = best_of(1, lambda: [fresh.match(t, s) for t, s in texts])
    match_seconds = best_of(args.runs, lambda: [matcher.match(t, s) for t, s in texts])
    matched = sum(1 for t, s in texts if matcher.match(t, s))

    source = "the real items of ../shared/eval, cycled" if eval_texts() and not args.samples else "sample sentences"
    print(f"items: {len(items)} from {source}; {matched} matched a theme")
    print(f"feedparser parse:     {len(items) / parse_seconds:>10,.0f} items/s  (baseline)")
    print(
        f"matching (warm):      {len(items) / match_seconds:>10,.0f} items/s  "
        f"ratio to parse {match_seconds / parse_seconds:.3f}"
    )
    print(
        f"matching (cold memo): {len(items) / cold_seconds:>10,.0f} items/s  "
        f"ratio to parse {cold_seconds / parse_seconds:.3f}"
    )
    if args.models:
        from model_cv import trained_models

        from monitor.match.model import ModelMatcher

        themes = load_config(REPO / "config" / "feeds.toml").themes
        learned = ModelMatcher(matcher, themes, trained_models(themes))
        [learned.match(t, s) for t, s in texts[:200]]
        model_seconds = best_of(args.runs, lambda: [learned.match(t, s) for t, s in texts])
        print(
            f"matching + models:    {len(items) / model_seconds:>10,.0f} items/s  "
            f"ratio to parse {model_seconds / parse_seconds:.3f}  ({len(learned.models)} theme models; "
            f"{sum(1 for t, s in texts if learned.match(t, s))} matched)"
        )


if __name__ == "__main__":
    main()
