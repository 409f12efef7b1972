"""One open generation of the index, as the search engine reads it.

Whoosh stores the index (segments, lexicon, postings, stored fields, columns);
queries are evaluated here with NumPy over whole posting lists. The reason is
measured in FINDINGS.md: Whoosh walks postings one Python call at a time, and
folded syllables such as ``quan`` occur in 70% of a news archive, so its own
matchers take hundreds of milliseconds. Decoding a posting block into an array
costs about as much as one Python call per block of 128 postings.

This module holds nearly all of the search side's Whoosh calls; it reads
Whoosh's W3 posting blocks directly (the version is pinned in pyproject.toml),
with a slow generic path for any other matcher.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import pickle
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import formats
from whoosh.codec.whoosh3 import W3LeafMatcher, W3TermInfo, W3TermsReader
from whoosh.filedb.compound import SubFile
from whoosh.filedb.structfile import StructFile
from whoosh.index import Index
from whoosh.reading import TermNotFound
from whoosh.system import _INT_SIZE, pack_ushort, unpack_int
from whoosh.util.numeric import byte_to_length

from indexer.analysis import fold
from indexer.home import Manifest
from indexer.postings_arrays import (
    PostingsArrays,
    decode_positions,
    deltas_to_positions,
    open_for,
)

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
_NO_LOCK = contextlib.nullcontext()


class _MappedFile(StructFile):
    """A read-only sub-file of a compound segment file, memory-mapped.

    Whoosh reads a lexicon (``.trm``) through ``get(position, length)`` calls,
    a few per term lookup; on a plain file each is a seek and a read through
    Whoosh's Python ``SubFile``. Here ``get`` is one slice of the map and
    sequential reads are the map's own. Only lexicons are mapped (46 MB a
    segment on the whole corpus): their pages are file-backed and shared by
    every worker, and the postings stay on plain reads so that a worker's
    resident memory does not grow with every list it ever read."""

    def __init__(self, fileno: int, offset: int, length: int, name: str | None = None):
        start = offset - offset % mmap.ALLOCATIONGRANULARITY
        self._delta = offset - start
        self._length = length
        self._map = mmap.mmap(fileno, self._delta + length, access=mmap.ACCESS_READ, offset=start)
        self._map.seek(self._delta)
        super().__init__(self._map, name=name)
        self.is_real = False

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence == 0:
            pos += self._delta
        elif whence == 2:
            pos += self._delta + self._length
            whence = 0
        return self._map.seek(pos, whence)

    def tell(self) -> int:
        return self._map.tell() - self._delta

    def get(self, position: int, length: int) -> bytes:
        start = self._delta + position
        return self._map[start : start + length]

    def subset(self, offset: int, length: int, name: str | None = None) -> StructFile:
        raise NotImplementedError


class _PreadFile(StructFile):
    """A read-only sub-file of a compound segment file, read with ``os.pread``.

    For the postings (``.pst``): ``get(position, length)``, the read of every
    block header and block, is one C call with no shared file position, where
    Whoosh's ``SubFile`` does a seek and a read through Python and needs the
    snapshot's lock. Nothing is mapped, so resident memory stays as it was."""

    def __init__(self, fileno: int, offset: int, length: int, name: str | None = None):
        self._fd = fileno  # owned by the compound storage, which outlives us
        self._offset = offset
        self._length = length
        self._pos = 0
        super().__init__(self, name=name)  # read_pickle() reads through self.file
        self.is_real = False

    def get(self, position: int, length: int) -> bytes:
        length = min(length, self._length - position)
        return os.pread(self._fd, length, self._offset + position) if length > 0 else b""

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            size = self._length - self._pos
        data = self.get(self._pos, size)
        self._pos += len(data)
        return data

    def readline(self) -> bytes:
        line = b""
        while not line.endswith(b"\n"):
            chunk = self.get(self._pos + len(line), 256)
            if not chunk:
                break
            cut = chunk.find(b"\n")
            line += chunk if cut < 0 else chunk[: cut + 1]
        self._pos += len(line)
        return line

    def seek(self, pos: int, whence: int = 0) -> int:
        self._pos = pos + (0, self._pos, self._length)[whence]
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self.is_closed = True

    def subset(self, offset: int, length: int, name: str | None = None) -> StructFile:
        raise NotImplementedError


