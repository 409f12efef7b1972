"""The answer of a search as the API returns it: the page of hits (stored
fields, score, highlights), facet counts and the flags that explain it."""

from __future__ import annotations

import math

import numpy as np

from search_api.engine.facets import facet_counts
from search_api.engine.highlight import highlight, snippet
from search_api.engine.plan import Plan
from search_api.engine.query import ParsedQuery
from search_api.engine.request import FACETS, SearchRequest
from search_api.engine.snapshot import Snapshot


def public_fields(stored: dict, full: bool = False) -> dict:
    """The stored fields a client sees (``full``: with the body and views)."""
    out = {
        "id": stored.get("id"),
        "url": stored.get("url"),
        "title": stored.get("title", ""),
        "published": stored.get("published"),
        "category": stored.get("category"),
        "site": stored.get("site"),
    }
    if full:
        out["body"] = stored.get("body", "")
        out["views"] = stored.get("views")
    return out


def search_response(
    snap: Snapshot,
    req: SearchRequest,
    pq: ParsedQuery,
    plan: Plan,
    matched: np.ndarray,
    page_docs: list[int],
) -> dict:
    """The response of ``req``: ``page_docs`` as hits (only they are loaded and
    highlighted), facets counted over all ``matched`` documents."""
    hits = []
    for d in page_docs:
        stored = snap.stored(d)
        hit = public_fields(stored)
        hit["score"] = round(float(plan.scores[d]), 4) if not pq.empty else 0.0
        hit["highlight"] = {
            "title": highlight(stored.get("title", ""), plan.highlight_folds),
            "snippet": snippet(stored.get("body", ""), plan.highlight_folds),
        }
        hits.append(hit)
    facets = {name: facet_counts(snap, name, matched) for name in req.facets if name in FACETS}
    total = len(matched)
    query: dict = {"text": req.q, "normalized": pq.normalized, "accented": pq.accented}
    out = {
        "query": query,
        "hits": hits,
        "page": req.page,
        "per_page": req.per_page,
        "total_hits": total,
        "total_pages": math.ceil(total / req.per_page) if total else 0,
        "facets": facets,
    }
    if plan.did_you_mean:
        out["did_you_mean"] = plan.did_you_mean
    if plan.relaxed:
        out["relaxed"] = True
    if plan.kept is not None:
        out["truncated"] = True
        query["kept"] = plan.kept
    if plan.timed_out:
        out["timed_out"] = True
    return out
