"""What one parsed query means on one snapshot: the documents it matches and
their BM25 scores, step by step.

1. Read the query: Telex decoded, cut to its most informative syllables when
   too long, the likely accented reading of an unaccented query, its clauses
   (abbreviation spans as alternatives), and whether it is a question or a
   long query (matched by a share of its informative words).
2. Match: every required clause (or, for a long query, ``long_msm`` of the
   informative ones), every quoted phrase, no excluded word; relaxed to most
   clauses when a query of several words finds almost nothing.
3. Score: graded syllable forms, adjacent pairs, abbreviation alternatives.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from search_api.engine.clauses import (
    ASKING,
    Clause,
    clause_mask,
    clauses,
    function_word,
    informative,
    keep_informative,
    syllable_weight,
)
from search_api.engine.expansion import Abbreviations, yi_variant
from search_api.engine.phrases import any_form, phrase_mask
from search_api.engine.query import ParsedQuery, Syllable
from search_api.engine.ranking import RankingSettings
from search_api.engine.reading import likely_reading, with_telex
from search_api.engine.request import Deadline
from search_api.engine.scoring import add_term, score_pair, score_syllable
from search_api.engine.snapshot import Snapshot


@dataclass(slots=True)
class Plan:
    """What one parsed query means on one snapshot."""

    mask: np.ndarray
    scores: np.ndarray
    highlight_folds: set[str] = field(default_factory=set)
    did_you_mean: str | None = None
    relaxed: bool = False
    timed_out: bool = False
    kept: str | None = None  # the syllables evaluated, when a long query was cut
    weights: list[float] | None = None  # per query syllable, for proximity


@dataclass(slots=True)
class _Read:
    """Step 1: how the query is understood."""

    sylls: list[Syllable]
    reading: list[str] | None  # the likely accented reading (unaccented query)
    reads: list[str]  # per syllable: its reading, or its key form
    clauses: list[Clause]
    informative: list[Clause]
    long_query: bool  # a question or any long query


def plan(
    snap: Snapshot,
    pq: ParsedQuery,
    abbreviations: Abbreviations,
    rs: RankingSettings,
    deadline: Deadline | None = None,
    max_terms: int | None = None,
) -> Plan:
    if pq.empty:
        return _everything(snap, pq)
    pq = with_telex(snap, pq)
    kept = keep_informative(snap, pq, max_terms) if max_terms else None
    read = _read(snap, rs, pq, abbreviations)
    deadline = deadline or Deadline(None)
    required = _required(snap, read, deadline)
    mask = _match(snap, rs, required, read.long_query)
    phrases = _phrases(snap, pq, mask, deadline)
    strict, relaxed = _relax(snap, rs, required, mask, phrases, read.long_query)

    deadline.check()
    scores = np.zeros(snap.size, dtype=np.float32)
    weights = _score_terms(snap, rs, scores, pq.accented, read)
    folds = _score_abbreviations(snap, rs, scores, read)
    dym = None
    if read.reading and read.reading != [s.key for s in read.sylls]:
        dym = " ".join(read.reading)
    return Plan(
        strict,
        scores,
        folds,
        dym,
        relaxed,
        deadline.partial,
        kept,
        weights if read.long_query else None,
    )


def _everything(snap: Snapshot, pq: ParsedQuery) -> Plan:
    """No words: every live document but the excluded ones, unscored."""
    mask = snap.live.copy()
    if pq.excluded:
        mask &= ~any_form(snap, pq.excluded)
    return Plan(mask, np.zeros(snap.size, dtype=np.float32))


def _read(
    snap: Snapshot, rs: RankingSettings, pq: ParsedQuery, abbreviations: Abbreviations
) -> _Read:
    sylls = pq.syllables
    reading = None if pq.accented else likely_reading(snap, rs, sylls)
    found = clauses(pq, abbreviations)
    reads = reading or [s.key for s in sylls]
    function = {id(s) for s, r in zip(sylls, reads, strict=True) if function_word(r)}
    about = informative(found, function)
    # A question or any long query: scored over all its words, matched by a
    # share of its informative ones (RankingSettings.long_min_words).
    asks = any(r in ASKING for r in reads)
    long_query = len(about) >= (rs.question_min_words if asks else rs.long_min_words)
    return _Read(sylls, reading, reads, found, about, long_query)


def _required(snap: Snapshot, read: _Read, deadline: Deadline) -> list[np.ndarray]:
    """The masks of the clauses a document must have: every clause but the
    optional stopwords, or for a long query its informative clauses."""
    required = []
    for c in read.informative if read.long_query else read.clauses:
        if not c.optional:
            deadline.check()
            required.append(clause_mask(snap, c))
    return required


def _count(snap: Snapshot, required: list[np.ndarray]) -> np.ndarray:
    count = np.zeros(snap.size, dtype=np.int16)
    for m in required:
        count += m
    return count


def _match(
    snap: Snapshot, rs: RankingSettings, required: list[np.ndarray], long_query: bool
) -> np.ndarray:
    """Every required clause; for a long query, ``long_msm`` of them."""
    mask = snap.live.copy()
    if long_query:
        mask &= _count(snap, required) >= max(1, math.ceil(rs.long_msm * len(required)))
    else:
        for m in required:
            mask &= m
    return mask


def _phrases(snap: Snapshot, pq: ParsedQuery, mask: np.ndarray, deadline: Deadline) -> np.ndarray:
    """Quoted phrases must occur as typed; no excluded word. A typed token such
    as TP.HCM is not checked as a phrase (its abbreviation may match instead);
    adjacency of its parts is rewarded by the pair terms."""
    phrases = snap.live.copy()
    for group in pq.groups:
        if group.quoted and group.is_phrase:
            deadline.check()
            phrases &= phrase_mask(snap, group.syllables, mask & phrases, deadline)
    if pq.excluded:
        phrases &= ~any_form(snap, pq.excluded)
    return phrases


def _relax(
    snap: Snapshot,
    rs: RankingSettings,
    required: list[np.ndarray],
    mask: np.ndarray,
    phrases: np.ndarray,
    long_query: bool,
) -> tuple[np.ndarray, bool]:
    """The matched documents, and whether matching was relaxed: a natural
    question rarely has every word in one document, so when a query of several
    clauses finds almost nothing, most of them are accepted."""
    strict = mask & phrases
    short = not long_query and len(required) >= rs.relax_min_clauses
    if short and int(strict.sum()) < rs.relax_below:
        need = max(2, math.ceil(rs.relax_fraction * len(required)))
        loose = (_count(snap, required) >= need) & phrases
        if int(loose.sum()) > int(strict.sum()):
            return loose, True
    return strict, False


def _score_terms(
    snap: Snapshot, rs: RankingSettings, scores: np.ndarray, accented: bool, read: _Read
) -> list[float]:
    """BM25 of every query syllable's forms and of adjacent pairs; returns the
    weight of each syllable (function words weigh less)."""
    sylls, reading, long_query = read.sylls, read.reading, read.long_query
    weights = [
        syllable_weight(rs, s, r, long_query) for s, r in zip(sylls, read.reads, strict=True)
    ]
    field_weight = None
    if long_query:
        field_weight = rs.long_field_weight if accented else rs.long_field_weight_folded
    for i, (syl, weight) in enumerate(zip(sylls, weights, strict=True)):
        score_syllable(
            snap,
            rs,
            scores,
            syl,
            accented,
            weight,
            reading[i] if reading else None,
            field_weight,
        )
        variant = yi_variant(syl.folded)
        if variant:
            add_term(snap, rs, scores, variant, rs.w_fold * weight, forms=("f",))
    for j, (a, b) in enumerate(itertools.pairwise(sylls)):
        pair_reading = (reading[j], reading[j + 1]) if reading else None
        # In a long query a pair weighs as its lighter syllable (là_gì is no evidence).
        scale = rs.w_long_pair * min(weights[j], weights[j + 1]) if long_query else 1.0
        if scale:
            score_pair(snap, rs, scores, a, b, accented, pair_reading, scale)
    return weights


def _score_abbreviations(
    snap: Snapshot, rs: RankingSettings, scores: np.ndarray, read: _Read
) -> set[str]:
    """BM25 of the syllables and pairs abbreviations stand for; returns the
    folded syllables to highlight (the query's, its alternatives', y/i)."""
    folds = {s.folded for s in read.sylls}
    for clause in read.clauses:
        for alt in clause.alternatives[1:]:
            for syl in alt:
                add_term(snap, rs, scores, syl.folded, rs.w_abbreviation, forms=("f",))
                folds.add(syl.folded)
            for a, b in itertools.pairwise(alt):
                pair = f"{a.folded}_{b.folded}"
                add_term(snap, rs, scores, pair, rs.w_abbreviation, forms=("v", "g"))
    folds |= {v for v in map(yi_variant, list(folds)) if v}
    return folds
