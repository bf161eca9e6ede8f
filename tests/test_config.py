"""`config/feeds.toml` -> validated Config (`monitor.config.load`): every problem, with its key path and line."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config.load import Config, load_config, parse_config
from monitor.config.settings import DOCUMENTED, POLLING, REQUIRED, SECTIONS, USER_AGENT, default_of
from monitor.errors import ConfigError, ConfigProblem
from monitor.types import FeedSource, RuleSpec, ThemeSpec

SHIPPED = Path(__file__).resolve().parents[1] / "config" / "feeds.toml"
FEED_A = '[[feeds]]\nname = "sample-wire"\nurl = "https://example.org/sample-wire/feed.xml"\n'


def problems(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "feeds.toml")
    assert caught.value.file == "feeds.toml"
    return caught.value.problems


def only_problem(text: str) -> ConfigProblem:
    found = problems(text)
    assert len(found) == 1, found
    return found[0]


def where(text: str) -> list[tuple[str, int | None]]:
    return [(p.path, p.line) for p in problems(text)]


# --- the shipped config ---------------------------------------------------------------------------


def test_the_shipped_config_is_valid() -> None:
    config = load_config(SHIPPED)
    assert 18 <= len(config.feeds) <= 25
    assert set(config.themes) == {"putin_blame", "baku_promises", "armenian_exodus"}
    assert len({f.name for f in config.feeds}) == len(config.feeds)
    assert all(f.url.startswith(("http://", "https://")) for f in config.feeds)
    assert all(t.label and t.phrases for t in config.themes.values())
    assert config.timezone == "Asia/Yerevan"
    assert config.email.enabled is False and config.email.password_env == "MONITOR_SMTP_PASSWORD"


def test_shipped_feeds_remember_their_line() -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    config = load_config(SHIPPED)
    for feed in config.feeds:
        assert feed.line is not None and lines[feed.line - 1].strip() == "[[feeds]]"
        assert lines[feed.line].strip() == f'name = "{feed.name}"'


def test_shipped_feeds_take_their_own_interval_or_the_default() -> None:
    config = load_config(SHIPPED)
    evn, eurasianet = config.feed("evn-report"), config.feed("eurasianet")
    assert evn is not None and evn.interval == timedelta(hours=1)
    assert eurasianet is not None and eurasianet.interval == config.polling.interval == timedelta(minutes=30)
    assert config.feed("no-such-feed") is None


# --- defaults -------------------------------------------------------------------------------------


def test_an_empty_config_takes_every_default() -> None:
    config = parse_config("", "feeds.toml")
    assert isinstance(config, Config) and config.path == "feeds.toml"
    assert (config.database, config.digests_dir, config.timezone) == ("data/monitor.db", "digests", "UTC")
    assert config.polling.interval == timedelta(minutes=30)
    assert config.polling.backoff_max == timedelta(hours=12)
    assert (config.polling.max_bytes, config.polling.user_agent) == (10_000_000, USER_AGENT)
    assert (config.feeds, config.themes) == ((), {})
    assert (config.digest.week_start, config.digest.send_time) == ("monday", "08:00")
    assert (config.email.enabled, config.email.sender, config.email.to) == (False, "monitor@localhost", ())


def test_feeds_default_to_the_polling_interval_and_may_set_their_own() -> None:
    text = (
        f'[polling]\ninterval = "1h"\nmax_bytes = 1000000\n{FEED_A}[[feeds]]\nname = "b"\n'
        'url = "https://example.org/b"\ninterval = "5m"\nlanguage = "RU"\ntags = ["sample"]\n'
    )
    config = parse_config(text)
    first, second = config.feeds
    assert (first.interval, first.language, first.tags) == (timedelta(hours=1), None, ())
    assert (second.interval, second.language, second.tags) == (timedelta(minutes=5), "ru", ("sample",))
    assert config.polling.max_bytes == 1_000_000


def test_a_theme_takes_default_threshold_and_lists() -> None:
    theme = parse_config('[themes.sample]\nlabel = "Sample"\nphrases = ["sample phrase"]\n').themes["sample"]
    assert (theme.threshold, theme.require, theme.exclude, theme.description) == (80, (), (), "")


# --- one problem at a time: key path and line -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "line", "says"),
    [
        ('[polling]\nintervall = "1h"\n', "polling.intervall", 2, "unknown key"),
        (FEED_A + "colour = 1\n", "feeds[0].colour", 4, "unknown key"),
        ('[monitor]\ntimezone = "UTC"\n[extra]\nx = 1\n', "extra", 3, "unknown section"),
        ('database = "x.db"\n', "database", 1, "unknown section"),
        ('[polling]\nconcurrency = "ten"\n', "polling.concurrency", 2, "whole number"),
        ("[polling]\nconcurrency = true\n", "polling.concurrency", 2, "whole number"),
        ("[email]\nport = 70000\n", "email.port", 2, "whole number"),
        ('[email]\nenabled = "yes"\n', "email.enabled", 2, "true or false"),
        ("monitor = 5\n", "monitor", 1, "expected a table"),
        ('[feeds]\nname = "a"\n', "feeds", 1, "list of [[feeds]]"),
        ("themes = []\n", "themes", 1, "[themes.<key>]"),
        (FEED_A + 'tags = "armenia"\n', "feeds[0].tags", 4, "list of strings"),
        (FEED_A + 'language = "english"\n', "feeds[0].language", 4, "language code"),
        ('[[feeds]]\nname = "a"\nurl = "ftp://example.org/feed"\n', "feeds[0].url", 3, "http"),
        ('[[feeds]]\nname = "a"\nurl = "example.org/feed"\n', "feeds[0].url", 3, "http"),
        ('[[feeds]]\nname = "a"\nurl = "https://exa mple.org/feed"\n', "feeds[0].url", 3, "http"),
        ('[[feeds]]\nname = "a"\nurl = "https://example.org:99x/feed"\n', "feeds[0].url", 3, "http"),
        ('[[feeds]]\nname = "a"\nurl = 42\n', "feeds[0].url", 3, "in quotes"),
        ('[polling]\ninterval = "soon"\n', "polling.interval", 2, "duration"),
        ("[polling]\ninterval = 30\n", "polling.interval", 2, "in quotes"),
        (FEED_A + 'interval = "0s"\n', "feeds[0].interval", 4, "greater than zero"),
        ('[polling]\nmax_bytes = "lots"\n', "polling.max_bytes", 2, "size"),
        ("[polling]\nmax_bytes = 0\n", "polling.max_bytes", 2, "greater than zero"),
        ('[monitor]\ntimezone = "Mars/Base"\n', "monitor.timezone", 2, "IANA time zone"),
        ('[monitor]\ndatabase = ""\n', "monitor.database", 2, "non-empty"),
        ('[digest]\nsend_time = "25:00"\n', "digest.send_time", 2, "HH:MM"),
        ('[digest]\nweek_start = "Funday"\n', "digest.week_start", 2, "monday"),
        ('[email]\nfrom = "not an address"\n', "email.from", 2, "e-mail address"),
        ('[email]\nsecurity = "ssl"\n', "email.security", 2, "starttls"),
        ('[email]\npassword_env = "MY-PASS"\n', "email.password_env", 2, "environment variable"),
        ('[[feeds]]\nname = "a"\n', "feeds[0].url", 1, "missing"),
        ('[[feeds]]\nurl = "https://example.org/a"\n', "feeds[0].name", 1, "missing"),
        ('[themes.t]\nphrases = ["p"]\n', "themes.t.label", 1, "missing"),
        ('[themes.t]\nlabel = "l"\n', "themes.t", 1, "at least one phrase or rule"),
        ('[themes.t]\nlabel = "l"\nphrases = []\n', "themes.t.phrases", 3, "at least one phrase"),
        ('[themes.t]\nlabel = "l"\nphrases = [\n  "a",\n  42,\n]\n', "themes.t.phrases", 3, "42"),
        ('[themes.t]\nlabel = "l"\nphrases = ["p"]\nthreshold = 101\n', "themes.t.threshold", 4, "0 to 100"),
        ('[themes.Bad-Key]\nlabel = "l"\nphrases = ["p"]\n', "themes.Bad-Key", 1, "theme key"),
        ('[themes.2nd]\nlabel = "l"\nphrases = ["p"]\n', "themes.2nd", 1, "theme key"),
        ("[themes]\nt = 5\n", "themes.t", 2, "expected a table"),
        ("[email]\nenabled = true\n", "email.to", 1, "no recipients"),
        ("[email]\nenabled = true\nto = []\n", "email.to", 3, "no recipients"),
        ('[email]\nto = "x@example.org"\n', "email.to", 2, "list of strings"),
    ],
)
def test_each_problem_names_its_key_and_line(text: str, path: str, line: int, says: str) -> None:
    problem = only_problem(text)
    assert (problem.path, problem.line) == (path, line)
    assert says in problem.message


@pytest.mark.parametrize(
    ("text", "path", "line"),
    [
        ('[email]\npassword = "hunter2"\n', "email.password", 2),
        (FEED_A + 'token = "abc"\n', "feeds[0].token", 4),
        ('[polling]\napi_key = "abc"\n', "polling.api_key", 2),
        ('[themes.t]\nlabel = "l"\nphrases = ["p"]\nsecret = "s"\n', "themes.t.secret", 4),
    ],
)
def test_secrets_are_refused_with_a_pointer_to_the_environment(text: str, path: str, line: int) -> None:
    problem = only_problem(text)
    assert (problem.path, problem.line) == (path, line)
    assert "environment variable" in problem.message and "password_env" in problem.message


def test_duplicate_feed_name() -> None:
    text = FEED_A + '[[feeds]]\nname = "sample-wire"\nurl = "https://example.org/other.xml"\n'
    problem = only_problem(text)
    assert (problem.path, problem.line) == ("feeds[1].name", 5)
    assert "feeds[0]" in problem.message


@pytest.mark.parametrize(
    "same_url",
    [
        "https://example.org/sample-wire/feed.xml",
        "https://EXAMPLE.org/sample-wire/feed.xml",
        "https://example.org/sample-wire/feed.xml#latest",
        "https://example.org:443/sample-wire/feed.xml",
    ],
)
def test_duplicate_feed_url(same_url: str) -> None:
    problem = only_problem(FEED_A + f'[[feeds]]\nname = "copy"\nurl = "{same_url}"\n')
    assert (problem.path, problem.line) == ("feeds[1].url", 6)
    assert "duplicate feed URL" in problem.message and "feeds[0]" in problem.message


def test_different_paths_on_one_host_are_not_duplicates() -> None:
    text = FEED_A + '[[feeds]]\nname = "b"\nurl = "https://example.org/sample-wire/other.xml"\n'
    assert len(parse_config(text).feeds) == 2


# --- every problem at once ------------------------------------------------------------------------


def test_every_problem_is_reported_in_one_error_in_line_order() -> None:
    text = (
        "\n".join(
            [
                "[monitor]",
                'timezone = "Mars/Base"',  # 1-2
                "[polling]",
                'interval = "soon"',
                'colour = "red"',  # 3-5
                "[[feeds]]",
                'name = "a"',
                'url = "ftp://example.org/a"',  # 6-8
                "[[feeds]]",
                'name = "a"',
                'url = "https://example.org/b"',  # 9-11
                "[themes.Bad]",
                'label = "l"',
                'phrases = ["p"]',  # 12-14
                "[email]",
                "enabled = true",
                'password = "x"',  # 15-17
            ]
        )
        + "\n"
    )
    assert where(text) == [
        ("monitor.timezone", 2),
        ("polling.interval", 4),
        ("polling.colour", 5),
        ("feeds[0].url", 8),
        ("feeds[1].name", 10),
        ("themes.Bad", 12),
        ("email.to", 15),
        ("email.password", 17),
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "feeds.toml")
    message = str(caught.value)
    assert message.startswith("feeds.toml: 8 problems in the configuration")
    assert "feeds.toml:8: feeds[0].url: expected an http:// or https:// URL" in message
    assert caught.value.exit_code == 2


# --- syntax errors and files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[polling\ninterval = "30m"\n', 1),
        ("[polling]\ninterval = \n", 2),
        ('[monitor]\n\n\nx = "a" "b"\n', 4),
        ('[polling]\ninterval = "1h"\ninterval = "2h"\n', 3),  # a key given twice
    ],
)
def test_toml_syntax_error_reports_its_line(text: str, line: int) -> None:
    problem = only_problem(text)
    assert problem.line == line
    assert "not valid TOML" in problem.message


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text(FEED_A, encoding="utf-8")
    assert [f.name for f in load_config(path).feeds] == ["sample-wire"]
    assert load_config(str(path)).path == str(path)


def test_load_config_of_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as caught:
        load_config(missing)
    assert caught.value.file == str(missing)
    assert "file not found" in caught.value.problems[0].message
    assert str(missing) in str(caught.value)


@pytest.mark.parametrize("content", [None, b"\xff\xfe[monitor]\n"])
def test_load_config_of_an_unreadable_file(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "feeds.toml"
    path.mkdir() if content is None else path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "cannot be read" in caught.value.problems[0].message


def test_load_config_reports_problems_with_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text('[polling]\ninterval = "soon"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}:2: polling.interval:" in str(caught.value)


# Each table of settings, and where its values land in a Config (`from` is `sender`, a keyword in Python).
RECORDS = {
    "monitor": lambda config: config,
    "polling": lambda config: config.polling,
    "digest": lambda config: config.digest,
    "email": lambda config: config.email,
    "metrics": lambda config: config.metrics,
    "backfill": lambda config: config.backfill,
}
FIELD_OF = {("email", "from"): "sender"}


def test_every_section_with_defaults_has_a_record() -> None:
    with_defaults = {
        section
        for section, settings in SECTIONS.items()
        if settings and section not in ("feeds", "themes", "subscriptions")
    }
    assert with_defaults == set(RECORDS)


@pytest.mark.parametrize("section", list(RECORDS))
def test_each_record_is_its_settings_table_and_an_empty_file_gives_every_default(section: str) -> None:
    """A setting without a field, or a field without a setting, is caught here; so is a record that grows a
    default of its own (its bare construction would differ from the table's) or a load that stops filling one."""
    settings = SECTIONS[section]
    fields = {FIELD_OF.get((section, s.key), s.key) for s in settings}
    loaded = RECORDS[section](parse_config("", "empty.toml"))
    bare = RECORDS[section](Config(path="empty.toml"))
    own = {f.name for f in dataclasses.fields(loaded)} - {"path", "feeds", "themes", "terms", "subscriptions", *RECORDS}
    assert own == fields, (
        f"[{section}]: fields without a setting {own - fields}, settings without a field {fields - own}"
    )
    for setting in settings:
        name = FIELD_OF.get((section, setting.key), setting.key)
        expected = default_of(settings, setting.key)
        assert getattr(loaded, name) == getattr(bare, name) == expected, f"{section}.{setting.key}"


@pytest.mark.parametrize(
    ("section", "record"), [("feeds", FeedSource), ("themes", ThemeSpec), ("themes.<key>.rules", RuleSpec)]
)
def test_the_shared_records_leave_every_chosen_default_to_the_settings_table(section: str, record: type) -> None:
    """FeedSource, ThemeSpec and RuleSpec (types.py, below config) may say "nothing given" (None, (), ""), but a
    chosen default, such as a theme's threshold, is the table's alone: the field has none of its own."""
    chosen = {s.key for s in DOCUMENTED[section] if s.default is not REQUIRED and s.default not in (None, (), "")}
    fields = {f.name: f for f in dataclasses.fields(record)}
    assert chosen <= fields.keys()  # none for a feed today: each of its defaults says "nothing given"
    own = {key for key in chosen if fields[key].default is not dataclasses.MISSING}
    assert not own, f"{record.__name__} repeats the settings table's default of {sorted(own)}"


def test_a_default_is_converted_as_a_written_value_is() -> None:
    assert default_of(POLLING, "interval") == timedelta(minutes=30)
    assert default_of(POLLING, "max_bytes") == 10_000_000
    assert default_of(POLLING, "user_agent") == USER_AGENT and "{version}" not in USER_AGENT
    with pytest.raises(LookupError):
        default_of(POLLING, "no_such_setting")


RULES_BASE = """
[terms]
place = ["Karabakh", "Stepanakert"]
wider = ["@place", "Lachin"]

[themes.t]
label = "Sample theme"
"""


def rule_problems(extra: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as caught:
        parse_config(RULES_BASE + extra, "rules.toml")
    return caught.value.problems


def test_rules_and_term_sets_are_compiled_into_the_theme() -> None:
    config = parse_config(
        RULES_BASE + '[[themes.t.rules]]\nname = "flight"\nall = [["fled", "flee*"], "@wider"]\n'
        "within = 7\nordered = true\nscore = 90\n",
        "rules.toml",
    )
    rule = config.themes["t"].rules[0]
    assert rule.groups == (("fled", "flee*"), ("Karabakh", "Stepanakert", "Lachin"))
    assert (rule.name, rule.within, rule.ordered, rule.score) == ("flight", 7, True, 90)
    assert config.terms["wider"] == ("Karabakh", "Stepanakert", "Lachin")


def test_inline_rules_get_default_names_and_settings() -> None:
    config = parse_config(RULES_BASE + 'rules = [{ all = ["@place", "fled"] }]\n', "rules.toml")
    rule = config.themes["t"].rules[0]
    assert (rule.name, rule.within, rule.ordered, rule.score) == ("rule 1", 30, False, 85)


@pytest.mark.parametrize(
    ("extra", "path", "line", "fragment"),
    [
        ('[[themes.t.rules]]\nall = ["@nowhere", "fled"]\n', "themes.t.rules[0].all", 9, "unknown term set '@nowhere'"),
        ('[[themes.t.rules]]\nname = "x"\n', "themes.t.rules[0].all", 8, "missing"),
        ('[[themes.t.rules]]\nall = ["ab*"]\n', "themes.t.rules[0].all", 9, "at least 3 letters"),
        ('[[themes.t.rules]]\nall = ["*fled"]\n', "themes.t.rules[0].all", 9, "may only end a word"),
        ('[[themes.t.rules]]\nall = ["~ab"]\n', "themes.t.rules[0].all", 9, "a stem after `~` needs at least 3"),
        ('[[themes.t.rules]]\nall = ["раз~блок*"]\n', "themes.t.rules[0].all", 9, "`~` may only begin a word"),
        ('[[themes.t.rules]]\nall = ["fled"]\nwithin = 0\n', "themes.t.rules[0].within", 10, "from 1 to 1000"),
        ('[[themes.t.rules]]\nall = ["fled"]\ncolour = "red"\n', "themes.t.rules[0].colour", 10, "unknown key"),
        ('phrases = ["p"]\nrequire = ["@nowhere"]\n', "themes.t.require", 9, "unknown term set"),
        ('phrases = ["p"]\nexclude = ["!!!"]\n', "themes.t.exclude", 9, "has no words"),
    ],
)
def test_rule_problems_name_their_key_and_line(extra, path, line, fragment) -> None:
    problems = rule_problems(extra)
    assert any(p.path == path and p.line == line and fragment in p.message for p in problems), problems


def test_a_term_set_may_only_use_sets_defined_above_it() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config('[terms]\nfirst = ["@second"]\nsecond = ["x"]\n', "t.toml")
    assert caught.value.problems[0].path == "terms.first" and caught.value.problems[0].line == 2


# --- a config saved by Windows Notepad ---------------------------------------------------------------------


def test_a_config_saved_with_a_utf8_bom_and_crlf_line_ends_is_read(tmp_path, run_cli) -> None:
    config = tmp_path / "feeds.toml"
    text = FEED_A.replace("\n", "\r\n") + '\r\n[themes.exodus]\r\nlabel = "Exodus"\r\nphrases = ["Lachin corridor"]\r\n'
    config.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    checked = run_cli(config, "check")
    assert "feeds      1" in checked.output and "sample-wire" in checked.output and "exodus" in checked.output
    assert "sample-wire" in run_cli(config, "feeds").output
    assert [f.name for f in load_config(config).feeds] == ["sample-wire"]
    assert only_problem("\ufeff\ufeff" + FEED_A).line == 1  # one BOM is an editor's; a second is in the text
