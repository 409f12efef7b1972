"""Opening, feeding and abandoning Whoosh writers, and cleaning up after them.

The writers themselves (:class:`FastSegmentWriter`, :class:`FastMpWriter`)
override Whoosh's private internals and live in
:mod:`indexer.whoosh_internals.writing`; this module is what the rest of the
writing side calls (:mod:`indexer.build`, :mod:`indexer.update`).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from multiprocessing import Process
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from indexer.errors import StoreError
from indexer.whoosh_internals.naming import read_toc, unused_by
from indexer.whoosh_internals.writing import FastMpWriter, FastSegmentWriter

__all__ = [
    "PARALLEL_THRESHOLD",
    "PendingWriter",
    "abandon",
    "clean_writer_leftovers",
    "disk_errors",
    "open_writer",
    "remove_orphans",
]

# Below this many changed documents an update uses one plain writer: starting
# sub-processes (each importing pyvi) costs more than it saves.
PARALLEL_THRESHOLD = 200


def open_writer(ix: whoosh_index.Index, workers: int = 1, **kwargs: Any) -> Any:
    """A writer on ``ix``: parallel (``workers`` sub-processes, one segment each)
    when ``workers > 1``. Keyword arguments go to Whoosh (``limitmb``, ...)."""
    if workers > 1:
        # multisegment: each sub-writer's segment is kept as it is; merging them
        # would re-read every posting in one process.
        return FastMpWriter(ix, procs=workers, multisegment=True, **kwargs)
    return FastSegmentWriter(ix, **kwargs)


def abandon(writer: Any) -> None:
    """Cancel a writer, including the sub-processes of a parallel one.

    Whoosh's ``MpWriter.cancel`` only flags its tasks in the parent's memory:
    the children would wait on their job queue forever, and the interpreter
    would hang at exit joining them. Terminate them instead.
    """
    tasks = [t for t in getattr(writer, "tasks", ()) if isinstance(t, Process)]
    for task in tasks:
        if task.is_alive():
            task.terminate()
    for task in tasks:
        task.join(5)
    with contextlib.suppress(Exception):
        writer.cancel()


@contextlib.contextmanager
def disk_errors(what: str, after: str) -> Iterator[None]:
    """An OSError while writing (a full disk, a read-only or vanished directory)
    becomes a StoreError: one line for the CLI, no traceback."""
    try:
        yield
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        raise StoreError(
            f"{what} failed: {exc.strerror or exc}{where}; {after}",
            hint="free disk space (or fix the error above), then run the command again",
        ) from exc


class PendingWriter:
    """Opens a Whoosh writer only once there is something to write, and a
    parallel one only when the changes turn out to be many."""

    def __init__(self, ix: whoosh_index.Index, workers: int, limitmb: int):
        self.ix = ix
        self.workers = workers
        self.limitmb = limitmb
        self.writer: Any = None
        self.buffer: list[dict] = []
        self.deletes: list[str] = []

    def delete(self, doc_id: str) -> None:
        if self.writer is None:
            self.deletes.append(doc_id)
        else:
            self.writer.delete_by_term("id", doc_id)

    def add(self, doc: dict) -> None:
        if self.writer is not None:
            self.writer.add_document(**doc)
            return
        self.buffer.append(doc)
        if len(self.buffer) >= PARALLEL_THRESHOLD:
            self._open(self.workers)

    def _open(self, workers: int) -> None:
        self.writer = open_writer(self.ix, workers, limitmb=self.limitmb)
        for doc_id in self.deletes:
            self.writer.delete_by_term("id", doc_id)
        for doc in self.buffer:
            self.writer.add_document(**doc)
        self.deletes, self.buffer = [], []

    def commit(self) -> bool:
        """Commit; False when nothing was ever written."""
        if self.writer is None:
            if not (self.buffer or self.deletes):
                return False
            self._open(1)
        self.writer.commit()
        return True

    def abandon(self) -> None:
        if self.writer is not None:
            abandon(self.writer)
        self.buffer, self.deletes = [], []


def remove_orphans(folder: Path) -> list[str]:
    """Delete the files of ``folder`` that its latest commit does not use: the
    segments of a writer that failed (a full disk) or was killed before its
    table of contents, older tables of contents, and temporary files. Whoosh
    does the same after each successful commit, which a full disk never
    reaches: without this, every retry fails on the space the last one left.
    Call with the writer lock held. Returns the names removed."""
    toc = read_toc(FileStorage(str(folder)))
    removed = []
    for path in folder.iterdir():
        name = path.name
        # Half-written arrays files (.MAIN_x.vnp.tmp) and manifests are .tmp files.
        if unused_by(name, toc) or (path.is_file() and name.endswith(".tmp")):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(name)
    return removed


def clean_writer_leftovers(gen: Path) -> None:
    """What a killed or failed writer left in the live generation: temporary
    directories, and segment files no commit uses (see ``remove_orphans``).
    Lock held."""
    for p in gen.iterdir():
        if p.is_dir() and p.name.endswith(".tmp"):
            shutil.rmtree(p, ignore_errors=True)
    remove_orphans(gen)
