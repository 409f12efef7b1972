"""The last steps of a pull, under the local writer lock: check that the staged
copy opens as the published commit, then make it live, either as a new
generation (renamed into place) or as a newer commit of the live generation
(applied the way Whoosh commits)."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.files import fsync_dir
from indexer.home import GENERATION_FILES, MANIFEST, IndexHome, Manifest
from indexer.replica.publication import (
    PUBLISHED,
    PULLED,
    CorruptPublication,
    Publication,
    ReplicaError,
)
from indexer.whoosh_internals.naming import SEGMENT_FILE, TOC_FILE, toc_name

__all__ = ["advance_in_place", "check_opens", "install"]


def check_opens(staging: Path, pub: Publication) -> None:
    """The staged files are a Whoosh index at the published commit and count."""
    try:
        ix = whoosh_index.open_dir(str(staging))
    except Exception as exc:
        raise CorruptPublication(f"publication {pub.publication} does not open: {exc}") from None
    try:
        if ix.latest_generation() != pub.toc_generation or ix.doc_count() != pub.doc_count:
            raise CorruptPublication(
                f"publication {pub.publication} opens at commit {ix.latest_generation()} "
                f"with {ix.doc_count()} documents; {PUBLISHED} says commit "
                f"{pub.toc_generation} with {pub.doc_count}"
            )
    finally:
        ix.close()
    manifest = Manifest.read(staging)
    if manifest.generation != pub.generation or manifest.schema_version != pub.schema_version:
        raise CorruptPublication(f"{MANIFEST} of {pub.publication} does not match {PUBLISHED}")


def install(home: IndexHome, staging: Path, pub: Publication) -> None:
    """Rename the staged generation into place (replacing a stale, non-live copy)."""
    target = home.path / pub.generation
    if target.exists():
        aside = home.path / (pub.generation + ".replaced.tmp")
        shutil.rmtree(aside, ignore_errors=True)
        os.rename(target, aside)
        os.rename(staging, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.rename(staging, target)
    fsync_dir(home.path)


def _toc_generation(gen: Path) -> int:
    found = [int(m.group(1)) for p in gen.iterdir() if (m := TOC_FILE.fullmatch(p.name))]
    return max(found, default=-1)


def advance_in_place(gen: Path, staging: Path, pub: Publication) -> None:
    """Apply a newer commit of the live generation the way Whoosh commits: new
    segment files first, then the TOC (readers switch here), then the other
    files of the generation, the manifest last.

    Segment files the live generation already has must be the very files staged
    (staging links a local file only when its checksum matched). The same
    commit is accepted when everything is already there: a pull killed after
    the TOC but before PULLED.json finishes here.
    """
    local = _toc_generation(gen)
    if local > pub.toc_generation:
        raise ReplicaError(
            f"the live generation {pub.generation} is at commit {local}, newer than "
            f"publication {pub.publication}; the live index is unchanged",
            hint="the indexing host was probably rebuilt from scratch: publish a new "
            "generation there (vnsearch index build), or roll back here first",
        )
    toc = toc_name(pub.toc_generation)
    wanted = {f.name for f in pub.files}
    missing = []
    for name in sorted(wanted - set(GENERATION_FILES)):
        if not (gen / name).exists():
            missing.append(name)
        elif not os.path.samefile(gen / name, staging / name):
            raise ReplicaError(
                f"{gen / name} differs from the file of the same name in publication "
                f"{pub.publication} (damaged here, or not pulled from this publisher); "
                "the live index is unchanged",
                hint="check it with vnsearch index check; to repair, roll back "
                "(vnsearch index rollback) and pull again: a generation that is not "
                "live is replaced by a fresh copy",
            )
    for name in missing:
        if name != toc:
            os.rename(staging / name, gen / name)
    fsync_dir(gen)
    if toc in missing:
        os.rename(staging / toc, gen / toc)  # readers see the new commit from here on
    for name in sorted(wanted & set(GENERATION_FILES) - {MANIFEST}):
        os.replace(staging / name, gen / name)
    os.replace(staging / MANIFEST, gen / MANIFEST)
    os.replace(staging / PULLED, gen / PULLED)
    fsync_dir(gen)
    # What Whoosh's own commit does: drop the files the new TOC no longer needs
    # (open readers keep theirs until they close them).
    for p in gen.iterdir():
        if p.name not in wanted and (
            TOC_FILE.fullmatch(p.name)
            or SEGMENT_FILE.fullmatch(p.name)
            or p.name in GENERATION_FILES
        ):
            with contextlib.suppress(OSError):
                p.unlink()
