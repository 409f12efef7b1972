"""The operations of the OpenAPI document (``paths``)."""

from __future__ import annotations

from typing import Any

from search_api.clicks import MAX_BYTES, MAX_ID_CHARS
from search_api.config import Config
from search_api.openapi.common import (
    Shared,
    json_response,
    problem,
    ref,
    shared_responses,
)
from search_api.openapi.parameters import (
    calendar_parameters,
    list_parameters,
    search_parameters,
    suggest_parameters,
)


def paths(config: Config) -> dict[str, Any]:
    """Every path the app routes, each operation with its responses."""
    c = config
    shared = shared_responses(c)
    cached, not_modified = shared.cached, shared.not_modified
    unavailable, slow, internal = shared.unavailable, shared.slow, shared.internal
    search_params = search_parameters(c)
    bad_search = problem(
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
                    "200": json_response(ref("SearchResponse"), "Results.", cached),
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
                "parameters": suggest_parameters(c),
                "responses": {
                    "200": json_response(
                        ref("SuggestResponse"), "Suggestions, best first.", cached
                    ),
                    "304": not_modified,
                    "400": problem("A parameter is invalid.", ["invalid_param", "query_too_long"]),
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
                    "200": json_response(ref("Document"), "The document.", cached),
                    "304": not_modified,
                    "404": problem("No document has this id.", ["not_found"]),
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
                "parameters": calendar_parameters(search_params),
                "responses": {
                    "200": json_response(ref("Calendar"), "Counts.", cached),
                    "304": not_modified,
                    "400": problem(
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
                    "parameters": list_parameters(),
                    "responses": {
                        "200": json_response(ref(schema), "The lists.", cached),
                        "304": not_modified,
                        "400": problem("A parameter is invalid.", ["invalid_param"]),
                        "404": problem("No document has this id.", ["not_found"]),
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
                    "200": json_response(ref("Stats"), "Index statistics.", cached),
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
                "responses": {"200": json_response(ref("Health"), "Alive.")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "ready",
                "summary": "The index is open and searchable",
                "responses": {
                    "200": json_response(ref("Ready"), "Ready."),
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
                "responses": {"200": json_response({"type": "object"}, "OpenAPI 3.1 document.")},
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
                    "404": problem("No such file.", ["not_found"]),
                },
            }
        },
    }
    if c.clicks:
        paths["/v1/clicks"] = {"post": clicks_operation(c, shared)}
    # Size limits apply to every address, before routing (search_api/limits.py).
    too_long = problem(
        f"The path and query string are over {c.max_url_length} characters "
        "(VNSEARCH_MAX_URL_LENGTH).",
        ["uri_too_long"],
    )
    too_large = problem(
        "The request has a body (this API takes none; VNSEARCH_MAX_BODY_BYTES).",
        ["body_too_large"],
    )
    for item in paths.values():
        for operation in item.values():
            operation["responses"].setdefault("413", too_large)
            operation["responses"].setdefault("414", too_long)
    return paths


def clicks_operation(config: Config, shared: Shared) -> dict:
    """``POST /v1/clicks`` (only in the document when VNSEARCH_CLICKS=1)."""
    c = config
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
            "400": problem("Not a click report of this shape.", ["invalid_click"]),
            "413": problem(f"Over {MAX_BYTES} bytes, or no length.", ["body_too_large"]),
            "415": problem("Not text/plain or application/json.", ["unsupported_media_type"]),
            "429": problem(
                "Too many reports from this client this minute.",
                ["too_many_clicks"],
                {"Retry-After": {"schema": {"type": "integer"}}},
            ),
            "500": shared.internal,
        },
    }
