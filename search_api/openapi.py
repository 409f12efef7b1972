"""The OpenAPI 3.1 description of the API (``GET /openapi.json``).

Built from the config, so every documented limit is the one in force
(``VNSEARCH_MAX_PER_PAGE`` and friends), and from the constants the code uses
(sorts, facets, suggest limits, problem codes). ``tests/test_openapi.py``
validates real responses of every endpoint against it.
"""

from __future__ import annotations

from typing import Any

from indexer.sources.dates import MAX_YEAR, MIN_YEAR
from search_api.config import Config
from search_api.engine import suggest
from search_api.engine.ranking import MAX_QUERY_TERMS
from search_api.engine.request import DEFAULT_FACETS, FACETS, SORTS
from search_api.errors import PROBLEM_JSON, RETRY_AFTER, TITLES, TYPE_PREFIX
from search_api.resources import DEFAULT_PER_PAGE

# The years the indexer accepts (MIN_YEAR-MAX_YEAR, 1900-2200) as a pattern a
# schema-driven client (and the fuzzer) can follow; JSON Schema has no minimum
# for date strings. tests/test_integrity.py checks it against the constants.
_DATE_RANGE = "^(19[0-9]{2}|2[01][0-9]{2}|2200)-"

VERSION = "1.0.0"

_NULLABLE_STR = {"type": ["string", "null"]}
_HIGHLIGHT_NOTE = (
    "HTML: the text is escaped and the only tags are <mark> and </mark>, so it may be "
    "inserted as HTML. Every other string is plain text and must be inserted as text."
)
_PUBLISHED = {
    "type": ["string", "null"],
    "description": "ISO 8601 in Vietnam time (2017-03-07T07:25:00+07:00), a plain date "
    "(2018-05-02) when the source has no time, or null when undated.",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        out["headers"] = headers
    return out


def _problem(description: str, codes: list[str], headers: dict | None = None) -> dict:
    schema = {"allOf": [_ref("Problem"), {"properties": {"code": {"enum": codes}}}]}
    out: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": schema}},
    }
    if headers:
        out["headers"] = headers
    return out


def _param(name: str, schema: dict, description: str, **extra: Any) -> dict:
    # allowEmptyValue: a blank value (?from=, as HTML forms send) counts as absent,
    # which is an error for a required parameter.
    return {
        "name": name,
        "in": "query",
        "schema": schema,
        "description": description,
        "allowEmptyValue": not extra.get("required", False),
        **extra,
    }


