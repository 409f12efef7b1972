"""``publish``: copy the live generation's current commit to a distribution
directory, sign its PUBLISHED.json, and point LATEST at it."""

from __future__ import annotations

import os
import shutil
import socket
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.files import fsync_dir, human_size, utc_now, write_atomic
from indexer.generations import repair_manifest
from indexer.home import GENERATION_FILES, LEARNED_SUGGESTIONS, IndexHome, Manifest
from indexer.lock import writer_lock
from indexer.replica.copying import copy_file, sha256_of
from indexer.replica.publication import (
    LATEST,
    PUBLICATION_ID,
    PUBLISHED,
    SIGNATURE,
    FileEntry,
    Publication,
    ReplicaError,
    latest,
)
from indexer.signing import SigningKey
from indexer.untrusted import Refused, UntrustedDir
from indexer.whoosh_internals.naming import read_toc, toc_name

__all__ = ["PublishReport", "publish"]


@dataclass
class PublishReport:
    publication: str
    directory: Path
    files: int = 0
    bytes: int = 0
    copied_bytes: int = 0
    linked_files: int = 0
    already_published: bool = False
    signed_by: str | None = None  # the signing key's name; None: unsigned
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        signed = f"signed with {self.signed_by}" if self.signed_by else "UNSIGNED"
        if self.already_published:
            return (
                f"{self.publication} was already published in {self.directory.parent}; "
                f"{LATEST} names it ({PUBLISHED} {signed} anew)"
            )
        return (
            f"published {self.publication} to {self.directory.parent} ({signed}): "
            f"{self.files} files, {human_size(self.bytes)} "
            f"(copied {human_size(self.copied_bytes)}, "
            f"{self.linked_files} files linked from the previous publication)"
        )


def _live_files(gen: Path) -> tuple[int, list[str]]:
    """The TOC generation of ``gen`` and the files its latest commit needs."""
    ix = whoosh_index.open_dir(str(gen))
    try:
        toc = read_toc(ix.storage)
        names = [toc_name(toc.generation)]
        for segment in toc.segments:
            names += segment.list_files(ix.storage)
        return toc.generation, sorted(names)
    finally:
        ix.close()


def publish(
    home: IndexHome,
    dist: str | os.PathLike,
    *,
    signer: SigningKey | None = None,
    wait: float = 5.0,
    keep: int = 3,
) -> PublishReport:
    """Copy the live generation's current commit to ``dist`` and point LATEST at it.

    ``PUBLISHED.json`` is signed with ``signer`` (``PUBLISHED.json.sig``); without
    one the publication is unsigned and only ``pull --allow-unsigned`` takes it.
    Holds the writer lock of ``home`` while it reads, so no update commits (and
    deletes merged-away segments) under it. Publishing a publication that
    already exists with the same files signs its PUBLISHED.json anew (a new
    ``published_at``) and moves LATEST: this is how the fleet rolls back
    (``index rollback`` then ``index publish``), and why pulls may refuse a
    publication signed before the one they serve. Keeps the ``keep`` most
    recent publications, LATEST always among them.
    """
    dist = Path(dist)
    with writer_lock(home, wait=wait, command="vnsearch index publish"):
        gen = home.current_dir()
        repair_manifest(gen)  # a writer killed after its commit: publish the truth
        dist.mkdir(parents=True, exist_ok=True)
        manifest = Manifest.read(gen)
        toc_generation, names = _live_files(gen)
        if not (dist / f"{manifest.generation}.{toc_generation}").exists():
            _carry_learned(home, gen)
        names += [n for n, needed in GENERATION_FILES.items() if needed or (gen / n).is_file()]
        pub_id = f"{manifest.generation}.{toc_generation}"
        target = dist / pub_id
        report = PublishReport(pub_id, target, signed_by=signer.name if signer else None)
        if target.is_symlink() or (target.exists() and not target.is_dir()):
            raise ReplicaError(
                f"{target} is not a directory publish made (a symbolic link or a file); "
                "nothing was written there",
                hint="someone else writes the distribution directory: find out who, "
                "remove it, and publish again",
            )
        if target.exists():
            # Re-publishing (after a rollback, or a retried run): same files, or refuse.
            entries = [FileEntry(n, (gen / n).stat().st_size, sha256_of(gen / n)) for n in names]
            pub = _publication(home, manifest, toc_generation, entries)
            _same_as_existing(target, pub)
            _write_published(target, pub, signer)
            report.already_published = True
        else:
            pub = _stage_publication(home, gen, names, manifest, toc_generation, dist, report)
            pub = _finish_publication(dist, report, pub, signer)
        write_atomic(dist / LATEST, pub_id + "\n")
        fsync_dir(dist)
        report.files = len(pub.files)
        report.bytes = pub.total_bytes
        report.removed = _prune_publications(dist, keep)
    return report


def _carry_learned(home: IndexHome, gen: Path) -> None:
    """A new publication takes the home's learned suggestions as they are now
    (a copy in the generation; none in the home: none in the generation).
    Re-publishing keeps the copy published before. Lock held."""
    src, dst = home.path / LEARNED_SUGGESTIONS, gen / LEARNED_SUGGESTIONS
    if src.is_file():
        write_atomic(dst, src.read_bytes())  # a few MB at most (learned.MAX_ENTRIES)
    else:
        dst.unlink(missing_ok=True)


