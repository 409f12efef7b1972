"""Every read that goes through Whoosh's private internals, in one module.

Whoosh walks postings one Python call at a time (FINDINGS.md); the engine and
the postings arrays writer (indexer/postings_arrays.py) instead decode Whoosh's
W3 posting blocks straight into NumPy arrays, and read lexicons and postings
through faster file objects. That needs private members of Whoosh's segment
reader (``_terms``, ``_segment``), its terms reader (``_postfile``,
``_dbfile``, ``_tindex``, ``_fieldmap``, ``_codec``), its ``SubFile`` and its
``W3LeafMatcher`` (``_goto``, ``_read_data``, ``_ids``, ``_lastblock``...):
they are valid for the exact release pinned in pyproject.toml
(``whoosh-reloaded==2.7.5``), and this module is what to check when the pin
moves (with structfiles.py beside it: the faster file objects it installs). Whatever
does not match the layout known here (another codec, a file that is not a
compound sub-file, an inlined list) takes a slower generic path through
Whoosh's public API instead.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import pickle
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from whoosh import formats
from whoosh.codec.whoosh3 import W3LeafMatcher, W3TermInfo, W3TermsReader
from whoosh.filedb.compound import SubFile
from whoosh.filedb.structfile import StructFile
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.system import _INT_SIZE, pack_ushort, unpack_int
from whoosh.util.numeric import byte_to_length

from indexer.whoosh_internals.structfiles import MappedFile, PreadFile

Lock = contextlib.AbstractContextManager
# (segment reader, docnum offset) pairs, as Whoosh's leaf_readers() gives them.
Leaves = list[tuple[Any, int]]
NO_LOCK = contextlib.nullcontext()

# -- faster files for lexicons and postings (whoosh_internals/structfiles.py) ---------------


def _subfile(structfile: Any) -> SubFile | None:
    """The part of a real (compound segment) file that Whoosh reads through
    ``structfile``, or None when it is anything else."""
    sub = getattr(structfile, "file", None)
    return sub if isinstance(sub, SubFile) and hasattr(sub._file, "fileno") else None


def _faster(seg: Any, attr: str, cls: type[MappedFile] | type[PreadFile]) -> StructFile | None:
    """A ``cls`` file over the compound sub-file that ``seg``'s terms reader
    reads through its ``attr`` file, or None when that is not a sub-file of a
    real file or does not read the same bytes (not the layout we know)."""
    terms = getattr(seg, "_terms", None)
    sub = _subfile(getattr(terms, attr, None))
    if terms is None or sub is None:
        return None
    fast = cls(sub._file.fileno(), sub._offset, sub._length, name=sub.name)
    if fast.get(0, 64) != getattr(terms, attr).get(0, 64):
        fast.close()
        return None
    return fast


def open_fast(seg: Any) -> None:
    """Switch segment reader ``seg`` to the faster files where it can: its
    lexicon memory-mapped (``MappedFile``), its postings read with ``pread``
    (``PreadFile``); anything else stays as Whoosh opened it."""
    mapped = _faster(seg, "_dbfile", MappedFile)
    if mapped is not None:
        seg._terms._dbfile = seg._terms._tindex.dbfile = mapped
    direct = _faster(seg, "_postfile", PreadFile)
    if direct is not None:
        seg._terms._postfile = direct


def segment_id(seg: Any) -> str:
    """The id of the segment that segment reader ``seg`` reads."""
    return seg._segment.segment_id()


def lexicons_mapped(leaves: Leaves) -> bool:
    """Every segment's lexicon is memory-mapped (read without a shared position)."""
    return all(isinstance(getattr(seg._terms, "_dbfile", None), MappedFile) for seg, _ in leaves)


def w3_lexicons(leaves: Leaves) -> bool:
    """Every segment has a W3 lexicon, which ``lexicon_df`` can read directly."""
    return all(isinstance(seg._terms, W3TermsReader) for seg, _ in leaves)


def lexicon_df(leaves: Leaves, field: str, tbytes: bytes) -> int:
    """What Whoosh's multi-reader doc_frequency returns (the sum over segments
    of the term info's count), without its per-segment schema checks and
    conversions: the Viterbi pass of the likely reading makes hundreds of these
    lookups per query, mostly of absent pairs. W3 lexicons only."""
    df = 0
    for seg, _ in leaves:
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


# -- posting blocks -----------------------------------------------------------------

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


def _matcher(seg: Any, field: str, term: str, fmt: Any) -> Any:
    """A matcher on ``term``'s postings in segment reader ``seg`` (raises
    TermNotFound): ours for block lists, Whoosh's for lists inlined in the
    lexicon."""
    terms = seg._terms
    info = terms.term_info(field, seg._text_to_bytes(field, term))
    if info.is_inlined():
        return terms._codec.postings_reader(terms._postfile, info, fmt)
    offset, length = info.extent()
    return _W3Matcher(terms._postfile, offset, length, fmt)


def _block_lock(m: W3LeafMatcher, io_lock: Lock) -> Lock:
    """What to hold while ``m`` reads a block: nothing when its file is read
    with pread (no shared position), else the snapshot's file lock."""
    return NO_LOCK if isinstance(m._postfile, PreadFile) else io_lock


