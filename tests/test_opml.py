"""OPML in and out, as a user moves feeds between monitor and a feed reader."""

from __future__ import annotations

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
