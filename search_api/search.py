"""The search service: validated request in, response dict out. No HTTP here.

How a query runs (all over NumPy arrays of one :class:`Snapshot`):

1. Matching: every query syllable must occur, in its folded form, in the title
   or the body (so ``tuyen giao`` finds ``tuyên giáo`` and ``tuyến giao``).
   Quoted phrases and typed tokens like ``TP.HCM`` must occur as a sequence
   (checked on positions of the candidates only). ``-word`` excludes.
   A question (a question word and two informative words, or six) needs only
   a share of its informative words instead (docs/design.md, "Questions").
2. Ranking: BM25 over graded terms. For an accented query the exact key form
   weighs most, then other tones of the same letters, then the folded form; pyvi
   words and title bigrams made of adjacent query syllables add proximity; title
   matches weigh more than body matches. For an unaccented query the folded
   forms lead and the most likely accented reading (did-you-mean) adds a boost.
   The best candidates are then rescored by proximity: runs of consecutive
   query syllables found contiguous in their title or body.
3. Counting and facets come from the match mask and integer columns, never from
   scoring; only the displayed page is loaded and highlighted.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from indexer.analysis import QUESTION_WORDS, STOPWORDS, detone, fold
from indexer.home import IndexHome
from indexer.schema import VN_TZ
from search_api import browse
from search_api.expansion import Abbreviations, load_abbreviations, telex_decode, yi_variant
from search_api.highlight import highlight, snippet
from search_api.proximity import query_runs, run_counts
from search_api.query import ParsedQuery, Syllable, parse
from search_api.snapshot import Postings, Snapshot

log = logging.getLogger("vnsearch.search")

FACETS = ("year", "month", "day", "category", "site")
DEFAULT_FACETS = ("year", "month", "category")
SORTS = ("relevance", "newest", "oldest", "popular")

# BM25 parameters, per field. Titles are short and nearly equal in length.
# Weights tuned with bench/relevance.py (docs/benchmarks.md): a title weight
# above the body's cost more on body-sentence queries than it gained on titles.
K1 = 1.2
B = {"t": 0.3, "b": 0.75}
FIELD_WEIGHT = {"t": 1.0, "b": 1.0}
# Grades of a query syllable's forms (accented query).
W_EXACT, W_TONE, W_FOLD = 1.0, 0.5, 0.25
MAX_TONE_VARIANTS = 3
# Adjacent query syllables found as a pyvi word or a title bigram.
W_PAIR = 2.0
# Boost of the likely accented reading of an unaccented query.
W_READING = 0.35
# Did-you-mean / likely reading: candidates per syllable, and the score of a
# pair of forms seen together in the index (a bonus, plus a log of the count).
READING_CANDIDATES = 10
# A query of READING_LONG syllables or more reads with fewer candidates per
# syllable: the cost grows with their square, and questions-dev's unaccented
# dev split ranks the same with 5 as with 10 (docs/benchmarks.md).
READING_LONG, READING_LONG_CANDIDATES = 8, 5
LINK_SEEN, LINK_COUNT = 6.0, 1.5
# Weight of the syllables an abbreviation expands to (or contracts to).
W_ABBREVIATION = 0.8
# Relaxed matching: when a query of 3+ words finds fewer than RELAX_BELOW
# documents, documents with RELAX_FRACTION of its words (at least 2) also match.
RELAX_MIN_CLAUSES, RELAX_BELOW, RELAX_FRACTION = 3, 3, 0.6
# Added to (position - offset in the phrase) so that phrase keys stay positive.
_PHRASE_BIAS = 1 << 16
# Vietnamese function words still match, but count less.
W_STOP = 0.3
# Proximity (search_api/proximity.py): the best PROXIMITY_DEPTH candidates of a
# relevance-sorted query are rescored with the runs of 2..PROXIMITY_LONGEST
# consecutive query syllables that stand contiguous in their title or body: a
# pair weighs W_ADJACENT times the sum of its syllables' idfs, a longer run
# W_LONGER_RUN times that.
PROXIMITY_DEPTH = 50
PROXIMITY_LONGEST = 5
W_ADJACENT = 1.0
W_LONGER_RUN = 0.5
# Questions (docs/design.md "Questions and long queries"): a query with at
# least LONG_MIN_WORDS informative words (neither stopwords nor question words)
# is matched by a share of them instead of all: a document needs
# ceil(LONG_MSM * informative words) of them (at least one). Its stopwords and
# question words weigh W_LONG_STOP and W_LONG_QUESTION. Chosen on the dev split
# of questions-dev with bench/question_tuning.py (docs/benchmarks.md).
LONG_MIN_WORDS = 6
# ... or with a question word that only asks (ASKING) and this many.
QUESTION_MIN_WORDS = 2
ASKING = frozenset(["gì", "nào", "đâu", "bao", "nhiêu", "mấy", "chăng", "hả", "nhỉ"])
LONG_MSM = 0.2
W_LONG_STOP = 0.1
W_LONG_QUESTION = 0.05
W_LONG_PAIR = 0.0
LONG_FIELD_WEIGHT = {"t": 0.3, "b": 1.0}
W_LONG_ADJACENT = 0.25
# An unaccented question (docs/design.md "Questions and long queries"): its
# folded syllables are ambiguous, so runs of them found contiguous (which
# settle the reading) weigh more; its likely reading scores with its own idf,
# as an accented query's exact form does (the folded form keeps the folded
# idf); and its title weighs less.
W_LONG_ADJACENT_FOLDED = 0.35
LONG_FIELD_WEIGHT_FOLDED = {"t": 0.15, "b": 1.0}
W_LONG_LONGER_RUN = 0.5
# Most syllables a query is evaluated with; a longer one keeps its most
# informative (docs/api.md "Long queries").
MAX_QUERY_TERMS = 64


@dataclass(frozen=True, slots=True)
class SearchRequest:
    q: str = ""
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    date_from: date | None = None
    date_to: date | None = None
    categories: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    facets: tuple[str, ...] = DEFAULT_FACETS


@dataclass(slots=True)
class _Plan:
    """What one parsed query means on one snapshot."""

    mask: np.ndarray
    scores: np.ndarray
    highlight_folds: set[str] = field(default_factory=set)
    did_you_mean: str | None = None
    relaxed: bool = False
    timed_out: bool = False
    kept: str | None = None  # the syllables evaluated, when a long query was cut
    weights: list[float] | None = None  # per query syllable, for proximity


class SearchTimeout(Exception):
    """The query did not finish within the service's time limit."""


