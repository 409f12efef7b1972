"""The title index behind search-as-you-type (engine/suggest.py), one per
snapshot, built on first use (``snap.memo``) from the folded title field ``tf``:
its terms, sorted, and their postings laid out term after term (CSR:
``ptr``/``docs``). A prefix is a contiguous range of terms (two bisections), so
the documents of a whole prefix range are one contiguous slice of ``docs``: no
loop over the matching terms. Building it reads each title term's postings once
(about a second on 39k articles); titles themselves are read only for the few
candidates a query ranks, and kept. A static prior from recency and views picks
the leading candidates.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from dataclasses import dataclass, field

import numpy as np

from indexer.analysis import fold, key, syllable_spans
from search_api.engine.snapshot import Snapshot

MEMO_KEY = "suggest"
TITLE_FIELD = "tf"
# The prior: recency and views, blended into [0, 1].
W_RECENT = 0.7
W_VIEWS = 0.3
_TOP = "\U0010ffff"
# One build at a time: concurrent first requests wait for it instead of each
# building a copy.
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class Title:
    """What a suggestion needs of one document (read from its stored fields)."""

    text: str
    folded: tuple[str, ...]
    keyed: tuple[str, ...]  # key forms (with diacritics), same positions
    id: str | None
    url: str | None
    published: str | None


@dataclass(slots=True)
class TitleIndex:
    """The suggest structures of one snapshot (see the module docstring)."""

    snap: Snapshot
    terms: list[str]
    ptr: np.ndarray  # int64, len(terms) + 1
    docs: np.ndarray  # int64 docnums, sorted within each term
    prior: np.ndarray  # float32 in [0, 1]
    _titles: dict[int, Title] = field(default_factory=dict)

    def term_range(self, prefix: str) -> tuple[int, int]:
        """Term numbers ``[lo, hi)`` of the terms starting with ``prefix``."""
        lo = bisect_left(self.terms, prefix)
        return lo, bisect_left(self.terms, prefix + _TOP, lo)

    def exact(self, term: str) -> tuple[int, int]:
        lo = bisect_left(self.terms, term)
        hi = lo + 1 if lo < len(self.terms) and self.terms[lo] == term else lo
        return lo, hi

    def postings(self, lo: int, hi: int) -> np.ndarray:
        """Docnums of the terms ``[lo, hi)`` (repeats when a title has several)."""
        return self.docs[self.ptr[lo] : self.ptr[hi]]

    def title(self, d: int) -> Title:
        """The title of document ``d``, read once and kept (only ranked
        candidates are ever read)."""
        t = self._titles.get(d)
        if t is None:
            stored = self.snap.stored(d)
            text = stored.get("title") or ""
            sylls = [text[s:e] for s, e in syllable_spans(text)]
            t = Title(
                text=text,
                folded=tuple(fold(x) for x in sylls),
                keyed=tuple(key(x) for x in sylls),
                id=stored.get("id"),
                url=stored.get("url"),
                published=stored.get("published"),
            )
            self._titles[d] = t  # a plain dict store: atomic under the GIL
        return t


def build_title_index(snap: Snapshot) -> TitleIndex:
    """Lay out the postings of every folded title term, term after term."""
    terms: list[str] = []
    parts: list[np.ndarray] = []
    for term in _lexicon(snap, TITLE_FIELD):
        ids = snap.postings(TITLE_FIELD, term).ids
        if len(ids):
            terms.append(term)
            parts.append(ids)
    order = sorted(range(len(terms)), key=terms.__getitem__)  # lexicon order is byte order
    lengths = np.fromiter((len(parts[i]) for i in order), dtype=np.int64, count=len(order))
    ptr = np.zeros(len(order) + 1, dtype=np.int64)
    np.cumsum(lengths, out=ptr[1:])
    docs = np.concatenate([parts[i] for i in order]) if parts else np.zeros(0, dtype=np.int64)
    return TitleIndex(
        snap=snap, terms=[terms[i] for i in order], ptr=ptr, docs=docs, prior=_prior(snap)
    )


def _lexicon(snap: Snapshot, field_name: str) -> list[str]:
    """The terms of ``field_name`` in the snapshot (its own lexicons: the terms
    it has postings for)."""
    return snap.terms(field_name)


def title_index(snap: Snapshot) -> TitleIndex:
    """The snapshot's title index, built by the first caller only (a built one
    is returned without waiting for a build of another snapshot)."""
    return snap.memo(MEMO_KEY, _build_once)


def _build_once(snap: Snapshot) -> TitleIndex:
    with _BUILD_LOCK:
        # Whoever held the lock before may have built this very one.
        return snap.memo(MEMO_KEY, build_title_index)


def _prior(snap: Snapshot) -> np.ndarray:
    """Recency (dated documents, linear over the index's date range) and views
    (log scale), blended into [0, 1]."""
    prior = np.zeros(snap.size, dtype=np.float64)
    dated = snap.dated & snap.live
    if dated.any():
        ts = snap.pubts[dated].astype(np.float64)
        span = max(ts.max() - ts.min(), 1.0)
        prior[dated] += W_RECENT * (ts - ts.min()) / span
    views = np.log1p(np.maximum(snap.views, 0).astype(np.float64))
    top = views[snap.live].max() if snap.doc_count else 0.0
    if top > 0:
        prior += W_VIEWS * views / top
    return prior.astype(np.float32)
