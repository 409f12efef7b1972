"""Thin responders: parse and validate parameters, call the search service, return JSON.

Parameters are read and checked by :mod:`search_api.params` (the same limits the
OpenAPI document states).

Answers that depend only on the request and the index (search, suggest,
documents, stats) carry a weak ``ETag`` made from the snapshot version and the
parsed request, and ``Cache-Control: public, max-age=N``; a matching
``If-None-Match`` gets a 304 without running the query. The version is read
*before* the query runs: if a new generation is swapped in between, the answer
is newer than its tag, which costs one extra 200 later, never a stale 304.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import falcon

from indexer.sources.dates import MAX_YEAR, MIN_YEAR
from search_api.config import Config
from search_api.engine import suggest as suggestions
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService
from search_api.errors import APIError
from search_api.events import EventLog
from search_api.learned import LearnedSuggestions
from search_api.params import (
    DEFAULT_LIST_N,
    FIRST_MONTH,
    LAST_MONTH,
    MAX_LIST_N,
    filter_values,
    int_param,
    query_text,
    required_int_param,
    search_request,
    single_params,
)


class Validators:
    """``ETag`` and ``Cache-Control`` for answers that change only with the index."""

    def __init__(self, max_age: int):
        self.cache_control = f"public, max-age={max_age}" if max_age else "no-cache"

    def not_modified(
        self, req: falcon.Request, resp: falcon.Response, version: str, key: object
    ) -> bool:
        """Set the validators of the answer to ``key`` on index ``version``; True
        (and a 304 status) when the client already has it."""
        digest = hashlib.blake2b(
            f"{version}\0{key!r}".encode("utf-8", "surrogatepass"), digest_size=12
        ).hexdigest()
        # Weak: the gzip middleware may change the bytes, never the meaning.
        resp.set_header("ETag", f'W/"{digest}"')
        resp.set_header("Cache-Control", self.cache_control)
        tags = req.if_none_match or ()
        if any(t == "*" or str(t) == digest for t in tags):
            resp.status = falcon.HTTP_304
            return True
        return False


def index_version(service: SearchService) -> str:
    """The version of the snapshot the service would answer from now."""
    snap = service.snapshot()
    try:
        return snap.version
    finally:
        snap.release()


class SearchResource:
    """``GET /v1/search``"""

    # Set by create_app: the search event writer (search_api.events), or None.
    events: EventLog | None = None

    def __init__(self, service: SearchService, config: Config):
        self.service = service
        self.config = config
        self.validators = Validators(config.cache_max_age)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        parsed = self.parse(req)
        version = index_version(self.service)
        if self.validators.not_modified(req, resp, version, parsed):
            return
        resp.media = self.service.search(parsed)
        req.context.hits = resp.media["total_hits"]
        if self.events is not None:
            media = resp.media
            self.events.record("search", parsed, media, media["processing_time_ms"], version)
        if resp.media.get("timed_out"):
            # Partial results: the next try may do better, so nobody keeps these.
            resp.delete_header("ETag")
            resp.set_header("Cache-Control", "no-store")

    def parse(self, req: falcon.Request) -> SearchRequest:
        return search_request(req, self.config)


class SuggestResource:
    """``GET /v1/suggest?q=&limit=``: titles for what has been typed so far."""

    # Set by create_app: the event writer and the learned suggestions, or None.
    events: EventLog | None = None
    learned: LearnedSuggestions | None = None

    def __init__(self, service: SearchService, config: Config, *, background: bool = True):
        self.snapshots = suggestions.Suggester(service, background=background)
        self.config = config
        self.validators = Validators(config.cache_max_age)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        single_params(req, ("q", "limit"))
        q = query_text(req, self.config)
        limit = int_param(
            req,
            "limit",
            min_value=1,
            max_value=suggestions.MAX_LIMIT,
            default=suggestions.DEFAULT_LIMIT,
        )
        started = time.perf_counter()
        store = self.learned
        learned = store.current() if store is not None else None
        # One snapshot for the tag and the answer: they always agree.
        snap = self.snapshots.acquire()
        try:
            tag = ("suggest", q, limit, learned.stamp if learned is not None else None)
            if self.validators.not_modified(req, resp, snap.version, tag):
                return
            # Suggestions complete a title from the last words typed: a few suffice.
            resp.media = suggestions.suggest(snap, q, limit, min(self.config.max_query_words, 32))
            version = snap.version
        finally:
            snap.release()
        if store is not None and learned is not None:
            resp.media = store.blend(resp.media, q, limit, learned)
        req.context.hits = len(resp.media["suggestions"])
        if self.events is not None:
            elapsed = (time.perf_counter() - started) * 1000
            self.events.record("suggest", q, resp.media, elapsed, version)


class DocumentResource:
    """``GET /v1/documents/{doc_id}``: the stored fields of one document."""

    def __init__(self, service: SearchService, config: Config):
        self.service = service
        self.validators = Validators(config.cache_max_age)

    def on_get(self, req: falcon.Request, resp: falcon.Response, doc_id: str) -> None:
        version = index_version(self.service)
        doc = self.service.document(doc_id)
        if doc is None:
            raise APIError(falcon.HTTP_404, "not_found", "There is no document with this id.")
        if self.validators.not_modified(req, resp, version, ("document", doc_id)):
            return
        resp.media = doc


class CalendarResource:
    """``GET /v1/calendar?year=&month=``: articles per day of a month and per month
    of its year, with the same ``q``, ``category`` and ``site`` filters as search."""

    def __init__(self, service: SearchService, config: Config):
        self.service = service
        self.config = config
        self.validators = Validators(config.cache_max_age)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        single_params(req, ("q", "year", "month"))
        year = required_int_param(req, "year", min_value=MIN_YEAR, max_value=MAX_YEAR)
        month = required_int_param(req, "month", min_value=FIRST_MONTH, max_value=LAST_MONTH)
        filters = SearchRequest(
            q=query_text(req, self.config),
            categories=filter_values(req, "category", self.config),
            sites=filter_values(req, "site", self.config),
        )
        if self.validators.not_modified(
            req, resp, index_version(self.service), ("calendar", year, month, filters)
        ):
            return
        resp.media = self.service.calendar(filters, year, month)


class _DocumentListResource:
    """``GET /v1/documents/{doc_id}/<what>?n=``: articles shown beside one article."""

    def __init__(self, service: SearchService, config: Config, what: str):
        self.service = service
        self.what = what
        self.validators = Validators(config.cache_max_age)

    def on_get(self, req: falcon.Request, resp: falcon.Response, doc_id: str) -> None:
        single_params(req, ("n",))
        n = int_param(req, "n", min_value=1, max_value=MAX_LIST_N, default=DEFAULT_LIST_N)
        version = index_version(self.service)
        answer = getattr(self.service, self.what)(doc_id, n)
        if answer is None:
            raise APIError(falcon.HTTP_404, "not_found", "There is no document with this id.")
        if self.validators.not_modified(req, resp, version, (self.what, doc_id, n)):
            return
        resp.media = answer


class NeighborsResource(_DocumentListResource):
    """``GET /v1/documents/{doc_id}/neighbors?n=``: newer and older articles of the
    same category and site."""

    def __init__(self, service: SearchService, config: Config):
        super().__init__(service, config, "neighbors")


class RelatedResource(_DocumentListResource):
    """``GET /v1/documents/{doc_id}/related?n=``: articles on the same subject."""

    def __init__(self, service: SearchService, config: Config):
        super().__init__(service, config, "related")


class StatsResource:
    """``GET /v1/stats``: size, date range, sites and categories of the live index."""

    def __init__(self, service: SearchService, config: Config):
        self.service = service
        self.validators = Validators(config.cache_max_age)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self.validators.not_modified(req, resp, index_version(self.service), "stats"):
            return
        resp.media = self.service.stats()


class OpenAPIResource:
    """``GET /openapi.json``: the API description (see :mod:`search_api.openapi`)."""

    def __init__(self, document: dict):
        self.document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.document
        resp.set_header("Cache-Control", "public, max-age=300")


# Scripts, styles and API calls only from this origin; nothing inline, no frames.
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class DemoPage:
    """``GET /``: the demo page with the embeddable search box."""

    def __init__(self, path: Path):
        self.html = path.read_bytes()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.data = self.html
        resp.content_type = "text/html; charset=utf-8"
        resp.set_header("Content-Security-Policy", DEMO_CSP)
        resp.set_header("Cache-Control", "no-cache")


class HealthResource:
    """``GET /healthz``: the process is alive (says nothing about the index)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "ok"}
        resp.set_header("Cache-Control", "no-store")


class ReadyResource:
    """``GET /readyz``: the index is open and searchable (503 ``index_unavailable`` if not)."""

    def __init__(self, service: SearchService):
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        status = self.service.status()
        resp.media = {
            "status": "ready",
            "doc_count": status["doc_count"],
            "generation": status["generation"],
        }
        resp.set_header("Cache-Control", "no-store")
