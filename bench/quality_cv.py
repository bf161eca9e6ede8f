"""Matching quality on every ../shared/eval set, and on two halves of each (a fixed-seed split), so that a
parameter chosen on one half can be scored on the other.

    python bench/quality_cv.py [--seed 12] [--set NAME=VALUE ...]

`--set CROSS_FIELD_WINDOW=12` overrides a module constant of monitor.match (rules.py, or actors.py:
`AGENT_REACH`, `BLOCK_REACH`, `PASSING_PENALTY`) for the run; `--config FILE` scores another feeds.toml. A
sweep (`--grid`) chooses on half A, reports half B, and the other way round; a grid entry may name a
config too: `--grid config=a.toml config=b.toml,AGENT_REACH=12`. Prints per theme P/R/F1 on the whole of each set and
the macro F1 of each half.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from types import ModuleType

from common import EVAL, REPO

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.match import actors as actors_module
from monitor.match import rules as match_module
from monitor.parse.feed import plain_text

CONFIG = REPO / "config" / "feeds.toml"
SETS = ["items", "ledes", "ledes2", "ledes3", "ru", "ru2"]


def load(name: str) -> tuple[list[dict], dict[str, set[str]]]:
    prefix = "" if name == "items" else f"{name}_"
    items = [json.loads(line) for line in (EVAL / f"{prefix}items.jsonl").open(encoding="utf-8") if line.strip()]
    labels = {}
    for line in (EVAL / f"{'' if name == 'items' else name + '_'}labels.jsonl").open(encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            labels[row["link"]] = set(row.get("themes") or [])
    return items, labels


def halves(links: list[str], seed: int) -> tuple[set[str], set[str]]:
    order = sorted(links)
    random.Random(seed).shuffle(order)
    return set(order[: len(order) // 2]), set(order[len(order) // 2 :])


def scores(labels: dict[str, set[str]], predicted: dict[str, set[str]], links: set[str]) -> dict[str, tuple]:
    themes = sorted(set().union(*(labels[k] for k in links)) | set().union(*(predicted.get(k, set()) for k in links)))
    out = {}
    for theme in themes:
        tp = sum(1 for k in links if theme in labels[k] and theme in predicted.get(k, ()))
        fp = sum(1 for k in links if theme not in labels[k] and theme in predicted.get(k, ()))
        fn = sum(1 for k in links if theme in labels[k] and theme not in predicted.get(k, ()))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        out[theme] = (p, r, 2 * p * r / (p + r) if p + r else 0.0, tp, fp, fn)
    return out


def macro(table: dict[str, tuple]) -> float:
    return sum(v[2] for v in table.values()) / len(table) if table else 0.0


def module_of(name: str) -> ModuleType:
    """Where a tuning constant lives: rules.py or actors.py."""
    return actors_module if hasattr(actors_module, name) else match_module


def run(settings: dict[str, int], seed: int, config: Path = CONFIG) -> dict[str, tuple[float, float]]:
    """set name -> (macro F1 of half A, of half B) under the given module settings."""
    saved = {name: getattr(module_of(name), name) for name in settings}
    for name, value in settings.items():
        setattr(module_of(name), name, value)
    try:
        matcher = match_module.Matcher(load_config(config).themes)
        out = {}
        for name in SETS:
            items, labels = load(name)
            predicted = {
                item["link"]: {
                    m.theme
                    for m in matcher.match(plain_text(item.get("title") or ""), plain_text(item.get("summary") or ""))
                }
                for item in items
            }
            a, b = halves([item["link"] for item in items if item["link"] in labels], seed)
            out[name] = (macro(scores(labels, predicted, a)), macro(scores(labels, predicted, b)))
        return out
    finally:
        for name, value in saved.items():
            setattr(module_of(name), name, value)


def cross_validate(grid: list[str], seed: int) -> None:
    """Choose the setting with the best mean macro F1 (over the sets) on one half; report it on the other.
    Ties go to the first setting listed, so list the conservative one first."""
    results = {}
    for option in grid:
        pairs = dict(pair.split("=", 1) for pair in option.split(","))
        config = Path(pairs.pop("config", CONFIG))
        results[option] = run({k: int(v) for k, v in pairs.items()}, seed, config)
        a = sum(v[0] for v in results[option].values()) / len(SETS)
        b = sum(v[1] for v in results[option].values()) / len(SETS)
        print(
            f"{option:<40} mean macro F1 half A {a:.3f}  half B {b:.3f}  "
            + "  ".join(f"{k} {v[0]:.3f}/{v[1]:.3f}" for k, v in results[option].items())
        )
    for tune, report in ((0, 1), (1, 0)):
        chosen = max(grid, key=lambda o: (sum(v[tune] for v in results[o].values()), -grid.index(o)))
        print(
            f"chosen on half {'AB'[tune]}: {chosen}; on half {'AB'[report]}: "
            + "  ".join(f"{k} {v[report]:.3f}" for k, v in results[chosen].items())
            + "  (first setting there: "
            + "  ".join(f"{k} {v[report]:.3f}" for k, v in results[grid[0]].items())
            + ")"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--brief", action="store_true", help="macro F1 lines only")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the feeds.toml whose themes are scored")
    parser.add_argument("--halves", action="store_true", help="also per theme on each half")
    parser.add_argument(
        "--grid",
        nargs="+",
        metavar="NAME=VALUE[,NAME=VALUE]",
        help="cross-validate a choice among settings: choose on one half, report the other",
    )
    args = parser.parse_args()
    if args.grid:
        cross_validate(args.grid, args.seed)
        return
    for setting in args.set:
        name, value = setting.split("=", 1)
        setattr(module_of(name), name, int(value))
    matcher = match_module.Matcher(load_config(args.config).themes)
    for name in SETS:
        items, labels = load(name)
        predicted = {}
        for item in items:
            found = matcher.match(plain_text(item.get("title") or ""), plain_text(item.get("summary") or ""))
            predicted[item["link"]] = {m.theme for m in found}
        links = [item["link"] for item in items if item["link"] in labels]
        a, b = halves(links, args.seed)
        whole = scores(labels, predicted, set(links))
        if not args.brief:
            print(f"== {name} ({len(links)} items)")
            parts = [("", whole)]
            if args.halves:
                parts += [("A ", scores(labels, predicted, a)), ("B ", scores(labels, predicted, b))]
            for part, table in parts:
                for theme, (p, r, f1, tp, fp, fn) in table.items():
                    print(f"  {part}{theme:<20} P {p:.3f} R {r:.3f} F1 {f1:.3f}  tp {tp} fp {fp} fn {fn}")
        print(
            f"{name:<7} macro F1 whole {macro(whole):.3f}  half A {macro(scores(labels, predicted, a)):.3f}"
            f"  half B {macro(scores(labels, predicted, b)):.3f}"
        )


if __name__ == "__main__":
    main()
