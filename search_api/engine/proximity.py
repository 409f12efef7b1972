"""Proximity of query syllables in the top candidates.

The index has bigram fields for titles (``ta``/``tg``) but none for bodies: body
bigrams made the index several times larger (docs/design.md). So query
syllables that stand next to each other in a body were only rewarded when pyvi
made them one word. For the best candidates of a query (``proximity_depth`` in
search_api/engine/ranking.py) every run of consecutive query syllables (two to five)
that stands contiguous in their title or body scores like a term of an n-gram
field: BM25 of its count with the field's length normalisation, and as idf the
sum of its syllables' idfs (the idf of the run if its syllables occurred
independently).

Runs are compared on folded syllables, the forms that matching uses, so
``nha lam`` and ``nhà làm`` are judged alike (diacritics already grade the
terms); ``y``/``i`` spellings count as the same syllable; punctuation between
two syllables does not separate them, as in phrase matching. The runs are
found on the positional fields ``tp``/``bp`` (which hold every syllable's
folded form at its position) for the candidates only: a few reads from the
postings arrays per query syllable (indexer/postings_arrays.py). Measured by
``bench/proximity_cost.py`` on the whole corpus: p50 1.64 ms per rescored query
(0.033 ms a candidate). The first version read and folded each candidate's
stored text (4.7-4.9 ms median, docs/benchmarks.md); both give the same
rankings on bench/relevance.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from search_api.engine.snapshot import Snapshot

# (docnum, position) pairs as one int64 key: positions stay far below this.
_KEY_STRIDE = 1 << 32


@dataclass(frozen=True, slots=True)
class Run:
    """Query syllables ``start:end`` (a run of consecutive ones)."""

    start: int
    end: int


def usable(forms: list[str]) -> list[str]:
    """The spellings of a query syllable that can be looked up as folded
    syllables: a form without an ASCII folding (not Vietnamese) can match no
    folded syllable, and breaks runs."""
    return [f for f in forms if f and f.isascii() and f.isalnum()]


def query_runs(folded_syllables: list[list[str]], longest: int) -> list[Run]:
    """Every run of 2..``longest`` consecutive query syllables (each syllable
    given as its folded spellings), shortest first; runs through a syllable
    without a usable spelling are left out."""
    ok = [bool(usable(forms)) for forms in folded_syllables]
    n = len(folded_syllables)
    return [
        Run(start, start + length)
        for length in range(2, min(longest, n) + 1)
        for start in range(n - length + 1)
        if all(ok[start : start + length])
    ]


def run_counts(
    snap: Snapshot,
    field: str,
    docs: np.ndarray,
    folded_syllables: list[list[str]],
    runs: list[Run],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each run, the documents among the sorted ``docs`` where its
    syllables stand at consecutive positions of ``field``, and how many times
    (float64). A run longer than two is only looked for where the run one
    syllable shorter occurs (its start positions are narrowed step by step)."""
    keys: list[np.ndarray] = []
    for forms in folded_syllables:
        parts = []
        for form in usable(forms):
            got = snap.positions(field, form, docs)
            if got is not None and len(got[0]):
                parts.append(got[0] * _KEY_STRIDE + got[1])
        keys.append(np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.int64))
    out = []
    for run in runs:
        starts = keys[run.start]
        for t in range(1, run.end - run.start):
            if not len(starts):
                break
            starts = starts[np.isin(starts + t, keys[run.start + t], assume_unique=True)]
        where, count = np.unique(starts // _KEY_STRIDE, return_counts=True)
        out.append((where, count.astype(np.float64)))
    return out
