"""The units a query is matched by: one clause per syllable, or per span that
an abbreviation can replace; which of them say what a question is about; and
the cut of a query longer than the engine evaluates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.analysis import QUESTION_WORDS, STOPWORDS
from search_api.engine.expansion import Abbreviations, yi_variant
from search_api.engine.query import ParsedQuery, Syllable
from search_api.engine.ranking import RankingSettings
from search_api.engine.snapshot import Snapshot

# Question words that only ask (a question with one of them and
# RankingSettings.question_min_words informative words is a long query).
ASKING = frozenset(["gì", "nào", "đâu", "bao", "nhiêu", "mấy", "chăng", "hả", "nhỉ"])


@dataclass(slots=True)
class Clause:
    """One required unit of a query: a syllable, or a span of syllables that an
    abbreviation can replace (``UBND`` <-> ``Ủy ban nhân dân``). Matched when any
    alternative has all its syllables (in folded form, y/i spellings alike)."""

    alternatives: list[list[Syllable]]
    optional: bool = False


def clauses(pq: ParsedQuery, abbreviations: Abbreviations) -> list[Clause]:
    sylls = pq.syllables
    quoted = {id(s) for g in pq.groups if g.quoted for s in g.syllables}
    spans = sorted(
        abbreviations.alternatives([s.folded for s in sylls]), key=lambda x: (x[0], x[0] - x[1])
    )
    content = [s for s in sylls if s.key not in STOPWORDS]
    optional_stops = len(content) >= 2
    phrase_members = {id(s) for g in pq.groups if g.quoted for s in g.syllables}
    out: list[Clause] = []
    i = 0
    while i < len(sylls):
        # The longest dictionary form starting here, with all its other forms.
        here = [sp for sp in spans if sp[0] == i]
        end = max((sp[1] for sp in here), default=i)
        if here and not any(id(s) in quoted for s in sylls[i:end]):
            alts = [list(sylls[i:end])]
            for _, e, rep in here:
                if e == end and [s.folded for s in alts[-1]] != list(rep):
                    alts.append([Syllable(r, r, r) for r in rep])
            out.append(Clause(alts))
            i = end
            continue
        syl = sylls[i]
        stop = syl.key in STOPWORDS and optional_stops and id(syl) not in phrase_members
        out.append(Clause([[syl]], optional=stop))
        i += 1
    return out


def _folded_mask(snap: Snapshot, folded: str) -> np.ndarray:
    mask = np.zeros(snap.size, dtype=bool)
    for fld in ("tf", "bf"):
        mask[snap.postings(fld, folded).ids] = True
    return mask


def _syllable_mask(snap: Snapshot, syl: Syllable) -> np.ndarray:
    mask = _folded_mask(snap, syl.folded)
    variant = yi_variant(syl.folded)
    if variant:
        mask |= _folded_mask(snap, variant)
    return mask


def clause_mask(snap: Snapshot, clause: Clause) -> np.ndarray:
    """The live documents that have any alternative of ``clause``."""
    out = np.zeros(snap.size, dtype=bool)
    for alt in clause.alternatives:
        m = snap.live.copy()
        for syl in alt:
            m &= _syllable_mask(snap, syl)
        out |= m
    return out


def function_word(key: str) -> bool:
    return key in STOPWORDS or key in QUESTION_WORDS


def informative(clauses: list[Clause], function: set[int]) -> list[Clause]:
    """The clauses that say what a question is about: neither optional nor a
    single stopword or question word (``function`` holds their ids)."""
    return [
        c
        for c in clauses
        if not c.optional
        and not (
            len(c.alternatives) == 1
            and len(c.alternatives[0]) == 1
            and id(c.alternatives[0][0]) in function
        )
    ]


def syllable_weight(rs: RankingSettings, syl: Syllable, read: str, long_query: bool) -> float:
    """``read`` is the syllable's key form, or for an unaccented query its
    likely reading (``gi`` read as ``gì`` is a question word)."""
    if not long_query:
        return rs.w_stop if syl.key in STOPWORDS else 1.0
    if read in QUESTION_WORDS:
        return rs.w_long_question
    return rs.w_long_stop if read in STOPWORDS else 1.0


def keep_informative(snap: Snapshot, pq: ParsedQuery, limit: int) -> str | None:
    """Cut a query of more than ``limit`` syllables down to its most informative
    ones, in place, and return what was kept (None if nothing was cut). Quoted
    phrases and typed tokens (``TP.HCM``) are kept whole, first; then distinct
    syllables by idf (rarest in the index first), words the index has never
    seen and function words last. The kept groups stay in their typed order."""
    if len(pq.syllables) <= limit:
        return None

    def rank(i: int) -> tuple:
        g = pq.groups[i]
        if g.quoted or g.is_phrase:
            return (0, 0, i)
        syl = g.syllables[0]
        df = snap.term_df("tf", syl.folded) + snap.term_df("bf", syl.folded)
        return (1 + 2 * function_word(syl.key) + (df == 0), df, i)

    keep, seen, budget = set(), set(), limit
    for i in sorted(range(len(pq.groups)), key=rank):
        g = pq.groups[i]
        if not (g.quoted or g.is_phrase):
            if g.syllables[0].key in seen:
                continue
            seen.add(g.syllables[0].key)
        if len(g.syllables) <= budget:
            keep.add(i)
            budget -= len(g.syllables)
    pq.groups = [g for i, g in enumerate(pq.groups) if i in keep]
    pq.normalized = " ".join(s.key for s in pq.syllables)
    return pq.normalized
