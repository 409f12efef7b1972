"""What one search event line holds: the schema (:data:`COLUMNS`), the masking
of personal numbers, and the builders that shape a search, suggestion or click
into a line. The writer (:mod:`search_api.events`) calls the builders on its
own thread, never on a request thread.

What a line holds (and never: no IP address, cookie, user agent or raw query)
is listed in :data:`COLUMNS`, the one schema both the writer and the DuckDB
reader (search_api/analytics/) use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from indexer.analysis import fold, key, normalize

if TYPE_CHECKING:  # the analytics commands read events without the engine
    from search_api.engine.request import SearchRequest

FORMAT = 1
MASK = "***"
# Longest text kept of one filter value or document id (the URL limit bounds
# them already; this keeps one event line small).
MAX_VALUE_CHARS = 200

# The schema of an event line, as DuckDB types (search_api.analytics reads with it).
COLUMNS: dict[str, str] = {
    "v": "INTEGER",  # FORMAT
    "type": "VARCHAR",  # search | suggest | click
    "time": "TIMESTAMP",  # UTC, milliseconds
    "q": "VARCHAR",  # normalised query: NFC, lowercase, one space, personal numbers masked
    "folded": "VARCHAR",  # q without diacritics
    "sort": "VARCHAR",
    "page": "INTEGER",
    "per_page": "INTEGER",
    "date_from": "VARCHAR",
    "date_to": "VARCHAR",
    "categories": "VARCHAR[]",
    "sites": "VARCHAR[]",
    "years": "VARCHAR[]",
    "months": "VARCHAR[]",
    "hits": "BIGINT",  # search: total hits; suggest: suggestions shown
    "did_you_mean": "VARCHAR",  # the reading offered, masked too; null if none
    "relaxed": "BOOLEAN",
    "truncated": "BOOLEAN",
    "timed_out": "BOOLEAN",
    "learned": "INTEGER",  # suggest: learned suggestions among those shown
    "latency_ms": "DOUBLE",
    "generation": "VARCHAR",  # index generation.commit that answered
    "doc_id": "VARCHAR",  # click: the result opened
    "position": "INTEGER",  # click: its rank in the whole result list (1 = first)
}

# Personal numbers. A run of 9 or more digits (ID card numbers have 9 or 12,
# phone numbers 10-11, tax codes 10 or 13), and phone numbers written in groups
# (0912 345 678, 0912.345.678, +84 912-345-678, (028) 3829 1234) whose digits
# add up to 9-13. Years, dates (19/3/2018), document numbers (123/QĐ-UBND) and
# house numbers are shorter and stay.
_LONG_RUN = re.compile(r"\+?\d{9,}")
_GROUPED = re.compile(r"(?<!\d)(?:\+\s?84|\(?0\d{1,4}\)?)(?:[ .\-]?\(?\d{1,5}\)?){2,5}(?!\d)")


def _mask_grouped(m: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in m.group())
    return MASK if 9 <= digits <= 13 else m.group()


def mask_numbers(text: str) -> str:
    """``text`` with every digit run that looks like a personal number replaced
    by :data:`MASK`."""
    if sum(c.isdigit() for c in text) < 9:
        return text  # nothing long enough: the common case costs one pass
    return _LONG_RUN.sub(MASK, _GROUPED.sub(_mask_grouped, text))


def normalized_query(text: str) -> str:
    """The form events keep: normalised as the search does (NFC, canonical tone
    placement, lowercase, single spaces), personal numbers masked."""
    return key(mask_numbers(" ".join(normalize(text).split())))


def _values(values: Iterable[str]) -> list[str]:
    return [mask_numbers(normalize(v)[:MAX_VALUE_CHARS]) for v in values]


def _now_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")[:-6]


# -- building event dicts (on the writer thread) -----------------------------------------


def search_event(
    ts: float, req: SearchRequest, answer: dict, latency_ms: float, version: str
) -> dict:
    """The event of one answered ``/v1/search`` (``req`` a SearchRequest)."""
    q = normalized_query(req.q)
    dym = answer.get("did_you_mean")
    return {
        "v": FORMAT,
        "type": "search",
        "time": _now_iso(ts),
        "q": q,
        "folded": fold(q),
        "sort": req.sort,
        "page": req.page,
        "per_page": req.per_page,
        "date_from": req.date_from.isoformat() if req.date_from else None,
        "date_to": req.date_to.isoformat() if req.date_to else None,
        "categories": _values(req.categories),
        "sites": _values(req.sites),
        "years": list(req.years),
        "months": list(req.months),
        "hits": int(answer.get("total_hits") or 0),
        "did_you_mean": normalized_query(dym) if dym else None,
        "relaxed": bool(answer.get("relaxed")),
        "truncated": bool(answer.get("truncated")),
        "timed_out": bool(answer.get("timed_out")),
        "latency_ms": round(latency_ms, 2),
        "generation": version,
    }


def suggest_event(ts: float, q: str, answer: dict, latency_ms: float, version: str) -> dict:
    """The event of one answered ``/v1/suggest``."""
    norm = normalized_query(q)
    shown = answer.get("suggestions") or ()
    return {
        "v": FORMAT,
        "type": "suggest",
        "time": _now_iso(ts),
        "q": norm,
        "folded": fold(norm),
        "hits": len(shown),
        "learned": sum(1 for s in shown if s.get("source") == "searches"),
        "truncated": bool(answer.get("truncated")),
        "latency_ms": round(latency_ms, 2),
        "generation": version,
    }


def click_event(ts: float, click: dict) -> dict:
    """The event of one reported click (``click`` validated by the endpoint)."""
    q = normalized_query(click["q"])
    return {
        "v": FORMAT,
        "type": "click",
        "time": _now_iso(ts),
        "q": q,
        "folded": fold(q),
        "doc_id": mask_numbers(click["id"][:MAX_VALUE_CHARS]),
        "position": click["position"],
        "page": click.get("page"),
    }


BUILDERS: dict[str, Callable[..., dict]] = {
    "search": search_event,
    "suggest": suggest_event,
    "click": click_event,
}
