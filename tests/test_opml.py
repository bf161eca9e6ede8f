"""OPML in and out, as a user moves feeds between monitor and a feed reader."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from monitor.config.load import load_config

OPML = """<?xml version="1.0"?>
<opml version="2.0"><head><title>Sample reader export</title></head><body>
  <outline text="Caucasus">
    <outline type="rss" text="Sample Wire" xmlUrl="https://sample-wire.example.org/rss"/>
    <outline type="rss" text="Sample Dispatch" xmlUrl="http://dispatch.example.org/feed" category="/wires"/>
  </outline>
  <outline type="rss" text="Already here" xmlUrl="HTTPS://Existing.example.org/rss#top"/>
  <outline type="rss" text="Not http" xmlUrl="feed://x.example.org/rss"/>
</body></opml>
"""


def test_import_appends_new_feeds_keeps_the_config_and_skips_known_ones(write_config, run_cli, tmp_path):
    config = write_config(
        [{"name": "existing", "url": "https://existing.example.org/rss"}], extra="# a comment the user wrote\n"
    )
    before = config.read_text()
    source = tmp_path / "reader.opml"
    source.write_text(OPML)
    dry = run_cli(config, "feeds", "import", str(source), "--dry-run")
    assert "would add: sample-wire" in dry.output and config.read_text() == before
    result = run_cli(config, "feeds", "import", str(source))
    assert "2 feed(s) added" in result.output and "already configured" in result.output
    assert "skipped, not an http(s) feed: feed://" in result.output
    text = config.read_text()
    assert text.startswith(before) and "# a comment the user wrote" in text
    feeds = {f.name: f for f in load_config(config).feeds}
    assert feeds["sample-wire"].tags == ("caucasus",) and feeds["sample-dispatch"].tags == ("caucasus", "wires")
    assert "0 feed(s) added" in run_cli(config, "feeds", "import", str(source)).output  # idempotent


def test_export_round_trips_through_import(write_config, run_cli, tmp_path):
    config = write_config(
        [
            {"name": "sample-a", "url": "https://a.example.org/rss", "tags": ["armenia"]},
            {"name": "sample-b", "url": "https://b.example.org/rss?x=1&y=2"},
        ]
    )
    exported = tmp_path / "out.opml"
    run_cli(config, "feeds", "export", "--out", str(exported))
    other = write_config([{"name": "other", "url": "https://other.example.org/rss"}], name="other.toml")
    run_cli(other, "feeds", "import", str(exported))
    urls = {f.url for f in load_config(other).feeds}
    assert urls == {"https://other.example.org/rss", "https://a.example.org/rss", "https://b.example.org/rss?x=1&y=2"}


def test_hostile_or_broken_opml_is_refused(write_config, run_cli, tmp_path):
    config = write_config([{"name": "existing", "url": "https://existing.example.org/rss"}])
    bomb = tmp_path / "bomb.opml"
    bomb.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<opml version="2.0"><body><outline text="&b;" xmlUrl="https://x.example.org/"/></body></opml>'
    )
    assert "not a readable OPML document" in run_cli(config, "feeds", "import", str(bomb), expect=2).output
    html = tmp_path / "page.opml"
    html.write_text("<html><body>not opml</body></html>")
    assert "not an OPML document" in run_cli(config, "feeds", "import", str(html), expect=2).output


def test_export_hides_feed_credentials_unless_asked_to_keep_them(write_config, run_cli, tmp_path):
    config = write_config(
        [
            {"name": "sample-private", "url": "https://user:secret@a.example.org/rss"},
            {"name": "sample-token", "url": "https://secret-token@b.example.org/rss"},
        ]
    )
    shared = run_cli(config, "feeds", "export").output
    assert "secret" not in shared
    assert (
        'xmlUrl="https://user:***@a.example.org/rss"' in shared and 'xmlUrl="https://***@b.example.org/rss"' in shared
    )
    kept = run_cli(config, "feeds", "export", "--with-credentials").output
    assert 'xmlUrl="https://user:secret@a.example.org/rss"' in kept


ONE_FEED = """<?xml version="1.0"?>
<opml version="2.0"><body><outline type="rss" text="Sample Wire" xmlUrl="https://sample-wire.example.org/rss"/></body>
</opml>
"""
SECRET = "https://user:s3cret@existing.example.org/rss"  # a feed password: the reason a config is made 0600


@pytest.fixture
def umask_022():
    """The umask of most desktops: a file written as umask allows is readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.parametrize("mode", [0o600, 0o640], ids=oct)
