"""Every weight and threshold of matching and ranking, in one frozen object.

The service holds one :class:`RankingSettings` (``SearchService(ranking=...)``)
and every stage reads it; the defaults are the shipped values, tuned with
bench/relevance.py and bench/question_tuning.py (docs/benchmarks.md). A test or
a tuning run injects another with ``dataclasses.replace``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Most syllables a query is evaluated with; a longer one keeps its most
# informative (docs/api.md "Long queries"). Also the limit the API documents.
MAX_QUERY_TERMS = 64


def _per_field(title: float, body: float) -> Mapping[str, float]:
    return MappingProxyType({"t": title, "b": body})


@dataclass(frozen=True, slots=True)
class RankingSettings:
    # BM25 parameters, per field ("t" title, "b" body). Titles are short and
    # nearly equal in length. A title weight above the body's cost more on
    # body-sentence queries than it gained on titles.
    k1: float = 1.2
    b: Mapping[str, float] = field(default_factory=lambda: _per_field(0.3, 0.75))
    field_weight: Mapping[str, float] = field(default_factory=lambda: _per_field(1.0, 1.0))
    # Grades of a query syllable's forms (accented query): the exact key form,
    # other tones of the same letters (the most frequent few), the folded form.
    w_exact: float = 1.0
    w_tone: float = 0.5
    w_fold: float = 0.25
    max_tone_variants: int = 3
    # Adjacent query syllables found as a pyvi word or a title bigram.
    w_pair: float = 2.0
    # Boost of the likely accented reading of an unaccented query.
    w_reading: float = 0.35
    # Did-you-mean / likely reading: candidates per syllable, and the score of
    # a pair of forms seen together in the index (a bonus, plus a log of the
    # count). A query of reading_long syllables or more reads with fewer
    # candidates per syllable: the cost grows with their square, and
    # questions-dev's unaccented dev split ranks the same with 5 as with 10.
    reading_candidates: int = 10
    reading_long: int = 8
    reading_long_candidates: int = 5
    link_seen: float = 6.0
    link_count: float = 1.5
    # Weight of the syllables an abbreviation expands to (or contracts to).
    w_abbreviation: float = 0.8
    # Relaxed matching: when a query of relax_min_clauses+ words finds fewer
    # than relax_below documents, documents with relax_fraction of its words
    # (at least 2) also match.
    relax_min_clauses: int = 3
    relax_below: int = 3
    relax_fraction: float = 0.6
    # Vietnamese function words still match, but count less.
    w_stop: float = 0.3
    # Proximity (engine/proximity.py): the best proximity_depth candidates of a
    # relevance-sorted query are rescored with the runs of
    # 2..proximity_longest consecutive query syllables that stand contiguous in
    # their title or body: a pair weighs w_adjacent times the sum of its
    # syllables' idfs, a longer run w_longer_run times that.
    proximity_depth: int = 50
    proximity_longest: int = 5
    w_adjacent: float = 1.0
    w_longer_run: float = 0.5
    # Questions (docs/design.md "Questions and long queries"): a query with at
    # least long_min_words informative words (neither stopwords nor question
    # words), or question_min_words with a question word that only asks, is
    # matched by a share of them instead of all: a document needs
    # ceil(long_msm * informative words) of them (at least one). Its stopwords
    # and question words weigh w_long_stop and w_long_question. Chosen on the
    # dev split of questions-dev with bench/question_tuning.py.
    long_min_words: int = 6
    question_min_words: int = 2
    long_msm: float = 0.2
    w_long_stop: float = 0.1
    w_long_question: float = 0.05
    w_long_pair: float = 0.0
    long_field_weight: Mapping[str, float] = field(default_factory=lambda: _per_field(0.3, 1.0))
    w_long_adjacent: float = 0.25
    # An unaccented question: its folded syllables are ambiguous, so runs of
    # them found contiguous (which settle the reading) weigh more; its likely
    # reading scores with its own idf, as an accented query's exact form does
    # (the folded form keeps the folded idf); and its title weighs less.
    w_long_adjacent_folded: float = 0.35
    long_field_weight_folded: Mapping[str, float] = field(
        default_factory=lambda: _per_field(0.15, 1.0)
    )
    w_long_longer_run: float = 0.5
    # Syllables a query is evaluated with (the most informative are kept).
    max_query_terms: int = MAX_QUERY_TERMS
