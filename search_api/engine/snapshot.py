"""One open generation of the index, as the search engine reads it.

Whoosh stores the index (segments, lexicon, postings, stored fields, columns);
queries are evaluated here with NumPy over whole posting lists. The reason is
measured in FINDINGS.md: Whoosh walks postings one Python call at a time, and
folded syllables such as ``quan`` occur in 70% of a news archive, so its own
matchers take hundreds of milliseconds. Decoding a posting block into an array
costs about as much as one Python call per block of 128 postings.

This module is the NumPy view (columns, posting and position arrays, caches,
vocabulary, reference counts) through Whoosh's public API; the direct reads of
Whoosh's W3 posting blocks and lexicons, which need its private internals, are
in indexer/whoosh_internals/reading.py, and the long lists come from the
postings arrays the indexer wrote (indexer/postings_arrays.py).
"""

from __future__ import annotations

import contextlib
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.index import Index

from indexer.analysis import fold
from indexer.home import Manifest
from indexer.postings_arrays import PostingsArrays, open_for
from indexer.whoosh_internals import reading
from search_api.engine import columns

_NO_VIEWS = np.iinfo(np.int64).max  # the views column's default: no count
EMPTY_IDS = np.zeros(0, dtype=np.int32)
EMPTY_TF = np.zeros(0, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Postings:
    ids: np.ndarray  # sorted global docnums (int32: an index holds < 2**31 documents)
    tf: np.ndarray  # term frequency per doc (float32)

    @property
    def df(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        return self.ids.nbytes + self.tf.nbytes


NO_POSTINGS = Postings(EMPTY_IDS, EMPTY_TF)


class Snapshot:
    """A searcher on one generation plus its columns in NumPy arrays.

    Shared by all threads of a worker; closed when the next generation (or a
    newer commit) has replaced it and no request uses it any more.
    """

    def __init__(self, ix: Index, manifest: Manifest, *, cache_bytes: int = 96 << 20):
        self.ix = ix
        self.manifest = manifest
        self.generation = manifest.generation
        self.searcher = ix.searcher()
        # Changes with every build (generation) and every update commit (Whoosh
        # TOC generation): the key for HTTP ETags and result caches.
        self.version = f"{manifest.generation}.{ix.latest_generation()}"
        self.reader = self.searcher.reader()
        self.schema = ix.schema
        self.leaves = list(self.reader.leaf_readers())
        for seg, _ in self.leaves:
            reading.open_fast(seg)
        # Long lists as flat arrays, where the indexer wrote them (one per segment).
        folder = Path(getattr(ix.storage, "folder", ""))
        self._arrays: list[PostingsArrays | None] = [
            open_for(folder, reading.segment_id(seg), seg.doc_count_all()) for seg, _ in self.leaves
        ]
        self._lexicons_mapped = reading.lexicons_mapped(self.leaves)
        self._w3_lexicons = reading.w3_lexicons(self.leaves)
        self.size = self.reader.doc_count_all()
        self.live = np.zeros(self.size, dtype=bool)
        self.live[list(self.reader.all_doc_ids())] = True
        self.doc_count = int(self.live.sum())
        self.pubts = columns.numeric(self.leaves, "pubts", np.int64)
        views = columns.column(self.leaves, "views")
        # A document without a view count gets Whoosh's column default (int64
        # max) or, in a segment without the column, None: unknown, not popular.
        self.has_views = np.asarray([v is not None and v != _NO_VIEWS for v in views], dtype=bool)
        self.views = np.asarray(
            [v if ok else 0 for v, ok in zip(views, self.has_views, strict=True)], dtype=np.int64
        )
        self.tlen = columns.numeric(self.leaves, "tlen", np.float32)
        self.blen = columns.numeric(self.leaves, "blen", np.float32)
        self.facet_codes: dict[str, np.ndarray] = {}
        self.facet_values: dict[str, np.ndarray] = {}
        for name in ("year", "month", "day", "category", "site"):
            codes, values = columns.factorize(self.leaves, name)
            self.facet_codes[name] = codes
            self.facet_values[name] = values
        # Undated documents have no year: sort them after every dated one.
        self.dated = self.facet_codes["year"] >= 0
        self._norms: dict[tuple[str, float, float], np.ndarray] = {}
        self._cache: OrderedDict[tuple[str, str], Postings] = OrderedDict()
        # Bounded by bytes, not entries: one common syllable's list is ~150 KB
        # on 39k articles, and an entry cap let a worker grow past 1 GB.
        self._cache_bytes = cache_bytes
        self._cached_bytes = 0
        self._lock = threading.Lock()
        # Whoosh's readers seek and read shared file objects: one thread at a
        # time (reads are short and cached; measured races without it gave
        # "zlib.error: truncated stream" about once in 3,000 queries).
        self._io = threading.RLock()
        self._vocab: dict[str, list[tuple[str, int]]] | None = None
        self._memo: dict[str, object] = {}
        self._df_cache: dict[tuple[str, str], int] = {}
        self._users = 0
        self._retired = False
        self._closed = False

    # -- columns ---------------------------------------------------------------

    def bm25_norm(self, prefix: str, k1: float, b: float) -> np.ndarray:
        """k1 * (1 - b + b * len / avglen) per document, computed once."""
        nk = (prefix, k1, b)
        norm = self._norms.get(nk)
        if norm is None:
            lengths = self.tlen if prefix == "t" else self.blen
            avg = float(lengths[self.live].mean()) if self.doc_count else 1.0
            norm = (k1 * (1.0 - b + b * lengths / max(avg, 1.0))).astype(np.float32)
            self._norms[nk] = norm
        return norm

    # -- postings --------------------------------------------------------------

    def postings(self, field: str, term: str) -> Postings:
        ck = (field, term)
        with self._lock:
            hit = self._cache.get(ck)
            if hit is not None:
                self._cache.move_to_end(ck)
                return hit
        result = self._read_postings(field, term)
        with self._lock:
            if ck not in self._cache:
                self._cache[ck] = result
                self._cached_bytes += result.nbytes
            while self._cached_bytes > self._cache_bytes and len(self._cache) > 1:
                _, old = self._cache.popitem(last=False)
                self._cached_bytes -= old.nbytes
        return result

    def _read_postings(self, field: str, term: str) -> Postings:
        if field not in self.schema:
            return NO_POSTINGS
        fmt = self.schema[field].format
        ids_parts, tf_parts = [], []
        for (seg, offset), arrays in zip(self.leaves, self._arrays, strict=True):
            got = arrays.get(field, term) if arrays is not None else None
            if got is not None:
                ids_parts.append(got[0] + offset)
                tf_parts.append(got[1])
                continue
            read = reading.read_postings(seg, field, term, fmt, self._io)
            if read is None:
                continue
            ids_parts.append(read[0] + offset)
            tf_parts.append(read[1])
        if not ids_parts:
            return NO_POSTINGS
        ids = np.concatenate(ids_parts)
        tf = np.concatenate(tf_parts)
        keep = self.live[ids]
        if not keep.all():
            ids, tf = ids[keep], tf[keep]
        return Postings(ids, tf)

    def term_df(self, field: str, term: str) -> int:
        """Document frequency from the lexicon, without reading postings (counts
        deleted documents too: good enough for statistics)."""
        k = (field, term)
        df = self._df_cache.get(k)
        if df is None:
            if field not in self.schema:
                df = 0
            elif self._w3_lexicons:
                df = self._lexicon_df(field, term.encode("utf-8"))
            else:
                with self._io:
                    df = self.reader.doc_frequency(field, term)
            if len(self._df_cache) > 200_000:
                self._df_cache.clear()
            self._df_cache[k] = df
        return df

    def _lexicon_df(self, field: str, tbytes: bytes) -> int:
        # Mapped lexicons are read with position-free slices: no lock needed.
        with contextlib.nullcontext() if self._lexicons_mapped else self._io:
            return reading.lexicon_df(self.leaves, field, tbytes)

    def positions(
        self,
        field: str,
        term: str,
        docnums: np.ndarray,
        expired: Callable[[], bool] | None = None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Where ``term`` occurs in those of ``docnums`` (sorted global docnums)
        that contain it: two parallel int64 arrays, docnum and position, sorted
        by docnum then position. None when ``expired()`` (asked between blocks)
        said to stop."""
        empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        if field not in self.schema or len(docnums) == 0:
            return empty
        fmt = self.schema[field].format
        docs: list[np.ndarray] = []
        deltas: list[list[list[int]]] = []
        # Segments whose postings arrays hold the term: positions come decoded.
        ready_docs: list[np.ndarray] = []
        ready_pos: list[np.ndarray] = []
        bounds = [off for _, off in self.leaves] + [self.size]
        for i, (seg, offset) in enumerate(self.leaves):
            lo, hi = np.searchsorted(docnums, [offset, bounds[i + 1]])
            if lo == hi:
                continue
            local = np.asarray(docnums[lo:hi], dtype=np.int64) - offset
            arrays = self._arrays[i]
            got = arrays.positions(field, term, local) if arrays is not None else None
            if got is not None:
                ready_docs.append(got[0] + offset)
                ready_pos.append(got[1])
                continue
            read = reading.read_positions(seg, field, term, fmt, local, self._io, expired)
            if read is None:
                return None
            docs.extend(d + offset for d in read[0])
            deltas.extend(read[1])
        lists = [x for part in deltas for x in part]
        if lists:
            counts, pos = reading.deltas_to_positions(lists)
            ready_docs.append(np.repeat(np.concatenate(docs), counts))
            ready_pos.append(pos)
        if not ready_docs:
            return empty
        all_docs, all_pos = np.concatenate(ready_docs), np.concatenate(ready_pos)
        if len(ready_docs) > 1:
            # Segments cover disjoint docnum ranges: a stable sort by docnum
            # keeps each document's positions in order.
            order = np.argsort(all_docs, kind="stable")
            all_docs, all_pos = all_docs[order], all_pos[order]
        return all_docs, all_pos

    # -- vocabulary ------------------------------------------------------------

    def vocabulary(self) -> dict[str, list[tuple[str, int]]]:
        """folded syllable -> [(key syllable, document frequency)], most frequent
        first, from the title and body lexicons. Built on first use."""
        if self._vocab is None:
            counts: dict[str, int] = {}
            # Segment by segment: each is one sequential scan of its term file,
            # where the multi-reader would look every term up in every segment.
            with self._io:
                terms = [
                    (text, info.doc_frequency())
                    for seg, _ in self.leaves
                    for field in ("ts", "bs")
                    if field in seg.schema
                    for text, info in seg.iter_field(field)
                ]
            for text, df in terms:
                if isinstance(text, bytes):
                    text = text.decode("utf-8")
                if not text.isdigit():
                    counts[text] = counts.get(text, 0) + df
            vocab: dict[str, list[tuple[str, int]]] = {}
            for text, df in counts.items():
                vocab.setdefault(fold(text), []).append((text, df))
            for forms in vocab.values():
                forms.sort(key=lambda p: -p[1])
            self._vocab = vocab
        return self._vocab

    def terms(self, field: str) -> list[str]:
        """Every term of ``field`` in this snapshot, sorted: the segments'
        lexicons scanned one after the other (mapped, so a scan is cheap)."""
        with self._io:
            found = {
                text.decode("utf-8") if isinstance(text, bytes) else text
                for seg, _ in self.leaves
                if field in seg.schema
                for text, _info in seg.iter_field(field)
            }
        return sorted(found)

    def memo(self, name: str, factory: Callable[[Snapshot], Any]) -> Any:
        """A per-snapshot cached value (built once, by the first caller): for
        structures other modules derive from this generation."""
        with self._lock:
            if name in self._memo:
                return self._memo[name]
        value = factory(self)
        with self._lock:
            return self._memo.setdefault(name, value)

    # -- documents ----------------------------------------------------------------

    def stored(self, docnum: int | np.integer) -> dict:
        with self._io:
            return self.searcher.stored_fields(int(docnum))

    def docnum_for_id(self, doc_id: str) -> int | None:
        # Ids are stored NFC (indexer.schema.clean_id): an NFD request finds them too.
        p = self.postings("id", unicodedata.normalize("NFC", doc_id))
        return int(p.ids[0]) if p.df else None

    # -- lifecycle -----------------------------------------------------------------

    def up_to_date(self) -> bool:
        return self.searcher.up_to_date()

    def acquire(self) -> None:
        with self._lock:
            self._users += 1

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            close = self._retired and self._users == 0
        if close:
            self._close()

    def retire(self) -> None:
        """No new requests will use this snapshot; close it once idle."""
        with self._lock:
            self._retired = True
            close = self._users == 0
        if close:
            self._close()

    def __del__(self) -> None:
        # A service nobody closed (a test, an app torn down without close())
        # must not leave Whoosh's segment files open until interpreter exit.
        with contextlib.suppress(Exception):  # best effort during garbage collection
            self._close()

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            for arrays in getattr(self, "_arrays", ()):
                if arrays is not None:
                    arrays.close()
            self.searcher.close()
            self.ix.close()