def _publication(
    home: IndexHome, manifest: Manifest, toc_generation: int, entries: list[FileEntry]
) -> Publication:
    return Publication(
        publication=f"{manifest.generation}.{toc_generation}",
        generation=manifest.generation,
        toc_generation=toc_generation,
        schema_version=manifest.schema_version,
        doc_count=manifest.doc_count,
        built_at=manifest.built_at,
        updated_at=manifest.updated_at,
        published_at=utc_now("microseconds"),
        source=f"{socket.gethostname()}:{home.path.resolve()}",
        files=sorted(entries, key=lambda f: f.name),
    )


def _write_published(directory: Path, pub: Publication, signer: SigningKey | None) -> None:
    """Write PUBLISHED.json and its signature (or remove a stale one).

    Replacing both in an existing publication is two renames: a pull reading
    between them sees a signature that does not match and tries once more.
    """
    raw = pub.to_bytes()
    signature = directory / SIGNATURE
    if signer is not None:
        sig_tmp = signature.with_name(SIGNATURE + ".tmp")
        write_atomic(sig_tmp, signer.sign(raw))
    write_atomic(directory / PUBLISHED, raw)
    if signer is not None:
        os.replace(sig_tmp, signature)
    else:
        signature.unlink(missing_ok=True)
    fsync_dir(directory)


def _stage_publication(
    home: IndexHome,
    gen: Path,
    names: list[str],
    manifest: Manifest,
    toc_generation: int,
    dist: Path,
    report: PublishReport,
) -> Publication:
    """Copy the files into ``<pub>.tmp/`` (or link them from the previous publication)."""
    previous = _previous_publication(dist)
    for leftover in dist.glob("*.tmp"):
        if leftover.is_symlink():
            leftover.unlink()
        elif leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
    staging = dist / (report.publication + ".tmp")
    staging.mkdir()
    try:
        entries = [_publish_file(gen / n, staging, previous, report) for n in sorted(names)]
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _publication(home, manifest, toc_generation, entries)


def _finish_publication(
    dist: Path, report: PublishReport, pub: Publication, signer: SigningKey | None
) -> Publication:
    """Write PUBLISHED.json (and its signature) last, then rename into place."""
    staging = dist / (report.publication + ".tmp")
    try:
        _write_published(staging, pub, signer)
        os.rename(staging, report.directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return pub


def _previous_publication(dist: Path) -> tuple[Path, dict[str, FileEntry]] | None:
    try:
        name = latest(dist)
        if name is None:
            return None
        pub = Publication.read(dist / name)
    except ReplicaError:
        return None  # a broken previous publication: just copy everything
    return dist / name, {f.name: f for f in pub.files}


def _publish_file(
    src: Path,
    staging: Path,
    previous: tuple[Path, dict[str, FileEntry]] | None,
    report: PublishReport,
) -> FileEntry:
    size = src.stat().st_size
    if previous is not None and src.name not in GENERATION_FILES:
        directory, files = previous
        old = files.get(src.name)
        # The same immutable segment as in the previous publication: link it.
        if (
            old is not None
            and old.size == size
            and sha256_of(src) == old.sha256
            and _link_previous(directory / src.name, staging, old)
        ):
            report.linked_files += 1
            return FileEntry(src.name, size, old.sha256)
    size, digest = copy_file(src, staging / src.name)
    report.copied_bytes += size
    return FileEntry(src.name, size, digest)


def _link_previous(previous: Path, staging: Path, old: FileEntry) -> bool:
    """Hard-link a file of the previous publication into ``staging`` when it is
    still the file that was published: the distribution directory is not
    trusted (a symbolic link is linked as itself, then refused)."""
    dst = staging / old.name
    try:
        os.link(previous, dst, follow_symlinks=False)
        with UntrustedDir.open(staging) as d:
            if d.sha256(old.name, old.size) == old.sha256:
                return True
    except (OSError, Refused):
        pass
    dst.unlink(missing_ok=True)
    return False


def _same_as_existing(target: Path, pub: Publication) -> None:
    existing = Publication.read(target)
    if sorted(existing.files, key=lambda f: f.name) != pub.files:
        raise ReplicaError(
            f"{target} already exists with other files than generation "
            f"{pub.generation} at commit {pub.toc_generation} has now",
            hint="was the index home rebuilt from scratch? Remove that directory from "
            "the distribution directory, or build a new generation, then publish again",
        )


def _prune_publications(dist: Path, keep: int) -> list[str]:
    live = latest(dist)
    pubs = []
    for p in dist.iterdir():
        if p.is_dir() and PUBLICATION_ID.fullmatch(p.name) and p.name != live:
            try:
                when = Publication.read(p).published_at
            except ReplicaError:
                when = ""
            pubs.append((when, p.name))
    pubs.sort(reverse=True)
    removed = [name for _, name in pubs[max(keep - 1, 0) :]]
    for name in removed:
        if (dist / name).is_symlink():
            (dist / name).unlink()
        else:
            shutil.rmtree(dist / name, ignore_errors=True)
    return removed
