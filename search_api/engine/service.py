"""The search service: validated request in, response dict out. No HTTP here.

How a query runs (all over NumPy arrays of one :class:`Snapshot`; the stages
are the modules of this package, docs/design.md):

1. Parsing (``query``) and reading (``reading``, ``expansion``): syllables,
   quoted phrases, ``-word`` exclusions; Telex decoding, abbreviations, the
   likely accented reading of an unaccented query (did-you-mean).
2. Matching (``plan``, ``clauses``, ``phrases``): every query syllable must
   occur, in its folded form, in the title or the body (so ``tuyen giao`` finds
   ``tuyên giáo`` and ``tuyến giao``). Quoted phrases and typed tokens like
   ``TP.HCM`` must occur as a sequence (checked on positions of the candidates
   only). ``-word`` excludes. A question (a question word and two informative
   words, or six) needs only a share of its informative words instead
   (docs/design.md, "Questions").
3. Ranking (``scoring``, weights in ``ranking.RankingSettings``): BM25 over
   graded terms. For an accented query the exact key form weighs most, then
   other tones of the same letters, then the folded form; pyvi words and title
   bigrams made of adjacent query syllables add proximity; title matches weigh
   more than body matches. For an unaccented query the folded forms lead and
   the most likely accented reading adds a boost. The best candidates are then
   rescored by proximity (``proximity``): runs of consecutive query syllables
   found contiguous in their title or body.
4. Filters, order and facets (``filters``, ``facets``) come from the match
   mask and integer columns, never from scoring; only the displayed page is
   loaded and highlighted (``response``, ``highlight``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator

import numpy as np

from indexer.home import IndexHome
from search_api.engine import browse
from search_api.engine.expansion import Abbreviations, load_abbreviations
from search_api.engine.facets import facet_counts
from search_api.engine.filters import filters, order
from search_api.engine.plan import Plan, plan
from search_api.engine.query import ParsedQuery, parse
from search_api.engine.ranking import RankingSettings
from search_api.engine.request import Deadline, IndexUnavailable, SearchRequest
from search_api.engine.response import public_fields, search_response
from search_api.engine.scoring import score_adjacent_runs
from search_api.engine.snapshot import Snapshot

log = logging.getLogger("vnsearch.search")


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
        background: bool = True,
        abbreviations: Abbreviations | None = None,
        result_cache_size: int = 4096,
        time_limit: float | None = 2.0,
        ranking: RankingSettings | None = None,
    ):
        self.home = IndexHome(index_dir)
        self.abbreviations = abbreviations or load_abbreviations()
        # Every weight and threshold of matching and ranking (RankingSettings()
        # by default: the shipped values).
        self.ranking = ranking or RankingSettings()
        self.refresh_interval = refresh_interval
        self.max_query_syllables = max_query_syllables
        self.background = background
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = 0.0
        self._loading = False
        self.result_cache_size = result_cache_size
        # Seconds one query may spend matching before it stops: partial phrase
        # results are returned flagged "timed_out"; otherwise SearchTimeout.
        self.time_limit = time_limit
        self._results: OrderedDict[tuple[str, Hashable], dict] = OrderedDict()

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
        """The current snapshot, acquired: call ``release()`` when done (or use
        ``borrow()``)."""
        return self._current()

    @contextlib.contextmanager
    def borrow(self) -> Iterator[Snapshot]:
        """The current snapshot for the length of a ``with`` block."""
        snap = self._current()
        try:
            yield snap
        finally:
            snap.release()

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
            warm = plan(snap, parse("a"), self.abbreviations, self.ranking)
            order(snap, np.flatnonzero(warm.mask), warm.scores, "relevance")(1)
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
        with self.borrow() as snap:
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
                    self._trim()
            out = dict(cached)
            out["processing_time_ms"] = round((time.perf_counter() - started) * 1000, 2)
            return out

    def _trim(self) -> None:
        """Drop the least recently used answers over the cache size (lock held)."""
        while len(self._results) > self.result_cache_size:
            self._results.popitem(last=False)

    def document(self, doc_id: str) -> dict | None:
        with self.borrow() as snap:
            n = snap.docnum_for_id(doc_id)
            return None if n is None else public_fields(snap.stored(n), full=True)

    def status(self) -> dict:
        with self.borrow() as snap:
            return {
                "doc_count": snap.doc_count,
                "generation": snap.generation,
                "built_at": snap.manifest.built_at,
            }

    def stats(self) -> dict:
        """Document count, date range, counts per site and category, generation."""
        with self.borrow() as snap:
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
                "sites": facet_counts(snap, "site", live),
                "categories": facet_counts(snap, "category", live),
            }

    def calendar(self, req: SearchRequest, year: int, month: int) -> dict:
        """Articles per day of one month and per month of its year, for a "Xem theo
        ngày" date picker; ``req`` carries the same q/category/site filters as a
        search (its own date filters are ignored). A day is then listed by a
        search with from=to=that day."""
        with self.borrow() as snap:
            undated = SearchRequest(q=req.q, categories=req.categories, sites=req.sites)
            matched = self._matched(snap, undated)
            months = facet_counts(snap, "month", matched)
            days = facet_counts(snap, "day", matched)
            prefix_y, prefix_m = f"{year:04d}-", f"{year:04d}-{month:02d}-"
            return {
                "year": year,
                "month": month,
                "days": {d: c for d, c in sorted(days.items()) if d.startswith(prefix_m)},
                "months": {m: c for m, c in sorted(months.items()) if m.startswith(prefix_y)},
            }

    def neighbors(self, doc_id: str, n: int) -> dict | None:
        with self.borrow() as snap:
            return browse.neighbors(snap, doc_id, n)

    def related(self, doc_id: str, n: int) -> dict | None:
        """``browse.related``, cached with the search answers (same key scheme)."""
        with self.borrow() as snap:
            ck = (snap.version, ("related", doc_id, n))
            with self._lock:
                cached = self._results.get(ck)
            if cached is None:
                cached = browse.related(snap, doc_id, n)
                if cached is None:
                    return None
                with self._lock:
                    self._results[ck] = cached
                    self._trim()
            return dict(cached)

    # -- the query -----------------------------------------------------------------

    def _plan(self, snap: Snapshot, req: SearchRequest) -> tuple[ParsedQuery, Plan]:
        pq = parse(req.q, max_syllables=self.max_query_syllables)
        rs = self.ranking
        found = plan(
            snap, pq, self.abbreviations, rs, Deadline(self.time_limit), rs.max_query_terms
        )
        return pq, found

    def _matched(self, snap: Snapshot, req: SearchRequest) -> np.ndarray:
        _, found = self._plan(snap, req)
        return np.flatnonzero(found.mask & filters(snap, req))

    def _search(self, snap: Snapshot, req: SearchRequest) -> dict:
        pq, found = self._plan(snap, req)
        matched = np.flatnonzero(found.mask & filters(snap, req))
        if req.sort == "relevance" and not pq.empty:
            score_adjacent_runs(
                snap, self.ranking, matched, found.scores, pq.syllables, found.weights, pq.accented
            )
        sort = req.sort if not pq.empty else _empty_sort(req)
        ranked = order(snap, matched, found.scores, sort)
        lo = (req.page - 1) * req.per_page
        page_docs = ranked(lo + req.per_page)[lo:]
        return search_response(snap, req, pq, found, matched, page_docs)


def _empty_sort(req: SearchRequest) -> str:
    return "newest" if req.sort == "relevance" else req.sort