def _subfile(structfile) -> SubFile | None:
    """The part of a real (compound segment) file that Whoosh reads through
    ``structfile``, or None when it is anything else."""
    sub = getattr(structfile, "file", None)
    return sub if isinstance(sub, SubFile) and hasattr(sub._file, "fileno") else None


def _pread_postings(seg) -> None:
    """Read ``seg``'s postings with ``pread`` (see ``_PreadFile``); left as
    Whoosh opened them when they are not a sub-file of a real file."""
    terms = getattr(seg, "_terms", None)
    sub = _subfile(getattr(terms, "_postfile", None))
    if sub is None:
        return
    direct = _PreadFile(sub._file.fileno(), sub._offset, sub._length, name=sub.name)
    if direct.get(0, 64) != terms._postfile.get(0, 64):  # not the layout we know
        return
    terms._postfile = direct


def _map_lexicon(seg) -> None:
    """Read ``seg``'s lexicon through a memory map (see ``_MappedFile``); left
    as Whoosh opened it when it is not a sub-file of a real file."""
    terms = getattr(seg, "_terms", None)
    sub = _subfile(getattr(terms, "_dbfile", None))
    if sub is None:
        return
    mapped = _MappedFile(sub._file.fileno(), sub._offset, sub._length, name=sub.name)
    if mapped.get(0, 64) != terms._dbfile.get(0, 64):  # not the layout we know
        mapped.close()
        return
    terms._dbfile = terms._tindex.dbfile = mapped


# A block header (length, then the pickled info tuple) is read in one call of
# this many bytes; the tuple takes ~30.
_HEAD = 128


class _W3Matcher(W3LeafMatcher):
    """Whoosh's W3 matcher, reading each block header with one file read.

    Whoosh's own ``_goto`` unpickles the header straight from the file object,
    and on a plain (not mmapped) file the unpickler calls ``read`` for every
    opcode: ~20 Python-level reads per block, the largest cost of walking
    positions. Same attributes, same values."""

    def _goto(self, position: int) -> None:
        self._data = self._ids = self._weights = self._values = None
        self._i = 0
        head = self._postfile.get(position, _INT_SIZE + _HEAD)
        length = unpack_int(head[:_INT_SIZE])[0]
        if length < 0:
            self._lastblock = True
            length = -length
        self._nextoffset = position + _INT_SIZE + length
        buf = io.BytesIO(head[_INT_SIZE:])
        try:
            info = pickle.load(buf)
        except (EOFError, pickle.UnpicklingError):  # a header longer than _HEAD
            buf = io.BytesIO(self._postfile.get(position + _INT_SIZE, length))
            info = pickle.load(buf)
        self._dataoffset = position + _INT_SIZE + buf.tell()
        (
            self._blocklength,
            self._maxid,
            self._maxweight,
            self._compression,
            mnlen,
            mxlen,
        ) = info
        self._minlength = byte_to_length(mnlen)
        self._maxlength = byte_to_length(mxlen)


def _matcher(seg, field: str, term: str, fmt):
    """A matcher on ``term``'s postings in segment reader ``seg`` (raises
    TermNotFound): ours for block lists, Whoosh's for lists inlined in the
    lexicon."""
    terms = seg._terms
    info = terms.term_info(field, seg._text_to_bytes(field, term))
    if info.is_inlined():
        return terms._codec.postings_reader(terms._postfile, info, fmt)
    offset, length = info.extent()
    return _W3Matcher(terms._postfile, offset, length, fmt)