def test_import_keeps_the_config_mode_and_owner(write_config, run_cli, tmp_path, umask_022, mode):
    config = write_config([{"name": "existing", "url": SECRET}])
    config.chmod(mode)
    before = config.stat()
    source = tmp_path / "reader.opml"
    source.write_text(ONE_FEED)
    assert "1 feed(s) added" in run_cli(config, "feeds", "import", str(source)).output
    after = config.stat()
    assert stat.S_IMODE(after.st_mode) == mode, oct(after.st_mode)
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert [f.name for f in load_config(config).feeds] == ["existing", "sample-wire"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_import_through_a_symlinked_config_writes_its_target_and_keeps_the_link(write_config, run_cli, tmp_path):
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = write_config([{"name": "existing", "url": SECRET}], name="dotfiles/feeds.toml")
    target.chmod(0o600)
    link = tmp_path / "feeds-link.toml"
    link.symlink_to(Path("dotfiles") / "feeds.toml")  # relative, as `ln -s` makes them
    source = tmp_path / "reader.opml"
    source.write_text(ONE_FEED)
    run_cli(link, "feeds", "import", str(source))
    assert link.is_symlink() and link.resolve() == target.resolve()
    assert [f.name for f in load_config(target).feeds] == ["existing", "sample-wire"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in dotfiles.iterdir()] == ["feeds.toml"]


ODD_CATEGORIES = [
    "line&#10;break",
    "tab&#9;and&#13;return",
    "del&#127;and&#133;nel",
    "say &quot;hi&quot;",
    "back\\slash\\",
    "]] [[feeds]]",
    "Ереван 🎉 l\u2028s",
]


def test_import_escapes_odd_categories_so_that_they_read_back_as_written(write_config, run_cli, tmp_path):
    outlines = "".join(
        f'<outline type="rss" text="Odd {n}" xmlUrl="https://odd.example.org/{n}" category="{c}"/>'
        for n, c in enumerate(ODD_CATEGORIES)
    )
    source = tmp_path / "odd.opml"
    source.write_text(f'<?xml version="1.0"?><opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8")
    config = write_config([{"name": "existing", "url": "https://existing.example.org/rss"}])
    result = run_cli(config, "feeds", "import", str(source))
    assert result.output.count("  added: ") == len(ODD_CATEGORIES), result.output
    tags = [f.tags for f in load_config(config).feeds[1:]]
    assert tags == [
        ("line\nbreak",),
        ("tab\tand\rreturn",),
        ("del\x7fand\x85nel",),
        ('say "hi"',),
        ("back\\slash\\",),
        ("]] [[feeds]]",),
        ("Ереван 🎉 l\u2028s",),
    ]


def test_import_from_a_file_whose_name_holds_a_line_break_writes_a_config_that_loads(write_config, run_cli, tmp_path):
    source = tmp_path / 'reader\n[[feeds]]\nname = "x".opml'
    source.write_text(ONE_FEED)
    config = write_config([{"name": "existing", "url": "https://existing.example.org/rss"}])
    assert "  added: sample-wire" in run_cli(config, "feeds", "import", str(source)).output
    assert [f.name for f in load_config(config).feeds] == ["existing", "sample-wire"]


def test_import_keeps_the_bom_and_crlf_line_ends_the_users_editor_chose(run_cli, tmp_path):
    config = tmp_path / "feeds.toml"
    config.write_bytes(b'\xef\xbb\xbf[[feeds]]\r\nname = "existing"\r\nurl = "https://existing.example.org/rss"\r\n')
    source = tmp_path / "reader.opml"
    source.write_text(ONE_FEED)
    run_cli(config, "feeds", "import", str(source))
    written = config.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf[[feeds]]") and written.count(b"\xef\xbb\xbf") == 1
    assert b"\n" not in written.replace(b"\r\n", b"")
    assert [f.name for f in load_config(config).feeds] == ["existing", "sample-wire"]
    assert "sample-wire" in run_cli(config, "check").output