class _Deadline:
    """Checked between the costly steps of a query; a query past it stops."""

    def __init__(self, seconds: float | None):
        self.at = None if not seconds else time.monotonic() + seconds
        self.partial = False

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() > self.at

    def check(self) -> None:
        # Once phrase checking has stopped with partial results, the query
        # finishes with them (flagged timed_out) instead of failing.
        if self.expired() and not self.partial:
            raise SearchTimeout


class IndexUnavailable(Exception):
    """No searchable index (missing, or being replaced and failed to open)."""


class SearchService:
    """Searches the live generation of an index home and follows new generations
    and commits.

    At most every ``refresh_interval`` seconds a request checks whether CURRENT
    names another generation or the open one has new commits. If so, the new
    snapshot is opened and warmed in a background thread while requests keep
    using the old one; the swap is one assignment. A retired snapshot is closed
    by its last in-flight request. Only the very first open is synchronous.
    """

    def __init__(
        self,
        index_dir: str,
        *,
        refresh_interval: float = 1.0,
        max_query_syllables: int = 400,
        max_query_terms: int = MAX_QUERY_TERMS,
        background: bool = True,
        abbreviations: Abbreviations | None = None,
        result_cache_size: int = 4096,
        time_limit: float | None = 2.0,
    ):
        self.home = IndexHome(index_dir)
        self.abbreviations = abbreviations or load_abbreviations()
        self.refresh_interval = refresh_interval
        self.max_query_syllables = max_query_syllables
        # Syllables a query is evaluated with (the most informative are kept).
        self.max_query_terms = max_query_terms
        self.background = background
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._loading = False
        self.result_cache_size = result_cache_size
        # Seconds one query may spend matching before it stops: partial phrase
        # results are returned flagged "timed_out"; otherwise SearchTimeout.
        self.time_limit = time_limit
        self._results: OrderedDict[tuple[str, SearchRequest], dict] = OrderedDict()

    # -- snapshot lifecycle ------------------------------------------------------

    def _current(self) -> Snapshot:
        now = time.monotonic()
        with self._lock:
            snap = self._snapshot
            due = now - self._checked >= self.refresh_interval
            if snap is not None and not (due and not self._loading):
                snap.acquire()
                return snap
            self._checked = now
        if snap is None:
            snap = self._load_first()
        elif self._stale(snap):
            if self.background:
                self._start_loader()
            else:
                self._load_and_swap()
        with self._lock:
            snap = self._snapshot or snap
            snap.acquire()
            return snap

    def _stale(self, snap: Snapshot) -> bool:
        try:
            return snap.generation != self.home.current_name() or not snap.up_to_date()
        except Exception:  # an unreadable CURRENT: keep serving what we have
            log.warning("cannot check the index for changes", exc_info=True)
            return False

    def _open(self) -> Snapshot:
        ix, manifest = self.home.open(mmap=False)
        snap = Snapshot(ix, manifest)
        snap.vocabulary()  # warm before it serves: ~1-2 s on a large index
        return snap

    def _load_first(self) -> Snapshot:
        with self._lock:
            if self._snapshot is not None:
                return self._snapshot
            try:
                self._snapshot = self._open()
            except Exception as exc:
                self._checked = 0.0  # retry on the next request
                raise IndexUnavailable(str(exc)) from exc
            return self._snapshot

    def _load_and_swap(self) -> None:
        try:
            fresh = self._open()
        except Exception:
            log.warning(
                "cannot open the new index generation; still serving the old one", exc_info=True
            )
            return
        finally:
            with self._lock:
                self._loading = False
        with self._lock:
            old, self._snapshot = self._snapshot, fresh
        if old is not None:
            old.retire()

    def _start_loader(self) -> None:
        with self._lock:
            if self._loading:
                return
            self._loading = True
        threading.Thread(target=self._load_and_swap, name="vnsearch-refresh", daemon=True).start()

    def snapshot(self) -> Snapshot:
        """The current snapshot, acquired: call ``release()`` when done."""
        return self._current()

    def warm(self) -> bool:
        """Open the live generation and run one query through it, so that the
        first requests of a fresh worker pay for no set-up (index open,
        vocabulary, BM25 norms). False when there is no index yet: the worker
        starts anyway and ``/readyz`` says 503 until one is built."""
        try:
            snap = self._current()
        except IndexUnavailable as exc:
            log.warning("nothing to warm: %s", exc)
            return False
        try:
            plan = _plan(snap, parse("a"), self.abbreviations)
            _order(snap, np.flatnonzero(plan.mask), plan.scores, "relevance")(1)
        finally:
            snap.release()
        return True

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.retire()
                self._snapshot = None

    # -- public operations -------------------------------------------------------

    def search(self, req: SearchRequest) -> dict:
        """Run ``req`` on the live generation. Answers are cached per index version
        (a new build or commit changes the key), so repeated queries cost a dict
        lookup; the cache is bounded and holds only small response dicts."""
        started = time.perf_counter()
        snap = self._current()
        try:
            ck = (snap.version, req)
            with self._lock:
                cached = self._results.get(ck)
                if cached is not None:
                    self._results.move_to_end(ck)
            if cached is None:
                cached = self._search(snap, req)
                with self._lock:
                    if not cached.get("timed_out"):
                        self._results[ck] = cached
                    while len(self._results) > self.result_cache_size:
                        self._results.popitem(last=False)
            out = dict(cached)
            out["processing_time_ms"] = round((time.perf_counter() - started) * 1000, 2)
            return out
        finally:
            snap.release()

    def document(self, doc_id: str) -> dict | None:
        snap = self._current()
        try:
            n = snap.docnum_for_id(doc_id)
            return None if n is None else _public_fields(snap.stored(n), full=True)
        finally:
            snap.release()

    def status(self) -> dict:
        snap = self._current()
        try:
            return {
                "doc_count": snap.doc_count,
                "generation": snap.generation,
                "built_at": snap.manifest.built_at,
            }
        finally:
            snap.release()

    def stats(self) -> dict:
        """Document count, date range, counts per site and category, generation."""
        snap = self._current()
        try:
            live = np.flatnonzero(snap.live)
            dated = live[snap.dated[live]]
            days = snap.facet_values["day"]
            day_codes = snap.facet_codes["day"][dated]
            return {
                "doc_count": snap.doc_count,
                "generation": snap.generation,
                "built_at": snap.manifest.built_at,
                "updated_at": snap.manifest.updated_at,
                "date_range": {
                    "from": str(days[day_codes.min()]) if len(dated) else None,
                    "to": str(days[day_codes.max()]) if len(dated) else None,
                },
                "undated": int(len(live) - len(dated)),
                "sites": _facet_counts(snap, "site", live),
                "categories": _facet_counts(snap, "category", live),
            }
        finally:
            snap.release()

    # -- the query -----------------------------------------------------------------

    def calendar(self, req: SearchRequest, year: int, month: int) -> dict:
        """Articles per day of one month and per month of its year, for a "Xem theo
        ngày" date picker; ``req`` carries the same q/category/site filters as a
        search (its own date filters are ignored). A day is then listed by a
        search with from=to=that day."""
        snap = self._current()
        try:
            undated = SearchRequest(q=req.q, categories=req.categories, sites=req.sites)
            matched = self._matched(snap, undated)
            months = _facet_counts(snap, "month", matched)
            days = _facet_counts(snap, "day", matched)
            prefix_y, prefix_m = f"{year:04d}-", f"{year:04d}-{month:02d}-"
            return {
                "year": year,
                "month": month,
                "days": {d: c for d, c in sorted(days.items()) if d.startswith(prefix_m)},
                "months": {m: c for m, c in sorted(months.items()) if m.startswith(prefix_y)},
            }
        finally:
            snap.release()

    def neighbors(self, doc_id: str, n: int) -> dict | None:
        snap = self._current()
        try:
            return browse.neighbors(snap, doc_id, n)
        finally:
            snap.release()

    def related(self, doc_id: str, n: int) -> dict | None:
        """``browse.related``, cached with the search answers (same key scheme)."""
        snap = self._current()
        try:
            ck = (snap.version, ("related", doc_id, n))
            with self._lock:
                cached = self._results.get(ck)
            if cached is None:
                cached = browse.related(snap, doc_id, n)
                if cached is None:
                    return None
                with self._lock:
                    self._results[ck] = cached
                    while len(self._results) > self.result_cache_size:
                        self._results.popitem(last=False)
            return dict(cached)
        finally:
            snap.release()

    def _matched(self, snap: Snapshot, req: SearchRequest) -> np.ndarray:
        pq = parse(req.q, max_syllables=self.max_query_syllables)
        plan = _plan(snap, pq, self.abbreviations, _Deadline(self.time_limit), self.max_query_terms)
        return np.flatnonzero(plan.mask & _filters(snap, req))

    def _search(self, snap: Snapshot, req: SearchRequest) -> dict:
        pq = parse(req.q, max_syllables=self.max_query_syllables)
        plan = _plan(snap, pq, self.abbreviations, _Deadline(self.time_limit), self.max_query_terms)
        mask = plan.mask & _filters(snap, req)
        matched = np.flatnonzero(mask)
        total = len(matched)
        if req.sort == "relevance" and not pq.empty:
            _score_adjacent_runs(
                snap, matched, plan.scores, pq.syllables, plan.weights, pq.accented
            )
        ranked = _order(snap, matched, plan.scores, req.sort if not pq.empty else _empty_sort(req))
        lo = (req.page - 1) * req.per_page
        page_docs = ranked(lo + req.per_page)[lo:]
        hits = []
        for d in page_docs:
            stored = snap.stored(d)
            hit = _public_fields(stored)
            hit["score"] = round(float(plan.scores[d]), 4) if not pq.empty else 0.0
            hit["highlight"] = {
                "title": highlight(stored.get("title", ""), plan.highlight_folds),
                "snippet": snippet(stored.get("body", ""), plan.highlight_folds),
            }
            hits.append(hit)
        facets = {name: _facet_counts(snap, name, matched) for name in req.facets if name in FACETS}
        out = {
            "query": {"text": req.q, "normalized": pq.normalized, "accented": pq.accented},
            "hits": hits,
            "page": req.page,
            "per_page": req.per_page,
            "total_hits": total,
            "total_pages": math.ceil(total / req.per_page) if total else 0,
            "facets": facets,
        }
        if plan.did_you_mean:
            out["did_you_mean"] = plan.did_you_mean
        if plan.relaxed:
            out["relaxed"] = True
        if plan.kept is not None:
            out["truncated"] = True
            out["query"]["kept"] = plan.kept
        if plan.timed_out:
            out["timed_out"] = True
        return out


