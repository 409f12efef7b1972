"""Facet counts of the matched documents, from the snapshot's integer columns
(never from scoring)."""

from __future__ import annotations

import numpy as np

from search_api.engine.snapshot import Snapshot


def facet_counts(snap: Snapshot, name: str, matched: np.ndarray) -> dict[str, int]:
    """Documents per value of facet ``name`` among ``matched``: dates newest
    first, other facets most frequent first."""
    codes = snap.facet_codes[name][matched]
    codes = codes[codes >= 0]
    values = snap.facet_values[name]
    counts = np.bincount(codes, minlength=len(values))
    nz = np.flatnonzero(counts)
    if name in ("year", "month", "day"):
        order = nz[::-1]  # newest first
    else:
        order = nz[np.argsort(-counts[nz], kind="stable")]
    return {str(values[i]): int(counts[i]) for i in order}
