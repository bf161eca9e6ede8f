"""Golden files: a fixed database, built from the sample feeds of `monitor demo` with a fixed clock,
renders exactly tests/data/golden/2023-W39.txt and .html (the shipped themes, time zone Asia/Yerevan; the
sample feeds tagged as an international wire and an Armenian outlet, for "who says what").

After a deliberate change of the digest, regenerate with UPDATE_GOLDEN=1 and read the diff."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.config.load import load_config
from monitor.digest.publish import publish
from monitor.fetch.http import Fetcher
from monitor.storage import Store
from monitor.update.poll import poll_round
from monitor.weeks import parse_week

from .conftest import REPO, config_text
from .feedserver import Route

DATA = Path(__file__).parent / "data"
SAMPLES = REPO / "src" / "monitor" / "samples"  # the demo's sample feeds
GOLDEN = DATA / "golden" / "2023-W39.txt"
GOLDEN_HTML = DATA / "golden" / "2023-W39.html"
TAGS = {"sample-wire": ["international"], "sample-dispatch": ["armenia"]}


class Clock:
    """Starts on 2 October 2023 and moves a second at each reading: repeatable, and never still."""

    def __init__(self) -> None:
        self.now = datetime(2023, 10, 2, 6, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def test_fixture_database_renders_the_golden_text_digest(feed_server, tmp_path):
    feeds = []
    for path in sorted(SAMPLES.glob("*.xml")):
        feeds.append(
            {
                "name": path.stem,
                "url": feed_server.add("/" + path.name, Route(body=path.read_bytes())),
                "tags": TAGS[path.stem],
            }
        )
    shipped = (REPO / "config" / "feeds.toml").read_text()
    themes = "[terms]" + shipped.split("\n[terms]", 1)[1].split("# --- Digests")[0]
    config_path = tmp_path / "feeds.toml"
    # One feed at a time: items are numbered as they are stored, and the digest shows their numbers.
    polling = {"concurrency": 1}
    config_path.write_text(config_text(feeds, polling, extra='\n[monitor]\ntimezone = "Asia/Yerevan"\n\n' + themes))
    config = load_config(config_path)
    clock = Clock()
    with Store.open(tmp_path / "golden.db") as store, Fetcher(config.polling, clock=clock) as fetcher:
        poll_round(config, store, fetcher, clock)
        start = parse_week("2023-W39", config.timezone)
        written = publish(config, store, start, datetime(2023, 10, 2, 8, tzinfo=UTC), out_dir=str(tmp_path / "out"))
    text, html = (path.read_text(encoding="utf-8") for path in written.files)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
        GOLDEN_HTML.write_text(html, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert html == GOLDEN_HTML.read_text(encoding="utf-8")
