"""Benchmark: this checkout's matcher against another checkout's, interleaved in one process, so that a
busy machine slows both alike.

    python bench/matching_ab.py OTHER_SRC [--samples] [--items N] [--rounds R]

OTHER_SRC is the `src` folder of another checkout (e.g. `git archive main src | tar -x -C /tmp/main`).
Prints the best items/s of each over R interleaved rounds, each going first in turn.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import sys
import time

from common import REPO, news_items

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.match.rules import Matcher
from monitor.parse.feed import plain_text


def other_matcher(src: str) -> type:
    spec = importlib.util.spec_from_file_location(
        "monitor_other", f"{src}/monitor/__init__.py", submodule_search_locations=[f"{src}/monitor"]
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["monitor_other"] = module
    spec.loader.exec_module(module)
    return importlib.import_module("monitor_other.match").Matcher


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("other")
    parser.add_argument("--samples", action="store_true")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    texts = [(plain_text(t), plain_text(s)) for t, s in news_items(args.items, samples_only=args.samples)]
    themes = load_config(REPO / "config" / "feeds.toml").themes
    engines = {"other": other_matcher(args.other)(themes), "this": Matcher(themes)}
    for engine in engines.values():
        [engine.match(t, s) for t, s in texts[:500]]
    best = dict.fromkeys(engines, float("inf"))
    for round_ in range(args.rounds):
        for name, engine in sorted(engines.items(), reverse=bool(round_ % 2)):  # each goes first in turn
            gc.collect()
            start = time.perf_counter()
            for title, summary in texts:
                engine.match(title, summary)
            best[name] = min(best[name], time.perf_counter() - start)
    for name, seconds in best.items():
        print(f"{name}: {len(texts) / seconds:>8,.0f} items/s")


if __name__ == "__main__":
    main()
