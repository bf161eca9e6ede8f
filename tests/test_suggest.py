"""`monitor suggest` and `monitor suggest --apply N` as an analyst uses them: sample items polled from a real
feed server into a real SQLite file, judged with `monitor label --import`, suggestions measured on those
labels, one written into a real config file, and `monitor themes --quality` measuring the theme again."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from monitor.config.edit import add_rule, rule_lines
from monitor.config.load import parse_config
from monitor.learn.suggestions import shapes

from .conftest import REPO
from .samples import Entry, rss

THEMES = """
# --- The themes: what the analysts track.
[terms]
place = ["Karabakh", "Stepanakert"]

[themes.exodus]
label = "Sample exodus"
require = ["@place"]   # the theme's own place
phrases = ["Armenians flee Karabakh"]

# Families and Armenians fleeing.
[[themes.exodus.rules]]
name = "flight"
all = [["flee*", "fled", "refugee*"], ["families", "Armenians"]]
within = 10

# --- The digest, after the themes: its comment stays with it.
[digest]
week_start = "monday"
"""
SITE = "https://sample-wire.example.org/2023/09"
# The theme matches this one; it misses the three displaced, which also say "what lies ahead" and "Russia's
# role"; "tents" stand in two of them and in two negatives.
MATCHED = Entry("Sample: families fled Stepanakert overnight", f"{SITE}/fled", "Sample text.")
DISPLACED_1 = Entry(
    "Sample: buses carry the displaced out of Karabakh, tents wait", f"{SITE}/d1", "What lies ahead is unclear."
)
DISPLACED_2 = Entry(
    "Sample: the displaced of Stepanakert sleep in tents in Goris", f"{SITE}/d2", "Russia's role: what lies ahead?"
)
DISPLACED_3 = Entry("Sample: Karabakh's displaced register in Goris", f"{SITE}/d3", "Sample text.")
FESTIVAL = Entry("Sample: tents for a wine festival in Karabakh", f"{SITE}/n1", "What lies ahead for Russia's role.")
FAIR = Entry("Sample: tents at a Stepanakert book fair", f"{SITE}/n2", "Sample text.")
FLOODS = Entry("Sample: the displaced of the Yorkshire floods", f"{SITE}/n3", "Sample text.")
ENTRIES = [MATCHED, DISPLACED_1, DISPLACED_2, DISPLACED_3, FESTIVAL, FAIR, FLOODS]
YES = {MATCHED, DISPLACED_1, DISPLACED_2, DISPLACED_3}


def labelled(feed_server, write_config, run_cli, tmp_path) -> Path:
    """A config (mode 0600, as one holding a feed password would be) and the sample items polled and
    judged, through the CLI."""
    url = feed_server.add("/wire", body=rss(ENTRIES))
    config = write_config([{"name": "sample-wire", "url": url}], extra=THEMES)
    config.chmod(0o600)
    run_cli(config, "poll")
    source = tmp_path / "labels.jsonl"
    rows = [{"link": e.link, "themes": ["exodus"] if e in YES else []} for e in ENTRIES]
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    run_cli(config, "label", "--import", str(source))
    return config


def test_suggest_measures_each_rule_on_the_labels_and_shows_those_that_help_first(
    feed_server, write_config, run_cli, query, tmp_path
):
    config = labelled(feed_server, write_config, run_cli, tmp_path)
    ids = {row["link"]: row["id"] for row in query("SELECT id, link FROM items")}
    before = config.read_text()
    report = json.loads(run_cli(config, "suggest", "exodus", "--json").output)
    assert (report["missed_positives"], report["negatives"]) == (3, 3)
    assert report["now"] == {"tp": 1, "fp": 0, "fn": 3, "precision": 1.0, "f1": 0.4}
    first = report["suggestions"][0]
    assert (first["number"], first["term"], first["where"], first["helps"]) == (1, "displac*", "near @place", True)
    assert first["examples"] == sorted(ids[e.link] for e in (DISPLACED_1, DISPLACED_2, DISPLACED_3))
    assert (first["catches"], first["wrongly"], first["with"]) == (
        3,
        0,
        {"tp": 4, "fp": 0, "fn": 0, "precision": 1.0, "f1": 1.0},
    )  # the floods' displaced name no place: the rule does not catch them
    by_term = {s["term"]: s for s in report["suggestions"]}
    tents = by_term["tent*"]  # costs two negatives
    assert (tents["catches"], tents["wrongly"], tents["helps"]) == (2, 2, False) and tents["number"] > 1
    assert tents["with"]["precision"] == 0.6
    goris = by_term["gori*"]  # two positives and no negative: a rise in F1, but two items are chance
    assert (goris["catches"], goris["wrongly"], goris["helps"]) == (2, 0, False) and goris["with"]["f1"] > 0.4
    helping = [s["helps"] for s in report["suggestions"]]
    assert helping == sorted(helping, reverse=True)  # those that help first
    # Never a function word, a fragment of "Russia's role", filler such as "lies ahead", or the theme's place.
    words = {w for s in report["suggestions"] for w in s["term"].rstrip("*").split()}
    assert not words & {"the", "what", "for", "of", "s", "role", "lies", "ahead", "karabakh", "stepanakert"}
    text = run_cli(config, "suggest", "exodus").output
    assert "suggestions that raise the labelled F1:" in text and "suggestions that do not help" in text
    assert text.index("displac* near @place") < text.index("suggestions that do not help")
    assert "--apply N" in text
    assert config.read_text() == before and query("SELECT count(*) AS n FROM matches")[0]["n"] == 1


def test_suggest_apply_writes_the_rule_into_the_config_and_quality_shows_it(
    feed_server, write_config, run_cli, tmp_path
):
    config = labelled(feed_server, write_config, run_cli, tmp_path)
    before = config.read_text()
    quality = json.loads(run_cli(config, "themes", "--quality", "--json").output)["themes"][0]
    assert (quality["recall"], quality["f1"]) == (0.25, 0.4)
    out = run_cli(config, "suggest", "exodus", "--apply", "1").output
    first, last = map(int, out.split(f"added to {config}:", 1)[1].split(":", 1)[0].split("-"))
    assert "F1 0.400 -> 1.000" in out and f"undo: delete lines {first}-{last} of {config}" in out
    after = config.read_text()
    lines = after.splitlines()
    added = lines[first - 1 : last]
    assert added[0].startswith("# Added by `monitor suggest exodus --apply 1`")
    assert added[2:] == [
        "[[themes.exodus.rules]]",
        'name = "suggested: \\"displac*\\" near @place"',
        'all = ["displac*", "@place"]',
        "within = 15",
        "score = 85",
    ]
    # Everything else as it was, comments included; the rule after the theme's last key, not after the
    # comment that belongs to [digest]; the mode the user chose kept.
    assert lines[: first - 2] + lines[last:] == before.splitlines() and lines[first - 2] == ""
    assert lines[first - 3] == "within = 10" and lines[last + 1].startswith("# --- The digest")
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    quality = json.loads(run_cli(config, "themes", "--quality", "--json").output)["themes"][0]
    assert (quality["recall"], quality["f1"], quality["fp"]) == (1.0, 1.0, 0)
    # Undone by deleting those lines.
    config.write_text("\n".join(lines[: first - 2] + lines[last:]) + "\n")
    assert config.read_text() == before


def test_suggest_apply_refuses_a_number_out_of_range_and_changes_nothing(feed_server, write_config, run_cli, tmp_path):
    config = labelled(feed_server, write_config, run_cli, tmp_path)
    before = config.read_text()
    count = len(json.loads(run_cli(config, "suggest", "exodus", "--json").output)["suggestions"])
    result = run_cli(config, "suggest", "exodus", "--apply", str(count + 1), expect=2)
    assert f"no suggestion {count + 1} for exodus: there are {count}" in result.output
    assert config.read_text() == before


def test_suggest_apply_refuses_a_config_it_may_not_write(feed_server, write_config, run_cli, tmp_path, db_path):
    """The config belongs to someone else (here root, read-only to the analyst): refused, named, untouched."""
    config = labelled(feed_server, write_config, run_cli, tmp_path)
    if os.geteuid() != 0:
        config.chmod(0o400)
        result = run_cli(config, "suggest", "exodus", "--apply", "1", expect=2)
        output = result.output
    else:  # root may write anything: run the command as an ordinary user who owns only the database
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv to become another user")
        place = Path(tempfile.mkdtemp(prefix="monitor-readonly-"))
        try:
            place.chmod(0o755)
            shutil.copy(config, place / "feeds.toml")
            (place / "feeds.toml").chmod(0o644)
            data = place / "data"
            data.mkdir()
            shutil.copy(db_path, data / "monitor.db")
            for path in (data, data / "monitor.db"):
                os.chown(path, 65534, 65534)
            as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable]
            env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HOME": str(data)}
            # A clone in a private folder (mktemp -d, a 0700 home) is out of that user's reach, interpreter and all.
            reach = subprocess.run([*as_nobody, "-c", "import monitor"], capture_output=True, env=env, timeout=60)
            if reach.returncode != 0:
                pytest.skip(f"uid 65534 cannot run this checkout's Python (a folder above {REPO} is private)")
            command = ["-m", "monitor", "--config", str(place / "feeds.toml"), "--db", str(data / "monitor.db")]
            done = subprocess.run(
                [*as_nobody, *command, "suggest", "exodus", "--apply", "1"],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
            assert done.returncode == 2, done.stdout + done.stderr
            output = done.stderr
            assert (place / "feeds.toml").read_text() == config.read_text()
            config = place / "feeds.toml"
        finally:
            shutil.rmtree(place)
    assert f"{config}: the config file" in output and "is not writable by this user; nothing was changed" in output


def test_suggest_apply_keeps_a_bom_crlf_line_ends_and_a_symlink(feed_server, write_config, run_cli, tmp_path):
    """A config written by Windows Notepad (BOM, CRLF) and kept in a dotfiles folder behind a symlink."""
    config = labelled(feed_server, write_config, run_cli, tmp_path)
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "feeds.toml"
    target.write_bytes(b"\xef\xbb\xbf" + config.read_bytes().replace(b"\n", b"\r\n"))
    config.unlink()
    config.symlink_to(target)
    before = target.read_bytes()
    out = run_cli(config, "suggest", "exodus", "--apply", "1").output
    assert f"(the file {target})" in out
    after = target.read_bytes()
    assert config.is_symlink() and after.startswith(b"\xef\xbb\xbf") and b"\n" not in after.replace(b"\r\n", b"")
    assert b'\r\nall = ["displac*", "@place"]\r\n' in after and len(after) > len(before)
    assert json.loads(run_cli(config, "themes", "--quality", "--json").output)["themes"][0]["f1"] == 1.0


SHIPPED = REPO / "config" / "feeds.toml"


@pytest.mark.parametrize("theme", ["putin_blame", "baku_promises", "armenian_exodus"])
def test_every_place_a_term_may_take_in_the_shipped_themes_is_written_as_it_was_measured(theme):
    """Each shape of a suggestion (near an anchor, or in place of one entry of a rule, with its agent, unless
    and window kept), written into the shipped config's text, reads back as the very rule that was measured,
    and every other line stays as it was."""
    text = SHIPPED.read_text(encoding="utf-8")
    spec = parse_config(text, str(SHIPPED)).themes[theme]
    written = tomllib.loads(text)["themes"][theme]
    places = shapes(spec, written)
    assert any(p.where.startswith("near") for p in places)
    assert any(p.base.agent for p in places) == any(rule.agent for rule in spec.rules)
    for shape in places:
        added = add_rule(text, theme, rule_lines(theme, ["a comment"], shape.fields("sample term*")))
        assert added is not None
        rules = parse_config(added.text, str(SHIPPED)).themes[theme].rules
        assert rules[-1] == shape.rule("sample term*") and rules[:-1] == spec.rules, shape.where
        lines = added.text.splitlines()
        assert lines[: added.first - 2] + lines[added.last :] == text.splitlines()


def test_suggest_apply_refuses_a_theme_whose_rules_are_inline_and_gives_the_rule_to_add_by_hand(
    feed_server, write_config, run_cli, tmp_path
):
    """An inline array of rules cannot take a table after it: nothing is written, the rule is printed."""
    config = labelled(feed_server, write_config, run_cli, tmp_path)
    text = config.read_text()
    inline = text.replace(
        '# Families and Armenians fleeing.\n[[themes.exodus.rules]]\nname = "flight"\n'
        'all = [["flee*", "fled", "refugee*"], ["families", "Armenians"]]\nwithin = 10\n',
        'rules = [{ name = "flight", all = [["flee*", "fled", "refugee*"], ["families", "Armenians"]], '
        "within = 10 }]\n",
    )
    assert inline != text
    config.write_text(inline)
    output = run_cli(config, "suggest", "exodus", "--apply", "1", expect=2).output
    assert "nothing was changed. Add it by hand:" in output and 'all = ["displac*", "@place"]' in output
    assert config.read_text() == inline
