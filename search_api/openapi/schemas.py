"""The response schemas of the OpenAPI document (``components.schemas``)."""

from __future__ import annotations

from typing import Any

from search_api.config import Config
from search_api.engine import suggest
from search_api.engine.ranking import MAX_QUERY_TERMS
from search_api.engine.request import FACETS
from search_api.errors import TITLES, TYPE_PREFIX
from search_api.openapi.common import HIGHLIGHT_NOTE, NULLABLE_STR, PUBLISHED, ref


def schemas(config: Config) -> dict[str, Any]:
    """Every schema the operations refer to."""
    c = config
    return {
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
                "url": NULLABLE_STR,
                "title": {"type": "string", "description": "Plain text."},
                "published": PUBLISHED,
                "category": NULLABLE_STR,
                "site": NULLABLE_STR,
                "score": {"type": "number", "description": "Relevance; 0 when q is empty."},
                "highlight": {
                    "type": "object",
                    "required": ["title", "snippet"],
                    "properties": {
                        "title": {"type": "string", "description": HIGHLIGHT_NOTE},
                        "snippet": {
                            "type": "string",
                            "description": "About 30 words of the body around the best "
                            "match. " + HIGHLIGHT_NOTE,
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
                "hits": {"type": "array", "items": ref("Hit")},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": c.max_per_page},
                "total_hits": {"type": "integer", "minimum": 0},
                "total_pages": {"type": "integer", "minimum": 0},
                "facets": {
                    "type": "object",
                    "propertyNames": {"enum": list(FACETS)},
                    "additionalProperties": ref("Counts"),
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
                    "description": "The title with the typed part marked. " + HIGHLIGHT_NOTE,
                },
                "url": NULLABLE_STR,
                "published": PUBLISHED,
            },
        },
        "SuggestResponse": {
            "type": "object",
            "required": ["query", "suggestions"],
            "properties": {
                "query": {"type": "string", "description": "q as received."},
                "suggestions": {
                    "type": "array",
                    "items": ref("Suggestion"),
                    "maxItems": suggest.MAX_LIMIT,
                },
            },
        },
        "Document": {
            "type": "object",
            "required": ["id", "url", "title", "published", "category", "site", "body", "views"],
            "properties": {
                "id": {"type": "string"},
                "url": NULLABLE_STR,
                "title": {"type": "string"},
                "published": PUBLISHED,
                "category": NULLABLE_STR,
                "site": NULLABLE_STR,
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
                    "properties": {"from": NULLABLE_STR, "to": NULLABLE_STR},
                },
                "undated": {"type": "integer", "minimum": 0},
                "sites": ref("Counts"),
                "categories": ref("Counts"),
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
                "newer": {"type": "array", "items": ref("Brief")},
                "older": {"type": "array", "items": ref("Brief")},
            },
        },
        "Related": {
            "type": "object",
            "required": ["id", "related"],
            "properties": {
                "id": {"type": "string"},
                "related": {"type": "array", "items": ref("Brief")},
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