def _empty_sort(req: SearchRequest) -> str:
    return "newest" if req.sort == "relevance" else req.sort


# -- matching and scoring -----------------------------------------------------------


@dataclass(slots=True)
class _Clause:
    """One required unit of a query: a syllable, or a span of syllables that an
    abbreviation can replace (``UBND`` <-> ``Ủy ban nhân dân``). Matched when any
    alternative has all its syllables (in folded form, y/i spellings alike)."""

    alternatives: list[list[Syllable]]
    optional: bool = False


def _with_telex(snap: Snapshot, pq: ParsedQuery) -> ParsedQuery:
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


def _clauses(pq: ParsedQuery, abbreviations: Abbreviations) -> list[_Clause]:
    sylls = pq.syllables
    quoted = {id(s) for g in pq.groups if g.quoted for s in g.syllables}
    spans = sorted(
        abbreviations.alternatives([s.folded for s in sylls]), key=lambda x: (x[0], x[0] - x[1])
    )
    content = [s for s in sylls if s.key not in STOPWORDS]
    optional_stops = len(content) >= 2
    phrase_members = {id(s) for g in pq.groups if g.quoted for s in g.syllables}
    out: list[_Clause] = []
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
            out.append(_Clause(alts))
            i = end
            continue
        syl = sylls[i]
        stop = syl.key in STOPWORDS and optional_stops and id(syl) not in phrase_members
        out.append(_Clause([[syl]], optional=stop))
        i += 1
    return out


