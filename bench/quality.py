"""Matching quality on ../shared/eval: the matcher against the baseline an analyst would otherwise use.

    python bench/quality.py            # every eval set: the matcher and the baselines
    python bench/quality.py --halves   # the shipped themes on two fixed halves of all sets, and on all of it

For each eval set, runs `monitor match --jsonl` (the shipped themes) and three baselines built from the
same theme definitions, then scores each with the eval's own score.py:
- phrases: a case-insensitive exact search for the themes' phrases (what the issue names);
- any keyword: an OR query of every term of the theme, as an alert service would run it;
- keywords AND: each rule's terms anywhere in the item, in any order and distance (no proximity, no
  phrases): what a boolean search without `monitor`'s rules would find.
`--halves` is for tuning a theme honestly: choose on one half, read the other (the split is fixed, seed 12,
half of each set in each). Needs ../shared (skips with a message where it is absent).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from common import EVAL, REPO

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.match.rules import Matcher
from monitor.parse.feed import plain_text
from monitor.types import RuleSpec

SETS = [
    ("feed items", "items.jsonl", "labels.jsonl"),
    ("ledes", "ledes_items.jsonl", "ledes_labels.jsonl"),
    ("ledes2", "ledes2_items.jsonl", "ledes2_labels.jsonl"),
    ("Russian ledes", "ru_items.jsonl", "ru_labels.jsonl"),
]
SPLIT_SEED = 12


def baseline(items: Path, out: Path) -> None:
    themes = load_config(REPO / "config" / "feeds.toml").themes
    with items.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as sink:
        for line in source:
            if not line.strip():
                continue
            item = json.loads(line)
            text = f"{plain_text(item.get('title') or '')} {plain_text(item.get('summary') or '')}".casefold()
            found = [key for key, theme in themes.items() if any(p.casefold() in text for p in theme.phrases)]
            sink.write(json.dumps({"link": item["link"], "themes": found}) + "\n")


def keyword_variant(variant: str):
    """A baseline that runs the matcher on the themes rewritten as plain keyword queries."""

    def run(items: Path, out: Path) -> None:
        themes = {}
        for key, theme in load_config(REPO / "config" / "feeds.toml").themes.items():
            if variant == "or":
                words = tuple(dict.fromkeys(t for rule in theme.rules for group in rule.groups for t in group))
                rules = (RuleSpec("any keyword", (words,), within=1, score=85, ordered=False),)
                themes[key] = replace(theme, rules=rules, phrases=(), require=(), exclude=(), threshold=0)
            else:
                rules = tuple(replace(rule, within=100_000, ordered=False) for rule in theme.rules)
                themes[key] = replace(theme, rules=rules, phrases=(), threshold=0)
        engine = Matcher(themes)
        with items.open(encoding="utf-8") as source, out.open("w", encoding="utf-8") as sink:
            for line in source:
                if line.strip():
                    item = json.loads(line)
                    found = engine.match(plain_text(item.get("title") or ""), plain_text(item.get("summary") or ""))
                    sink.write(json.dumps({"link": item["link"], "themes": [m.theme for m in found]}) + "\n")

    return run


def matcher(items: Path, out: Path) -> None:
    with out.open("w", encoding="utf-8") as sink:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(REPO / "config" / "feeds.toml"),
                "match",
                "--jsonl",
                str(items),
            ],
            stdout=sink,
            check=True,
            cwd=REPO,
        )


def score(labels: Path, predictions: Path) -> str:
    return subprocess.run(
        [sys.executable, str(EVAL / "score.py"), str(labels), str(predictions)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def halves(folder: Path) -> None:
    """Every set's items and labels cut in two fixed halves; the shipped themes scored on A, B and all."""
    parts: dict[str, tuple[list[str], list[str]]] = {"A": ([], []), "B": ([], []), "all": ([], [])}
    for _, items, labels in SETS:
        lines = [line for line in (EVAL / items).read_text(encoding="utf-8").splitlines() if line.strip()]
        by_link = {
            json.loads(line)["link"]: line
            for line in (EVAL / labels).read_text(encoding="utf-8").splitlines()
            if line.strip()
        }
        order = list(range(len(lines)))
        random.Random(SPLIT_SEED).shuffle(order)
        for rank, index in enumerate(order):
            link = json.loads(lines[index])["link"]
            for half in ("A" if rank % 2 == 0 else "B", "all"):
                parts[half][0].append(lines[index])
                parts[half][1].append(by_link[link])
    for half, (items_lines, label_lines) in parts.items():
        items, labels, out = (folder / f"{half}-{name}.jsonl" for name in ("items", "labels", "pred"))
        items.write_text("\n".join(items_lines) + "\n", encoding="utf-8")
        labels.write_text("\n".join(label_lines) + "\n", encoding="utf-8")
        matcher(items, out)
        print(f"== half {half}: monitor" if half != "all" else "== all sets: monitor")
        print(score(labels, out))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--halves", action="store_true", help="score the shipped themes on two fixed halves")
    args = parser.parse_args()
    if not (EVAL / "score.py").exists():
        print(f"skipped: no eval set at {EVAL} (it ships in ../shared, not in this repo)")
        return
    if args.halves:
        with tempfile.TemporaryDirectory() as folder:
            halves(Path(folder))
        return
    with tempfile.TemporaryDirectory() as folder:
        for name, items, labels in SETS:
            for method, run in (
                ("monitor", matcher),
                ("baseline: phrases", baseline),
                ("baseline: any keyword", keyword_variant("or")),
                ("baseline: keywords AND, no proximity", keyword_variant("and")),
            ):
                out = Path(folder) / f"{method}-{items}"
                run(EVAL / items, out)
                print(f"== {name}: {method}")
                print(score(EVAL / labels, out))


if __name__ == "__main__":
    main()