def _read_w3(
    m: W3LeafMatcher, lock: contextlib.AbstractContextManager
) -> tuple[np.ndarray, np.ndarray]:
    # The shared file is read under ``lock`` one block at a time, so that other
    # threads' reads interleave with a long list's instead of queueing behind it.
    ids_parts, tf_parts = [], []
    while True:
        with lock:
            m._read_data()
        ids, weights, _ = m._data
        n = len(ids)
        # Block ids are delta-encoded from zero in each block.
        ids_parts.append(np.cumsum(np.asarray(ids, dtype=np.int32), dtype=np.int32))
        if weights is None:
            tf_parts.append(np.ones(n, dtype=np.float32))
        elif isinstance(weights, tuple):
            tf_parts.append(np.asarray(weights, dtype=np.float32))
        else:
            tf_parts.append(np.full(n, weights, dtype=np.float32))
        if m._lastblock:
            break
        with lock:
            m._next_block()
    return np.concatenate(ids_parts), np.concatenate(tf_parts)


def _positions_w3(
    m: W3LeafMatcher,
    targets: np.ndarray,
    lock: contextlib.AbstractContextManager,
    expired: Callable[[], bool] | None,
) -> tuple[list[np.ndarray], list[list[list[int]]]] | None:
    """The local docnums among the sorted local ``targets`` that the posting
    list holds, and their position deltas, block by block. Blocks without a
    target are skipped on their header; a block is searched with NumPy rather
    than posting by posting. None when ``expired()`` said to stop."""
    docs: list[np.ndarray] = []
    deltas: list[list[list[int]]] = []
    j, n = 0, len(targets)
    while j < n:
        if m._maxid >= targets[j]:
            if expired is not None and expired():
                return None
            with lock:
                m._read_data()
            m._read_values()
            raw = m._data[0]
            ids = np.asarray(raw, dtype=np.int64) if m._byteids else np.cumsum(raw, dtype=np.int64)
            k = j + int(np.searchsorted(targets[j:], m._maxid, side="right"))
            want = targets[j:k]
            at = np.searchsorted(ids, want)
            at = at[ids[np.minimum(at, len(ids) - 1)] == want]
            if len(at):
                values = m._values
                docs.append(ids[at])
                deltas.append(decode_positions([values[i] for i in at.tolist()]))
            j = k
        if m._lastblock:
            break
        with lock:
            m._next_block()
    return docs, deltas


