"""Whoosh writers with less per-posting overhead; the index they write is the one
Whoosh's own writers write (same postings, term statistics, lengths, stored
fields and columns; ``tests/test_lifecycle.py`` compares them).

A document here becomes ~1,500 postings (one per distinct term and field), and
Whoosh handles every posting in Python several times. Two of those steps cost
more than they need to (measured with cProfile on a 200-article build):

- ``PostingPool.add`` type-checks each posting with ``assert`` and sums a dozen
  constants to estimate its memory size: replaced by one expression with the
  same constants (so runs spill to disk at the same ``limitmb``);
- when the segment is flushed, ``add_postings`` asks the just-written length
  column for the document's field length once per posting (a column read and
  a byte decode each time): the lengths are read once per document and field
  into lists instead, through the same reader, so the values are identical.

The rest (sorting the postings, pickling and compressing blocks) is Whoosh's
code unchanged.

``add_document`` also stores each document's pyvi segmentation (``seg``, see
``indexer.analysis.pack_words``) and accepts it back as ``_words``: a document
re-added with unchanged text (a new view count) is not segmented again.

Before each commit's table of contents is written, every segment it lists that
has no postings arrays file gets one (``indexer/postings_arrays.py``), so a
search process that opens the commit finds them.

These classes override private members of Whoosh's ``SegmentWriter``,
``MpWriter``, ``SubWriterTask`` and ``PostingPool`` (hence the pinned
whoosh-reloaded version); :mod:`indexer.writer` is their public entry point.
"""

from __future__ import annotations

from pathlib import Path

from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import PostingPool, SegmentWriter

from indexer import analysis, postings_arrays
from indexer.faults import fault

__all__ = ["FastMpWriter", "FastSegmentWriter"]


class _Pool(PostingPool):
    def add(self, item: tuple) -> None:
        # item = (fieldname, tbytes, docnum, weight, vbytes); Whoosh's size
        # estimate: 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21 = 150 bytes of overhead.
        self.fieldnames.add(item[0])
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)


class _Lengths:
    """Field lengths of every document of the segment being flushed, read once."""

    def __init__(self, pdr, schema, fieldnames, doccount: int):
        self._table = {
            name: [pdr.doc_field_length(d, name) for d in range(doccount)]
            for name in fieldnames
            if name in schema and schema[name].scorable
        }

    def __bool__(self) -> bool:
        return True

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        lengths = self._table.get(fieldname)
        return default if lengths is None else lengths[docnum]


def _fast_flush(self) -> None:
    """``SegmentWriter._flush_segment`` with the lengths table."""
    self.perdocwriter.close()
    pdr = self.per_document_reader() if self.codec.length_stats else None
    lengths = None
    if pdr is not None:
        # Whoosh looks lengths up by the posting's docnum, as numbered in this writer.
        lengths = _Lengths(pdr, self.schema, self.pool.fieldnames, self.docnum)
    self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
    self.fieldwriter.close()
    if pdr is not None:
        pdr.close()


def _commit_toc_with_arrays(self, segments) -> None:
    """``SegmentWriter._commit_toc``, after writing the missing arrays files."""
    folder = getattr(self.storage, "folder", None)
    if folder is not None:
        postings_arrays.write_missing(self.storage, self.schema, segments, Path(folder))
    fault("before-toc")
    SegmentWriter._commit_toc(self, segments)


class _FastWriting(SegmentWriter):
    """What both writers change: the posting pool, the flush and the commit.
    Before ``MpWriter`` in the parallel writer's method resolution order."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pool.__class__ = _Pool

    _flush_segment = _fast_flush
    _commit_toc = _commit_toc_with_arrays


class FastSegmentWriter(_FastWriting):
    def add_document(self, **fields) -> None:
        # Whoosh ignores keyword arguments starting with "_"; "_words" is the
        # stored ``seg`` of the same text, given back by ``indexer.update.update``.
        given = fields.pop("_words", None)
        texts = (fields.get("title") or "", fields.get("body") or "")
        try:
            if given:
                for text, packed in zip(texts, given, strict=False):
                    analysis.known_words(text, packed)
            if "seg" in self.schema:  # indexes built before it have no such field
                fields["seg"] = tuple(analysis.pack_words(text) for text in texts)
            super().add_document(**fields)
        finally:
            analysis.forget_words()


class _FastSubWriterTask(SubWriterTask):
    def run(self) -> None:
        # This runs in the forked sub-process only: make the task's writer ours.
        import whoosh.multiproc

        fault("subwriter-start")
        whoosh.multiproc.SegmentWriter = FastSegmentWriter
        super().run()


class FastMpWriter(_FastWriting, MpWriter):
    def _new_task(self):
        task = _FastSubWriterTask(
            self.storage,
            self.indexname,
            self.jobqueue,
            self.resultqueue,
            self.subargs,
            self.multisegment,
        )
        self.tasks.append(task)
        task.start()
        return task