def _syllable_mask(snap: Snapshot, syl: Syllable) -> np.ndarray:
    mask = _folded_mask(snap, syl.folded)
    variant = yi_variant(syl.folded)
    if variant:
        mask |= _folded_mask(snap, variant)
    return mask


def _clause_mask(snap: Snapshot, clause: _Clause) -> np.ndarray:
    out = np.zeros(snap.size, dtype=bool)
    for alt in clause.alternatives:
        m = snap.live.copy()
        for syl in alt:
            m &= _syllable_mask(snap, syl)
        out |= m
    return out


def _function_word(key: str) -> bool:
    return key in STOPWORDS or key in QUESTION_WORDS


def _informative(clauses: list[_Clause], function: set[int]) -> list[_Clause]:
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


def _syllable_weight(syl: Syllable, read: str, long_query: bool) -> float:
    """``read`` is the syllable's key form, or for an unaccented query its
    likely reading (``gi`` read as ``gì`` is a question word)."""
    if not long_query:
        return W_STOP if syl.key in STOPWORDS else 1.0
    if read in QUESTION_WORDS:
        return W_LONG_QUESTION
    return W_LONG_STOP if read in STOPWORDS else 1.0


def _keep_informative(snap: Snapshot, pq: ParsedQuery, limit: int) -> str | None:
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
        return (1 + 2 * _function_word(syl.key) + (df == 0), df, i)

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


