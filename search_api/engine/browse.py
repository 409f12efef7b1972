"""What a portal article page shows beside the article: newer and older news of
the same category and site, and related articles. No HTTP here."""

from __future__ import annotations

import itertools
import math

import numpy as np

from indexer.analysis import fold, key, normalize, syllable_spans
from search_api.engine.snapshot import Snapshot

# Related articles: how many distinctive terms describe a document.
RELATED_TERMS = 25
# ... read from at most this many characters of its title and body: the
# beginning of an article says what it is about, and the work stays bounded
# (a 20 MB body took 4.3-4.6 s a call, issue 15). 99.9% of the bodies of a
# 20,000-article sample are shorter (median 2,123, p99.9 13,731 characters).
RELATED_TEXT_CHARS = 20_000
# A pair of adjacent syllables counts as a word when pyvi made it one somewhere
# in the index (the API does not run pyvi itself).
_WORD_FIELDS = ("bw", "tw")


def _brief(snap: Snapshot, docnum: int | np.integer) -> dict:
    stored = snap.stored(docnum)
    return {
        "id": stored.get("id"),
        "title": stored.get("title", ""),
        "url": stored.get("url"),
        "published": stored.get("published"),
    }


def neighbors(snap: Snapshot, doc_id: str, n: int) -> dict | None:
    """The ``n`` next newer and ``n`` next older dated articles of the same
    category and site, by published time, ties broken by id."""
    d = snap.docnum_for_id(doc_id)
    if d is None:
        return None
    out: dict = {"id": doc_id, "newer": [], "older": []}
    if not snap.dated[d]:
        return out
    same = snap.live & snap.dated
    for name in ("category", "site"):
        codes = snap.facet_codes[name]
        same &= codes == codes[d]
    same[d] = False
    t = int(snap.pubts[d])
    mine = (t, doc_id)
    for side, want, newest_first in (
        ("newer", snap.pubts >= t, False),
        ("older", snap.pubts <= t, True),
    ):
        cand = np.flatnonzero(same & want)
        if len(cand) > n:
            # Closest first; keep everything tied with the n-th, then order fully.
            dist = np.abs(snap.pubts[cand] - t)
            cand = cand[dist <= np.partition(dist, n - 1)[n - 1]]
        keyed = [((int(snap.pubts[x]), b["id"]), b) for x in cand for b in [_brief(snap, x)]]
        # Same second as the document: the id decides which side it is on.
        keyed = [(k, b) for k, b in keyed if (k > mine) != newest_first]
        keyed.sort(key=lambda kb: kb[0], reverse=newest_first)
        out[side] = [b for _, b in keyed[:n]]
    return out


def _distinctive_terms(snap: Snapshot, text: str) -> list[tuple[str, str, float]]:
    """(field, term, tf-idf) of the document's most distinctive words: pairs of
    adjacent syllables the index knows as words, and content syllables."""
    spans = syllable_spans(text)
    keys = [key(text[s:e]) for s, e in spans]
    counts: dict[tuple[str, str], int] = {}
    for a, b in itertools.pairwise(keys):
        counts[("w", f"{a}_{b}")] = counts.get(("w", f"{a}_{b}"), 0) + 1
    for k in keys:
        if not k.isdigit() and len(k) > 1:
            counts[("s", k)] = counts.get(("s", k), 0) + 1
    n = max(snap.doc_count, 1)
    scored = []
    for (form, term), tf in counts.items():
        df = sum(snap.term_df(prefix + form, term) for prefix in ("t", "b"))
        if form == "w" and not any(snap.term_df(f, term) for f in _WORD_FIELDS):
            continue
        if df <= 1:  # only in this document: says nothing about others
            continue
        idf = math.log(1.0 + n / df)
        weight = (1.0 + math.log(tf)) * idf * (1.5 if form == "w" else 1.0)
        scored.append((form, term, weight))
    scored.sort(key=lambda x: -x[2])
    return scored[:RELATED_TERMS]


def related(snap: Snapshot, doc_id: str, n: int) -> dict | None:
    """Articles about the same subject: the document's most distinctive words and
    compounds as a weighted query, excluding the document itself and articles with
    the same title; ties go to the more recent. Only the first
    ``RELATED_TEXT_CHARS`` characters of the title and body are read."""
    d = snap.docnum_for_id(doc_id)
    if d is None:
        return None
    stored = snap.stored(d)
    title = stored.get("title", "")
    text = f"{title}\n{stored.get('body', '')[:RELATED_TEXT_CHARS]}"[:RELATED_TEXT_CHARS]
    scores = np.zeros(snap.size, dtype=np.float32)
    for form, term, weight in _distinctive_terms(snap, text):
        for prefix, boost in (("t", 2.0), ("b", 1.0)):
            p = snap.postings(prefix + form, term)
            if p.df:
                scores[p.ids] += weight * boost * (p.tf / (p.tf + 1.2))
    scores[~snap.live] = 0
    scores[d] = 0
    cand = np.flatnonzero(scores > 0)
    order = cand[np.lexsort((-snap.pubts[cand], -scores[cand]))]
    own = fold(" ".join(normalize(title).split()))
    out = []
    for x in order[: n * 4 + 10]:
        brief = _brief(snap, int(x))
        if fold(brief["title"]) == own:
            continue  # a near-duplicate (the same story reposted)
        brief["score"] = round(float(scores[x]), 4)
        out.append(brief)
        if len(out) == n:
            break
    return {"id": doc_id, "related": out}
