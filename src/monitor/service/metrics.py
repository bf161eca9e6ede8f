"""EDGE: optional metrics for Prometheus, served by the daemon when `[metrics] enabled = true`.

prometheus-client is an optional dependency (`pip install monitor[metrics]`); without it, enabling
metrics logs one clear error and the daemon runs on without them.
"""

from __future__ import annotations

import logging
from typing import Any

from ..types import FeedReport
from ..units import listen_address

log = logging.getLogger("monitor.metrics")


class Metrics:
    def __init__(self, address: str):
        from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

        host, port = listen_address(address)  # "[::1]:9464" is served on ::1, not looked up as a name
        self.registry = CollectorRegistry()
        self.polls = Counter("monitor_polls", "Feed polls by outcome", ["outcome"], registry=self.registry)
        self.failures = Counter("monitor_poll_failures", "Feed polls that failed", registry=self.registry)
        self.items = Counter("monitor_items_new", "New items stored", registry=self.registry)
        self.matches = Counter("monitor_items_matched", "New or updated items matching a theme", registry=self.registry)
        self.latency = Histogram(
            "monitor_fetch_seconds",
            "Time to fetch a feed",
            registry=self.registry,
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        # Which path read each document (issue 25): a share drifting to feedparser means feeds the fast path
        # declines, and polls that cost more.
        self.parsed = Counter(
            "monitor_documents_parsed",
            "Feed documents parsed, by the path that read them",
            ["parser"],
            registry=self.registry,
        )
        self.digests = Counter("monitor_digest_sends", "Digest deliveries by result", ["state"], registry=self.registry)
        self.server: Any = start_http_server(port, addr=host, registry=self.registry)

    def poll(self, report: FeedReport) -> None:
        self.polls.labels(report.outcome.value).inc()
        if report.outcome.value in ("error", "gone"):
            self.failures.inc()
        self.items.inc(report.counts.new)
        self.matches.inc(report.counts.matched)
        if report.parser:
            self.parsed.labels(report.parser).inc()
        if report.duration:
            self.latency.observe(report.duration)

    def digest(self, state: str) -> None:
        self.digests.labels(state).inc()

    def close(self) -> None:
        server = self.server[0] if isinstance(self.server, tuple) else self.server
        if hasattr(server, "shutdown"):
            server.shutdown()


def start(enabled: bool, address: str) -> Metrics | None:
    if not enabled:
        return None
    try:
        metrics = Metrics(address)
    except ImportError:
        log.error("metrics are enabled but prometheus-client is not installed: pip install 'monitor[metrics]'")
        return None
    except OSError as error:
        log.error("metrics are enabled but %s cannot be served: %s", address, error)
        return None
    log.info("metrics for Prometheus on http://%s/metrics", address)
    return metrics
