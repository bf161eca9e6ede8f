"""Events (digest/events.py): the same happening reported by several outlets in their own words is one event;
different happenings in the same places are not; reports days apart are not.

Every text here is an invented SAMPLE (outlets "Sample Wire", "Sample Dispatch", "Sample Courier",
example.org links), written to state a case, not copied from any outlet. The thresholds were chosen on the
real items of ../shared/eval (see docs/digests.md, "Events"); these samples check the cases, they did not tune them.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.digest import events as cluster
from monitor.digest import headline, lexicon
from monitor.types import ThemedItem

from .helpers import BLAST, OTHERS

SEP25 = datetime(2023, 9, 25, tzinfo=UTC)


def item(n: int, outlet: str, title: str, summary: str, hours: float) -> ThemedItem:
    site = outlet.lower().replace(" ", "-")
    return ThemedItem(
        item_id=n,
        theme="exodus",
        score=90,
        evidence=(),
        title=title,
        link=f"https://{site}.example.org/2023/09/{n}",
        summary=summary,
        published=SEP25 + timedelta(hours=hours),
        date_source="published",
        outlets=(site,),
    )


# One happening, three outlets, three wordings (SAMPLES).
PAIRS = [
    (
        (
            "Sample: Baku offers amnesty to Karabakh fighters who lay down arms",
            "Sample text: Azerbaijan will not prosecute Karabakh fighters who surrender their weapons, the "
            "presidential office said.",
        ),
        (
            "Sample: Azerbaijan promises amnesty for Karabakh fighters who surrender weapons",
            "Sample text: fighters in Karabakh who lay down their arms will be granted an amnesty, Baku said on "
            "Tuesday.",
        ),
        True,
    ),
    (
        (
            "Sample: Lachin corridor reopens for first aid convoy in months",
            "Sample text: trucks carrying flour and medicines crossed the Lachin corridor for the first time "
            "since the blockade began.",
        ),
        (
            "Sample: first aid convoy in months crosses reopened Lachin corridor",
            "Sample text: a convoy of trucks with flour and medicines drove through the Lachin corridor after "
            "months of blockade.",
        ),
        True,
    ),
    (
        (
            "Sample: Russian peacekeepers leave their base near Stepanakert",
            "Sample text: the Russian contingent began withdrawing from its base outside Stepanakert, the "
            "defence ministry in Moscow said.",
        ),
        (
            "Sample: Russia withdraws peacekeepers from base outside Stepanakert",
            "Sample text: Moscow's peacekeepers are pulling out of their base near Stepanakert, according to the "
            "Russian defence ministry.",
        ),
        True,
    ),
    (
        (
            "Sample: refugees from Karabakh register in Goris",
            "Sample text: volunteers in Goris help families from Karabakh fill in registration forms at the "
            "town's theatre.",
        ),
        (
            "Sample: Goris school opens classes for refugee children",
            "Sample text: a school in Goris has opened extra classes for children of refugee families from Karabakh.",
        ),
        False,
    ),
    (
        (
            "Sample: Baku promises Karabakh Armenians equal rights",
            "Sample text: Azerbaijan's president said Karabakh Armenians would enjoy the same rights as every citizen.",
        ),
        (
            "Sample: Baku arrests former Karabakh leader at checkpoint",
            "Sample text: Azerbaijani border guards detained a former Karabakh leader as he tried to cross into "
            "Armenia.",
        ),
        False,
    ),
    (
        (
            "Sample: Lachin corridor reopens for first aid convoy in months",
            "Sample text: trucks carrying flour and medicines crossed the Lachin corridor for the first time "
            "since the blockade began.",
        ),
        (
            "Sample: shooting closes the Lachin corridor again",
            "Sample text: traffic on the Lachin corridor was halted after shots were fired at a checkpoint, "
            "local officials said.",
        ),
        False,
    ),
]


def titles(groups: list[list[ThemedItem]]) -> list[list[str]]:
    return sorted(sorted(i.title for i in g) for g in groups)


def test_one_happening_reported_by_three_outlets_in_their_own_words_is_one_event():
    blast = [item(n, *report, hours=18 + 5 * n) for n, report in enumerate(BLAST, start=1)]
    others = [item(10 + n, *report, hours=12 + 20 * n) for n, report in enumerate(OTHERS)]
    groups = cluster.events(blast + others)
    assert titles(groups) == titles([blast, [others[0]], [others[1]]])
    assert [i.item_id for g in groups for i in g if len(g) == 3] == [1, 2, 3]  # in order of publication


def test_different_happenings_in_the_same_places_are_not_merged():
    others = [item(10 + n, *report, hours=2 * n) for n, report in enumerate(OTHERS)]
    assert len(cluster.events(others)) == 2


def test_reports_further_apart_than_the_window_are_not_one_event():
    window_hours = cluster.WINDOW.total_seconds() / 3600
    reports = [item(1, *BLAST[0], hours=0), item(2, *BLAST[1], hours=2), item(3, *BLAST[2], hours=window_hours + 10)]
    assert titles(cluster.events(reports)) == titles([reports[:2], reports[2:]])


def sample_week() -> tuple[list[ThemedItem], dict[str, int]]:
    """Every sample report above in one week, three hours apart, as a theme's week holds them (which words
    are rare is learnt from the week: with two items alone every shared word would look rare); and each
    title's item id."""
    reports: list[ThemedItem] = []
    ids: dict[str, int] = {}
    texts = [r[1:] for r in BLAST + OTHERS] + [t for a, b, _ in PAIRS for t in (a, b)]
    for title, summary in texts:
        if title not in ids:
            ids[title] = len(reports) + 1
            outlet = ("Sample Wire", "Sample Dispatch", "Sample Courier")[len(reports) % 3]
            reports.append(item(ids[title], outlet, title, summary, hours=3 * len(reports)))
    return reports, ids


