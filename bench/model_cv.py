"""The learned second stage on ../shared/eval: per theme and per eval set, the rules alone against rules + model,
each judged only on items the model was not trained on, and the keyword baseline of bench/quality.py.

    python bench/model_cv.py [--seed 12] [--folds 5]

- within a set (and "all": the four sets as one): stratified k-fold cross-validation on the set's labels
  (`train.cross_decisions`, as `monitor train` does): each fold decided by a model trained on the other folds;
- across sets: trained on items + ledes (all of them), scored on ledes2 and ru, which it never saw;
- keyword baseline: each rule's terms anywhere in the item, no proximity, no phrases ("keywords AND").
F1 is per theme; "macro" is their mean. Needs scikit-learn (`pip install -e '.[learn]'`) and ../shared.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from common import REPO
from quality_cv import load

sys.path.insert(0, str(REPO / "src"))
from monitor.config.load import load_config
from monitor.learn.train import cross_decisions, f1, fit
from monitor.match.model import theme_features
from monitor.match.rules import Matcher
from monitor.parse.feed import plain_text

SETS = ["items", "ledes", "ledes2", "ru"]
TRAIN_ON, TEST_ON = ["items", "ledes"], ["ledes2", "ru"]


def keyword_engine(themes: dict) -> Matcher:
    return Matcher(
        {
            key: replace(
                theme,
                rules=tuple(replace(rule, within=100_000, ordered=False) for rule in theme.rules),
                phrases=(),
                threshold=0,
            )
            for key, theme in themes.items()
        }
    )


def examples(name: str) -> list[tuple[str, str, set[str]]]:
    items, labels = load(name)
    return [
        (plain_text(i.get("title") or ""), plain_text(i.get("summary") or ""), labels[i["link"]])
        for i in items
        if i["link"] in labels
    ]


def trained_models(themes: dict, seed: int = 12) -> dict:
    """A model of every theme trained on all the eval labels (for bench/matching.py's cost of models)."""
    data = [example for name in SETS for example in examples(name)]
    out = {}
    for key, spec in themes.items():
        rules, values = theme_features(spec, [(t, s) for t, s, _ in data])
        out[key] = fit(spec, values, rules, [key in labels for _, _, labels in data], seed)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    themes = load_config(REPO / "config" / "feeds.toml").themes
    keywords = keyword_engine(themes)
    data = {name: examples(name) for name in SETS}
    cached: dict[tuple[str, str], tuple[list[dict[str, float]], list[bool], list[bool]]] = {}
    for name in SETS:
        for key in themes:
            rules, values = theme_features(themes[key], [(t, s) for t, s, _ in data[name]])
            cached[name, key] = (values, rules, [key in labels for _, _, labels in data[name]])
    print(f"== within each set: {args.folds}-fold CV (seed {args.seed}), F1 (precision)")
    print(f"{'set':<7} {'theme':<16} {'labels':>6} {'yes':>4}  {'keywords':>13}  {'rules':>13}  {'rules+model':>13}")
    data["all"] = [example for name in SETS for example in data[name]]
    for key in themes:
        cached["all", key] = tuple([x for name in SETS for x in cached[name, key][i]] for i in range(3))  # type: ignore
    for name in [*SETS, "all"]:
        macro = [0.0, 0.0, 0.0]
        for key, spec in themes.items():
            values, rules, verdicts = cached[name, key]
            kw = [key in {m.theme for m in keywords.match(t, s)} for t, s, _ in data[name]]
            decided = cross_decisions(spec, values, rules, verdicts, args.seed, args.folds)
            row = [f1(verdicts, kw), f1(verdicts, rules), f1(verdicts, decided)]
            macro = [m + r[0] / len(themes) for m, r in zip(macro, row, strict=True)]
            print(
                f"{name:<7} {key:<16} {len(verdicts):>6} {sum(verdicts):>4}  "
                + "  ".join(f"{f:.3f} ({p:.3f})" for f, p in row)
            )
        print(f"{name:<7} {'macro F1':<16} {'':>6} {'':>4}  " + "  ".join(f"{m:>13.3f}" for m in macro))
    print(f"== trained on {' + '.join(TRAIN_ON)}, scored on {' and '.join(TEST_ON)}, F1 (precision)")
    for key, spec in themes.items():
        values = [v for name in TRAIN_ON for v in cached[name, key][0]]
        rules = [r for name in TRAIN_ON for r in cached[name, key][1]]
        verdicts = [v for name in TRAIN_ON for v in cached[name, key][2]]
        model = fit(spec, values, rules, verdicts, args.seed)
        for name in TEST_ON:
            values_, rules_, verdicts_ = cached[name, key]
            decided = [model.decide(r, model.probability(v)) for v, r in zip(values_, rules_, strict=True)]
            (fr, pr), (fm, pm) = f1(verdicts_, rules_), f1(verdicts_, decided)
            print(
                f"{name:<7} {key:<16} rules {fr:.3f} ({pr:.3f})  rules+model {fm:.3f} ({pm:.3f})  "
                f"threshold {model.threshold} veto {model.veto}"
            )


if __name__ == "__main__":
    main()
