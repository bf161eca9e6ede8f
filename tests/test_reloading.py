"""What a reload applies (issue 19: the reload's decisions apart from the daemon that carries them out)."""

from __future__ import annotations

from monitor.config.load import load_config
from monitor.service.reloading import changes

A = {"name": "a", "url": "http://127.0.0.1:1/a"}
B = {"name": "b", "url": "http://127.0.0.1:1/b"}
C = {"name": "c", "url": "http://127.0.0.1:1/c"}


def test_a_reload_reschedules_only_the_feeds_that_changed(write_config):
    old = load_config(str(write_config([A, B, C], name="old.toml")))
    # b moves down the file (no change), c goes, a gets a new address, d is new.
    new = load_config(
        str(
            write_config(
                [{**A, "url": "http://127.0.0.1:1/a2"}, {"name": "d", "url": "http://x/d"}, B], name="new.toml"
            )
        )
    )
    found = changes(old, new)
    assert (found.feeds, found.removed) == (frozenset({"a", "d"}), frozenset({"c"}))
    assert not (found.fetcher or found.parser or found.digest or found.restart)


def test_a_reload_says_what_it_swaps_and_what_needs_a_restart(write_config):
    old = load_config(str(write_config([A], name="old.toml")))
    new = load_config(
        str(write_config([A], polling={"concurrency": 7}, extra='[digest]\nsend_day = "tuesday"\n', name="new.toml"))
    )
    found = changes(old, new)
    assert (found.feeds, found.removed, found.fetcher, found.digest) == (frozenset(), frozenset(), True, True)
    assert found.restart == (f"polling.concurrency ({old.polling.concurrency} -> 7)",)
    assert changes(old, new, database_given=True).restart == found.restart
    moved = load_config(str(write_config([A], extra='[monitor]\ndatabase = "elsewhere.db"\n', name="db.toml")))
    assert any(r.startswith("monitor.database") for r in changes(old, moved).restart)
    assert not changes(old, moved, database_given=True).restart