def _read_generic(m) -> tuple[np.ndarray, np.ndarray]:
    ids, tfs = [], []
    while m.is_active():
        ids.append(m.id())
        tfs.append(m.weight())
        m.next()
    return np.asarray(ids, dtype=np.int32), np.asarray(tfs, dtype=np.float32)


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
            _map_lexicon(seg)
            _pread_postings(seg)
        # Long lists as flat arrays, where the indexer wrote them (one per segment).
        folder = Path(getattr(ix.storage, "folder", ""))
        self._arrays: list[PostingsArrays | None] = [
            open_for(folder, seg._segment.segment_id(), seg.doc_count_all())
            for seg, _ in self.leaves
        ]
        self._lexicons_mapped = all(
            isinstance(getattr(seg._terms, "_dbfile", None), _MappedFile) for seg, _ in self.leaves
        )
        self._w3_lexicons = all(isinstance(seg._terms, W3TermsReader) for seg, _ in self.leaves)
        self.size = self.reader.doc_count_all()
        self.live = np.zeros(self.size, dtype=bool)
        self.live[list(self.reader.all_doc_ids())] = True
        self.doc_count = int(self.live.sum())
        self.pubts = self._numeric("pubts", np.int64)
        views = self._column("views")
        # A document without a view count gets Whoosh's column default (int64
        # max) or, in a segment without the column, None: unknown, not popular.
        self.has_views = np.asarray([v is not None and v != _NO_VIEWS for v in views], dtype=bool)
        self.views = np.asarray(
            [v if ok else 0 for v, ok in zip(views, self.has_views, strict=True)], dtype=np.int64
        )
        self.tlen = self._numeric("tlen", np.float32)
        self.blen = self._numeric("blen", np.float32)
        self.facet_codes: dict[str, np.ndarray] = {}
        self.facet_values: dict[str, np.ndarray] = {}
        for name in ("year", "month", "day", "category", "site"):
            codes, values = self._factorize(name)
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

    def _column(self, name: str) -> list:
        """One value per docnum. Read segment by segment: a segment where no
        document had the field has no column at all, and Whoosh's multi-reader
        then silently returns fewer values than documents."""
        values: list = []
        for seg, _offset in self.leaves:
            n = seg.doc_count_all()
            if seg.has_column(name):
                col = list(seg.column_reader(name, translate=True))
                values.extend(col if len(col) == n else [None] * n)
            else:
                values.extend([None] * n)
        return values

    def _numeric(self, name: str, dtype) -> np.ndarray:
        values = self._column(name)
        return np.asarray([v or 0 for v in values], dtype=dtype)

    def _factorize(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Column values as integer codes (-1 for missing) and the code table."""
        raw = [(v.decode("utf-8") if isinstance(v, bytes) else v) or "" for v in self._column(name)]
        values, codes = np.unique(np.asarray(raw, dtype=object), return_inverse=True)
        codes = codes.astype(np.int32)
        if len(values) and values[0] == "":
            codes -= 1  # "" sorts first: it becomes -1, "missing"
            values = values[1:]
        return codes, values

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
            with self._io:
                try:
                    m = _matcher(seg, field, term, fmt)
                except TermNotFound:
                    continue
                if not isinstance(m, W3LeafMatcher):  # inlined short lists: in memory
                    ids, tf = _read_generic(m)
            if isinstance(m, W3LeafMatcher):
                ids, tf = _read_w3(m, self._block_lock(m))
            ids_parts.append(ids + offset)
            tf_parts.append(tf)
        if not ids_parts:
            return NO_POSTINGS
        ids = np.concatenate(ids_parts)
        tf = np.concatenate(tf_parts)
        keep = self.live[ids]
        if not keep.all():
            ids, tf = ids[keep], tf[keep]
        return Postings(ids, tf)

    def _block_lock(self, m: W3LeafMatcher) -> contextlib.AbstractContextManager:
        """What to hold while ``m`` reads a block: nothing when its file is read
        with pread (no shared position), else the snapshot's file lock."""
        return _NO_LOCK if isinstance(m._postfile, _PreadFile) else self._io

    def doc_frequency(self, field: str, term: str) -> int:
        return self.postings(field, term).df

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
        # What Whoosh's multi-reader doc_frequency returns (the sum over
        # segments of the term info's count), without its per-segment schema
        # checks and conversions: the Viterbi pass of _likely_reading makes
        # hundreds of these lookups per query, mostly of absent pairs.
        df = 0
        # Mapped lexicons are read with position-free slices: no lock needed.
        with contextlib.nullcontext() if self._lexicons_mapped else self._io:
            for seg, _ in self.leaves:
                terms = seg._terms
                fnum = terms._fieldmap.get(field)
                if fnum is None:
                    continue
                try:
                    pos = terms._tindex.range_for_key(pack_ushort(fnum) + tbytes)[0]
                except KeyError:
                    continue
                df += W3TermInfo.read_doc_freq(terms._dbfile, pos)
        return df

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
        fast = type(fmt) is formats.Positions
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
            with self._io:
                try:
                    m = _matcher(seg, field, term, fmt)
                except TermNotFound:
                    continue
                if not fast or not isinstance(m, W3LeafMatcher):  # inlined, or not Positions
                    wanted = set(local.tolist())
                    found, posns = [], []
                    while m.is_active():
                        if m.id() in wanted:
                            found.append(m.id() + offset)
                            p = m.value_as("positions")
                            posns.append([b - a for a, b in zip([0, *p], p, strict=False)])
                        m.next()
                    docs.append(np.asarray(found, dtype=np.int64))
                    deltas.append(posns)
                    continue
            got = _positions_w3(m, local, self._block_lock(m), expired)
            if got is None:
                return None
            docs.extend(d + offset for d in got[0])
            deltas.extend(got[1])
        lists = [x for part in deltas for x in part]
        if lists:
            counts, pos = deltas_to_positions(lists)
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

    def memo(self, name: str, factory):
        """A per-snapshot cached value (built once, by the first caller): for
        structures other modules derive from this generation."""
        with self._lock:
            if name in self._memo:
                return self._memo[name]
        value = factory(self)
        with self._lock:
            return self._memo.setdefault(name, value)

    # -- documents ----------------------------------------------------------------

    def stored(self, docnum: int) -> dict:
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
