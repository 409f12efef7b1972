"""Reading what an unaccented query means: Telex typed without an input method
(``tuyeen giaos``), and the most likely accented form of each syllable (the
did-you-mean, which also boosts that reading in ranking)."""

from __future__ import annotations

import math

from indexer.analysis import fold
from search_api.engine.expansion import telex_decode
from search_api.engine.query import ParsedQuery, Syllable
from search_api.engine.ranking import RankingSettings
from search_api.engine.snapshot import Snapshot


def with_telex(snap: Snapshot, pq: ParsedQuery) -> ParsedQuery:
    """Replace unaccented words the index has never seen by their Telex decoding
    when the index knows that (``tuyeen giaos`` -> ``tuyên giáo``)."""
    vocab = snap.vocabulary()
    changed = False
    for group in pq.groups:
        for i, syl in enumerate(group.syllables):
            if syl.accented or syl.folded in vocab:
                continue
            decoded = telex_decode(syl.surface)
            if decoded and fold(decoded) in vocab:
                group.syllables[i] = Syllable(decoded, decoded, fold(decoded))
                changed = True
    if changed:
        pq.normalized = " ".join(s.key for s in pq.syllables)
    return pq


def likely_reading(snap: Snapshot, rs: RankingSettings, sylls: list[Syllable]) -> list[str] | None:
    """The most likely accented form of each unaccented query syllable: a Viterbi
    pass over the index's own vocabulary. Candidates are the most frequent key
    forms with the same folding; a pair of adjacent forms that the index has seen
    together (as a title bigram or a pyvi word) outweighs frequency alone, and
    how often it was seen breaks ties."""
    vocab = snap.vocabulary()
    long_query = len(sylls) >= rs.reading_long
    width = rs.reading_long_candidates if long_query else rs.reading_candidates
    cands = [vocab.get(s.folded, [])[:width] for s in sylls]
    if not sylls or not all(cands):
        return None
    link_seen, link_count = rs.link_seen, rs.link_count

    def link(a: str, b: str) -> float:
        pair = f"{a}_{b}"
        seen = snap.term_df("ta", pair) + snap.term_df("tw", pair) + snap.term_df("bw", pair)
        return (link_seen + link_count * math.log1p(seen)) if seen else 0.0

    def cap(df_a: int, df_b: int) -> float:
        # The most link() can give: a title bigram or word a_b is in no more
        # titles than a (or b) is, a body word in no more bodies, and a form's
        # vocabulary df counts its titles and bodies.
        return link_seen + link_count * math.log1p(2 * min(df_a, df_b))

    best = [(math.log1p(df), [form], df) for form, df in cands[0]]
    for j, column in enumerate(cands[1:], 1):
        top = max(best, key=lambda x: x[0])  # the first best: a lower bound below
        folded = f"{sylls[j - 1].folded}_{sylls[j].folded}"
        if not any(snap.term_df(fld, folded) for fld in ("tg", "tv", "bv")):
            # No two forms of these syllables were ever seen together (every
            # ta/tw/bw pair folds to a tg/tv/bv one): no link to look up, the
            # same answer as below in 3 lookups instead of up to 300.
            best = [(top[0] + math.log1p(df), [*top[1], form], df) for form, df in column]
            continue
        nxt = []
        for form, df in column:
            floor = top[0] + link(top[1][-1], form)
            score, path = -math.inf, top[1]
            # The first maximum in candidate order, as max() gives: a previous
            # form that cannot reach ``floor`` even with the largest link is
            # skipped without looking its pair up (the lookups are the cost).
            for s, p, pdf in best:
                if s + cap(pdf, df) + 1e-9 < floor:
                    continue
                v = s + link(p[-1], form)
                if v > score:
                    score, path = v, p
            nxt.append((score + math.log1p(df), [*path, form], df))
        best = nxt
    return max(best, key=lambda x: x[0])[1]
