"""Prometheus metrics (``GET /metrics``), with the official ``prometheus_client``.

- ``vnsearch_http_requests_total{route, method, status}``: requests answered;
- ``vnsearch_http_request_duration_seconds{route}``: latency histogram;
- ``vnsearch_index_documents``, ``vnsearch_index_generation{generation}`` and
  ``vnsearch_index_up``: the live index as this worker sees it, read at scrape
  time.

Under gunicorn there are several worker processes and a scrape reaches only one
of them. The gunicorn config therefore sets ``PROMETHEUS_MULTIPROC_DIR`` (a
fresh temporary directory) before any worker starts: prometheus_client then
keeps every worker's counters in files there and each scrape adds them up, so
the numbers cover the whole server (see ``search_api/gunicorn_conf.py``).
Without that variable (tests, a single process) the metrics live in a registry
of this app.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import falcon
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client import Histogram as _Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from search_api.middleware import route_of

# Seconds; a search takes milliseconds, a cold one on a large index up to ~1 s.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _IndexCollector:
    """The live index as the scraping worker sees it (read at scrape time)."""

    def __init__(self, service):
        self.service = service

    def describe(self) -> list[Metric]:
        return []  # collect() reads the index: nothing to do at registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("vnsearch_index_up", "1 when the index is open and searchable")
        try:
            status = self.service.status()
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "vnsearch_index_documents",
            "Documents in the live index generation",
            value=status["doc_count"],
        )
        gen = GaugeMetricFamily(
            "vnsearch_index_generation",
            "Number of the live index generation (label: its name)",
            labels=["generation"],
        )
        name = str(status["generation"])
        digits = "".join(ch for ch in name if ch.isdigit())
        gen.add_metric([name], int(digits) if digits else 0)
        yield gen


class Metrics:
    """The metrics of one app: a middleware that counts and times requests, and
    the ``/metrics`` responder."""

    def __init__(self, service, multiprocess_dir: str | None = None):
        self.multiprocess_dir = multiprocess_dir
        # In multiprocess mode values go to files, and each scrape collects them
        # into a fresh registry; otherwise into this app's own registry.
        self.registry = None if multiprocess_dir else CollectorRegistry()
        self.index = _IndexCollector(service)
        if self.registry is not None:
            self.registry.register(self.index)
        self.requests = Counter(
            "vnsearch_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.events_written = Counter(
            "vnsearch_events_written",
            "Search events written to VNSEARCH_EVENTS_DIR",
            registry=self.registry,
        )
        self.events_dropped = Counter(
            "vnsearch_events_dropped",
            "Search events dropped because the writer's queue was full",
            registry=self.registry,
        )
        self.latency = _Histogram(
            "vnsearch_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            buckets=BUCKETS,
            registry=self.registry,
        )

    # -- middleware ------------------------------------------------------------------

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.metrics_started = time.perf_counter()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        started = req.context.get("metrics_started")
        if started is None:
            return
        route = route_of(req)
        self.latency.labels(route).observe(time.perf_counter() - started)
        self.requests.labels(route, req.method, str(resp.status_code)).inc()

    # -- GET /metrics ------------------------------------------------------------------

    def render(self) -> bytes:
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.multiprocess_dir)
        registry.register(self.index)
        return generate_latest(registry)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self.render()
        resp.content_type = CONTENT_TYPE_LATEST
        resp.set_header("Cache-Control", "no-store")
