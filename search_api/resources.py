"""Thin responders: parse and validate parameters, call the search service, return JSON.

Parameters are read with Falcon's helpers, so a malformed value becomes a 400
``invalid_param`` naming the parameter (see :mod:`search_api.errors`). Blank
values (``?from=&category=``, as HTML forms send them) count as absent, except
``facets=`` which asks for no facets.

Answers that depend only on the request and the index (search, suggest,
documents, stats) carry a weak ``ETag`` made from the snapshot version and the
parsed request, and ``Cache-Control: public, max-age=N``; a matching
``If-None-Match`` gets a 304 without running the query. The version is read
*before* the query runs: if a new generation is swapped in between, the answer
is newer than its tag, which costs one extra 200 later, never a stale 304.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import falcon
import falcon.uri

from indexer.sources.dates import MAX_YEAR, MIN_YEAR
from search_api.config import Config
from search_api.engine import suggest as suggestions
from search_api.engine.request import DEFAULT_FACETS, FACETS, SORTS, SearchRequest
from search_api.engine.service import SearchService
from search_api.errors import APIError, param_error

DATE_FORMAT = "%Y-%m-%d"
DEFAULT_PER_PAGE = 10

# Parameters that take one value; repeating one is an error rather than a guess.
_SINGLE = ("q", "page", "per_page", "sort", "from", "to")
_YEAR = re.compile(r"[0-9]{4}")
_MONTH = re.compile(r"[0-9]{4}-(?:0[1-9]|1[0-2])")


def _year(value: str) -> str:
    if not _YEAR.fullmatch(value):
        raise ValueError(value)
    return value


def _month(value: str) -> str:
    if not _MONTH.fullmatch(value):
        raise ValueError(value)
    return value


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


def single_params(req: falcon.Request, names: tuple[str, ...]) -> None:
    """400 when one of ``names`` is repeated: one value, not a guess."""
    for name in names:
        if isinstance(req.params.get(name), list):
            raise param_error(name, f'The "{name}" parameter may be given only once.')


# Integers and dates as the document writes them, in ASCII digits. Python's int()
# would also take "5_0" (50), " 5", "+5" and other scripts' digits ("٥"), and
# strptime "2017-3-7"; the fuzzer's hunt for accepted invalid input (issue 15,
# item 13) is what found that.
_INTEGER = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def int_param(req: falcon.Request, name: str, **kwargs) -> int | None:
    """``req.get_param_as_int`` for integers written in ASCII digits only."""
    raw = req.params.get(name)
    for value in raw if isinstance(raw, list) else () if raw is None else (raw,):
        if not _INTEGER.fullmatch(value):
            raise param_error(name, f'The "{name}" parameter must be an integer (digits 0-9).')
    return req.get_param_as_int(name, **kwargs)


def date_param(req: falcon.Request, name: str):
    """``req.get_param_as_date`` for YYYY-MM-DD in ASCII digits only."""
    value = req.get_param(name)
    if value is not None and not _DATE.fullmatch(value):
        raise param_error(name, f'The "{name}" parameter must be a date as YYYY-MM-DD.')
    return req.get_param_as_date(name, format_string=DATE_FORMAT)


def query_text(req: falcon.Request, config: Config) -> str:
    """``q`` within the configured length limits (400 ``query_too_long`` if not)."""
    q = req.get_param("q", default="")
    if len(q) > config.max_query_chars:
        raise param_error(
            "q", f"The query is longer than {config.max_query_chars} characters.", "query_too_long"
        )
    if len(q.split()) > config.max_query_words:
        raise param_error(
            "q", f"The query has more than {config.max_query_words} words.", "query_too_long"
        )
    return q


class SearchResource:
    """``GET /v1/search``"""

    # Set by create_app: the search event writer (search_api.events), or None.
    events = None

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
        cfg = self.config
        single_params(req, _SINGLE)
        q = query_text(req, cfg)

        page = int_param(req, "page", min_value=1, default=1)
        per_page = int_param(
            req,
            "per_page",
            min_value=1,
            max_value=cfg.max_per_page,
            default=min(DEFAULT_PER_PAGE, cfg.max_per_page),
        )
        if page * per_page > cfg.max_page_depth:
            raise param_error(
                "page",
                f"Results are available up to number {cfg.max_page_depth} "
                f"(page × per_page); refine the query instead.",
                "page_too_deep",
            )

        sort = req.get_param("sort", default="relevance")
        if sort not in SORTS:
            raise param_error("sort", f'The "sort" parameter must be one of {", ".join(SORTS)}.')

        date_from = date_param(req, "from")
        date_to = date_param(req, "to")
        for name, day in (("from", date_from), ("to", date_to)):
            if day and not MIN_YEAR <= day.year <= MAX_YEAR:
                raise param_error(
                    name, f'The "{name}" date must be from {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31.'
                )
        if date_from and date_to and date_from > date_to:
            raise param_error("from", 'The "from" date is after the "to" date.')

        return SearchRequest(
            q=q,
            page=page,
            per_page=per_page,
            sort=sort,
            date_from=date_from,
            date_to=date_to,
            categories=self._values(req, "category"),
            sites=self._values(req, "site"),
            years=self._values(req, "year", _year),
            months=self._values(req, "month", _month),
            facets=self._facets(req),
        )

    def _values(self, req: falcon.Request, name: str, transform=None) -> tuple[str, ...]:
        values = req.get_param_as_list(name, transform=transform, default=[])
        if len(values) > self.config.max_filter_values:
            raise param_error(
                name,
                f'The "{name}" parameter may be given at most '
                f"{self.config.max_filter_values} times.",
                "too_many_values",
            )
        return tuple(dict.fromkeys(values))

    def _facets(self, req: falcon.Request) -> tuple[str, ...]:
        # Read with blank values kept: "facets=" means no facets, absent means the default.
        raw = falcon.uri.parse_query_string(req.query_string, keep_blank=True).get("facets")
        if raw is None:
            return DEFAULT_FACETS
        items = raw if isinstance(raw, list) else [raw]
        names = [n.strip() for item in items for n in item.split(",") if n.strip()]
        if any(n not in FACETS for n in names):
            raise param_error(
                "facets", f'The "facets" parameter takes names from {", ".join(FACETS)}.'
            )
        return tuple(dict.fromkeys(names))


class SuggestResource:
    """``GET /v1/suggest?q=&limit=``: titles for what has been typed so far."""

    # Set by create_app: the event writer and the learned suggestions, or None.
    events = None
    learned = None

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
        learned = self.learned.current() if self.learned is not None else None
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
        if learned is not None:
            resp.media = self.learned.blend(resp.media, q, limit, learned)
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

    def __init__(self, service: SearchService, config: Config, search: SearchResource):
        self.service = service
        self.config = config
        self.search = search
        self.validators = Validators(config.cache_max_age)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        single_params(req, ("q", "year", "month"))
        year = int_param(req, "year", required=True, min_value=MIN_YEAR, max_value=MAX_YEAR)
        month = int_param(req, "month", required=True, min_value=1, max_value=12)
        filters = SearchRequest(
            q=query_text(req, self.config),
            categories=self.search._values(req, "category"),
            sites=self.search._values(req, "site"),
        )
        if self.validators.not_modified(
            req, resp, index_version(self.service), ("calendar", year, month, filters)
        ):
            return
        resp.media = self.service.calendar(filters, year, month)


class _DocumentListResource:
    """``GET /v1/documents/{doc_id}/<what>?n=``: articles shown beside one article."""

    MAX_N = 20

    def __init__(self, service: SearchService, config: Config, what: str):
        self.service = service
        self.what = what
        self.validators = Validators(config.cache_max_age)

    def on_get(self, req: falcon.Request, resp: falcon.Response, doc_id: str) -> None:
        single_params(req, ("n",))
        n = int_param(req, "n", min_value=1, max_value=self.MAX_N, default=5)
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
