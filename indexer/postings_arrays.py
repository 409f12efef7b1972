"""Long posting lists as flat arrays beside their segment (``MAIN_<segment>.vnp``).

Why: the search side reads whole posting lists into NumPy arrays. From Whoosh's
W3 blocks that is one zlib inflate and one unpickle of Python tuples per 128
postings, the largest cost of an uncached query (docs/benchmarks.md, issue 7);
folded syllables such as ``quan`` occur in half of all articles. Here the lists
of the terms that occur in at least ``MIN_DF`` documents of a segment are also
written as plain little-endian arrays, so reading one is a single ``pread`` and
``np.frombuffer``; so are the positions of those terms in the positional fields
(phrase verification decoded them from one pickle per posting). Short lists
stay in Whoosh only: they are cheap to decode.

The file is derived data: Whoosh's segment stays the source of truth, a
missing or unreadable arrays file only means the slower path. Segments never
change once written (deletions are kept apart), so a file is valid for the
life of its segment; its name matches Whoosh's segment-file pattern, so Whoosh
deletes it together with the segment after a merge, and replicas copy it with
the segment's other files.

Layout: ``MAGIC``, the data, a JSON table, then the table's offset (u64) and
``MAGIC`` again. The table holds ``doc_count`` (of the segment, deleted ones
included), ``id_dtype`` and, per field and term, ``[offset, count, tf_dtype]``:
``count`` segment-local document numbers, then ``count`` term frequencies; for a
positional field, ``[offset, count, total, pos_dtype]``: ``count`` document
numbers, ``count`` position counts (u4), then ``total`` positions (syllable
numbers), document by document in increasing order.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
from whoosh import formats
from whoosh.reading import SegmentReader

from indexer.whoosh_internals.naming import segment_file
from indexer.whoosh_internals.reading import block_list, block_positions

__all__ = [
    "FIELDS",
    "MIN_DF",
    "POSITION_FIELDS",
    "PostingsArrays",
    "file_name",
    "write_missing",
    "write_segment",
]

MAGIC = b"VNPOSTA1"
# The fields whose whole lists queries read (no positions: see indexer/schema.py).
FIELDS = ("ts", "tf", "tw", "tv", "ta", "tg", "bs", "bf", "bw", "bv")
# The positional fields (phrases), read for candidate documents only.
POSITION_FIELDS = ("tp", "bp")
# A list of fewer documents is at most one W3 block: no faster as an array.
MIN_DF = 128
_FOOTER = struct.Struct("<Q8s")


def file_name(segment_id: str) -> str:
    return segment_file(segment_id, "vnp")


def write_segment(storage, schema, segment, folder: Path) -> Path:
    """Write the arrays file of one segment (atomically: a temporary dot-file,
    which Whoosh ignores, renamed into place)."""
    final = folder / file_name(segment.segment_id())
    tmp = folder / f".{final.name}.tmp"
    reader = SegmentReader(storage, schema, segment)
    try:
        doc_count = reader.doc_count_all()
        id_dtype = "<u2" if doc_count <= 1 << 16 else "<u4"
        table: dict[str, dict[str, list]] = {}
        with open(tmp, "wb") as out:
            out.write(MAGIC)
            for field in FIELDS + POSITION_FIELDS:
                if field not in schema:
                    continue
                positional = field in POSITION_FIELDS
                if positional and type(schema[field].format) is not formats.Positions:
                    continue
                read, write = (
                    (block_positions, _write_positions) if positional else (block_list, _write_list)
                )
                terms = table.setdefault(field, {})
                for tbytes in _long_terms(reader, field):
                    got = read(reader, field, tbytes)
                    if got is not None:
                        terms[tbytes.decode("utf-8")] = write(out, id_dtype, *got)
            where = out.tell()
            out.write(
                json.dumps(
                    {"doc_count": doc_count, "id_dtype": id_dtype, "fields": table},
                    ensure_ascii=False,
                    separators=(",", ":"),
                ).encode("utf-8")
            )
            out.write(_FOOTER.pack(where, MAGIC))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, final)
        return final
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        reader.close()


def _long_terms(reader: SegmentReader, field: str) -> list[bytes]:
    """The terms of ``field`` in at least ``MIN_DF`` documents of the segment
    (listed first: reading postings while iterating the lexicon would share its
    file)."""
    return [t for t, info in reader.iter_field(field) if info.doc_frequency() >= MIN_DF]


def _write_list(out, id_dtype: str, ids: np.ndarray, weights: np.ndarray) -> list:
    integral = bool(np.all(weights == np.round(weights))) and (
        len(weights) == 0 or weights.max() <= 65535
    )
    tf_dtype = "<u2" if integral else "<f4"
    entry = [out.tell(), len(ids), tf_dtype]
    out.write(ids.astype(id_dtype).tobytes())
    out.write(weights.astype(tf_dtype).tobytes())
    return entry


def _write_positions(
    out, id_dtype: str, ids: np.ndarray, counts: np.ndarray, positions: np.ndarray
) -> list:
    pos_dtype = "<u4" if len(positions) and positions.max() > 65535 else "<u2"
    entry = [out.tell(), len(ids), len(positions), pos_dtype]
    out.write(ids.astype(id_dtype).tobytes())
    out.write(counts.astype("<u4").tobytes())
    out.write(positions.astype(pos_dtype).tobytes())
    return entry


def write_missing(storage, schema, segments, folder: Path) -> list[Path]:
    """Arrays files for the segments that have none yet (a commit adds one or a
    few segments; the others keep theirs)."""
    written = []
    for segment in segments:
        if not (folder / file_name(segment.segment_id())).exists():
            written.append(write_segment(storage, schema, segment, folder))
    return written


class PostingsArrays:
    """The arrays file of one segment, open for reading (thread-safe: ``pread``)."""

    def __init__(self, path: Path, doc_count: int):
        self._fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(self._fd).st_size
            if size < len(MAGIC) + _FOOTER.size or os.pread(self._fd, 8, 0) != MAGIC:
                raise ValueError(f"{path.name}: not a postings arrays file")
            where, magic = _FOOTER.unpack(os.pread(self._fd, _FOOTER.size, size - _FOOTER.size))
            if magic != MAGIC or not len(MAGIC) <= where <= size - _FOOTER.size:
                raise ValueError(f"{path.name}: truncated")
            table = json.loads(os.pread(self._fd, size - _FOOTER.size - where, where))
            if table["doc_count"] != doc_count:
                raise ValueError(f"{path.name}: written for another segment")
        except BaseException:
            os.close(self._fd)
            raise
        self._id_dtype = np.dtype(table["id_dtype"])
        self._fields: dict[str, dict[str, list]] = table["fields"]

    def get(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(local docnums as int32, term frequencies as float32), or None when the
        list is not in the file (short, or a field without arrays)."""
        entry = self._fields.get(field, {}).get(term)
        if entry is None or len(entry) != 3:
            return None
        offset, count, tf_dtype = entry
        tf_dtype = np.dtype(tf_dtype)
        width = self._id_dtype.itemsize
        buf = os.pread(self._fd, count * (width + tf_dtype.itemsize), offset)
        ids = np.frombuffer(buf, self._id_dtype, count).astype(np.int32)
        tf = np.frombuffer(buf, tf_dtype, count, offset=count * width).astype(np.float32)
        return ids, tf

    def positions(
        self, field: str, term: str, targets: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(local docnum, position) pairs, both int64, for those of the sorted
        local ``targets`` that hold ``term``, sorted by docnum then position; None
        when the list is not in the file."""
        entry = self._fields.get(field, {}).get(term)
        if entry is None or len(entry) != 4:
            return None
        offset, count, _total, pos_dtype = entry
        width = self._id_dtype.itemsize
        head = os.pread(self._fd, count * (width + 4), offset)
        ids = np.frombuffer(head, self._id_dtype, count).astype(np.int64)
        counts = np.frombuffer(head, "<u4", count, offset=count * width).astype(np.int64)
        at = np.searchsorted(ids, targets)
        at = at[ids[np.minimum(at, count - 1)] == targets] if count else at[:0]
        if not len(at):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        pos_dtype = np.dtype(pos_dtype)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        lo, hi = int(starts[at[0]]), int(starts[at[-1]] + counts[at[-1]])
        # One read from the first wanted document's positions to the last's.
        raw = os.pread(
            self._fd,
            (hi - lo) * pos_dtype.itemsize,
            offset + count * (width + 4) + lo * pos_dtype.itemsize,
        )
        span = np.frombuffer(raw, pos_dtype).astype(np.int64)
        n = counts[at]
        index = np.repeat(
            starts[at] - lo - np.concatenate(([0], np.cumsum(n)[:-1])), n
        ) + np.arange(int(n.sum()))
        return np.repeat(ids[at], n), span[index]

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def open_for(folder: Path, segment_id: str, doc_count: int) -> PostingsArrays | None:
    """The arrays of a segment, or None when it has none or they are unreadable."""
    path = folder / file_name(segment_id)
    try:
        return PostingsArrays(path, doc_count)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
