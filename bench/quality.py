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

    python bench/quality.py --eval tests/data/quality   # another folder laid out as ../shared/eval

`--eval` reads the sets from another folder (those it lacks are left out, and said so): tests/test_bench.py
runs it on a dozen invented sample items, so that CI, which has no ../shared, runs the benchmark too. A
folder without the eval's score.py is scored by monitor's own figures (monitor.learn.quality, which
tests/test_labels.py checks against score.py), printed as score.py prints them.
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
from monitor.jsonlines import json_lines
from monitor.learn.quality import quality, read_label_lines
from monitor.match.rules import Matcher
from monitor.parse.feed import plain_text
from monitor.types import RuleSpec

SETS = [
    ("feed items", "items.jsonl", "labels.jsonl"),
    ("ledes", "ledes_items.jsonl", "ledes_labels.jsonl"),
    ("ledes2", "ledes2_items.jsonl", "ledes2_labels.jsonl"),
    ("ledes3", "ledes3_items.jsonl", "ledes3_labels.jsonl"),
    ("Russian ledes", "ru_items.jsonl", "ru_labels.jsonl"),
    ("Russian ledes 2", "ru2_items.jsonl", "ru2_labels.jsonl"),
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
                # A boolean search knows no agent either: who acts is the matcher's, not the baseline's.
                rules = tuple(
                    replace(rule, within=100_000, ordered=False, agent=(), unless=(), unless_before=())
                    for rule in theme.rules
                )
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


def score(labels: Path, predictions: Path, scorer: Path | None) -> str:
    """The report of `scorer` (the eval's score.py), or the same report from monitor's own figures."""
    if scorer is None:
        return own_score(labels, predictions)
    return subprocess.run(
        [sys.executable, str(scorer), str(labels), str(predictions)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def own_score(labels: Path, predictions: Path) -> str:
    """score.py's report (per theme P, R, F1, TP, FP, FN; micro and macro F1) from monitor.learn.quality's figures:
    every labelled item judged for every theme that is labelled or predicted anywhere."""

    def read(path: Path) -> dict[str, frozenset[str]]:
        with path.open("rb") as stream:
            lines, problems = read_label_lines(json_lines(stream), str(path))
        if problems:
            raise SystemExit(problems[0])
        return {line.link: line.themes for line in lines}

    judged, predicted = read(labels), read(predictions)
    themes = sorted(set().union(*judged.values(), *predicted.values()))
    ids = {link: n for n, link in enumerate(judged)}
    verdicts = {(ids[link], theme): theme in found for link, found in judged.items() for theme in themes}
    scores = {ids[link]: dict.fromkeys(found, 100) for link, found in predicted.items() if link in ids}
    figures = quality(themes, verdicts, scores, titles={})
    lines = [f"{'theme':<20}{'P':>7}{'R':>7}{'F1':>7}{'TP':>5}{'FP':>5}{'FN':>5}"]
    for f in figures:
        lines.append(f"{f.theme:<20}{f.precision:>7.3f}{f.recall:>7.3f}{f.f1:>7.3f}{f.tp:>5}{f.fp:>5}{f.fn:>5}")
    tp, fp, fn = (sum(getattr(f, count) for f in figures) for count in ("tp", "fp", "fn"))
    p, r = tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fn) if tp + fn else 0.0
    micro = 2 * p * r / (p + r) if p + r else 0.0
    macro = sum(f.f1 for f in figures) / len(figures) if figures else 0.0
    unseen = len(set(judged) - set(predicted))
    if unseen:
        lines.append(f"note: {unseen} labelled items have no prediction line (counted as no theme)")
    lines.append(f"items={len(judged)} micro_f1={micro:.3f} macro_f1={macro:.3f}")
    return "\n".join(lines) + "\n"


def halves(source: Path, folder: Path, scorer: Path | None) -> None:
    """Every set's items and labels cut in two fixed halves; the shipped themes scored on A, B and all."""
    parts: dict[str, tuple[list[str], list[str]]] = {"A": ([], []), "B": ([], []), "all": ([], [])}
    for _, items, labels in SETS:
        if not (source / items).exists():
            continue
        lines = [line for line in (source / items).read_text(encoding="utf-8").splitlines() if line.strip()]
        by_link = {
            json.loads(line)["link"]: line
            for line in (source / labels).read_text(encoding="utf-8").splitlines()
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
        print(score(labels, out, scorer))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--halves", action="store_true", help="score the shipped themes on two fixed halves")
    parser.add_argument(
        "--eval", type=Path, default=EVAL, metavar="DIR", help="the eval folder (default: ../shared/eval)"
    )
    args = parser.parse_args()
    source: Path = args.eval.resolve()
    sets = [(name, items, labels) for name, items, labels in SETS if (source / items).exists()]
    if not sets:
        print(f"skipped: no eval set at {source} (it ships in ../shared, not in this repo)")
        return
    scorer = source / "score.py" if (source / "score.py").exists() else None
    print(f"eval sets in {source}, scored by {scorer or 'monitor.learn.quality (no score.py there)'}")
    left_out = [name for name, items, _ in SETS if not (source / items).exists()]
    if left_out:
        print(f"left out (not in {source}): {', '.join(left_out)}")
    if args.halves:
        with tempfile.TemporaryDirectory() as folder:
            halves(source, Path(folder), scorer)
        return
    with tempfile.TemporaryDirectory() as folder:
        for name, items, labels in sets:
            for method, run in (
                ("monitor", matcher),
                ("baseline: phrases", baseline),
                ("baseline: any keyword", keyword_variant("or")),
                ("baseline: keywords AND, no proximity", keyword_variant("and")),
            ):
                out = Path(folder) / f"{method}-{items}"
                run(source / items, out)
                print(f"== {name}: {method}")
                print(score(source / labels, out, scorer))


if __name__ == "__main__":
    main()
