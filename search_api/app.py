"""The Falcon application: routes, media, CORS, security headers, errors,
caching, gzip, access logs, metrics, the demo page and the search box files.

``create_app(config)`` only wires things together; the search work happens in
:class:`~search_api.engine.service.SearchService` (passed in, or made from the config).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import falcon
import falcon.media
import orjson

from search_api import errors, openapi
from search_api.clicks import ClickResource
from search_api.config import Config, multiprocess_metrics_dir
from search_api.engine.expansion import load_abbreviations
from search_api.engine.service import SearchService
from search_api.events import EventLog
from search_api.learned import LearnedSuggestions
from search_api.limits import RequestLimits, StaticMethods
from search_api.metrics import Metrics
from search_api.middleware import AccessLog, Gzip, StaticCaching
from search_api.resources import (
    CalendarResource,
    DemoPage,
    DocumentResource,
    HealthResource,
    NeighborsResource,
    OpenAPIResource,
    ReadyResource,
    RelatedResource,
    SearchResource,
    StatsResource,
    SuggestResource,
)

log = logging.getLogger("vnsearch.app")

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Content-Security-Policy of every answer but the demo page (which sets its own).
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    """Headers every response carries, errors and preflights included."""

    def __init__(self, vary_origin: bool = False):
        self.vary_origin = vary_origin

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "no-referrer")
        # Nothing here may be framed; JSON and files run no content of their own
        # (the demo page sets its own, wider policy).
        resp.set_header("X-Frame-Options", "DENY")
        if not resp.get_header("Content-Security-Policy"):
            resp.set_header("Content-Security-Policy", API_CSP)
        if self.vary_origin:
            # Answers differ by Origin when only some origins get CORS headers.
            resp.append_header("Vary", "Origin")


def create_app(
    config: Config,
    *,
    service: SearchService | None = None,
    metrics_dir: str | None = None,
    warm: bool = False,
    events: EventLog | None = None,
) -> falcon.App:
    """The WSGI app for ``config``; ``service`` defaults to one on ``config.index_dir``.
    ``metrics_dir`` is prometheus_client's multiprocess directory (default: from
    ``PROMETHEUS_MULTIPROC_DIR``, which the gunicorn config sets; none in tests).
    ``warm``: open the index and build what the first searches and suggestions
    need before returning (what a gunicorn worker does before it accepts
    requests, see ``search_api.wsgi``). ``events`` defaults to a writer into
    ``config.events_dir`` when that is set (tests pass their own)."""
    if service is None:
        service = SearchService(
            config.index_dir,
            refresh_interval=config.refresh_interval,
            max_query_syllables=config.max_query_words,
            time_limit=config.search_timeout_ms / 1000,
            abbreviations=load_abbreviations(config.abbreviations or None),
        )

    if metrics_dir is None:
        metrics_dir = multiprocess_metrics_dir()
    metrics = Metrics(service, metrics_dir)
    if events is None and config.events_dir:
        events = EventLog(
            config.events_dir,
            on_drop=metrics.events_dropped.inc,
            on_write=metrics.events_written.inc,
        )

    cors = config.cors_origins
    # process_response runs in reverse order: gzip last, the access log before it.
    middleware: list[Any] = [Gzip(), AccessLog(log_ips=config.log_ips), metrics]
    click_path = ("/v1/clicks",) if config.clicks else ()
    middleware.append(RequestLimits(config.max_url_length, config.max_body_bytes, click_path))
    middleware.append(StaticMethods("/static"))
    if cors:
        middleware.append(falcon.CORSMiddleware(allow_origins="*" if cors == ("*",) else cors))
    middleware.append(SecurityHeaders(vary_origin=bool(cors) and cors != ("*",)))
    middleware.append(StaticCaching(config.cache_max_age))

    app = falcon.App(middleware=middleware)
    # HTML forms send empty fields (?from=&category=): treat them as absent.
    app.req_options.keep_blank_qs_values = False
    app.resp_options.default_media_type = falcon.MEDIA_JSON

    json = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)
    handlers = {falcon.MEDIA_JSON: json, errors.PROBLEM_JSON: json}
    app.req_options.media_handlers.update(handlers)
    app.resp_options.media_handlers.update(handlers)

    errors.install(app)

    search = SearchResource(service, config)
    search.events = events
    app.add_route("/v1/search", search)
    app.add_route("/v1/calendar", CalendarResource(service, config))
    app.add_route("/v1/documents/{doc_id}/neighbors", NeighborsResource(service, config))
    app.add_route("/v1/documents/{doc_id}/related", RelatedResource(service, config))
    suggest = SuggestResource(service, config)
    suggest.events = events
    suggest.learned = LearnedSuggestions(config.index_dir)
    app.add_route("/v1/suggest", suggest)
    if config.clicks and events is not None:
        app.add_route("/v1/clicks", ClickResource(config, events))
    app.add_route("/v1/documents/{doc_id}", DocumentResource(service, config))
    app.add_route("/v1/stats", StatsResource(service, config))
    app.add_route("/healthz", HealthResource())
    app.add_route("/readyz", ReadyResource(service))
    app.add_route("/metrics", metrics)
    app.add_route("/openapi.json", OpenAPIResource(openapi.build(config)))
    app.add_route("/", DemoPage(STATIC_DIR / "index.html"))
    app.add_static_route("/static", str(STATIC_DIR))
    if warm:
        if events is not None:
            events.start()  # in the worker, before it accepts requests
        started = time.perf_counter()
        if service.warm():
            suggest.snapshots.warm()
            log.info("index warmed in %.2f s", time.perf_counter() - started)
    return app
