"""Changing the live generation in place: ``update`` (add, replace, skip the
unchanged, delete what is gone) and ``delete`` (by id), one commit each.

Whoosh writes new segments and then a new table of contents: readers see
either the old or the new commit, never a half-written one. Before it writes,
a run removes what a killed writer left and repairs a manifest a writer killed
between its commit and the manifest left behind (:mod:`indexer.generations`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

from whoosh import index as whoosh_index

from indexer.generations import clean_leftovers, finish_change, repair_open_manifest
from indexer.home import IndexHome
from indexer.intake import absolute_origin, invalid, origin_file
from indexer.lock import writer_lock
from indexer.report import Progress, Refused, Report
from indexer.schema import article_hash, clean_id, to_document
from indexer.sources.article import Article, Gone, Rejection
from indexer.writer import (
    PendingWriter,
    abandon,
    clean_writer_leftovers,
    disk_errors,
    open_writer,
    remove_orphans,
)

__all__ = ["MASS_DELETE_MIN", "MASS_DELETE_SHARE", "MassDelete", "NothingRead", "delete", "update"]


class NothingRead(Refused):
    """An update read no usable document; the live index was left as it was."""

    def __init__(self, report: Report):
        super().__init__(
            report,
            "no document was read; the live index is unchanged",
            hint="check the source paths and the rejected inputs",
        )


class MassDelete(Refused):
    """An update would delete too much of a site (a broken portal answering 404
    everywhere must not empty the index); nothing was written."""

    def __init__(self, report: Report, site: str, deleting: int, total: int):
        super().__init__(
            report,
            f"refusing to delete {deleting} of the {total} documents of site {site!r} "
            f"(more than {MASS_DELETE_SHARE:.0%} and more than {MASS_DELETE_MIN}); "
            "the live index is unchanged",
            hint="check the site; if the pages are really gone, run again with --allow-mass-delete",
        )


# The mass-delete guard: a run may delete up to this share of a site's documents,
# or this many, whichever is more.
MASS_DELETE_SHARE = 0.10
MASS_DELETE_MIN = 20


@dataclass(frozen=True, slots=True)
class _UpdateOptions:
    delete_missing: bool
    dry_run: bool
    workers: int
    wait: float
    progress: Progress | None
    limitmb: int
    allow_mass_delete: bool


def update(
    home: IndexHome,
    items: Iterable[Article | Gone | Rejection],
    *,
    delete_missing: bool = False,
    dry_run: bool = False,
    workers: int = 1,
    wait: float = 5.0,
    progress: Progress | None = None,
    limitmb: int = 512,
    allow_mass_delete: bool = False,
) -> Report:
    """Bring the live generation in line with ``items``, in place.

    - a new id is added; an id whose content hash (or view count) differs is
      replaced; an unchanged one costs one hash and is never given to the writer;
    - with ``delete_missing``, a document is deleted when the file it came from
      (the file part of its stored ``origin``) was read completely in this run
      (it gave at least one article and no file-level rejection) and its id was
      not among the articles read. Documents from other files are kept.
    - a ``Gone`` record (a crawled page that answers 404/410) deletes its id;
      when that would delete more than ``MASS_DELETE_SHARE`` of a site's
      documents and more than ``MASS_DELETE_MIN``, nothing is written and
      ``MassDelete`` is raised, unless ``allow_mass_delete``.
    - one commit at the end: readers see all of the changes or none of them.
    """
    report = Report(dry_run=dry_run)
    start = time.perf_counter()
    options = _UpdateOptions(
        delete_missing, dry_run, workers, wait, progress, limitmb, allow_mass_delete
    )
    after = "readers see all of this run's changes or none; vnsearch index check tells which"
    with disk_errors("updating the index", after):
        _update(home, items, report, options)
    report.seconds = time.perf_counter() - start
    return report


def _update(
    home: IndexHome,
    items: Iterable[Article | Gone | Rejection],
    report: Report,
    options: _UpdateOptions,
) -> None:
    with writer_lock(home, wait=options.wait):
        clean_leftovers(home)
        gen = home.current_dir()
        ix, manifest = home.open()
        report.generation = manifest.generation
        pending = PendingWriter(ix, options.workers, options.limitmb)
        try:
            if not options.dry_run:
                clean_writer_leftovers(gen)
                report.repaired = repair_open_manifest(gen, ix, manifest)
            known = _known_documents(ix)
            seen: set[str] = set()
            files_read: set[str] = set()
            files_failed: set[str] = set()
            gone: dict[str, Gone] = {}
            articles = 0
            for item in items:
                if isinstance(item, Gone):
                    if item.id in known:
                        gone.setdefault(item.id, item)
                    continue
                if isinstance(item, Rejection):
                    report.reject(item)
                    if item.location == "file":
                        files_failed.add(os.path.abspath(item.source))
                    else:
                        report.read += 1
                    continue
                report.read += 1
                articles += 1
                if options.progress:
                    options.progress(1)
                doc_id = clean_id(item.id)
                where = item.origin or doc_id
                if item.origin:
                    files_read.add(os.path.abspath(origin_file(item.origin)))
                if doc_id in seen:
                    report.reject(
                        Rejection(where, "record", f"duplicate id {doc_id!r} (first one kept)")
                    )
                    continue
                if doc_id:
                    seen.add(doc_id)
                old = known.get(doc_id)
                # What the index holds for this id when the text is the same.
                same = old if old is not None and old.hash == article_hash(item) else None
                if same is not None and same.views == item.views:
                    report.unchanged += 1
                    continue
                doc = to_document(item)
                if same is not None and same.seg:
                    # Only the view count changed (views are not in the content
                    # hash): the document is replaced, its stored segmentation
                    # stands in for pyvi.
                    doc["_words"] = same.seg
                    report.views_only += 1
                doc["origin"] = absolute_origin(doc["origin"])
                if problem := invalid(doc):
                    report.reject(Rejection(where, "record", problem))
                    continue
                report.chars += len(doc["title"]) + len(doc["body"])
                if old is not None:
                    report.replaced += 1
                    if not options.dry_run:
                        pending.delete(doc_id)
                else:
                    report.added += 1
                if not options.dry_run:
                    pending.add(doc)
            if articles == 0 and not gone:
                raise NothingRead(report)
            _guard_mass_delete(known, gone, seen, report, options.allow_mass_delete)
            for doc_id in gone:
                if doc_id not in seen:
                    report.deleted += 1
                    if not options.dry_run:
                        pending.delete(doc_id)
            if options.delete_missing:
                complete = files_read - files_failed
                for doc_id, old in known.items():
                    if old.file in complete and doc_id not in seen:
                        report.deleted += 1
                        if not options.dry_run:
                            pending.delete(doc_id)
            report.indexed = report.added + report.replaced
            committed = False if options.dry_run else pending.commit()
        except BaseException:
            pending.abandon()
            if not options.dry_run:
                # A full disk: the failed commit's segment files would keep it full.
                with contextlib.suppress(OSError):
                    remove_orphans(gen)
            raise
        finally:
            ix.close()
        if committed:
            finish_change(gen, manifest, report, "update")


@dataclass(frozen=True, slots=True)
class _Known:
    hash: str
    views: int | None
    file: str  # absolute path of the origin file, "" when unknown
    seg: tuple | None  # stored pyvi segmentation (None in indexes built before it)
    site: str | None = None


def _known_documents(ix: whoosh_index.Index) -> dict[str, _Known]:
    """id -> what the live generation holds for it (one pass over stored fields)."""
    known: dict[str, _Known] = {}
    with ix.reader() as reader:
        for _, stored in reader.iter_docs():
            origin = stored.get("origin") or ""
            # Indexes built before origins were absolute hold paths relative to
            # the directory the build ran in; resolving them here is a best guess.
            file = os.path.abspath(origin_file(origin)) if origin else ""
            known[stored["id"]] = _Known(
                stored.get("hash", ""),
                stored.get("views"),
                file,
                stored.get("seg"),
                stored.get("site"),
            )
    return known


def _guard_mass_delete(
    known: dict[str, _Known], gone: dict[str, Gone], seen: set[str], report: Report, allow: bool
) -> None:
    if allow or not gone:
        return
    per_site: dict[str | None, int] = {}
    for doc_id in gone:
        if doc_id not in seen:
            site = known[doc_id].site
            per_site[site] = per_site.get(site, 0) + 1
    for site, deleting in per_site.items():
        total = sum(1 for k in known.values() if k.site == site)
        if deleting > MASS_DELETE_MIN and deleting > MASS_DELETE_SHARE * total:
            raise MassDelete(report, site or "(none)", deleting, total)


def delete(
    home: IndexHome, ids: Iterable[str], *, dry_run: bool = False, wait: float = 5.0
) -> Report:
    """Delete documents by id from the live generation (one commit). Ids that
    are not in the index are listed in ``report.missing``."""
    report = Report(dry_run=dry_run)
    start = time.perf_counter()
    wanted = list(dict.fromkeys(clean_id(i) for i in ids if i.strip()))
    with writer_lock(home, wait=wait):
        gen = home.current_dir()
        ix, manifest = home.open()
        report.generation = manifest.generation
        try:
            if not dry_run:
                clean_writer_leftovers(gen)
                report.repaired = repair_open_manifest(gen, ix, manifest)
            with ix.searcher() as searcher:
                present = [i for i in wanted if searcher.document_number(id=i) is not None]
            report.read = len(wanted)
            report.deleted = len(present)
            report.missing = [i for i in wanted if i not in set(present)]
            if present and not dry_run:
                writer = open_writer(ix)  # ours: a merge keeps postings arrays
                try:
                    for doc_id in present:
                        writer.delete_by_term("id", doc_id)
                    writer.commit()
                except BaseException:
                    abandon(writer)
                    with contextlib.suppress(OSError):
                        remove_orphans(gen)
                    raise
        finally:
            ix.close()
        if present and not dry_run:
            finish_change(gen, manifest, report, "delete")
    report.seconds = time.perf_counter() - start
    return report
