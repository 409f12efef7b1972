"""The writer's side of an index home's generations: naming a new one,
switching CURRENT, pruning, rolling back, removing what killed writers left,
and keeping each generation's MANIFEST.json true to its index.

A build writes a new generation beside the live one and switches CURRENT only
after Whoosh has committed and the manifest is written. ``update`` and
``delete`` change the live generation in place: Whoosh writes new segments and
then a new table of contents, and readers see either the old or the new commit,
never a half-written one. Every function here is called with the writer lock
(:func:`indexer.lock.writer_lock`) held.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.errors import StoreError
from indexer.faults import fault
from indexer.files import fsync_dir, utc_now, write_atomic
from indexer.home import CURRENT, IndexHome, Manifest
from indexer.report import Report

__all__ = [
    "clean_leftovers",
    "finish_change",
    "next_name",
    "prune",
    "repair_manifest",
    "repair_open_manifest",
    "rollback",
    "switch",
]


def _leftovers(home: IndexHome) -> list[Path]:
    if not home.path.is_dir():
        return []
    return [p for p in home.path.iterdir() if p.is_dir() and p.name.endswith(".tmp")]


def next_name(home: IndexHome) -> str:
    """The name of the next generation (abandoned builds' numbers are not reused)."""
    numbers = [int(n[1:7]) for n in home.generations()]
    numbers += [int(p.name[1:7]) for p in _leftovers(home)]
    return f"g{(max(numbers, default=0) + 1):06d}"


def clean_leftovers(home: IndexHome) -> list[str]:
    """Remove abandoned builds, and the pointer of a switch killed before
    its rename (``CURRENT.tmp``)."""
    removed = []
    for p in _leftovers(home):
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p.name)
    with contextlib.suppress(FileNotFoundError):
        (home.path / (CURRENT + ".tmp")).unlink()
        removed.append(CURRENT + ".tmp")
    return removed


def switch(home: IndexHome, name: str) -> None:
    """Make generation ``name`` live: write-then-rename, atomic for readers."""
    write_atomic(home.path / CURRENT, name + "\n")
    fsync_dir(home.path)


def prune(home: IndexHome, previous: str | None = None) -> list[str]:
    """Delete every generation but the live one and the one to roll back to.

    ``previous`` is the generation that was live before the last switch (a
    build passes it). Without it, the newest generation older than the live
    one is kept. After a rollback the generation rolled back from is newer
    than the live one: the next build's switch makes the rolled-back-to
    generation ``previous``, and the bad one goes.
    """
    live = home.current_name()
    gens = home.generations()
    if live is None or live not in gens:
        return []
    if previous not in gens or previous == live:
        older = [g for g in gens if g < live]
        previous = older[-1] if older else None
    keep = {live, previous}
    removed = [g for g in gens if g not in keep]
    for g in removed:
        shutil.rmtree(home.path / g, ignore_errors=True)
    return removed


def rollback(home: IndexHome) -> str:
    """Make the newest generation older than the live one live; its name."""
    live = home.current_name()
    older = [g for g in home.generations() if live is None or g < live]
    if not older:
        raise StoreError("no previous generation to roll back to")
    switch(home, older[-1])
    return older[-1]


# -- the manifest of a generation changed in place ---------------------------------


def finish_change(gen: Path, manifest: Manifest, report: Report, what: str) -> None:
    """Write the manifest of ``gen`` after an update or delete committed."""
    fault("after-commit")
    ix = whoosh_index.open_dir(str(gen))
    try:
        manifest.doc_count = ix.doc_count()
        manifest.toc_generation = ix.latest_generation()
    finally:
        ix.close()
    manifest.updated_at = utc_now()
    manifest.last_change = {
        "command": what,
        "at": manifest.updated_at,
        "read": report.read,
        "added": report.added,
        "replaced": report.replaced,
        "unchanged": report.unchanged,
        "deleted": report.deleted,
        "rejected": report.rejected_records,
        "file_problems": report.rejected_files,
    }
    manifest.write(gen)


def repair_open_manifest(gen: Path, ix: whoosh_index.Index, manifest: Manifest) -> str:
    """The index is the truth and MANIFEST.json is derived from it: a writer
    killed between Whoosh's commit and the manifest write leaves the manifest
    behind (wrong count, older commit). Rewrite it from the index; returns what
    was repaired ("" when nothing was)."""
    count, toc = ix.doc_count(), ix.latest_generation()
    stale_toc = manifest.toc_generation not in (-1, toc)
    if manifest.doc_count == count and not stale_toc:
        if manifest.toc_generation == -1:  # written before the field existed
            manifest.toc_generation = toc
            manifest.write(gen)
        return ""
    what = (
        f"MANIFEST.json said {manifest.doc_count} documents, the index holds {count} "
        "(a writer was stopped between its commit and the manifest); rewritten from the index"
    )
    manifest.doc_count, manifest.toc_generation = count, toc
    manifest.updated_at = utc_now()
    manifest.last_change = {"command": "repair", "at": manifest.updated_at, "repaired": what}
    manifest.write(gen)
    return what


def repair_manifest(gen: Path) -> str:
    """``repair_open_manifest`` for a command that holds the lock but does not
    write the index itself (``publish``): what it repaired, or ""."""
    ix = whoosh_index.open_dir(str(gen))
    try:
        return repair_open_manifest(gen, ix, Manifest.read(gen))
    finally:
        ix.close()
