"""The deployment files stay true: Datasette's canned queries run on a real database, the systemd unit
and Dockerfile start the service."""

from __future__ import annotations

import json
import re
import sqlite3

from .conftest import REPO


def test_every_canned_datasette_query_runs(feed_server, write_config, run_cli, db_path):
    from .helpers import THEMES
    from .samples import headlines, rss

    config = write_config([{"name": "sample-wire", "url": feed_server.add("/f", body=rss(headlines(5)))}], extra=THEMES)
    run_cli(config, "poll")
    run_cli(config, "digest", "--week", "2023-W39", "--out", str(db_path.parent / "d"), "--no-send")
    metadata = json.loads((REPO / "deploy" / "datasette-metadata.json").read_text())
    queries = metadata["databases"]["monitor"]["queries"]
    conn = sqlite3.connect(db_path)
    for query in queries.values():
        values = {"theme": "exodus", "q": "Stepanakert", "week": "2023-W39"}
        params = {p: values[p] for p in re.findall(r":(\w+)", query["sql"])}
        conn.execute(query["sql"], params).fetchall()  # raises on a broken query
    conn.close()
    assert len(queries) >= 5


def test_service_definitions_run_the_daemon_with_a_health_check():
    unit = (REPO / "deploy" / "monitor.service").read_text()
    assert "ExecStart=" in unit and "monitor run" in unit and "ExecReload=/bin/kill -HUP" in unit
    dockerfile = (REPO / "Dockerfile").read_text()
    assert 'CMD ["run"]' in dockerfile and "HEALTHCHECK" in dockerfile and 'monitor", "status' in dockerfile
    assert re.search(r"^USER monitor$", dockerfile, re.MULTILINE)
