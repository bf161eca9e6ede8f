"""Matching quality on the real, labelled items of ../shared/eval, measured as a user would: the CLI's
`match --jsonl` scored by the eval's own score.py. Keeps the score from silently falling; skips with a
message where ../shared is absent (a user's clone has none)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import REPO, SHARED

EVAL = SHARED / "eval"
# Floors a little under the scores when they were set (issue 23's second round: feed items macro 0.935, ledes 0.944,
# ledes2 0.929, ledes3 0.941, Russian ledes 0.940, Russian ledes 2 0.951; every theme >= 0.83 on each set), so
# noise-free runs pass and a real regression fails.
FLOORS = {
    "items.jsonl": ("labels.jsonl", 0.90),
    "ledes_items.jsonl": ("ledes_labels.jsonl", 0.90),
    "ledes2_items.jsonl": ("ledes2_labels.jsonl", 0.90),
    "ledes3_items.jsonl": ("ledes3_labels.jsonl", 0.90),
    "ru_items.jsonl": ("ru_labels.jsonl", 0.90),
    "ru2_items.jsonl": ("ru2_labels.jsonl", 0.90),
}
THEME_FLOOR = 0.80


@pytest.mark.parametrize("items", sorted(FLOORS))
def test_shipped_themes_score_on_the_eval_set(items, tmp_path):
    if not (EVAL / items).exists():
        pytest.skip(f"eval set not found at {EVAL} (it ships in ../shared, not in this repo)")
    labels, floor = FLOORS[items]
    predictions = tmp_path / "predictions.jsonl"
    with predictions.open("w") as out:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(REPO / "config" / "feeds.toml"),
                "match",
                "--jsonl",
                str(EVAL / items),
            ],
            stdout=out,
            check=True,
            timeout=120,
        )
    report = subprocess.run(
        [sys.executable, str(EVAL / "score.py"), str(EVAL / labels), str(predictions)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = re.search(r"macro_f1=([0-9.]+)", report)
    assert found, report
    macro = float(found.group(1))
    per_theme = {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^(\w+)\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+)", report, re.MULTILINE)
    }
    assert set(per_theme) == {"putin_blame", "baku_promises", "armenian_exodus"}, report
    assert macro >= floor, report
    assert min(per_theme.values()) >= THEME_FLOOR, report