def _plan(
    snap: Snapshot,
    pq: ParsedQuery,
    abbreviations: Abbreviations,
    deadline: _Deadline | None = None,
    max_terms: int | None = None,
) -> _Plan:
    n = snap.size
    if pq.empty:
        mask = snap.live.copy()
        if pq.excluded:
            mask &= ~_any_form(snap, pq.excluded)
        return _Plan(mask, np.zeros(n, dtype=np.float32))
    pq = _with_telex(snap, pq)
    kept = _keep_informative(snap, pq, max_terms) if max_terms else None
    scores = np.zeros(n, dtype=np.float32)
    accented = pq.accented
    all_sylls = pq.syllables
    reading = None if accented else _likely_reading(snap, all_sylls)
    clauses = _clauses(pq, abbreviations)
    reads = reading or [s.key for s in all_sylls]
    function = {id(s) for s, r in zip(all_sylls, reads, strict=True) if _function_word(r)}
    informative = _informative(clauses, function)
    # A question or any long query: scored over all its words, matched by a
    # share of its informative ones (see LONG_MIN_WORDS).
    asks = any(r in ASKING for r in reads)
    long_query = len(informative) >= (QUESTION_MIN_WORDS if asks else LONG_MIN_WORDS)

    # Matching: every clause (stopwords aside), every phrase, no excluded word;
    # for a long query, LONG_MSM of its informative clauses.
    deadline = deadline or _Deadline(None)
    required = []
    for c in informative if long_query else clauses:
        if not c.optional:
            deadline.check()
            required.append(_clause_mask(snap, c))
    mask = snap.live.copy()
    if long_query:
        count = np.zeros(n, dtype=np.int16)
        for m in required:
            count += m
        mask &= count >= max(1, math.ceil(LONG_MSM * len(required)))
    else:
        for m in required:
            mask &= m
    # Quoted phrases must occur as typed. A typed token such as TP.HCM is not
    # checked as a phrase (its abbreviation may match instead); adjacency of its
    # parts is rewarded by the pair terms.
    phrases = snap.live.copy()
    for group in pq.groups:
        if group.quoted and group.is_phrase:
            deadline.check()
            phrases &= _phrase_mask(snap, group.syllables, mask & phrases, deadline)
    if pq.excluded:
        phrases &= ~_any_form(snap, pq.excluded)
    strict = mask & phrases
    relaxed = False
    if not long_query and len(required) >= RELAX_MIN_CLAUSES and int(strict.sum()) < RELAX_BELOW:
        # A natural question rarely has every word in one document: accept most of them.
        count = np.zeros(n, dtype=np.int16)
        for m in required:
            count += m
        need = max(2, math.ceil(RELAX_FRACTION * len(required)))
        loose = (count >= need) & phrases
        if int(loose.sum()) > int(strict.sum()):
            strict, relaxed = loose, True

    # Ranking.
    deadline.check()
    weights = [_syllable_weight(s, r, long_query) for s, r in zip(all_sylls, reads, strict=True)]
    for i, (syl, weight) in enumerate(zip(all_sylls, weights, strict=True)):
        _score_syllable(
            snap,
            scores,
            syl,
            accented,
            weight,
            reading[i] if reading else None,
            (LONG_FIELD_WEIGHT if accented else LONG_FIELD_WEIGHT_FOLDED) if long_query else None,
        )
        variant = yi_variant(syl.folded)
        if variant:
            _add(snap, scores, variant, W_FOLD * weight, forms=("f",))
    for j, (a, b) in enumerate(itertools.pairwise(all_sylls)):
        pair_reading = (reading[j], reading[j + 1]) if reading else None
        # In a long query a pair weighs as its lighter syllable (là_gì is no evidence).
        scale = W_LONG_PAIR * min(weights[j], weights[j + 1]) if long_query else 1.0
        if scale:
            _score_pair(snap, scores, a, b, accented, pair_reading, scale)
    folds = {s.folded for s in all_sylls}
    for clause in clauses:
        for alt in clause.alternatives[1:]:
            for syl in alt:
                _add(snap, scores, syl.folded, W_ABBREVIATION, forms=("f",))
                folds.add(syl.folded)
            for a, b in itertools.pairwise(alt):
                _add(snap, scores, f"{a.folded}_{b.folded}", W_ABBREVIATION, forms=("v", "g"))
    folds |= {v for v in map(yi_variant, list(folds)) if v}
    dym = None
    if reading and reading != [s.key for s in all_sylls]:
        dym = " ".join(reading)
    return _Plan(
        strict,
        scores,
        folds,
        dym,
        relaxed,
        deadline.partial,
        kept,
        weights if long_query else None,
    )


