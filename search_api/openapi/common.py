"""Building blocks of the OpenAPI document: references, responses, parameters,
and the responses every operation shares (built from the config in force)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from search_api.config import Config
from search_api.errors import PROBLEM_JSON, RETRY_AFTER

NULLABLE_STR = {"type": ["string", "null"]}
HIGHLIGHT_NOTE = (
    "HTML: the text is escaped and the only tags are <mark> and </mark>, so it may be "
    "inserted as HTML. Every other string is plain text and must be inserted as text."
)
PUBLISHED = {
    "type": ["string", "null"],
    "description": "ISO 8601 in Vietnam time (2017-03-07T07:25:00+07:00), a plain date "
    "(2018-05-02) when the source has no time, or null when undated.",
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict, description: str, headers: dict | None = None) -> dict:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        out["headers"] = headers
    return out


def problem(description: str, codes: list[str], headers: dict | None = None) -> dict:
    schema = {"allOf": [ref("Problem"), {"properties": {"code": {"enum": codes}}}]}
    out: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": schema}},
    }
    if headers:
        out["headers"] = headers
    return out


def query_param(name: str, schema: dict, description: str, **extra: Any) -> dict:
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


@dataclass(frozen=True, slots=True)
class Shared:
    """Headers and responses many operations share."""

    cached: dict
    not_modified: dict
    unavailable: dict
    slow: dict
    internal: dict


def shared_responses(config: Config) -> Shared:
    """The validator headers, 304, 500 and 503 answers for ``config``."""
    c = config
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
    unavailable = problem(
        "The index is missing or cannot be opened yet.", ["index_unavailable"], retry
    )
    # Operations that run a query stop at VNSEARCH_SEARCH_TIMEOUT_MS.
    slow = problem(
        "The index is not available yet, or the query ran past "
        f"VNSEARCH_SEARCH_TIMEOUT_MS ({c.search_timeout_ms} ms).",
        ["index_unavailable", "search_timeout"],
        retry,
    )
    internal = problem(
        "An unexpected error; the details are only in the server log.", ["internal_error"]
    )
    return Shared(cached, not_modified, unavailable, slow, internal)
