"""The teaching loop as an analyst uses it, measured on ../shared/eval: label half of a development set, accept
what `monitor suggest` proposes that helps (the first suggestion that helps, again and again, as `--apply 1`
would), train a model (`monitor train`), and score the other half; then the other way round.

    python bench/teaching_loop.py [--seed 12] [--rounds 8] [--sets items ledes ...] [--no-model] [--eval DIR]
        [--config FILE] [--together]

Every item is scored once, by the themes taught on the half it is not in, so each set's P/R/F1 "after" is a
two-fold cross-validation of the whole loop, "before" the config's themes on the same items. With
--together the halves of all sets are taught at once (an analyst with more labels), each set scored apart. Per theme and
set: P/R/F1 before and after, the suggestions accepted on each half and whether the model became active.
The loop uses the code of the commands (`learn.suggestions.suggest`, `learn.train.train_theme`); only the
database and the config file are left out. Reads ../shared/eval (or --eval DIR; a set whose files are
absent is skipped with a message); scikit-learn for the model (without it, or with --no-model, suggestions
only).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

from common import EVAL, REPO
from quality_cv import SETS, halves

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.errors import UsageError
from monitor.learn import train
from monitor.learn.suggestions import Figures, suggest
from monitor.match.model import ModelMatcher, ThemeModel
from monitor.match.rules import Matcher
from monitor.parse.feed import plain_text
from monitor.types import ThemeSpec

CONFIG = REPO / "config" / "feeds.toml"


def taught(
    spec: ThemeSpec,
    verdicts: dict[int, bool],
    texts: dict[int, tuple[str, str]],
    written: dict,
    others: list[ThemeSpec],
    rounds: int,
    model: bool,
) -> tuple[ThemeSpec, list[str], ThemeModel | None, str]:
    """The theme after the loop on the labelled `verdicts`: suggestions accepted while one helps, then a model."""
    accepted = []
    for _ in range(rounds):
        found = suggest(spec, verdicts, texts, written, others)
        best = next((s for s in found.found if s.helps), None)
        if best is None:
            break
        spec = replace(spec, rules=(*spec.rules, best.rule))
        accepted.append(f"{best.term} (+{best.catches}/-{best.wrongly})")
    if not model:
        return spec, accepted, None, "no model"
    examples = [(*texts[i], verdicts[i]) for i in sorted(verdicts)]
    trained = train.train_theme(spec, examples)
    return spec, accepted, trained.model if trained.active else None, "active" if trained.active else "inactive"


def decided(spec: ThemeSpec, model: ThemeModel | None, texts: dict[int, tuple[str, str]], ids: set[int]) -> set[int]:
    rules = Matcher({spec.key: spec})
    matcher = ModelMatcher(rules, {spec.key: spec}, {spec.key: model}) if model else rules
    return {i for i in ids if matcher.match(*texts[i])}


def figures(verdicts: dict[int, bool], matched: set[int]) -> Figures:
    tp = sum(1 for i, v in verdicts.items() if v and i in matched)
    fp = sum(1 for i, v in verdicts.items() if not v and i in matched)
    return Figures(tp, fp, sum(verdicts.values()) - tp)


def files(folder: Path, name: str) -> tuple[Path, Path]:
    prefix = "" if name == "items" else f"{name}_"
    return folder / f"{prefix}items.jsonl", folder / f"{prefix}labels.jsonl"


def load(folder: Path, name: str) -> tuple[list[dict], dict[str, set[str]]]:
    """A set's items and its labels (link -> themes), as bench/quality_cv.py reads them."""
    items_file, labels_file = files(folder, name)
    items = [json.loads(line) for line in items_file.open(encoding="utf-8") if line.strip()]
    rows = [json.loads(line) for line in labels_file.open(encoding="utf-8") if line.strip()]
    return items, {row["link"]: set(row.get("themes") or []) for row in rows}


