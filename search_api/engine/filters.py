"""Filters (dates, categories, sites, years, months) as masks over the
snapshot's integer columns, and the sort orders of the matched documents."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

import numpy as np

from indexer.schema import VN_TZ
from search_api.engine.request import SearchRequest
from search_api.engine.snapshot import Snapshot

_LAST = np.iinfo(np.int64).max


def _day_ts(d: date, end: bool = False) -> int:
    ts = int(datetime(d.year, d.month, d.day, tzinfo=VN_TZ).timestamp())
    return ts + 86400 - 1 if end else ts


def _codes_in(snap: Snapshot, name: str, wanted: Iterable[str]) -> np.ndarray:
    values = snap.facet_values[name]
    codes = [int(i) for i in np.flatnonzero(np.isin(values, list(wanted)))]
    return np.isin(snap.facet_codes[name], codes)


def filters(snap: Snapshot, req: SearchRequest) -> np.ndarray:
    """The documents that ``req``'s filters let through (a mask)."""
    mask = np.ones(snap.size, dtype=bool)
    if req.date_from or req.date_to:
        mask &= snap.dated
        if req.date_from:
            mask &= snap.pubts >= _day_ts(req.date_from)
        if req.date_to:
            mask &= snap.pubts <= _day_ts(req.date_to, end=True)
    for name, wanted in (
        ("category", req.categories),
        ("site", req.sites),
        ("year", req.years),
        ("month", req.months),
    ):
        if wanted:
            mask &= _codes_in(snap, name, wanted)
    return mask


def order(
    snap: Snapshot, matched: np.ndarray, scores: np.ndarray, sort: str
) -> Callable[[int], list[int]]:
    """A function giving the first ``k`` of ``matched`` in the requested order.
    Undated documents come after dated ones; ties go to the lower docnum. Only
    the candidates tied with the k-th best are sorted in full."""

    def first(k: int) -> list[int]:
        if len(matched) == 0 or k <= 0:
            return []
        ts = snap.pubts[matched]
        dated = snap.dated[matched]
        newest = np.where(dated, -ts, _LAST)
        keys: tuple[np.ndarray, ...]
        if sort == "relevance":
            primary = -scores[matched].astype(np.float64)
            keys = (matched, newest, primary)
        elif sort == "newest":
            primary = newest
            keys = (matched, primary)
        elif sort == "popular":  # views, then recency; no view count after every count
            primary = np.where(snap.has_views[matched], -snap.views[matched], 1)
            keys = (matched, newest, primary)
        else:  # oldest
            primary = np.where(dated, ts, _LAST)
            keys = (matched, primary)
        if len(matched) > 4 * k:
            kth = np.partition(primary, k - 1)[k - 1]
            sel = np.flatnonzero(primary <= kth)
            ranked = sel[np.lexsort(tuple(key[sel] for key in keys))]
        else:
            ranked = np.lexsort(keys)
        return [int(d) for d in matched[ranked[:k]]]

    return first
