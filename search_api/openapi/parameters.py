"""The query parameters of the OpenAPI document, with the limits and patterns
:mod:`search_api.params` enforces."""

from __future__ import annotations

from indexer.sources.dates import MAX_YEAR, MIN_YEAR
from search_api.config import Config
from search_api.engine import suggest
from search_api.engine.ranking import MAX_QUERY_TERMS
from search_api.engine.request import DEFAULT_FACETS, FACETS, SORTS
from search_api.openapi.common import query_param
from search_api.params import (
    DEFAULT_LIST_N,
    DEFAULT_PER_PAGE,
    DEFAULT_SORT,
    FIRST_MONTH,
    LAST_MONTH,
    MAX_LIST_N,
    MONTH_PATTERN,
    YEAR_PATTERN,
    year_range_pattern,
)

# The years the indexer accepts (MIN_YEAR-MAX_YEAR) at the start of a date.
# tests/test_integrity.py checks it against the constants.
DATE_RANGE = f"^({year_range_pattern(MIN_YEAR, MAX_YEAR)})-"


def query_limits(config: Config) -> str:
    """What ``q`` may hold, for the description of every ``q``."""
    c = config
    return (
        f"At most {c.max_query_chars} characters (VNSEARCH_MAX_QUERY_CHARS) and "
        f"{c.max_query_words} words (VNSEARCH_MAX_QUERY_WORDS), else 400 query_too_long. "
        f"Longer than {MAX_QUERY_TERMS} syllables: evaluated with the most informative "
        "ones (truncated: true). Questions and queries of six or more informative words "
        "match documents holding a share of those words, ranked by BM25 over all of them."
    )


def filter_param(name: str, items: dict, description: str, config: Config) -> dict:
    """A repeatable filter (``name=a&name=b``) of at most ``max_filter_values`` values."""
    return query_param(
        name,
        {"type": "array", "items": items, "maxItems": config.max_filter_values},
        description,
        style="form",
        explode=True,
    )


def search_parameters(config: Config) -> list[dict]:
    """The parameters of ``GET /v1/search`` (calendar reuses q, category and site)."""
    c = config
    per_page_default = min(DEFAULT_PER_PAGE, c.max_per_page)
    q_limits = query_limits(c)
    many = (
        f"Repeat for several values (OR); at most {c.max_filter_values} "
        "(VNSEARCH_MAX_FILTER_VALUES), else 400 too_many_values."
    )

    return [
        query_param(
            "q",
            {"type": "string", "maxLength": c.max_query_chars, "default": ""},
            'What the visitor typed. Diacritics are optional; "quoted phrase", -excluded. '
            "Empty: every document, newest first. " + q_limits,
        ),
        query_param(
            "page",
            {"type": "integer", "minimum": 1, "default": 1},
            f"Page number. page × per_page must not exceed {c.max_page_depth} "
            "(VNSEARCH_MAX_PAGE_DEPTH), else 400 page_too_deep.",
        ),
        query_param(
            "per_page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": c.max_per_page,
                "default": per_page_default,
            },
            f"Hits per page, 1 to {c.max_per_page} (VNSEARCH_MAX_PER_PAGE).",
        ),
        query_param(
            "sort",
            {"type": "string", "enum": list(SORTS), "default": DEFAULT_SORT},
            "relevance (newest first when q is empty), newest, oldest, or popular (views, "
            "then newest; documents without a view count after every counted one). Undated "
            "documents come last.",
        ),
        query_param(
            "from",
            {"type": "string", "format": "date", "pattern": DATE_RANGE},
            "First day (YYYY-MM-DD, Vietnam time), inclusive. Undated documents are excluded. "
            f"From {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31 (the dates the indexer accepts).",
        ),
        query_param(
            "to",
            {"type": "string", "format": "date", "pattern": DATE_RANGE},
            "Last day (YYYY-MM-DD, Vietnam time), inclusive; not before from. "
            f"From {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31.",
        ),
        filter_param(
            "category",
            {"type": "string"},
            "Only these categories (exact values as in the category facet). " + many,
            c,
        ),
        filter_param("site", {"type": "string"}, "Only these sites. " + many, c),
        filter_param(
            "year",
            {"type": "string", "pattern": f"^{YEAR_PATTERN}$"},
            "Only these years (YYYY). " + many,
            c,
        ),
        filter_param(
            "month",
            {"type": "string", "pattern": f"^{MONTH_PATTERN}$"},
            "Only these months (YYYY-MM). " + many,
            c,
        ),
        query_param(
            "facets",
            # "" too: facets= (blank) asks for none, and blank items are skipped.
            {"type": "array", "items": {"type": "string", "enum": [*FACETS, ""]}},
            f"Facets to count, comma-separated; default {','.join(DEFAULT_FACETS)}; "
            "empty (facets=) for none.",
            style="form",
            explode=False,
        ),
    ]


def suggest_parameters(config: Config) -> list[dict]:
    """The parameters of ``GET /v1/suggest``."""
    c = config
    return [
        query_param(
            "q",
            {"type": "string", "maxLength": c.max_query_chars, "default": ""},
            "What has been typed so far. " + query_limits(c),
        ),
        query_param(
            "limit",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": suggest.MAX_LIMIT,
                "default": suggest.DEFAULT_LIMIT,
            },
            f"Suggestions to return, 1 to {suggest.MAX_LIMIT}.",
        ),
    ]


def calendar_parameters(search_params: list[dict]) -> list[dict]:
    """The parameters of ``GET /v1/calendar``: year, month and some of search's."""
    return [
        query_param(
            "year",
            {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
            f"Year, {MIN_YEAR} to {MAX_YEAR} (the years the indexer accepts).",
            required=True,
        ),
        query_param(
            "month",
            {"type": "integer", "minimum": FIRST_MONTH, "maximum": LAST_MONTH},
            f"Month, {FIRST_MONTH} to {LAST_MONTH}.",
            required=True,
        ),
        *[p for p in search_params if p["name"] in ("q", "category", "site")],
    ]


def list_parameters() -> list[dict]:
    """The parameters of ``GET /v1/documents/{doc_id}/neighbors`` and ``/related``."""
    return [
        {
            "name": "doc_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": "The document id, URL-encoded.",
        },
        query_param(
            "n",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIST_N, "default": DEFAULT_LIST_N},
            f"Articles per list, 1 to {MAX_LIST_N}.",
        ),
    ]