def run(names: list[str], themes: dict[str, ThemeSpec], written: dict, args: argparse.Namespace) -> dict:
    """The loop taught on half of each of the sets `names` together and scored on the other halves: per set,
    (macro F1 before, after)."""
    texts, judged, set_of = {}, {}, {}
    a: set[int] = set()
    b: set[int] = set()
    for name in names:
        items, labels = load(args.eval, name)
        links = {}
        for item in items:
            if item["link"] in labels:
                number = len(texts) + 1
                texts[number] = (plain_text(item.get("title") or ""), plain_text(item.get("summary") or ""))
                judged[number], set_of[number], links[number] = labels[item["link"]], name, item["link"]
        a_links, b_links = halves(list(links.values()), args.seed)
        a |= {i for i, link in links.items() if link in a_links}
        b |= {i for i, link in links.items() if link in b_links}
    before, after, notes = {}, {}, {}
    for key, spec in themes.items():
        verdicts = {i: key in judged[i] for i in texts}
        before[key], after[key], notes[key] = decided(spec, None, texts, set(texts)), set(), []
        for teach, held in ((a, b), (b, a)):
            others = [t for k, t in themes.items() if k != key]
            half = {i: verdicts[i] for i in teach}
            new, accepted, model, state = taught(
                spec, half, texts, written.get(key, {}), others, args.rounds, args.model
            )
            after[key] |= decided(new, model, texts, held)
            notes[key].append(f"[{'AB'[teach is b]}: {', '.join(accepted) or 'nothing accepted'}; model {state}]")
    if len(names) > 1:
        print(f"== {', '.join(names)} taught together ({len(texts)} items, halves {len(a)}/{len(b)})")
        for key, lines in notes.items():
            print(f"  {key:<16} {' '.join(lines)}")
    out = {}
    for name in names:
        ids = {i for i in texts if set_of[i] == name}
        print(f"== {name} ({len(ids)} items, halves {len(ids & a)}/{len(ids & b)})")
        was_f1, now_f1 = [], []
        for key in themes:
            verdicts = {i: key in judged[i] for i in ids}
            was, now = figures(verdicts, before[key] & ids), figures(verdicts, after[key] & ids)
            was_f1.append(was.f1)
            now_f1.append(now.f1)
            print(
                f"  {key:<16} before P {was.precision:.3f} R {was.recall:.3f} F1 {was.f1:.3f}   "
                f"after P {now.precision:.3f} R {now.recall:.3f} F1 {now.f1:.3f}   gain {now.f1 - was.f1:+.3f}"
            )
            if len(names) == 1:
                print(f"    {' '.join(notes[key])}")
        out[name] = (sum(was_f1) / len(was_f1), sum(now_f1) / len(now_f1))
        print(f"  macro F1 before {out[name][0]:.3f} after {out[name][1]:.3f} gain {out[name][1] - out[name][0]:+.3f}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=8, help="most suggestions accepted per theme and half")
    parser.add_argument("--sets", nargs="+", default=SETS, choices=SETS)
    parser.add_argument("--no-model", dest="model", action="store_false", help="suggestions only, no training")
    parser.add_argument("--eval", type=Path, default=EVAL, help="the folder of the development sets")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the feeds.toml whose themes are taught")
    parser.add_argument(
        "--together", action="store_true", help="teach on half of every set at once (more labels), score each"
    )
    args = parser.parse_args()
    present = [name for name in args.sets if all(f.exists() for f in files(args.eval, name))]
    for name in args.sets:
        if name not in present:
            print(f"skipped {name}: {' or '.join(str(f) for f in files(args.eval, name))} absent")
    if not present:
        print(f"skipped: no development set at {args.eval} (../shared/eval ships apart from this repo)")
        return
    if args.model:
        try:
            train.sklearn()
        except UsageError as error:
            print(f"no model: {error}")
            args.model = False
    themes = load_config(args.config).themes
    written = tomllib.loads(args.config.read_text(encoding="utf-8")).get("themes", {})
    if args.together:
        results = run(present, themes, written, args)
    else:
        results = {name: run([name], themes, written, args)[name] for name in present}
    print("macro F1 per set, before -> after the loop (two-fold: each half taught by the other):")
    for name, (was, now) in results.items():
        print(f"  {name:<7} {was:.3f} -> {now:.3f}  ({now - was:+.3f})")


if __name__ == "__main__":
    main()
