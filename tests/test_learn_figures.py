"""What `monitor themes --quality`, `monitor suggest` and `monitor train` take from the analysts' labels
(learn/quality.py `measure`, learn/suggestions.py `suggest`, learn/train.py `examples`), given the
themes, verdicts and texts: no database."""

from __future__ import annotations

from monitor.learn.quality import Wrong, measure
from monitor.learn.suggestions import suggest
from monitor.learn.train import examples
from monitor.match.rules import Matcher
from monitor.types import ThemeSpec

EXODUS = ThemeSpec("exodus", "Exodus", phrases=("fled karabakh",), threshold=80)
GAS = ThemeSpec("gas", "Gas", phrases=("gas pipeline",), threshold=80)
TEXTS = {
    1: ("Families fled Karabakh overnight", ""),  # exodus matches
    2: ("Weather in Yerevan", ""),  # nothing matches
    3: ("Karabakh villagers fled", ""),  # exodus near: both words, another order
    4: ("A new gas pipeline opens", ""),  # gas matches
}


def test_measure_counts_each_themes_decisions_against_the_verdicts() -> None:
    verdicts = {(1, "exodus"): True, (2, "exodus"): False, (3, "exodus"): True, (4, "exodus"): True, (4, "gas"): True}
    figures, version = measure({"exodus": EXODUS, "gas": GAS}, verdicts, TEXTS)
    exodus, gas = figures
    assert (exodus.theme, exodus.tp, exodus.fp, exodus.fn, exodus.tn) == ("exodus", 1, 0, 2, 1)
    assert (gas.tp, gas.fp, gas.fn, gas.tn) == (1, 0, 0, 0)
    assert version == Matcher({"exodus": EXODUS, "gas": GAS}).version
    missed = {w.item_id: w for w in exodus.wrong}
    assert set(missed) == {3, 4} and missed[3].verdict
    assert 0 < missed[3].score < EXODUS.threshold  # it came near: its score under the threshold is kept
    assert missed[4] == Wrong(4, "A new gas pipeline opens", 0, True)  # nothing of the theme stood


def test_measure_leaves_out_verdicts_on_items_without_text_and_on_other_themes() -> None:
    verdicts = {(1, "exodus"): True, (9, "exodus"): True, (2, "gone"): True}
    (exodus,), _ = measure({"exodus": EXODUS}, verdicts, TEXTS)
    assert (exodus.tp, exodus.fp, exodus.fn, exodus.tn, exodus.wrong) == (1, 0, 0, 0, ())


def test_suggest_learns_from_the_missed_positives_and_every_negative() -> None:
    verdicts = {1: True, 2: False, 3: True, 4: False, 9: True}
    found = suggest(EXODUS, verdicts, TEXTS)
    assert (found.missed, found.negatives) == (1, 2)  # 1 is matched, 9 has no text
    assert (found.without.tp, found.without.fp, found.without.fn) == (1, 0, 1)
    # One missed positive: a term of it adds one, which is chance, never a suggestion that helps; its words
    # ("karabakh", "villag*", "fled") all add that one item and no other: one suggestion, not three.
    (only,) = found.found
    assert (only.term, only.catches, only.wrongly, only.helps) == ("fled", 1, 0, False)


def test_a_model_learns_from_its_themes_verdicts_on_items_with_text_in_the_order_of_their_ids() -> None:
    verdicts = {(3, "exodus"): True, (1, "exodus"): False, (1, "gas"): True, (9, "exodus"): True}
    assert examples("exodus", verdicts, TEXTS) == [(*TEXTS[1], False), (*TEXTS[3], True)]
    assert examples("gas", verdicts, TEXTS) == [(*TEXTS[1], True)]
