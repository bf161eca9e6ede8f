"""Shared by the benchmarks: where ../shared is, and news-like items to measure with."""

from __future__ import annotations

import json
import random
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
EVAL = SHARED / "eval"

# Sample sentences, plainly invented, in the register of news: a few on the themes, most not, as in the
# general feeds of large outlets.
ON_TOPIC = [
    "Sample wire: families leave Stepanakert along the Lachin road as fuel runs short.",
    "Sample wire: Baku says Karabakh Armenians will keep their rights after reintegration.",
    "Sample wire: critics in Yerevan blame Russian peacekeepers for standing by.",
    "Sample wire: a refugee registration centre opens in Goris.",
]
SAMPLE_SENTENCES = [
    "Sample wire: central bank raises interest rates to curb inflation.",
    "Sample wire: a storm closes ports along the coast; ferries stay in harbour.",
    "Sample wire: the parliament debates a new budget for schools and hospitals.",
    "Sample wire: a tech company reports record profits and plans new offices.",
    "Sample wire: elections in a European country bring a coalition government.",
    "Sample wire: the national football team wins a friendly match in Baku.",
    "Sample wire: ministers meet in Brussels to discuss energy prices and gas storage.",
    "Sample wire: heavy rain floods roads in the north; schools close for a day.",
    "Sample wire: a new exhibition of medieval manuscripts opens at the museum.",
    "Sample wire: negotiators report progress on a border delimitation commission.",
]


def eval_texts() -> list[tuple[str, str]]:
    """(title, summary HTML) of the real items in ../shared/eval, or [] where it is absent."""
    texts = []
    for name in ("items.jsonl", "ledes_items.jsonl"):
        path = EVAL / name
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    texts.append((item.get("title") or "", item.get("summary") or ""))
    return texts


def news_items(count: int, seed: int = 7, *, samples_only: bool = False) -> list[tuple[str, str]]:
    """`count` (title, summary HTML) pairs: the eval items cycled (each copy numbered so none repeats
    exactly), or sample sentences shuffled into 60-word summaries where ../shared is absent."""
    rng = random.Random(seed)
    base = [] if samples_only else eval_texts()
    out = []
    for n in range(count):
        if base:
            title, summary = base[n % len(base)]
            out.append((f"{title} ({n})", summary))
        else:  # one item in ten on the themes
            pool = ON_TOPIC if n % 10 == 0 else SAMPLE_SENTENCES
            words = " ".join(rng.choice(pool) for _ in range(5))
            out.append((rng.choice(pool) + f" ({n})", f"<p>{words}</p>"))
    return out
