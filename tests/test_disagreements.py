"""Which items `monitor review` shows first for a theme (learn/disagreements.py): where a model and the rules
disagree, the model surest first, then the rules' near misses. Pure: a hand-made model, no database."""

from __future__ import annotations

from dataclasses import replace

from monitor.learn.disagreements import disagreements, worth_judging
from monitor.learn.teach import near_misses
from monitor.match.model import ModelMatcher, ThemeModel
from monitor.match.rules import Matcher
from monitor.types import RuleSpec, ThemeSpec

THEME = ThemeSpec(
    "exodus",
    "Exodus",
    phrases=("fled karabakh",),
    rules=(RuleSpec("flight", (("fled",), ("Karabakh",)), within=3, score=85, ordered=False),),
    threshold=80,
)
ITEMS = [
    (1, "Families fled Karabakh overnight", ""),  # the rules match
    (2, "Weather in Yerevan", ""),  # nothing of the theme
    (3, "Refugees leave for Armenia", ""),  # nothing of the theme, but words the model below likes
    (4, "They fled, and Karabakh emptied", ""),  # the rules match
    (5, "Karabakh talks resume; nobody fled", ""),  # a near miss: fled and Karabakh too far apart
]


def model(bias: float, **weights: float) -> ThemeModel:
    return ThemeModel("exodus", dict(weights), bias, threshold=0.5, veto=0.0, theme_fingerprint="test")


def test_a_model_that_says_no_to_everything_parts_with_every_rules_match() -> None:
    found = disagreements(THEME, model(-3.0), ITEMS, limit=10)
    assert [m.item_id for m in found] == [4, 1]  # equally sure: the newest first
    assert all(m.reasons == ("rules match, model says no (p=0.05)",) and m.score == 5 for m in found)


def test_the_model_surest_first_and_at_most_the_limit() -> None:
    sure = model(-1.0, **{"rules:match": 3.0, "w:refuge": 4.0, "w:armenia": 2.0, "w:weather": 1.5})
    found = disagreements(THEME, sure, ITEMS, limit=10)
    assert [(m.item_id, m.score) for m in found] == [(3, 99), (2, 62)]
    assert found[0].reasons == ("model says yes (p=0.99), rules do not",)
    assert [e.kind for e in found[0].evidence] == ["model", "model"]
    assert [m.item_id for m in disagreements(THEME, sure, ITEMS, limit=1)] == [3]


def test_where_model_and_rules_agree_there_is_nothing_to_review_first() -> None:
    agrees = model(-3.0, **{"rules:match": 6.0})
    assert disagreements(THEME, agrees, ITEMS, limit=10) == []
    assert worth_judging(THEME, agrees, ITEMS, limit=10) == near_misses(THEME, ITEMS, 10)


def test_review_shows_disagreements_then_near_misses_not_yet_shown_up_to_the_limit() -> None:
    assert worth_judging(THEME, None, ITEMS, limit=10) == near_misses(THEME, ITEMS, 10) != []
    shown = worth_judging(THEME, model(-3.0), ITEMS, limit=3)
    assert [m.item_id for m in shown] == [4, 1, 5]
    assert [m.item_id for m in worth_judging(THEME, model(-3.0), ITEMS, limit=2)] == [4, 1]


def test_the_model_matcher_says_where_the_model_overruled_the_rules_either_way() -> None:
    """`monitor match` prints these: a rules match the model dropped, and a match the rules did not make."""
    vetoing = ModelMatcher(Matcher({"exodus": THEME}), {"exodus": THEME}, {"exodus": replace(model(-3.0), veto=0.5)})
    found, overruled = vetoing.decisions("Families fled Karabakh overnight")
    assert found == [] and [str(o) for o in overruled] == ["rules 100, model says no (p=0.05)"]
    adding = ModelMatcher(Matcher({"exodus": THEME}), {"exodus": THEME}, {"exodus": model(3.0)})
    found, overruled = adding.decisions("Weather in Yerevan")
    assert [m.theme for m in found] == ["exodus"] and [str(o) for o in overruled] == [
        "rules no match, model says yes (p=0.95)"
    ]
    assert adding.decisions("Families fled Karabakh overnight")[1] == []  # both say yes: nothing overruled
