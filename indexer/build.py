"""Building a complete new generation of an index home and making it live.

The new generation is written in ``<home>/gNNNNNN.tmp/`` beside the live one;
CURRENT is switched only after Whoosh has committed and the manifest is
written, so the live index is untouched until the very last step.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass

from whoosh import index as whoosh_index

from indexer.files import fsync_dir, utc_now
from indexer.generations import clean_leftovers, next_name, prune, switch
from indexer.home import IndexHome, Manifest
from indexer.intake import documents
from indexer.lock import writer_lock
from indexer.report import Progress, Refused, Report
from indexer.schema import SCHEMA_VERSION, build_schema
from indexer.sources.article import Article, Gone, Rejection
from indexer.writer import abandon, disk_errors, open_writer

__all__ = ["NothingIndexed", "build"]


class NothingIndexed(Refused):
    """A build read no usable document; the live index was left as it was."""

    def __init__(self, report: Report):
        super().__init__(
            report,
            "nothing was indexed; the live index is unchanged",
            hint="check the rejected inputs",
        )


@dataclass(frozen=True, slots=True)
class _BuildOptions:
    workers: int
    wait: float
    progress: Progress | None
    sources: list[str] | None
    limitmb: int


def build(
    home: IndexHome,
    items: Iterable[Article | Gone | Rejection],
    *,
    workers: int = 1,
    wait: float = 5.0,
    progress: Progress | None = None,
    sources: list[str] | None = None,
    limitmb: int = 512,
) -> Report:
    """Write a complete new generation and make it live. The live index is
    untouched until the very last step."""
    report = Report()
    start = time.perf_counter()
    options = _BuildOptions(workers, wait, progress, sources, limitmb)
    with disk_errors("writing the new generation", "the live index is unchanged"):
        _build(home, items, report, start, options)
    return report


def _build(
    home: IndexHome,
    items: Iterable[Article | Gone | Rejection],
    report: Report,
    start: float,
    options: _BuildOptions,
) -> None:
    with writer_lock(home, wait=options.wait):
        clean_leftovers(home)
        name = next_name(home)
        tmp = home.path / (name + ".tmp")
        tmp.mkdir(parents=True)
        try:
            ix = whoosh_index.create_in(str(tmp), build_schema())
            writer = open_writer(ix, options.workers, limitmb=options.limitmb)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            for doc in documents(items, report, seen=set()):
                writer.add_document(**doc)
                report.indexed += 1
                report.chars += len(doc["title"]) + len(doc["body"])
                if options.progress:
                    options.progress(1)
            if report.indexed == 0:
                raise NothingIndexed(report)
            writer.commit()
        except BaseException:
            abandon(writer)
            ix.close()
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report.added = report.indexed
        report.seconds = time.perf_counter() - start
        now = utc_now()
        Manifest(
            generation=name,
            schema_version=SCHEMA_VERSION,
            doc_count=ix.doc_count(),
            built_at=now,
            updated_at=now,
            build_seconds=round(report.seconds, 3),
            sources=list(options.sources or []),
            toc_generation=ix.latest_generation(),
        ).write(tmp)
        ix.close()
        os.replace(tmp, home.path / name)
        fsync_dir(home.path)
        previous = home.current_name()
        switch(home, name)
        prune(home, previous)
        report.generation = name
