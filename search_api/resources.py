"""Thin responders: parse and validate parameters, call the search service, return JSON.

Parameters are read with Falcon's helpers, so a malformed value becomes a 400
``invalid_param`` naming the parameter (see :mod:`search_api.errors`). Blank
values (``?from=&category=``, as HTML forms send them) count as absent, except
``facets=`` which asks for no facets.
"""

from __future__ import annotations

import re

import falcon
import falcon.uri

from search_api.config import Config
from search_api.errors import APIError, param_error
from search_api.search import DEFAULT_FACETS, FACETS, SORTS, SearchRequest, SearchService

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


class SearchResource:
    """``GET /v1/search``"""

    def __init__(self, service: SearchService, config: Config):
        self.service = service
        self.config = config

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = self.service.search(self.parse(req))

    def parse(self, req: falcon.Request) -> SearchRequest:
        cfg = self.config
        for name in _SINGLE:
            if isinstance(req.params.get(name), list):
                raise param_error(name, f'The "{name}" parameter may be given only once.')

        q = req.get_param("q", default="")
        if len(q) > cfg.max_query_chars:
            raise param_error(
                "q", f"The query is longer than {cfg.max_query_chars} characters.", "query_too_long"
            )
        if len(q.split()) > cfg.max_query_words:
            raise param_error(
                "q", f"The query has more than {cfg.max_query_words} words.", "query_too_long"
            )

        page = req.get_param_as_int("page", min_value=1, default=1)
        per_page = req.get_param_as_int(
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

        date_from = req.get_param_as_date("from", format_string=DATE_FORMAT)
        date_to = req.get_param_as_date("to", format_string=DATE_FORMAT)
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


class DocumentResource:
    """``GET /v1/documents/{doc_id}``: the stored fields of one document."""

    def __init__(self, service: SearchService):
        self.service = service

    def on_get(self, req: falcon.Request, resp: falcon.Response, doc_id: str) -> None:
        doc = self.service.document(doc_id)
        if doc is None:
            raise APIError(falcon.HTTP_404, "not_found", "There is no document with this id.")
        resp.media = doc


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
