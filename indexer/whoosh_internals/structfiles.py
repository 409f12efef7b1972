"""Faster read-only files for Whoosh's lexicons and postings.

Whoosh reads a segment's parts through ``StructFile`` objects over
``SubFile`` slices of its compound file; these two subclasses read the same
bytes with one memory-map slice (lexicons) or one ``os.pread`` (postings) a
call. indexer/whoosh_internals/reading.py puts them in place of Whoosh's own
(``open_fast``) when the segment's layout is the one it knows.
"""

from __future__ import annotations

import mmap
import os

from whoosh.filedb.structfile import StructFile


class MappedFile(StructFile):
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
        # mmap.seek returns None on Python 3.11 (the new position from 3.13).
        return self._map.seek(pos, whence)  # type: ignore[func-returns-value,return-value,arg-type]

    def tell(self) -> int:
        return self._map.tell() - self._delta

    def get(self, position: int, length: int) -> bytes:
        start = self._delta + position
        return self._map[start : start + length]

    def subset(self, offset: int, length: int, name: str | None = None) -> StructFile:
        raise NotImplementedError


class PreadFile(StructFile):
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