def _idf(snap: Snapshot, df: int) -> float:
    return math.log(1.0 + (snap.doc_count - df + 0.5) / (df + 0.5))


def _tf_part(snap: Snapshot, prefix: str, ids: np.ndarray, tf: np.ndarray) -> np.ndarray:
    """BM25's saturating term-frequency factor, length-normalised per field."""
    norm = snap.bm25_norm(prefix, K1, B[prefix])[ids]
    return (K1 + 1.0) * tf / (tf + norm)


def _add(
    snap: Snapshot,
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
                w = weight * FIELD_WEIGHT[prefix] * _idf(snap, p.df)
                scores[p.ids] += w * _tf_part(snap, prefix, p.ids, p.tf)


def _score_syllable(
    snap: Snapshot,
    scores: np.ndarray,
    syl: Syllable,
    accented: bool,
    weight: float,
    reading: str | None,
    field_weight: dict[str, float] | None = None,
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
        ][:MAX_TONE_VARIANTS]  # the most frequent few carry nearly all the mass
        graded = [(v, W_TONE) for v in variants]
    else:
        graded = [(reading, W_READING)] if reading else []
    for prefix in ("t", "b"):
        fw = weight * (field_weight or FIELD_WEIGHT)[prefix]
        folded = snap.postings(prefix + "f", syl.folded)
        if not folded.df:
            continue
        idf_fold = _idf(snap, folded.df)
        if accented:
            exact = snap.postings(prefix + "s", syl.key)
            if exact.df:
                scores[exact.ids] += (
                    fw
                    * W_EXACT
                    * _idf(snap, exact.df)
                    * _tf_part(snap, prefix, exact.ids, exact.tf)
                )
        fold_weight = W_FOLD if accented else 1.0
        scores[folded.ids] += (
            fw * fold_weight * idf_fold * _tf_part(snap, prefix, folded.ids, folded.tf)
        )
        for form, w in graded:
            p = snap.postings(prefix + "s", form)
            if p.df:
                # In a question, the reading weighs as the word meant (own idf).
                idf = _idf(snap, p.df) if field_weight and not accented else idf_fold
                scores[p.ids] += fw * w * idf * _tf_part(snap, prefix, p.ids, p.tf)


def _score_pair(
    snap: Snapshot,
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
        _add(snap, scores, keyed, W_PAIR * scale, forms=("w", "a"))
        _add(snap, scores, folded, W_PAIR * W_FOLD * 2 * scale, forms=("v", "g"))
    else:
        _add(snap, scores, folded, W_PAIR * scale, forms=("v", "g"))
        if reading:
            _add(snap, scores, f"{reading[0]}_{reading[1]}", W_READING * scale, forms=("w", "a"))


def _score_adjacent_runs(
    snap: Snapshot,
    matched: np.ndarray,
    scores: np.ndarray,
    sylls: list[Syllable],
    weights: list[float] | None = None,
    accented: bool = True,
) -> None:
    """Proximity for the best candidates (search_api/proximity.py): each run of
    consecutive query syllables found contiguous (folded) in a candidate's
    title or body scores as a term of an n-gram field would (BM25 of its count
    there), with the sum of its syllables' idfs in that field; runs of three and
    more weigh W_LONGER_RUN of that. Only the top PROXIMITY_DEPTH candidates
    gain, so they stay above all the others."""
    if len(sylls) < 2 or len(matched) < 2:
        return
    forms = [[s.folded, *filter(None, [yi_variant(s.folded)])] for s in sylls]
    runs = query_runs(forms, PROXIMITY_LONGEST)
    if not runs:
        return
    top = _order(snap, matched, scores, "relevance")(PROXIMITY_DEPTH)
    docs = np.asarray(sorted(top), dtype=np.int64)
    for prefix in ("t", "b"):
        idf = [_idf(snap, snap.postings(prefix + "f", s.folded).df) for s in sylls]
        if weights:  # a long query: function words add little to a run
            idf = [i * w for i, w in zip(idf, weights, strict=True)]
        norm = snap.bm25_norm(prefix, K1, B[prefix])
        for run, (where, tf) in zip(
            runs, run_counts(snap, prefix + "p", docs, forms, runs), strict=True
        ):
            if len(where):
                if not weights:
                    adjacent, longer = W_ADJACENT, W_LONGER_RUN
                else:
                    adjacent = W_LONG_ADJACENT if accented else W_LONG_ADJACENT_FOLDED
                    longer = W_LONG_LONGER_RUN
                weight = (
                    adjacent
                    * (1.0 if run.end - run.start == 2 else longer)
                    * sum(idf[run.start : run.end])
                    * (K1 + 1.0)
                )
                scores[where] += (weight * tf / (tf + norm[where])).astype(scores.dtype)


def _folded_mask(snap: Snapshot, folded: str) -> np.ndarray:
    mask = np.zeros(snap.size, dtype=bool)
    for fld in ("tf", "bf"):
        mask[snap.postings(fld, folded).ids] = True
    return mask


def _any_form(snap: Snapshot, sylls: list[Syllable]) -> np.ndarray:
    """Documents containing any of ``sylls`` (exact form if typed with accents)."""
    mask = np.zeros(snap.size, dtype=bool)
    for s in sylls:
        for prefix in ("t", "b"):
            fld, term = (prefix + "s", s.key) if s.accented else (prefix + "f", s.folded)
            mask[snap.postings(fld, term).ids] = True
    return mask


def _phrase_mask(
    snap: Snapshot,
    sylls: list[Syllable],
    candidates: np.ndarray,
    deadline: _Deadline | None = None,
) -> np.ndarray:
    """Documents among ``candidates`` where ``sylls`` occur consecutively in the
    title or the body; each syllable in its typed form (key form when typed with
    diacritics, folded otherwise), as the ``p`` fields index both at each position.

    Positions are read only where the other fields cannot decide: title bigrams
    (``ta``/``tg``) hold every adjacent pair of title syllables, so a title
    candidate must have each pair of the phrase, and a two-syllable phrase typed
    all with or all without diacritics is decided by its bigram alone; a pyvi
    word (``bw``/``bv``) equal to the whole phrase proves it in the body. The
    rest is verified on positions (``_verify_phrase``); past the deadline it is
    skipped and the answer is flagged partial."""
    out = np.zeros(snap.size, dtype=bool)
    docs = np.flatnonzero(candidates)
    if len(docs) == 0:
        return out
    terms = [s.key if s.accented else s.folded for s in sylls]
    same_form = all(s.accented for s in sylls) or not any(s.accented for s in sylls)
    key_form = same_form and sylls[0].accented
    for prefix in ("t", "b"):
        fld = prefix + "p"
        # The documents of a term in the p field are those of its key form in
        # the s field, or of its folded form in the f field: the same tokens,
        # without positions (cheap blocks, and usually cached by matching).
        plain = [_doc_field(snap, prefix, s) for s in sylls]
        lists = sorted((p.ids for p in plain), key=len)  # rarest first: shrinks fastest
        cand = docs if prefix == "t" else docs[~out[docs]]
        for ids in lists:
            cand = np.intersect1d(cand, ids, assume_unique=True)
        if prefix == "t" and len(cand):
            for a, b in itertools.pairwise(sylls):
                if a.accented and b.accented:
                    fld2, pair = "ta", f"{a.key}_{b.key}"
                else:  # a mixed pair: its folded bigram is necessary
                    fld2, pair = "tg", f"{a.folded}_{b.folded}"
                cand = np.intersect1d(cand, snap.postings(fld2, pair).ids, assume_unique=True)
            if same_form and len(terms) == 2:
                out[cand] = True
                continue
        if prefix == "b" and same_form and len(cand):
            word = snap.postings("bw" if key_form else "bv", "_".join(terms)).ids
            proved = np.isin(cand, word, assume_unique=True)
            out[cand[proved]] = True
            cand = cand[~proved]
        if not _verify_phrase(snap, fld, terms, [p.df for p in plain], cand, out, deadline):
            return out
    return out


def _doc_field(snap: Snapshot, prefix: str, syl: Syllable) -> Postings:
    """Postings of a phrase syllable's typed form without positions."""
    return (
        snap.postings(prefix + "s", syl.key)
        if syl.accented
        else snap.postings(prefix + "f", syl.folded)
    )


def _verify_phrase(
    snap: Snapshot,
    fld: str,
    terms: list[str],
    dfs: list[int],
    cand: np.ndarray,
    out: np.ndarray,
    deadline: _Deadline | None,
) -> bool:
    """Mark in ``out`` the ``cand`` documents where ``terms`` occur consecutively
    in ``fld``. Each occurrence becomes a key (docnum, position - offset in the
    phrase); the phrase holds where every term has the same key. Positions are
    read term by term, the rarest first, and only for the documents every
    earlier term left possible. False when the deadline stopped it (partial)."""
    if not len(cand):
        return True
    expired = None if deadline is None else deadline.expired
    order = sorted(range(len(terms)), key=lambda k: dfs[k])
    alive = cand
    keys = None
    for k in order:
        got = snap.positions(fld, terms[k], alive, expired)
        if got is None:
            deadline.partial = True
            return False
        docs, pos = got
        # Sorted and unique: documents ascending, positions ascending in each.
        here = (docs << 32) | (pos - k + _PHRASE_BIAS)
        keys = here if keys is None else np.intersect1d(keys, here, assume_unique=True)
        if not len(keys):
            return True
        alive = np.unique(keys >> 32)
    out[alive] = True
    return True


def _likely_reading(snap: Snapshot, sylls: list[Syllable]) -> list[str] | None:
    """The most likely accented form of each unaccented query syllable: a Viterbi
    pass over the index's own vocabulary. Candidates are the most frequent key
    forms with the same folding; a pair of adjacent forms that the index has seen
    together (as a title bigram or a pyvi word) outweighs frequency alone, and
    how often it was seen breaks ties."""
    vocab = snap.vocabulary()
    width = READING_LONG_CANDIDATES if len(sylls) >= READING_LONG else READING_CANDIDATES
    cands = [vocab.get(s.folded, ())[:width] for s in sylls]
    if not sylls or not all(cands):
        return None

    def link(a: str, b: str) -> float:
        pair = f"{a}_{b}"
        seen = snap.term_df("ta", pair) + snap.term_df("tw", pair) + snap.term_df("bw", pair)
        return (LINK_SEEN + LINK_COUNT * math.log1p(seen)) if seen else 0.0

    def cap(df_a: int, df_b: int) -> float:
        # The most link() can give: a title bigram or word a_b is in no more
        # titles than a (or b) is, a body word in no more bodies, and a form's
        # vocabulary df counts its titles and bodies.
        return LINK_SEEN + LINK_COUNT * math.log1p(2 * min(df_a, df_b))

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
            score, path = -math.inf, None
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


# -- filters, order, facets ----------------------------------------------------------


def _day_ts(d: date, end: bool = False) -> int:
    ts = int(datetime(d.year, d.month, d.day, tzinfo=VN_TZ).timestamp())
    return ts + 86400 - 1 if end else ts


def _codes_in(snap: Snapshot, name: str, wanted: Iterable[str]) -> np.ndarray:
    values = snap.facet_values[name]
    codes = [int(i) for i in np.flatnonzero(np.isin(values, list(wanted)))]
    return np.isin(snap.facet_codes[name], codes)


def _filters(snap: Snapshot, req: SearchRequest) -> np.ndarray:
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


_LAST = np.iinfo(np.int64).max


def _order(snap: Snapshot, matched: np.ndarray, scores: np.ndarray, sort: str):
    """A function giving the first ``k`` of ``matched`` in the requested order.
    Undated documents come after dated ones; ties go to the lower docnum. Only
    the candidates tied with the k-th best are sorted in full."""

    def first(k: int) -> list[int]:
        if len(matched) == 0 or k <= 0:
            return []
        ts = snap.pubts[matched]
        dated = snap.dated[matched]
        newest = np.where(dated, -ts, _LAST)
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
            order = sel[np.lexsort(tuple(key[sel] for key in keys))]
        else:
            order = np.lexsort(keys)
        return [int(d) for d in matched[order[:k]]]

    return first


def _facet_counts(snap: Snapshot, name: str, matched: np.ndarray) -> dict[str, int]:
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


def _public_fields(stored: dict, full: bool = False) -> dict:
    out = {
        "id": stored.get("id"),
        "url": stored.get("url"),
        "title": stored.get("title", ""),
        "published": stored.get("published"),
        "category": stored.get("category"),
        "site": stored.get("site"),
    }
    if full:
        out["body"] = stored.get("body", "")
        out["views"] = stored.get("views")
    return out
