"""BM25 over graded terms, adjacent-pair terms, and the proximity rescoring of
the best candidates. Every weight comes from the service's RankingSettings."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from indexer.analysis import detone
from search_api.engine.expansion import yi_variant
from search_api.engine.filters import order
from search_api.engine.proximity import query_runs, run_counts
from search_api.engine.query import Syllable
from search_api.engine.ranking import RankingSettings
from search_api.engine.snapshot import Snapshot


def idf(snap: Snapshot, df: int) -> float:
    return math.log(1.0 + (snap.doc_count - df + 0.5) / (df + 0.5))


def _tf_part(
    snap: Snapshot, rs: RankingSettings, prefix: str, ids: np.ndarray, tf: np.ndarray
) -> np.ndarray:
    """BM25's saturating term-frequency factor, length-normalised per field."""
    norm = snap.bm25_norm(prefix, rs.k1, rs.b[prefix])[ids]
    return (rs.k1 + 1.0) * tf / (tf + norm)


def add_term(
    snap: Snapshot,
    rs: RankingSettings,
    scores: np.ndarray,
    term: str | None,
    weight: float,
    forms: Iterable[str],
) -> None:
    """BM25 of ``term`` (with its own idf) in the given forms of title and body."""
    if not term:
        return
    for prefix in ("t", "b"):
        for form in forms:
            p = snap.postings(prefix + form, term)
            if p.df:
                w = weight * rs.field_weight[prefix] * idf(snap, p.df)
                scores[p.ids] += w * _tf_part(snap, rs, prefix, p.ids, p.tf)


def score_syllable(
    snap: Snapshot,
    rs: RankingSettings,
    scores: np.ndarray,
    syl: Syllable,
    accented: bool,
    weight: float,
    reading: str | None,
    field_weight: Mapping[str, float] | None = None,
) -> None:
    """Graded evidence for one query syllable. The exact key form scores with its
    own idf; other tones and the folded form are evidence of the folded word only,
    so they score with the folded idf (a rare wrong-tone form must not outweigh a
    common right one)."""
    if accented:
        base = detone(syl.key)
        variants = [
            v
            for v, _ in snap.vocabulary().get(syl.folded, ())
            if v != syl.key and detone(v) == base
        ][: rs.max_tone_variants]  # the most frequent few carry nearly all the mass
        graded = [(v, rs.w_tone) for v in variants]
    else:
        graded = [(reading, rs.w_reading)] if reading else []
    for prefix in ("t", "b"):
        fw = weight * (field_weight or rs.field_weight)[prefix]
        folded = snap.postings(prefix + "f", syl.folded)
        if not folded.df:
            continue
        idf_fold = idf(snap, folded.df)
        if accented:
            exact = snap.postings(prefix + "s", syl.key)
            if exact.df:
                scores[exact.ids] += (
                    fw
                    * rs.w_exact
                    * idf(snap, exact.df)
                    * _tf_part(snap, rs, prefix, exact.ids, exact.tf)
                )
        fold_weight = rs.w_fold if accented else 1.0
        scores[folded.ids] += (
            fw * fold_weight * idf_fold * _tf_part(snap, rs, prefix, folded.ids, folded.tf)
        )
        for form, w in graded:
            p = snap.postings(prefix + "s", form)
            if p.df:
                # In a question, the reading weighs as the word meant (own idf).
                idf_form = idf(snap, p.df) if field_weight and not accented else idf_fold
                scores[p.ids] += fw * w * idf_form * _tf_part(snap, rs, prefix, p.ids, p.tf)


def score_pair(
    snap: Snapshot,
    rs: RankingSettings,
    scores: np.ndarray,
    a: Syllable,
    b: Syllable,
    accented: bool,
    reading: tuple[str, str] | None,
    scale: float = 1.0,
) -> None:
    """Adjacent query syllables found as a pyvi word or a title bigram."""
    folded = f"{a.folded}_{b.folded}"
    if accented:
        keyed = f"{a.key}_{b.key}"
        add_term(snap, rs, scores, keyed, rs.w_pair * scale, forms=("w", "a"))
        add_term(snap, rs, scores, folded, rs.w_pair * rs.w_fold * 2 * scale, forms=("v", "g"))
    else:
        add_term(snap, rs, scores, folded, rs.w_pair * scale, forms=("v", "g"))
        if reading:
            pair = f"{reading[0]}_{reading[1]}"
            add_term(snap, rs, scores, pair, rs.w_reading * scale, forms=("w", "a"))


def score_adjacent_runs(
    snap: Snapshot,
    rs: RankingSettings,
    matched: np.ndarray,
    scores: np.ndarray,
    sylls: list[Syllable],
    weights: list[float] | None = None,
    accented: bool = True,
) -> None:
    """Proximity for the best candidates (engine/proximity.py): each run of
    consecutive query syllables found contiguous (folded) in a candidate's
    title or body scores as a term of an n-gram field would (BM25 of its count
    there), with the sum of its syllables' idfs in that field; runs of three and
    more weigh ``w_longer_run`` of that. Only the top ``proximity_depth``
    candidates gain, so they stay above all the others."""
    if len(sylls) < 2 or len(matched) < 2:
        return
    forms = [[s.folded, *filter(None, [yi_variant(s.folded)])] for s in sylls]
    runs = query_runs(forms, rs.proximity_longest)
    if not runs:
        return
    top = order(snap, matched, scores, "relevance")(rs.proximity_depth)
    docs = np.asarray(sorted(top), dtype=np.int64)
    for prefix in ("t", "b"):
        idfs = [idf(snap, snap.postings(prefix + "f", s.folded).df) for s in sylls]
        if weights:  # a long query: function words add little to a run
            idfs = [i * w for i, w in zip(idfs, weights, strict=True)]
        norm = snap.bm25_norm(prefix, rs.k1, rs.b[prefix])
        for run, (where, tf) in zip(
            runs, run_counts(snap, prefix + "p", docs, forms, runs), strict=True
        ):
            if len(where):
                if not weights:
                    adjacent, longer = rs.w_adjacent, rs.w_longer_run
                else:
                    adjacent = rs.w_long_adjacent if accented else rs.w_long_adjacent_folded
                    longer = rs.w_long_longer_run
                weight = (
                    adjacent
                    * (1.0 if run.end - run.start == 2 else longer)
                    * sum(idfs[run.start : run.end])
                    * (rs.k1 + 1.0)
                )
                scores[where] += (weight * tf / (tf + norm[where])).astype(scores.dtype)
