"""Long posting lists as flat arrays beside their segment (``MAIN_<segment>.vnp``).

Why: the search side reads whole posting lists into NumPy arrays. From Whoosh's
W3 blocks that is one zlib inflate and one unpickle of Python tuples per 128
postings, the largest cost of an uncached query (docs/benchmarks.md, issue 7);
folded syllables such as ``quan`` occur in half of all articles. Here the lists
of the terms that occur in at least ``MIN_DF`` documents of a segment are also
written as plain little-endian arrays, so reading one is a single ``pread`` and
``np.frombuffer``. Short lists stay in Whoosh only (cheap to decode), as do
positions (read for phrase candidates only).

The file is derived data: Whoosh's segment stays the source of truth, a
missing or unreadable arrays file only means the slower path. Segments never
change once written (deletions are kept apart), so a file is valid for the
life of its segment; its name matches Whoosh's segment-file pattern, so Whoosh
deletes it together with the segment after a merge, and replicas copy it with
the segment's other files.

Layout: ``MAGIC``, the data, a JSON table, then the table's offset (u64) and
``MAGIC`` again. The table holds ``doc_count`` (of the segment, deleted ones
included), ``id_dtype`` and, per field and term, ``[offset, count, tf_dtype]``:
``count`` segment-local document numbers, then ``count`` term frequencies.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import numpy as np
from whoosh.reading import SegmentReader

__all__ = ["FIELDS", "MIN_DF", "PostingsArrays", "file_name", "write_missing", "write_segment"]

MAGIC = b"VNPOSTA1"
# The fields whose whole lists queries read (no positions: see indexer/schema.py).
FIELDS = ("ts", "tf", "tw", "tv", "ta", "tg", "bs", "bf", "bw", "bv")
# A list of fewer documents is at most one W3 block: no faster as an array.
MIN_DF = 128
_FOOTER = struct.Struct("<Q8s")


def file_name(segment_id: str) -> str:
    return f"{segment_id}.vnp"


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
            for field in FIELDS:
                if field not in schema:
                    continue
                terms = table.setdefault(field, {})
                # Listed first: reading postings while iterating the lexicon
                # would share its file.
                long_lists = [
                    tbytes
                    for tbytes, info in reader.iter_field(field)
                    if info.doc_frequency() >= MIN_DF
                ]
                for tbytes in long_lists:
                    ids, weights = _read_list(reader, field, tbytes)
                    integral = bool(np.all(weights == np.round(weights))) and (
                        len(weights) == 0 or weights.max() <= 65535
                    )
                    tf_dtype = "<u2" if integral else "<f4"
                    terms[tbytes.decode("utf-8")] = [out.tell(), len(ids), tf_dtype]
                    out.write(ids.astype(id_dtype).tobytes())
                    out.write(weights.astype(tf_dtype).tobytes())
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


def _read_list(reader: SegmentReader, field: str, tbytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    """All local docnums and weights of a term, block by block, deleted documents
    included (deletions grow after the file is written; readers filter them)."""
    m = reader._terms.matcher(field, tbytes, reader.schema[field].format)
    ids_parts, w_parts = [], []
    if hasattr(m, "_read_ids") and hasattr(m, "_next_block"):  # W3 blocks
        while m.is_active():
            m._read_ids()
            m._read_weights()
            ids_parts.append(np.asarray(m._ids, dtype=np.int64))
            w_parts.append(np.asarray(m._weights, dtype=np.float64))
            if m._lastblock:
                break
            m._next_block()
    else:
        ids, ws = [], []
        while m.is_active():
            ids.append(m.id())
            ws.append(m.weight())
            m.next()
        ids_parts.append(np.asarray(ids, dtype=np.int64))
        w_parts.append(np.asarray(ws, dtype=np.float64))
    return np.concatenate(ids_parts), np.concatenate(w_parts)


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
        if entry is None:
            return None
        offset, count, tf_dtype = entry
        tf_dtype = np.dtype(tf_dtype)
        width = self._id_dtype.itemsize
        buf = os.pread(self._fd, count * (width + tf_dtype.itemsize), offset)
        ids = np.frombuffer(buf, self._id_dtype, count).astype(np.int32)
        tf = np.frombuffer(buf, tf_dtype, count, offset=count * width).astype(np.float32)
        return ids, tf

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