def _read_w3(m: W3LeafMatcher, lock: Lock) -> tuple[np.ndarray, np.ndarray]:
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


def _read_generic(m: Any) -> tuple[np.ndarray, np.ndarray]:
    ids, tfs = [], []
    while m.is_active():
        ids.append(m.id())
        tfs.append(m.weight())
        m.next()
    return np.asarray(ids, dtype=np.int32), np.asarray(tfs, dtype=np.float32)


def read_postings(
    seg: Any, field: str, term: str, fmt: Any, io_lock: Lock
) -> tuple[np.ndarray, np.ndarray] | None:
    """(local docnums as int32, term frequencies as float32) of ``term`` in
    segment reader ``seg``, deleted documents included; None when the segment
    does not have the term. ``io_lock`` guards Whoosh's shared file objects."""
    with io_lock:
        try:
            m = _matcher(seg, field, term, fmt)
        except TermNotFound:
            return None
        if not isinstance(m, W3LeafMatcher):  # inlined short lists: in memory
            return _read_generic(m)
    return _read_w3(m, _block_lock(m, io_lock))


def _positions_w3(
    m: W3LeafMatcher,
    targets: np.ndarray,
    lock: Lock,
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


def read_positions(
    seg: Any,
    field: str,
    term: str,
    fmt: Any,
    targets: np.ndarray,
    io_lock: Lock,
    expired: Callable[[], bool] | None,
) -> tuple[list[np.ndarray], list[list[list[int]]]] | None:
    """The local docnums among the sorted local ``targets`` (int64) where
    ``term`` occurs in segment reader ``seg``, as int64 arrays, and per document
    its position deltas; empty lists when the segment does not have the term,
    None when ``expired()`` (asked between blocks) said to stop."""
    fast = type(fmt) is formats.Positions
    with io_lock:
        try:
            m = _matcher(seg, field, term, fmt)
        except TermNotFound:
            return [], []
        if not fast or not isinstance(m, W3LeafMatcher):  # inlined, or not Positions
            wanted = set(targets.tolist())
            found, posns = [], []
            while m.is_active():
                if m.id() in wanted:
                    found.append(m.id())
                    p = m.value_as("positions")
                    posns.append([b - a for a, b in zip([0, *p], p, strict=False)])
                m.next()
            return [np.asarray(found, dtype=np.int64)], [posns]
    return _positions_w3(m, targets, _block_lock(m, io_lock), expired)


# -- whole lists for the postings arrays writer -------------------------------------


def _w3_blocks(reader: SegmentReader, field: str, tbytes: bytes) -> Iterator[W3LeafMatcher]:
    """The term's raw matcher at each of its W3 blocks in turn, ids read.
    Deleted documents are included: deletions grow after the file is written,
    and readers filter them. Nothing for another codec: the term then stays in
    Whoosh only."""
    m = reader._terms.matcher(field, tbytes, reader.schema[field].format)
    if not isinstance(m, W3LeafMatcher):
        return
    while m.is_active():
        m._read_ids()
        yield m
        if m._lastblock:
            break
        m._next_block()


def block_list(
    reader: SegmentReader, field: str, tbytes: bytes
) -> tuple[np.ndarray, np.ndarray] | None:
    """All local docnums and weights of a term, from its W3 blocks (None for
    another codec)."""
    ids, weights = [], []
    for m in _w3_blocks(reader, field, tbytes):
        m._read_weights()
        ids.append(np.asarray(m._ids, dtype=np.int64))
        weights.append(np.asarray(m._weights, dtype=np.float64))
    return (np.concatenate(ids), np.concatenate(weights)) if ids else None


def block_positions(
    reader: SegmentReader, field: str, tbytes: bytes
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """All local docnums of a term, its position count in each, and the
    positions (a Positions field), from its W3 blocks (None for another codec)."""
    ids, lists = [], []
    for m in _w3_blocks(reader, field, tbytes):
        m._read_values()
        ids.append(np.asarray(m._ids, dtype=np.int64))
        lists.extend(decode_positions(list(m._values)))
    if not ids:
        return None
    counts, positions = deltas_to_positions(lists)
    return np.concatenate(ids), counts, positions


# -- Whoosh's Positions values -------------------------------------------------------


def decode_positions(values: list[bytes]) -> list[list[int]]:
    """Whoosh ``Positions`` values (a 4-byte count, then a pickled list of
    position deltas) decoded with one ``pickle.loads`` for all of them: the
    pickles, without their STOP, are concatenated inside a MARK ... LIST."""
    bodies = [v[4:-1] if v.endswith(b".") else v[4:] for v in values]
    return pickle.loads(b"(" + b"".join(bodies) + b"l.")


def deltas_to_positions(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """(count per document, positions) from per-document position deltas."""
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    total = int(counts.sum())
    if not total:
        return counts, np.zeros(0, dtype=np.int64)
    flat = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=total)
    # Positions are running sums of the deltas, restarted for each document.
    pos = np.cumsum(flat)
    ends = np.cumsum(counts)
    before = np.concatenate(([0], pos[np.maximum(ends[:-1] - 1, 0)]))
    before[1:][ends[:-1] == 0] = 0  # documents before any position
    pos -= np.repeat(before, counts)
    return counts, pos
