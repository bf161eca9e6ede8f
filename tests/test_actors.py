"""Who acts (a rule's `agent`, `unless`, `unless_before`), word senses and passing mentions, driven through
`monitor match` with real config files. Every sentence here is an invented sample, marked "Sample"."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from .conftest import REPO

# A promise theme with one rule of each construct: Baku must act the verb.
ACTOR_CONFIG = """\
[terms]
baku = ["Azerbaijan", "Baku", "Aliyev"]
promise = ["promis*", "guarantee*", "pledg*"]
armenians = ["Armenians", "Karabakh Armenians"]
urging = ["urg*", "must", "should", "calls on"]

[themes.offer]
label = "Baku's offer"
threshold = 80

[[themes.offer.rules]]
name = "Baku's promise"
all = ["@promise", "@armenians"]
agent = ["@baku"]
unless = ["@urging"]
unless_before = ["@urging"]
within = 12
score = 85
"""


@pytest.fixture
def actor_config(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(ACTOR_CONFIG, encoding="utf-8")
    return path


def matched(run_cli: Callable[..., Result], config: Path, title: str, summary: str = "") -> dict[str, object]:
    """`monitor match --jsonl` on one item: themes, scores and evidence as the CLI prints them."""
    item = config.parent / "item.jsonl"
    item.write_text(json.dumps({"link": "https://example.org/1", "title": title, "summary": summary}) + "\n")
    return json.loads(run_cli(config, "match", "--jsonl", str(item)).output)


# (title, summary, matches?) per construct: a positive and a negative each.
CONSTRUCTS = {
    "agent before the verb": [
        ("Sample: Baku promised Karabakh Armenians equal rights", "", True),
        ("Sample: France promised Karabakh Armenians equal rights", "", False),
    ],
    "unless between agent and verb": [
        ("Sample: Aliyev said Baku will guarantee Karabakh Armenians safety", "", True),
        ("Sample: Baku must guarantee Karabakh Armenians safety, envoys say", "", False),
    ],
    "unless_before the agent": [
        ("Sample: on Monday Baku pledged safety to Karabakh Armenians", "", True),
        ("Sample: the envoy urged Baku to pledge safety to Karabakh Armenians", "", False),
    ],
    "sentence boundary": [
        ("Sample", "Baku met the envoys and promised Karabakh Armenians their rights.", True),
        ("Sample", "Officials of Baku met the envoys. They promised Karabakh Armenians nothing.", False),
    ],
    "agent after the verb": [
        ("Sample", "Karabakh Armenians were promised their rights, Aliyev said on Monday.", True),
        ("Sample", "Karabakh Armenians were promised their rights. Aliyev spoke on Monday.", False),
    ],
    "a name after the verb that is its object": [
        ("Sample", "Karabakh Armenians were pledged safety by Aliyev on Monday.", True),
        ("Sample: France pledged Karabakh Armenians its help against Baku", "", False),
    ],
    "headline verb, agent in the lede": [
        ("Sample: Armenians promised rights", "Baku spoke of schools and languages on Monday.", True),
        ("Sample: Armenians promised rights", "The envoy urged Baku to keep its word on Monday.", False),
    ],
}


@pytest.mark.parametrize(
    ("title", "summary", "expected"),
    [
        pytest.param(*case, id=f"{name}-{'yes' if case[2] else 'no'}")
        for name, cases in CONSTRUCTS.items()
        for case in cases
    ],
)
def test_a_rule_with_an_agent_matches_only_when_that_agent_acts(
    run_cli: Callable[..., Result], actor_config: Path, title: str, summary: str, expected: bool
) -> None:
    found = matched(run_cli, actor_config, title, summary)
    assert ("offer" in found["themes"]) is expected, found  # type: ignore[operator]


def test_the_evidence_names_the_agent_that_filled_the_slot(run_cli: Callable[..., Result], actor_config: Path) -> None:
    found = matched(run_cli, actor_config, "Sample: Aliyev pledged safety to Karabakh Armenians")
    [evidence] = found["evidence"]["offer"]  # type: ignore[index]
    assert evidence["agent"] == "Aliyev"
    assert [s["text"] for s in evidence["spans"]] == ["Aliyev", "pledged", "Karabakh Armenians"]
    shown = run_cli(actor_config, "match", "Sample: Aliyev pledged safety to Karabakh Armenians").output
    assert 'rule "Baku\'s promise" (89, agent: Aliyev)' in shown, shown


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ('all = ["@promise"]\nunless = ["@urging"]', "rules[0].unless: `unless` says when an agent does not act"),
        ('all = ["@promise"]\nunless_before = ["must"]', "rules[0].unless_before: `unless_before` says when"),
        ('all = ["@promise"]\nagent = "Baku"', "rules[0].agent: expected a list of strings"),
        ('all = ["@promise"]\nagent = ["@nobody"]', "rules[0].agent: unknown term set '@nobody'"),
    ],
)
def test_an_agent_setting_that_cannot_work_is_an_error_naming_file_and_line(
    run_cli: Callable[..., Result], tmp_path: Path, rule: str, message: str
) -> None:
    config = tmp_path / "feeds.toml"
    config.write_text(
        ACTOR_CONFIG.split("[[themes.offer.rules]]")[0] + f"[[themes.offer.rules]]\n{rule}\n", encoding="utf-8"
    )
    result = run_cli(config, "match", "Sample", expect=None)
    assert result.exit_code != 0
    assert re.search(rf"{re.escape(str(config))}:\d+: themes\.offer\.", result.output), result.output
    assert message in result.output, result.output


# The shipped themes: who acts, senses, passing mentions, rule names, and the brief's wordings.
SHIPPED = REPO / "config" / "feeds.toml"

# (what the item says, theme, matches?): per construct, the sample that must match beside the one that must not.
Sample = tuple[str, str, str, bool]
SHIPPED_PAIRS: dict[str, list[Sample]] = {
    "Russia as the one who condemns, not the one who failed": [
        ("Sample: Moscow condemned Baku's failure to respect the ceasefire in Karabakh", "", "putin_blame", False),
        ("Sample: Russian peacekeepers failed to stop the offensive in Karabakh", "", "putin_blame", True),
    ],
    "Russia accusing others of violations is not Russia's broken obligation": [
        ("Sample: Moscow accused Baku of violating the ceasefire agreement in Karabakh", "", "putin_blame", False),
        (
            "Sample: Baku says Russian peacekeepers violated the ceasefire agreement in Karabakh",
            "",
            "putin_blame",
            True,
        ),
    ],
    "aid and fuel sent elsewhere are not the siege; shortages in Stepanakert are": [
        (
            "Sample: Armenia sends aid and fuel to flooded towns",
            "Volunteers from Karabakh veterans' groups loaded the trucks.",
            "armenian_exodus",
            False,
        ),
        (
            "Sample: fuel shortages in Stepanakert",
            "Bakeries closed and buses stopped running.",
            "armenian_exodus",
            True,
        ),
    ],
    "a passing mention in the last sentence of an item about something else": [
        (
            "Sample: central bank raises interest rates",
            "Inflation slowed in the autumn. Banks expect loans to cost more. The bank also noted the arrival of"
            " Karabakh refugees last year.",
            "armenian_exodus",
            False,
        ),
        (
            "Sample: housing for Karabakh refugees",
            "Inflation slowed in the autumn. Banks expect loans to cost more. The bank also noted the arrival of"
            " Karabakh refugees last year.",
            "armenian_exodus",
            True,
        ),
    ],
    "return is Baku's offer only in company": [
        ("Sample: карабахские армяне в Ереване не хотят вернуться в Азербайджан", "", "baku_promises", False),
        ("Sample: Алиев заявил, что карабахские армяне могут вернуться", "", "baku_promises", True),
    ],
    "Russia the speaker: Russia named later is the doer only after 'by'": [
        (
            "Sample: Russia's foreign ministry says Yerevan betrays its allies by cutting ties with Russia",
            "",
            "putin_blame",
            False,
        ),
        ("Sample: Yerevan says Karabakh was betrayed by Russia", "", "putin_blame", True),
    ],
    "'unhindered' is Baku's offer only for movement, passage or access": [
        ("Sample: Red Cross trucks passed unhindered on the Lachin road to Karabakh", "", "baku_promises", False),
        ("Sample: Azerbaijan says Karabakh Armenians will have unhindered passage", "", "baku_promises", True),
    ],
    "'abandoned' and 'almost no one' are the emptied region only in company": [
        ("Sample: Karabakh Armenians say they feel abandoned by the world", "", "armenian_exodus", False),
        ("Sample: almost no one in Karabakh expected the talks to fail", "", "armenian_exodus", False),
        ("Sample: in Karabakh, abandoned villages and empty schools", "", "armenian_exodus", True),
        ("Sample: in Hadrut almost no one remains", "", "armenian_exodus", True),
    ],
    "'met with' a response is no talks with representatives": [
        (
            "Sample: an attack on Karabakh's Armenian population will be met with sanctions, the EU High"
            " Representative said of Azerbaijan",
            "",
            "baku_promises",
            False,
        ),
        (
            "Sample: Azerbaijani officials hold talks with representatives of Karabakh Armenians",
            "They spoke of the region's future.",
            "baku_promises",
            True,
        ),
    ],
    "talks with Karabakh itself, not with Yerevan about it": [
        ("Sample: Baku rules out dialogue with Stepanakert", "", "baku_promises", True),
        ("Sample: Baku holds talks with Yerevan on the border near Karabakh", "", "baku_promises", False),
    ],
    "Baku resettling Azerbaijani families is not the exodus": [
        (
            "Sample: Azerbaijani families move into new flats in Lachin",
            "They were displaced thirty years ago.",
            "armenian_exodus",
            False,
        ),
        ("Sample: the last Armenian families leave Lachin", "", "armenian_exodus", True),
    ],
    "Armenians fleeing are Karabakh's only when named so": [
        ("Sample: Armenians of Syria who fled the war settle in Yerevan", "", "armenian_exodus", False),
        ("Sample: ethnic Armenians flee as the offensive ends", "", "armenian_exodus", True),
    ],
    "who leaves Karabakh: its people, not Russia's peacekeepers": [
        ("Sample: Russian peacekeepers are leaving Karabakh", "", "armenian_exodus", False),
        ("Sample: thousands of people are leaving Karabakh", "", "armenian_exodus", True),
    ],
    "Russia's border guards at an airport are no Karabakh matter": [
        ("Sample: Armenia wants Russian border guards withdrawn from Yerevan airport", "", "putin_blame", False),
        ("Sample: Armenia freezes its part in the CSTO after Karabakh", "", "putin_blame", True),
    ],
    "staying is Baku's offer only in company": [
        ("Sample: Azerbaijan's team chose Karabakh Armenians' old stadium to stay in", "", "baku_promises", False),
        ("Sample: Baku says Karabakh Armenians are free to stay", "", "baku_promises", True),
    ],
}
# The brief's wordings, in English and Russian: each a sample the shipped themes now match.
WORDINGS: list[Sample] = [
    ("Sample: Armenia refuses to host the Russian-led alliance's drills this year", "", "putin_blame", True),
    ("Sample: Пашинян: Армения не будет финансировать ОДКБ", "", "putin_blame", True),
    ("Sample: Pashinyan says Armenia can no longer rely on Russia as an ally", "", "putin_blame", True),
    ("Sample: Ереван возмущен бездействием РФ в Карабахе", "", "putin_blame", True),
    ("Sample: lawyers say Karabakh Armenians were ethnically cleansed", "", "armenian_exodus", True),
    ("Sample: in Stepanakert the few who remained wait for news", "", "armenian_exodus", True),
    ("Sample: Baku says Karabakh Armenians can come back and will be integrated", "", "baku_promises", True),
    ("Sample: Baku will ensure the security of Karabakh Armenians", "", "baku_promises", True),
    # Issue 23's second round: Russian prefixed verbs (`~` terms) and the concepts still missing.
    ("Sample: Алиев пообещал армянам Карабаха безопасность", "", "baku_promises", True),
    ("Sample: Aliyev says Karabakh's residents are citizens of Azerbaijan", "", "baku_promises", True),
    ("Sample: суд обязал Баку разблокировать Лачинский коридор", "", "armenian_exodus", True),
    ("Sample: Guterres asks for free movement along the Lachin corridor", "", "armenian_exodus", True),
    ("Sample: Armenia's parliament condemns the ethnic cleansing of Nagorno-Karabakh", "", "armenian_exodus", True),
    ("Sample: Yerevan offers housing to Karabakh Armenians", "", "armenian_exodus", True),
    ("Sample: Stepanakert residents spend the night in bomb shelters", "", "armenian_exodus", True),
    ("Sample: жители Степанакерта ночуют в подвалах", "", "armenian_exodus", True),
    ("Sample: в Карабахе жители сжигают свои дома перед уходом", "", "armenian_exodus", True),
    ("Sample: в Мартуни несколько семей решили остаться", "", "armenian_exodus", True),
    ("Sample: власти Степанакерта призвали покинувших город вернуться домой", "", "armenian_exodus", True),
    ("Sample: analysts question Russia's role after the fall of Karabakh", "", "putin_blame", True),
    ("Sample: в Ереване Россию называют предателем", "", "putin_blame", True),
    ("Sample: Пашинян говорит о попустительстве российских миротворцев в Карабахе", "", "putin_blame", True),
    ("Sample: МККК обеспечил свободный проход армян через Лачын", "", "baku_promises", True),
    ("Sample: Russia, bogged down in Ukraine, is losing the South Caucasus", "", "putin_blame", True),
]


def shipped_match(run_cli: Callable[..., Result], folder: Path, title: str, summary: str) -> dict[str, Any]:
    item = folder / "item.jsonl"
    item.write_text(json.dumps({"link": "https://example.org/1", "title": title, "summary": summary}) + "\n")
    found: dict[str, Any] = json.loads(run_cli(SHIPPED, "match", "--jsonl", str(item)).output)
    return found


@pytest.mark.parametrize("construct", SHIPPED_PAIRS)
def test_shipped_themes_know_who_acts_which_sense_and_what_is_in_passing(
    run_cli: Callable[..., Result], tmp_path: Path, construct: str
) -> None:
    for title, summary, theme, expected in SHIPPED_PAIRS[construct]:
        found = shipped_match(run_cli, tmp_path, title, summary)
        assert (theme in found["themes"]) is expected, (title, found)


@pytest.mark.parametrize(("title", "summary", "theme", "expected"), WORDINGS)
def test_shipped_themes_have_the_briefs_wordings(
    run_cli: Callable[..., Result], tmp_path: Path, title: str, summary: str, theme: str, expected: bool
) -> None:
    assert (theme in shipped_match(run_cli, tmp_path, title, summary)["themes"]) is expected


def test_a_demand_made_of_baku_is_not_named_as_its_offer(run_cli: Callable[..., Result], tmp_path: Path) -> None:
    title = "Sample: Washington urges Azerbaijan to guarantee the rights of Karabakh Armenians"
    found = shipped_match(run_cli, tmp_path, title, "")
    names = {e["name"] for e in found["evidence"]["baku_promises"]}
    assert "Azerbaijan's offer to Karabakh Armenians" not in names, names
    assert "Azerbaijan urged to guarantee Karabakh Armenians' rights" in names, names