def build(config: Config) -> dict:
    """The OpenAPI document for an app built with ``config``."""
    c = config
    per_page_default = min(DEFAULT_PER_PAGE, c.max_per_page)
    cached = {
        "ETag": {
            "description": "Weak validator from the index version and the parsed request; "
            "send it back in If-None-Match to get a 304 while nothing changed.",
            "schema": {"type": "string"},
            "required": True,
        },
        "Cache-Control": {
            "description": f"public, max-age={c.cache_max_age} (VNSEARCH_CACHE_MAX_AGE; "
            "no-cache when 0).",
            "schema": {"type": "string"},
            "required": True,
        },
    }
    not_modified = {
        "description": "Not modified: the If-None-Match tag is still current. No body.",
        "headers": cached,
    }
    retry = {
        "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "schema": {"type": "string", "example": str(RETRY_AFTER)},
            "required": True,
        }
    }
    unavailable = _problem(
        "The index is missing or cannot be opened yet.", ["index_unavailable"], retry
    )
    # Operations that run a query stop at VNSEARCH_SEARCH_TIMEOUT_MS.
    slow = _problem(
        "The index is not available yet, or the query ran past "
        f"VNSEARCH_SEARCH_TIMEOUT_MS ({c.search_timeout_ms} ms).",
        ["index_unavailable", "search_timeout"],
        retry,
    )
    internal = _problem(
        "An unexpected error; the details are only in the server log.", ["internal_error"]
    )
    q_limits = (
        f"At most {c.max_query_chars} characters (VNSEARCH_MAX_QUERY_CHARS) and "
        f"{c.max_query_words} words (VNSEARCH_MAX_QUERY_WORDS), else 400 query_too_long. "
        f"Longer than {MAX_QUERY_TERMS} syllables: evaluated with the most informative "
        "ones (truncated: true). Questions and queries of six or more informative words "
        "match documents holding a share of those words, ranked by BM25 over all of them."
    )
    many = (
        f"Repeat for several values (OR); at most {c.max_filter_values} "
        "(VNSEARCH_MAX_FILTER_VALUES), else 400 too_many_values."
    )

    search_params = [
        _param(
            "q",
            {"type": "string", "maxLength": c.max_query_chars, "default": ""},
            'What the visitor typed. Diacritics are optional; "quoted phrase", -excluded. '
            "Empty: every document, newest first. " + q_limits,
        ),
        _param(
            "page",
            {"type": "integer", "minimum": 1, "default": 1},
            f"Page number. page × per_page must not exceed {c.max_page_depth} "
            "(VNSEARCH_MAX_PAGE_DEPTH), else 400 page_too_deep.",
        ),
        _param(
            "per_page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": c.max_per_page,
                "default": per_page_default,
            },
            f"Hits per page, 1 to {c.max_per_page} (VNSEARCH_MAX_PER_PAGE).",
        ),
        _param(
            "sort",
            {"type": "string", "enum": list(SORTS), "default": "relevance"},
            "relevance (newest first when q is empty), newest, oldest, or popular (views, "
            "then newest; documents without a view count after every counted one). Undated "
            "documents come last.",
        ),
        _param(
            "from",
            {"type": "string", "format": "date", "pattern": _DATE_RANGE},
            "First day (YYYY-MM-DD, Vietnam time), inclusive. Undated documents are excluded. "
            f"From {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31 (the dates the indexer accepts).",
        ),
        _param(
            "to",
            {"type": "string", "format": "date", "pattern": _DATE_RANGE},
            "Last day (YYYY-MM-DD, Vietnam time), inclusive; not before from. "
            f"From {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31.",
        ),
        _param(
            "category",
            {"type": "array", "items": {"type": "string"}, "maxItems": c.max_filter_values},
            "Only these categories (exact values as in the category facet). " + many,
            style="form",
            explode=True,
        ),
        _param(
            "site",
            {"type": "array", "items": {"type": "string"}, "maxItems": c.max_filter_values},
            "Only these sites. " + many,
            style="form",
            explode=True,
        ),
        _param(
            "year",
            {
                "type": "array",
                "items": {"type": "string", "pattern": "^[0-9]{4}$"},
                "maxItems": c.max_filter_values,
            },
            "Only these years (YYYY). " + many,
            style="form",
            explode=True,
        ),
        _param(
            "month",
            {
                "type": "array",
                "items": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
                "maxItems": c.max_filter_values,
            },
            "Only these months (YYYY-MM). " + many,
            style="form",
            explode=True,
        ),
        _param(
            "facets",
            # "" too: facets= (blank) asks for none, and blank items are skipped.
            {"type": "array", "items": {"type": "string", "enum": [*FACETS, ""]}},
            f"Facets to count, comma-separated; default {','.join(DEFAULT_FACETS)}; "
            "empty (facets=) for none.",
            style="form",
            explode=False,
        ),
    ]

    schemas: dict[str, Any] = {
        "Problem": {
            "type": "object",
            "description": "An error (RFC 9457 problem details). Branch on code, never on text.",
            "required": ["type", "title", "status", "detail", "code"],
            "properties": {
                "type": {"type": "string", "description": f"{TYPE_PREFIX}<code>"},
                "title": {"type": "string"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string", "description": "For people; never echoes input."},
                "code": {
                    "type": "string",
                    "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)*$",
                    "description": "Stable snake_case code: " + ", ".join(TITLES) + ".",
                },
                "param": {"type": "string", "description": "The parameter at fault (400)."},
            },
            "additionalProperties": False,
        },
        "Hit": {
            "type": "object",
            "required": [
                "id",
                "url",
                "title",
                "published",
                "category",
                "site",
                "score",
                "highlight",
            ],
            "properties": {
                "id": {"type": "string"},
                "url": _NULLABLE_STR,
                "title": {"type": "string", "description": "Plain text."},
                "published": _PUBLISHED,
                "category": _NULLABLE_STR,
                "site": _NULLABLE_STR,
                "score": {"type": "number", "description": "Relevance; 0 when q is empty."},
                "highlight": {
                    "type": "object",
                    "required": ["title", "snippet"],
                    "properties": {
                        "title": {"type": "string", "description": _HIGHLIGHT_NOTE},
                        "snippet": {
                            "type": "string",
                            "description": "About 30 words of the body around the best "
                            "match. " + _HIGHLIGHT_NOTE,
                        },
                    },
                },
            },
        },
        "Counts": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 0},
            "description": "Value → number of documents (dates newest first, others by count).",
        },
        "SearchResponse": {
            "type": "object",
            "required": [
                "query",
                "hits",
                "page",
                "per_page",
                "total_hits",
                "total_pages",
                "facets",
                "processing_time_ms",
            ],
            "properties": {
                "query": {
                    "type": "object",
                    "required": ["text", "normalized", "accented"],
                    "properties": {
                        "text": {"type": "string", "description": "q as received."},
                        "normalized": {"type": "string"},
                        "accented": {"type": "boolean"},
                        "kept": {
                            "type": "string",
                            "description": "Present with truncated: the syllables the "
                            "query was evaluated with (key form, in the order typed).",
                        },
                    },
                },
                "truncated": {
                    "const": True,
                    "description": "Present when q had more syllables than the engine "
                    f"evaluates ({MAX_QUERY_TERMS}): its most informative ones were kept "
                    "(quoted phrases and typed tokens such as TP.HCM first, then the "
                    "rarest words in the index; see query.kept).",
                },
                "relaxed": {
                    "const": True,
                    "description": "Present when a short query (under six informative "
                    "words, no question word) had too few documents with every word and "
                    "documents with most of them were accepted. Questions and long queries "
                    "are always matched by a share of their informative words.",
                },
                "timed_out": {
                    "const": True,
                    "description": "Present when the query hit the time limit and the "
                    "results are partial; such answers are not cacheable (no ETag, "
                    "Cache-Control: no-store).",
                },
                "did_you_mean": {
                    "type": "string",
                    "description": "The most likely accented reading of an unaccented query "
                    "(absent when there is none). Plain text.",
                },
                "hits": {"type": "array", "items": _ref("Hit")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": c.max_per_page},
                "total_hits": {"type": "integer", "minimum": 0},
                "total_pages": {"type": "integer", "minimum": 0},
                "facets": {
                    "type": "object",
                    "propertyNames": {"enum": list(FACETS)},
                    "additionalProperties": _ref("Counts"),
                },
                "processing_time_ms": {"type": "number", "minimum": 0},
            },
        },
        "Suggestion": {
            "type": "object",
            "required": ["id", "title", "highlight", "url", "published"],
            "properties": {
                "id": {
                    "type": ["string", "null"],
                    "description": "The document; null for a learned suggestion.",
                },
                "title": {
                    "type": "string",
                    "description": "Plain text: a title, or for a learned suggestion the query "
                    "to search for.",
                },
                "source": {
                    "enum": ["searches"],
                    "description": "Present on suggestions learned from what visitors searched "
                    "(vnsearch analytics suggestions); absent on title suggestions.",
                },
                "highlight": {
                    "type": "string",
                    "description": "The title with the typed part marked. " + _HIGHLIGHT_NOTE,
                },
                "url": _NULLABLE_STR,
                "published": _PUBLISHED,
            },
        },
        "SuggestResponse": {
            "type": "object",
            "required": ["query", "suggestions"],
            "properties": {
                "query": {"type": "string", "description": "q as received."},
                "suggestions": {
                    "type": "array",
                    "items": _ref("Suggestion"),
                    "maxItems": suggest.MAX_LIMIT,
                },
            },
        },
        "Document": {
            "type": "object",
            "required": ["id", "url", "title", "published", "category", "site", "body", "views"],
            "properties": {
                "id": {"type": "string"},
                "url": _NULLABLE_STR,
                "title": {"type": "string"},
                "published": _PUBLISHED,
                "category": _NULLABLE_STR,
                "site": _NULLABLE_STR,
                "body": {"type": "string", "description": "Plain text; paragraphs split by \\n."},
                "views": {"type": ["integer", "null"]},
            },
        },
        "Stats": {
            "type": "object",
            "required": [
                "doc_count",
                "generation",
                "built_at",
                "updated_at",
                "date_range",
                "undated",
                "sites",
                "categories",
            ],
            "properties": {
                "doc_count": {"type": "integer", "minimum": 0},
                "generation": {"type": "string", "description": "Live generation (g000003)."},
                "built_at": {"type": "string", "description": "When it was built (ISO 8601)."},
                "updated_at": {"type": "string", "description": "Last update (ISO 8601)."},
                "date_range": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": {"from": _NULLABLE_STR, "to": _NULLABLE_STR},
                },
                "undated": {"type": "integer", "minimum": 0},
                "sites": _ref("Counts"),
                "categories": _ref("Counts"),
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
        "Brief": {
            "type": "object",
            "required": ["id", "title", "url", "published"],
            "properties": {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "url": {"type": ["string", "null"]},
                "published": {"type": ["string", "null"]},
                "score": {"type": "number"},
            },
        },
        "Calendar": {
            "type": "object",
            "required": ["year", "month", "days", "months"],
            "properties": {
                "year": {"type": "integer"},
                "month": {"type": "integer"},
                "days": {
                    "type": "object",
                    "description": "YYYY-MM-DD -> articles that day (days without any omitted).",
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
                "months": {
                    "type": "object",
                    "description": "YYYY-MM -> articles in each month of the year.",
                    "additionalProperties": {"type": "integer", "minimum": 1},
                },
            },
        },
        "Neighbors": {
            "type": "object",
            "required": ["id", "newer", "older"],
            "properties": {
                "id": {"type": "string"},
                "newer": {"type": "array", "items": _ref("Brief")},
                "older": {"type": "array", "items": _ref("Brief")},
            },
        },
        "Related": {
            "type": "object",
            "required": ["id", "related"],
            "properties": {
                "id": {"type": "string"},
                "related": {"type": "array", "items": _ref("Brief")},
            },
        },
        "Ready": {
            "type": "object",
            "required": ["status", "doc_count", "generation"],
            "properties": {
                "status": {"const": "ready"},
                "doc_count": {"type": "integer", "minimum": 0},
                "generation": {"type": "string"},
            },
        },
    }

    bad_search = _problem(
        "A parameter is invalid (param names it).",
        ["invalid_param", "query_too_long", "page_too_deep", "too_many_values"],
    )
    paths: dict[str, Any] = {
        "/v1/search": {
            "get": {
                "operationId": "search",
                "summary": "Ranked, highlighted search with date and category facets",
                "description": "Blank parameters (?q=&from=, as HTML forms send them) count "
                "as absent, except facets= which asks for no facets.",
                "parameters": search_params,
                "responses": {
                    "200": _json(_ref("SearchResponse"), "Results.", cached),
                    "304": not_modified,
                    "400": bad_search,
                    "500": internal,
                    "503": slow,
                },
            }
        },
        "/v1/suggest": {
            "get": {
                "operationId": "suggest",
                "summary": "Search-as-you-type over titles",
                "description": "Every typed word but the last must be in the title; the last "
                "one matches as a prefix (unless q ends with a space). Diacritics are optional. "
                "Identical titles are shown once. Empty q: no suggestions.",
                "parameters": [
                    _param(
                        "q",
                        {"type": "string", "maxLength": c.max_query_chars, "default": ""},
                        "What has been typed so far. " + q_limits,
                    ),
                    _param(
                        "limit",
                        {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": suggest.MAX_LIMIT,
                            "default": suggest.DEFAULT_LIMIT,
                        },
                        f"Suggestions to return, 1 to {suggest.MAX_LIMIT}.",
                    ),
                ],
                "responses": {
                    "200": _json(_ref("SuggestResponse"), "Suggestions, best first.", cached),
                    "304": not_modified,
                    "400": _problem("A parameter is invalid.", ["invalid_param", "query_too_long"]),
                    "500": internal,
                    "503": unavailable,
                },
            }
        },
        "/v1/documents/{doc_id}": {
            "get": {
                "operationId": "getDocument",
                "summary": "The stored fields of one document",
                "parameters": [
                    {
                        "name": "doc_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "The document id (as in hits[].id), URL-encoded; "
                        "compared after NFC normalisation. Ids never contain '/' (the indexer "
                        "refuses them).",
                    }
                ],
                "responses": {
                    "200": _json(_ref("Document"), "The document.", cached),
                    "304": not_modified,
                    "404": _problem("No document has this id.", ["not_found"]),
                    "500": internal,
                    "503": unavailable,
                },
            }
        },
        "/v1/calendar": {
            "get": {
                "operationId": "calendar",
                "summary": "Articles per day of a month and per month of its year",
                "description": "For a 'Xem theo ngày' date picker; a day is then listed with "
                "/v1/search?q=&from=DAY&to=DAY. Takes the same q, category and site filters "
                "as search.",
                "parameters": [
                    _param(
                        "year",
                        {"type": "integer", "minimum": MIN_YEAR, "maximum": MAX_YEAR},
                        f"Year, {MIN_YEAR} to {MAX_YEAR} (the years the indexer accepts).",
                        required=True,
                    ),
                    _param(
                        "month",
                        {"type": "integer", "minimum": 1, "maximum": 12},
                        "Month, 1 to 12.",
                        required=True,
                    ),
                    *[p for p in search_params if p["name"] in ("q", "category", "site")],
                ],
                "responses": {
                    "200": _json(_ref("Calendar"), "Counts.", cached),
                    "304": not_modified,
                    "400": _problem(
                        "A parameter is missing or invalid.",
                        ["invalid_param", "missing_param", "query_too_long", "too_many_values"],
                    ),
                    "500": internal,
                    "503": slow,
                },
            }
        },
        **{
            f"/v1/documents/{{doc_id}}/{what}": {
                "get": {
                    "operationId": what,
                    "summary": summary,
                    "parameters": [
                        {
                            "name": "doc_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "The document id, URL-encoded.",
                        },
                        _param(
                            "n",
                            {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
                            "Articles per list, 1 to 20.",
                        ),
                    ],
                    "responses": {
                        "200": _json(_ref(schema), "The lists.", cached),
                        "304": not_modified,
                        "400": _problem("A parameter is invalid.", ["invalid_param"]),
                        "404": _problem("No document has this id.", ["not_found"]),
                        "500": internal,
                        "503": unavailable,
                    },
                }
            }
            for what, schema, summary in (
                (
                    "neighbors",
                    "Neighbors",
                    "The n next newer and n next older articles of the same category and site",
                ),
                (
                    "related",
                    "Related",
                    "Articles about the same subject (the document's distinctive words and "
                    "compounds), without near-duplicates",
                ),
            )
        },
        "/v1/stats": {
            "get": {
                "operationId": "stats",
                "summary": "Size, date range, sites, categories and generation of the index",
                "responses": {
                    "200": _json(_ref("Stats"), "Index statistics.", cached),
                    "304": not_modified,
                    "500": internal,
                    "503": unavailable,
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "The process is alive (says nothing about the index)",
                "responses": {"200": _json(_ref("Health"), "Alive.")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "ready",
                "summary": "The index is open and searchable",
                "responses": {
                    "200": _json(_ref("Ready"), "Ready."),
                    "500": internal,
                    "503": unavailable,
                },
            }
        },
        "/metrics": {
            "get": {
                "operationId": "metrics",
                "summary": "Prometheus metrics (text exposition format)",
                "responses": {
                    "200": {
                        "description": "Request counts and latency histograms per route, "
                        "index document count and generation.",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")},
            }
        },
        "/": {
            "get": {
                "operationId": "demo",
                "summary": "Demo page with the embeddable search box",
                "responses": {
                    "200": {
                        "description": "HTML (with a Content-Security-Policy header).",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/static/{file}": {
            "get": {
                "operationId": "static",
                "summary": "The search box script and stylesheet (vnsearch.js, vnsearch.css)",
                "parameters": [
                    {"name": "file", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {"description": "The file."},
                    "304": {"description": "Not modified."},
                    "404": _problem("No such file.", ["not_found"]),
                },
            }
        },
    }
    if c.clicks:
        paths["/v1/clicks"] = {"post": _clicks_operation(c, internal)}
    # Size limits apply to every address, before routing (search_api/limits.py).
    too_long = _problem(
        f"The path and query string are over {c.max_url_length} characters "
        "(VNSEARCH_MAX_URL_LENGTH).",
        ["uri_too_long"],
    )
    too_large = _problem(
        "The request has a body (this API takes none; VNSEARCH_MAX_BODY_BYTES).",
        ["body_too_large"],
    )
    for item in paths.values():
        for operation in item.values():
            operation["responses"].setdefault("413", too_large)
            operation["responses"].setdefault("414", too_long)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vnsearch API",
            "version": VERSION,
            "summary": "Vietnamese search for government and news portals",
            "description": "Diacritic-insensitive search, search-as-you-type and document "
            "lookup over a Whoosh index. Errors are application/problem+json with a stable "
            "code. Keys are snake_case and are only ever added.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _clicks_operation(c: Config, internal: dict) -> dict:
    """``POST /v1/clicks`` (only in the document when VNSEARCH_CLICKS=1)."""
    from search_api.clicks import MAX_BYTES, MAX_ID_CHARS

    click = {
        "type": "object",
        "additionalProperties": False,
        "required": ["q", "id", "position"],
        "properties": {
            "q": {"type": "string", "maxLength": c.max_query_chars},
            "id": {"type": "string", "minLength": 1, "maxLength": MAX_ID_CHARS},
            "position": {"type": "integer", "minimum": 1, "maximum": c.max_page_depth},
            "page": {"type": "integer", "minimum": 1, "maximum": c.max_page_depth},
        },
    }
    return {
        "operationId": "reportClick",
        "summary": "Which result a visitor opened (sent by the search box with sendBeacon)",
        "description": f"At most {MAX_BYTES} bytes with a Content-Length; at most "
        f"{c.click_rate} reports a minute per client (VNSEARCH_CLICK_RATE). Written as a "
        "click event; the client's address is never written.",
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": click}, "application/json": {"schema": click}},
        },
        "responses": {
            "204": {"description": "Recorded."},
            "400": _problem("Not a click report of this shape.", ["invalid_click"]),
            "413": _problem(f"Over {MAX_BYTES} bytes, or no length.", ["body_too_large"]),
            "415": _problem("Not text/plain or application/json.", ["unsupported_media_type"]),
            "429": _problem(
                "Too many reports from this client this minute.",
                ["too_many_clicks"],
                {"Retry-After": {"schema": {"type": "integer"}}},
            ),
            "500": internal,
        },
    }