@pytest.mark.parametrize(
    "a, b, same", PAIRS, ids=[f"pair{n}-{'same' if p[2] else 'different'}" for n, p in enumerate(PAIRS)]
)
def test_labelled_sample_pairs(a, b, same):
    reports, ids = sample_week()
    group = {i.item_id: n for n, g in enumerate(cluster.events(reports)) for i in g}
    assert (group[ids[a[0]]] == group[ids[b[0]]]) is same


def test_an_outlets_copy_of_a_wire_headline_is_the_same_event_whatever_its_summary():
    reports = [
        item(1, "Sample Wire", "Sample: thousands flee Karabakh as the road reopens", "Sample text.", 0),
        item(2, "Sample Dispatch", "Sample: Thousands flee Karabakh as the road reopens - Sample Dispatch", "", 3),
    ]
    assert len(cluster.events(reports)) == 1


def test_an_events_headline_is_the_report_closest_to_the_others_not_the_first_published():
    """The first report, an early flash with few words, does not represent the event; the one whose words the
    other reports share the most does (SAMPLES)."""
    group = [
        item(1, "Sample Flash", "Sample: blast heard near Stepanakert", "", 0),
        item(2, "Sample Wire", "Sample: fuel depot explosion near Stepanakert kills dozens", "", 1),
        item(3, "Sample Dispatch", "Sample: dozens killed in fuel depot explosion outside Stepanakert", "", 2),
        item(4, "Sample Courier", "Sample: death toll from fuel depot explosion rises", "", 3),
    ]
    assert cluster.representative(group).item_id in (2, 3)
    assert cluster.representative(group[:2]).item_id == 1  # two reports: the best match, then the earliest


# The editors' definition of an event, on invented SAMPLE reports (tests/data/events_samples.jsonl: three
# weeks of "Sample Wire", "Sample Dispatch"... on example.org, English and Russian, each labelled with its
# event by the definition in docs/digests.md, "Events"; written from the definition, not from real headlines).
SAMPLES = Path(__file__).parent / "data" / "events_samples.jsonl"


def labelled_samples() -> tuple[list[ThemedItem], dict[str, str]]:
    """The sample reports as a week's items (of every theme, one each), and each title's true event."""
    rows = [json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [
        ThemedItem(
            item_id=n + 1,
            theme="exodus",
            score=90,
            evidence=(),
            title=row["title"],
            link=row["link"],
            summary=row["summary"],
            published=datetime.fromisoformat(row["published"]),
            date_source="published",
            outlets=(row["source"].lower().replace(" ", "-"),),
        )
        for n, row in enumerate(rows)
    ]
    return items, {row["title"]: row["editor_1"] for row in rows}


def grouped(week: str = "") -> tuple[dict[str, int], dict[str, list[str]]]:
    """Each sample title's group once the reports (of the week whose events start with `week`, else all)
    are grouped, and each true event's titles."""
    items, truth = labelled_samples()
    items = [i for i in items if truth[i.title].startswith(week)]
    group = {i.title: n for n, g in enumerate(cluster.events(items)) for i in g}
    event: dict[str, list[str]] = {}
    for item in items:
        event.setdefault(truth[item.title], []).append(item.title)
    return group, event


def events_of(group: dict[str, int], titles: list[str]) -> set[int]:
    return {group[t] for t in titles}


def test_a_run_of_counts_over_days_does_not_chain_with_the_arrest_and_the_decree():
    """Union-find joined 50,000 (Monday), 70,000 (Tuesday) and 93,000 (Wednesday) told in the same words
    and, through headlines naming an arrest or a decree and a count, the arrest and the decree: one event of
    the whole week's news (today's main: all eleven reports of week D in one event)."""
    group, event = grouped("d-")
    arrest, decree = events_of(group, event["d-arrest"]), events_of(group, event["d-decree"])
    assert len(arrest) == 1 and len(decree) == 1 and arrest != decree
    counts = [events_of(group, event[f"d-count-{n}"]) for n in (50000, 70000, 93000)]
    for before, after in itertools.combinations(counts, 2):
        assert not before & after  # a milestone on another day is another event
    for name in ("d-arrest", "d-decree"):  # each its own event: nothing else in it
        assert list(group.values()).count(group[event[name][0]]) == len(event[name])


def test_one_milestone_from_four_outlets_and_in_russian_is_one_event():
    """Today's main: five events, one per report."""
    group, event = grouped("a-")
    assert len(event["a-count-100000"]) == 5
    assert len(events_of(group, event["a-count-100000"])) == 1


def test_the_dissolution_decree_from_three_outlets_is_one_event_and_nothing_else():
    """Today's main: the decree's three reports in one event with the week's counts and the arrest."""
    group, event = grouped("d-")
    assert len(event["d-decree"]) == 3 and len(events_of(group, event["d-decree"])) == 1
    assert sorted(t for t, n in group.items() if n == group[event["d-decree"][0]]) == sorted(event["d-decree"])


def test_a_headline_joining_two_happenings_goes_by_its_first_clause():
    """ "Former leader arrested as over 70,000 refugees flee" is a report of the arrest, not of the count."""
    group, event = grouped("d-")
    both = "Sample: former Karabakh leader arrested as over 70,000 refugees flee to Armenia"
    assert both in event["d-arrest"]
    assert events_of(group, event["d-arrest"]) == {group[both]}
    assert group[both] not in events_of(group, event["d-count-70000"] + event["d-count-50000"])


@pytest.mark.parametrize(
    "title",
    [
        "Sample: former Karabakh leader arrested - live updates",
        "Sample: Karabakh republic to be dissolved: what we know",
        "Образец: что известно о взрыве под Степанакертом",
    ],
)
def test_a_live_blog_or_explainer_stands_alone_even_when_it_names_the_happening(title):
    """Today's main: each joined the event its headline names (" - live updates" read as an outlet's name)."""
    group, _ = grouped()
    assert list(group.values()).count(group[title]) == 1


def alone_together(group: dict[str, int], event: dict[str, list[str]], *names: str) -> list[set[int]]:
    """Each named true event's groups, after checking that each is one group holding nothing else."""
    found = [events_of(group, event[name]) for name in names]
    for name, groups in zip(names, found, strict=True):
        assert len(groups) == 1, (name, groups)
        assert list(group.values()).count(next(iter(groups))) == len(event[name]), name
    return found


def test_a_truce_agreed_and_the_truce_taking_effect_the_same_day_are_two_events():
    """One day, the same words ("truce", "northern border", both countries): the agreement in the morning (three
    outlets, one in Russian), the truce taking effect at midnight (two). Today's main: both English reports of
    the agreement, both of the truce in force and an explainer in one event; the Russian report apart."""
    group, event = grouped("e-")
    agreed, in_force = alone_together(group, event, "e-truce-agreed", "e-truce-in-force")
    assert agreed != in_force


def test_one_leader_skipping_a_summit_and_another_attending_are_two_events():
    """ "will not attend", "pulls out of", "отказался от участия" are skipping; "confirms he will go", "to
    attend" attending. Today's main: one report of the skipping with both of the attending in one event."""
    group, event = grouped("e-")
    skips, attends = alone_together(group, event, "e-aliyev-skips", "e-pashinyan-attends")
    assert skips != attends


@pytest.mark.parametrize(
    "first, then",
    [("e-margara-closed", "e-margara-reopened"), ("e-opposition-detained", "e-opposition-freed")],
    ids=["closed-then-reopened", "detained-then-freed"],
)
def test_a_thing_done_and_undone_is_two_events(first, then):
    """A crossing closed and reopened the same day; a leader detained and freed ("frees detained leader" is the
    release: a lead naming both tells the second). Today's main: the closing's and the reopening's three reports
    in one event; the English report of the arrest with both of the release."""
    group, event = grouped("e-")
    done, undone = alone_together(group, event, first, then)
    assert done != undone


@pytest.mark.parametrize(
    "name",
    ["e-district-surrender", "e-minister-resigns", "f-peacekeepers-leave", "f-truce-extended"],
)
def test_one_happening_in_words_that_barely_overlap_is_one_event(name):
    """ "give up", "lay down arms", "capitulate", "сложили оружие", "surrender" are one kind of happening;
    "quits", "steps down", "ушёл в отставку" another. Today's main: each split in two events (the Russian or
    the other-worded report apart)."""
    group, event = grouped(name[:2])
    alone_together(group, event, name)


@pytest.mark.parametrize(
    "happening, answer",
    [("h-offensive", "h-eu-condemns"), ("h-release", "h-welcome")],
    ids=["offensive-condemned", "release-welcomed"],
)
def test_an_answer_to_a_happening_is_another_event(happening, answer):
    """ "EU condemns Azerbaijani offensive near Lachin" (and "ЕС осудил наступление") is the EU's act, not a
    report of the offensive; "Yerevan welcomes release of six detainees" is Yerevan's, not the release. Today's
    main: the offensive's three reports and the two condemnations in one event, the release and its welcome in
    another."""
    group, event = grouped("h-")
    done, answered = alone_together(group, event, happening, answer)
    assert done != answered


@pytest.mark.parametrize(
    "title, answer",
    [
        ("Sample: Azerbaijan protests Indian arms sales to Armenia", True),
        ("Образец: ЕС осудил наступление Азербайджана", True),
        ("Sample: opposition leader detained in Yerevan protest", False),
        ("Sample: Protests fill central Yerevan", False),
        ("Sample: a welcome step for the border villages", False),
        ("Sample: thousands join the protest in Yerevan", False),
    ],
)
def test_an_answer_is_told_by_a_verb_between_who_answers_and_what(title, answer):
    """A protest that is a rally, a welcome that is an adjective, are not someone's answer to a happening."""
    assert lexicon.answers(headline.read(title).lead) is answer


def test_one_days_departures_are_one_event_and_another_days_figure_another():
    """Monday: "first families leave", "жители ... начали уезжать", "hundreds of residents flee" (no figure, few
    shared words): one milestone. Wednesday: "over 2,000 people have now left": another, though its words are
    Monday's. Today's main: Wednesday's count with two of Monday's reports, the Russian one apart."""
    group, event = grouped("i-")
    monday, wednesday = alone_together(group, event, "i-departures-monday", "i-departures-wednesday")
    assert monday != wednesday


def test_an_offensive_launched_and_halted_are_two_events():
    """ "launches offensive" at dawn, "halts offensive" at night: the same words, opposite kinds of one thing.
    Today's main: one event."""
    group, event = grouped("i-")
    launched, halted = alone_together(group, event, "i-offensive", "i-offensive-halted")
    assert launched != halted


def test_gunfire_an_attack_and_a_rising_toll_on_one_border_are_one_event():
    """ "troops exchange fire", "forces attacked its positions" (one side's gunfire is the other's attack), "at
    least 10 soldiers dead", next morning "12 soldiers killed" (a toll rising is an update, not a milestone).
    Today's main: two events of two reports each."""
    group, event = grouped("i-")
    alone_together(group, event, "i-border-clash")


@pytest.mark.parametrize(
    "title, lead",
    [
        ("Sample: as villagers leave, Yerevan weighs compensation plan", "Yerevan weighs compensation plan"),
        ("Sample: Armenia, Russia claim attacks following the exodus", "Armenia, Russia claim attacks"),
        ("Образец: парламент ратифицировал статут, который осудили в Москве", "парламент ратифицировал статут"),
    ],
)
def test_a_headline_leads_with_its_main_clause_not_its_background(title, lead):
    """A clause opened by "as", one after "following", one that is relative: background, not the lead."""
    assert headline.read(title).lead == lead


@pytest.mark.parametrize(
    "title, counts",
    [
        ("Sample: thousands flee along 100 miles of road", set()),
        ("Sample: a 30-year conflict ends", set()),
        ("Sample: $50 million in aid pledged", set()),
        ("Sample: 50,000 have fled", {50000}),
    ],
)
def test_a_distance_a_span_or_a_sum_is_no_count(title, counts):
    """ "100 miles" is no milestone: today's main read it as one and kept it from "over 50,000 flee"."""
    assert set(headline.counts(title)) == counts


def test_a_headline_asking_in_its_first_sentence_stands_alone():
    """ "Sample: exodus or ethnic cleansing? The end of a dream in the Caucasus" asks, then tells no happening.
    Before the question was read in a first sentence: it joined Monday's departures (its exodus, its ethnic
    Armenians, its day)."""
    group, event = grouped("i-")
    alone_together(group, event, "i-exodus-question", "i-departures-monday")


def test_an_explainer_after_a_kicker_stands_alone():
    """ "Sample: what the northern border truce means for villagers" is an explainer (its kicker before the
    colon hid the genre). Today's main: it joined the truce's reports."""
    group, event = grouped("e-")
    alone_together(group, event, "e-truce-explainer")


def pairwise(group: dict[str, int], truth: dict[str, str]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of a grouping against the true events (as score_events.py counts)."""
    tp = fp = fn = 0
    for x, y in itertools.combinations(sorted(group), 2):
        same, together = truth[x] == truth[y], group[x] == group[y]
        tp, fp, fn = tp + (same and together), fp + (together and not same), fn + (same and not together)
    precision, recall = tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def test_the_labelled_sample_weeks_are_grouped_as_the_definition_groups_them():
    """A floor on the whole sample set (196 reports over nine weeks, 106 events, 56 of several): measured
    precision 0.98, recall 0.98, F1 0.98 (bench/events_quality.py; 0.96 / 0.94 / 0.95 on its first 168 before
    issue 21's third round); today's main 0.73 / 0.75 / 0.74 on the same
    set (0.97 / 0.94 / 0.95 on its first 94 reports, before the weeks of cases (a) and (b) were added)."""
    group, _ = grouped()
    precision, recall, f1 = pairwise(group, labelled_samples()[1])
    assert precision >= 0.93 and recall >= 0.9 and f1 >= 0.92, (precision, recall, f1)
