"""Index replicas: publish the live generation to a distribution directory on the
indexing host, pull it into the local index home on every API host.

    <dist>/LATEST               id of the publication to serve (replaced atomically)
    <dist>/g000007.3/           generation g000007 at Whoosh commit (TOC) 3:
        MANIFEST.json             the generation's manifest, as it was when published
        _MAIN_3.toc               Whoosh's table of contents of that commit
        MAIN_<segment>.seg ...    the segment files that TOC needs
        PUBLISHED.json            file list with sizes and SHA-256 (written last)
    <dist>/g000007.3.tmp/       a publication being written (never named by LATEST)

Whoosh segment files never change once written; an ``index update`` adds segments
and a new TOC. So a publication is named by generation *and* TOC generation, and
a re-publication after an update shares most of its files with the one before:
``publish`` hard-links them from the previous publication, and ``pull`` reuses
them from the local generations (checked by SHA-256), fetching only the rest.

``pull`` stages a complete copy in ``<home>/<generation>.tmp/``, checks every
file's size and checksum and that the staged index opens with the published
document count, and only then makes it live under the local writer lock:

- a generation this host does not have is renamed into place and CURRENT is
  switched to it (the previous one is kept for ``index rollback``);
- a newer commit of the live generation (an update on the indexing host) is
  applied the way Whoosh commits: the new segment files first, then the TOC
  (readers switch here), then the manifest. As on the indexing host, an update
  is not a generation of its own: rollback goes to the previous generation.

Local generations keep the indexing host's names, so ``/readyz`` on every API
host reports the same generation once a roll-out has converged.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import TOC

from indexer.schema import SCHEMA_VERSION
from indexer.store import MANIFEST, IndexHome, Manifest, StoreError

LATEST = "LATEST"
PUBLISHED = "PUBLISHED.json"
# A copy of PUBLISHED.json in every pulled generation: what this host serves.
PULLED = "PULLED.json"
FORMAT = 1
# Suggestions learned from searches (vnsearch analytics suggestions): an optional
# file of the index home, not of a generation, carried by every publication made
# while it exists and installed beside the generations by pull.
LEARNED_SUGGESTIONS = "SUGGESTIONS.json"
INDEX_NAME = "MAIN"  # Whoosh's default index name, the one store.py uses

EXIT_CORRUPT = 65  # a file of the publication failed its size or checksum
EXIT_NOTHING = 3  # nothing published yet (as "no index" elsewhere)

_PUBLICATION_ID = re.compile(r"g[0-9]{6}\.[0-9]{1,9}")
# Files a publication may hold: plain names, nothing that could leave the directory.
_TOC_FILE = re.compile(r"_MAIN_([0-9]+)\.toc")
_SEGMENT_FILE = re.compile(r"MAIN_[0-9a-z]+\.[A-Za-z0-9_.]+")
_CHUNK = 1 << 20


class ReplicaError(StoreError):
    """A publication cannot be written or used; nothing local was changed."""


class CorruptPublication(ReplicaError):
    """A file of a publication has the wrong size or checksum."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(
            message,
            hint=hint
            or "the live index is unchanged; publish again from the indexing host "
            "(vnsearch index publish) if the next pull fails the same way",
            exit_code=EXIT_CORRUPT,
        )


class Cancelled(ReplicaError):
    """A pull was stopped (SIGTERM) before it made anything live."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    size: int
    sha256: str


@dataclass
class Publication:
    """The contents of PUBLISHED.json."""

    publication: str
    generation: str
    toc_generation: int
    schema_version: int
    doc_count: int
    built_at: str
    updated_at: str
    published_at: str
    source: str
    files: list[FileEntry]
    format: int = FORMAT

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def read(cls, directory: Path) -> Publication:
        """Read and validate ``directory/PUBLISHED.json`` (ReplicaError if unusable)."""
        path = directory / PUBLISHED
        try:
            data = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ReplicaError(
                f"{path} is missing: the publication is incomplete",
                hint="publish again (vnsearch index publish); PUBLISHED.json is written last",
            ) from None
        except (OSError, ValueError) as exc:
            raise CorruptPublication(f"{path} is unreadable: {exc}") from None
        try:
            if data.get("format") != FORMAT:
                raise ReplicaError(
                    f"{path} has format {data.get('format')!r}, this vnsearch reads {FORMAT}",
                    hint="use the same vnsearch version to publish and to pull",
                )
            files = [
                FileEntry(str(f["name"]), int(f["size"]), str(f["sha256"])) for f in data["files"]
            ]
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            pub = cls(**{**known, "files": files})
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptPublication(f"{path} is not a publication manifest: {exc!r}") from None
        _check_publication(pub, path)
        return pub


def _check_publication(pub: Publication, path: Path) -> None:
    if not _PUBLICATION_ID.fullmatch(pub.publication) or pub.publication != (
        f"{pub.generation}.{pub.toc_generation}"
    ):
        raise CorruptPublication(f"{path}: bad publication id {pub.publication!r}")
    names = [f.name for f in pub.files]
    if len(set(names)) != len(names):
        raise CorruptPublication(f"{path}: a file is listed twice")
    for name in names:
        if not (
            name in (MANIFEST, LEARNED_SUGGESTIONS)
            or _TOC_FILE.fullmatch(name)
            or _SEGMENT_FILE.fullmatch(name)
        ):
            raise CorruptPublication(f"{path}: unexpected file name {name!r}")
    if _toc_name(pub.toc_generation) not in names or MANIFEST not in names:
        raise CorruptPublication(f"{path}: the file list lacks the TOC or {MANIFEST}")


def _toc_name(generation: int) -> str:
    return f"_{INDEX_NAME}_{generation}.toc"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- files -------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _copy_file(src: Path, dst: Path) -> tuple[int, str]:
    """Copy ``src`` to a new file ``dst`` (fsynced); the size and SHA-256 of what
    was read. The only place that reads file contents from a distribution dir."""
    h = hashlib.sha256()
    size = 0
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        while chunk := fin.read(_CHUNK):
            h.update(chunk)
            fout.write(chunk)
            size += len(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return size, h.hexdigest()


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` as ``dst`` (files are immutable), or copy across devices."""
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        _copy_file(src, dst)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def latest(dist: Path) -> str | None:
    """The publication LATEST names, or None when nothing was published."""
    try:
        name = (dist / LATEST).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    if not _PUBLICATION_ID.fullmatch(name):
        raise CorruptPublication(f"{dist / LATEST} names {name!r}, not a publication")
    return name


# -- publish -------------------------------------------------------------------------


@dataclass
class PublishReport:
    publication: str
    directory: Path
    files: int = 0
    bytes: int = 0
    copied_bytes: int = 0
    linked_files: int = 0
    already_published: bool = False
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.already_published:
            return (
                f"{self.publication} was already published in {self.directory.parent}; "
                f"{LATEST} names it"
            )
        return (
            f"published {self.publication} to {self.directory.parent}: {self.files} files, "
            f"{_size(self.bytes)} (copied {_size(self.copied_bytes)}, "
            f"{self.linked_files} files linked from the previous publication)"
        )


def _live_files(gen: Path) -> tuple[int, list[str]]:
    """The TOC generation of ``gen`` and the files its latest commit needs."""
    ix = whoosh_index.open_dir(str(gen))
    try:
        toc = TOC.read(ix.storage, INDEX_NAME)
        names = [_toc_name(toc.generation)]
        for segment in toc.segments:
            names += segment.list_files(ix.storage)
        return toc.generation, sorted(names)
    finally:
        ix.close()


def publish(
    home: IndexHome, dist: str | os.PathLike, *, wait: float = 5.0, keep: int = 3
) -> PublishReport:
    """Copy the live generation's current commit to ``dist`` and point LATEST at it.

    Holds the writer lock of ``home`` while it reads, so no update commits (and
    deletes merged-away segments) under it. Publishing a publication that
    already exists with the same files only moves LATEST (this is how the
    fleet rolls back: ``index rollback`` then ``index publish``). Keeps the
    ``keep`` most recent publications, LATEST always among them.
    """
    dist = Path(dist)
    with home.lock(wait=wait, command="vnsearch index publish"):
        gen = home.current_dir()
        dist.mkdir(parents=True, exist_ok=True)
        manifest = Manifest.read(gen)
        toc_generation, names = _live_files(gen)
        names.append(MANIFEST)
        pub_id = f"{manifest.generation}.{toc_generation}"
        target = dist / pub_id
        report = PublishReport(pub_id, target)
        if target.exists():
            # Re-publishing (after a rollback, or a retried run): same files, or refuse.
            entries = [FileEntry(n, (gen / n).stat().st_size, _sha256(gen / n)) for n in names]
            pub = _publication(home, manifest, toc_generation, entries)
            _same_as_existing(target, pub)
            report.already_published = True
        else:
            if (home.path / LEARNED_SUGGESTIONS).is_file():
                names.append(LEARNED_SUGGESTIONS)
            pub = _stage_publication(home, gen, names, manifest, toc_generation, dist, report)
        _write_atomic(dist / LATEST, pub_id + "\n")
        _fsync_dir(dist)
        report.files = len(pub.files)
        report.bytes = pub.total_bytes
        report.removed = _prune_publications(dist, keep)
    return report


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
        published_at=_now(),
        source=f"{socket.gethostname()}:{home.path.resolve()}",
        files=sorted(entries, key=lambda f: f.name),
    )


def _stage_publication(
    home: IndexHome,
    gen: Path,
    names: list[str],
    manifest: Manifest,
    toc_generation: int,
    dist: Path,
    report: PublishReport,
) -> Publication:
    """Copy the files into ``<pub>.tmp/``, write PUBLISHED.json last, rename."""
    previous = _previous_publication(dist)
    for leftover in dist.glob("*.tmp"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
    staging = dist / (report.publication + ".tmp")
    staging.mkdir()
    try:
        entries = [
            _publish_file(
                (home.path if n == LEARNED_SUGGESTIONS else gen) / n, staging / n, previous, report
            )
            for n in sorted(names)
        ]
        pub = _publication(home, manifest, toc_generation, entries)
        _write_atomic(staging / PUBLISHED, pub.to_json())
        _fsync_dir(staging)
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
    dst: Path,
    previous: tuple[Path, dict[str, FileEntry]] | None,
    report: PublishReport,
) -> FileEntry:
    size = src.stat().st_size
    if previous is not None and src.name != MANIFEST:
        directory, files = previous
        old = files.get(src.name)
        if old is not None and old.size == size and _sha256(src) == old.sha256:
            # The same immutable segment as in the previous publication.
            with contextlib.suppress(OSError):
                _link_or_copy(directory / src.name, dst)
                if _sha256(dst) == old.sha256:
                    report.linked_files += 1
                    return FileEntry(src.name, size, old.sha256)
            dst.unlink(missing_ok=True)
    size, digest = _copy_file(src, dst)
    report.copied_bytes += size
    return FileEntry(src.name, size, digest)


def _same_as_existing(target: Path, pub: Publication) -> None:
    existing = Publication.read(target)
    index_files = [f for f in existing.files if f.name != LEARNED_SUGGESTIONS]
    if sorted(index_files, key=lambda f: f.name) != pub.files:
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
        if p.is_dir() and _PUBLICATION_ID.fullmatch(p.name) and p.name != live:
            try:
                when = Publication.read(p).published_at
            except ReplicaError:
                when = ""
            pubs.append((when, p.name))
    pubs.sort(reverse=True)
    removed = [name for _, name in pubs[max(keep - 1, 0) :]]
    for name in removed:
        shutil.rmtree(dist / name, ignore_errors=True)
    return removed


# -- pull ----------------------------------------------------------------------------


@dataclass
class PullReport:
    publication: str
    generation: str
    # "unchanged" (already live), "new" (a generation switched to),
    # "updated" (a newer commit of the live generation applied in place)
    action: str = "unchanged"
    previous: str | None = None
    files: int = 0
    bytes: int = 0
    fetched_files: int = 0
    fetched_bytes: int = 0
    reused_files: int = 0
    reused_bytes: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        if self.action == "unchanged":
            return f"{self.publication} is already live (generation {self.generation})"
        how = "live" if self.action == "new" else "updated in place"
        return (
            f"pulled {self.publication}: generation {self.generation} {how} "
            f"(fetched {self.fetched_files} files, {_size(self.fetched_bytes)}; reused "
            f"{self.reused_files} files, {_size(self.reused_bytes)}) in {self.seconds:.1f} s"
        )


def pull(
    home: IndexHome,
    dist: str | os.PathLike,
    *,
    wait: float = 5.0,
    cancel: threading.Event | None = None,
) -> PullReport:
    """Make the publication LATEST names in ``dist`` live in ``home``.

    Raises :class:`ReplicaError` (nothing published, incompatible schema, a
    file missing), :class:`CorruptPublication` (a size or checksum mismatch,
    naming the file) or :class:`Cancelled`; in every case the live index is
    left as it was.
    """
    started = time.perf_counter()
    dist = Path(dist)
    pub_id = latest(dist)
    if pub_id is None:
        raise ReplicaError(
            f"nothing published in {dist} (no {LATEST})",
            hint="run vnsearch index publish --to DIR on the indexing host",
            exit_code=EXIT_NOTHING,
        )
    source = dist / pub_id
    pub = Publication.read(source)
    if pub.schema_version != SCHEMA_VERSION:
        raise ReplicaError(
            f"publication {pub_id} has schema version {pub.schema_version}, "
            f"this vnsearch needs {SCHEMA_VERSION}; the live index is unchanged",
            hint="run the same vnsearch version on the indexing host and on this host",
        )
    report = PullReport(pub_id, pub.generation, files=len(pub.files), bytes=pub.total_bytes)
    with home.lock(wait=wait, command="vnsearch index pull"):
        home.clean_leftovers()
        live = home.current_name()
        report.previous = live
        if live == pub.generation and _pulled(home.path / live) == pub.publication:
            report.seconds = time.perf_counter() - started
            return report
        staging = home.path / (pub.generation + ".tmp")
        try:
            _stage(home, source, pub, staging, report, cancel)
            _check_opens(staging, pub)
            pub = _set_learned_aside(home, staging, pub)
            if live == pub.generation:
                _advance_in_place(home.path / live, staging, pub)
                report.action = "updated"
            else:
                _install(home, staging, pub)
                home.switch(pub.generation)
                home.prune(live)
                report.action = "new"
            _install_learned(home)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            (home.path / (LEARNED_SUGGESTIONS + ".new")).unlink(missing_ok=True)
    report.seconds = time.perf_counter() - started
    return report


def _set_learned_aside(home: IndexHome, staging: Path, pub: Publication) -> Publication:
    """Move the checked learned suggestions (if published) out of the staged
    generation, to be installed once the index is live; ``pub`` without them."""
    aside = home.path / (LEARNED_SUGGESTIONS + ".new")
    aside.unlink(missing_ok=True)
    if (staging / LEARNED_SUGGESTIONS).is_file():
        os.rename(staging / LEARNED_SUGGESTIONS, aside)
    files = [f for f in pub.files if f.name != LEARNED_SUGGESTIONS]
    return dataclasses.replace(pub, files=files)


def _install_learned(home: IndexHome) -> None:
    """The publisher's learned suggestions replace ours; none published: none here."""
    aside = home.path / (LEARNED_SUGGESTIONS + ".new")
    if aside.is_file():
        os.replace(aside, home.path / LEARNED_SUGGESTIONS)
    else:
        (home.path / LEARNED_SUGGESTIONS).unlink(missing_ok=True)
    _fsync_dir(home.path)


def _pulled(gen: Path) -> str | None:
    try:
        return json.loads((gen / PULLED).read_text("utf-8")).get("publication")
    except (OSError, ValueError, AttributeError):
        return None


def _local_copies(home: IndexHome, name: str) -> list[Path]:
    """Files called ``name`` in the local generations, the live one first."""
    gens = home.generations()
    live = home.current_name()
    if live in gens:
        gens.remove(live)
        gens.insert(0, live)
    return [home.path / g / name for g in gens if (home.path / g / name).is_file()]


def _stage(
    home: IndexHome,
    source: Path,
    pub: Publication,
    staging: Path,
    report: PullReport,
    cancel: threading.Event | None,
) -> None:
    staging.mkdir()
    for entry in pub.files:
        if cancel is not None and cancel.is_set():
            raise Cancelled("pull stopped before it finished; the live index is unchanged")
        dst = staging / entry.name
        if entry.name != MANIFEST and _reuse(home, entry, dst):
            report.reused_files += 1
            report.reused_bytes += entry.size
            continue
        src = source / entry.name
        try:
            size, digest = _copy_file(src, dst)
        except FileNotFoundError:
            raise CorruptPublication(f"{src} is missing (listed in {PUBLISHED})") from None
        report.fetched_files += 1
        report.fetched_bytes += size
        if size != entry.size:
            raise CorruptPublication(
                f"{src} has {size} bytes, {PUBLISHED} says {entry.size} "
                f"({'truncated' if size < entry.size else 'longer'} copy?)"
            )
        if digest != entry.sha256:
            raise CorruptPublication(
                f"{src} is corrupt: SHA-256 {digest[:16]}…, {PUBLISHED} says {entry.sha256[:16]}…"
            )
    _write_atomic(staging / PULLED, pub.to_json())
    _fsync_dir(staging)


def _reuse(home: IndexHome, entry: FileEntry, dst: Path) -> bool:
    """Link a local file with the same name, size and checksum into ``dst``."""
    for local in _local_copies(home, entry.name):
        try:
            if local.stat().st_size != entry.size or _sha256(local) != entry.sha256:
                continue
            _link_or_copy(local, dst)
        except OSError:
            dst.unlink(missing_ok=True)
            continue
        return True
    return False


def _check_opens(staging: Path, pub: Publication) -> None:
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


def _install(home: IndexHome, staging: Path, pub: Publication) -> None:
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
    _fsync_dir(home.path)


def _toc_generation(gen: Path) -> int:
    found = [int(m.group(1)) for p in gen.iterdir() if (m := _TOC_FILE.fullmatch(p.name))]
    return max(found, default=-1)


def _advance_in_place(gen: Path, staging: Path, pub: Publication) -> None:
    """Apply a newer commit of the live generation the way Whoosh commits: new
    segment files first, then the TOC (readers switch here), then the manifest.

    Files the live generation already has must be the very files staged (staging
    links a local file only when its checksum matched). The same commit is
    accepted when everything is already there: a pull killed after the TOC but
    before PULLED.json finishes here.
    """
    local = _toc_generation(gen)
    if local > pub.toc_generation:
        raise ReplicaError(
            f"the live generation {pub.generation} is at commit {local}, newer than "
            f"publication {pub.publication}; the live index is unchanged",
            hint="the indexing host was probably rebuilt from scratch: publish a new "
            "generation there (vnsearch index build), or roll back here first",
        )
    toc = _toc_name(pub.toc_generation)
    wanted = {f.name for f in pub.files}
    missing = []
    for name in sorted(wanted - {MANIFEST}):
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
    _fsync_dir(gen)
    if toc in missing:
        os.rename(staging / toc, gen / toc)  # readers see the new commit from here on
    os.replace(staging / MANIFEST, gen / MANIFEST)
    os.replace(staging / PULLED, gen / PULLED)
    _fsync_dir(gen)
    # What Whoosh's own commit does: drop the files the new TOC no longer needs
    # (open readers keep theirs until they close them).
    for p in gen.iterdir():
        if p.name not in wanted and (
            _TOC_FILE.fullmatch(p.name) or _SEGMENT_FILE.fullmatch(p.name)
        ):
            with contextlib.suppress(OSError):
                p.unlink()


def pull_loop(
    home: IndexHome,
    dist: str | os.PathLike,
    interval: float,
    *,
    stop: threading.Event,
    wait: float = 5.0,
    echo: Callable[[str], None] = print,
) -> None:
    """Pull every ``interval`` seconds until ``stop`` is set. A failed pull is
    reported and retried at the next poll; the live index stays as it was."""
    last_error = ""
    while not stop.is_set():
        try:
            report = pull(home, dist, wait=wait, cancel=stop)
            if report.action != "unchanged":
                echo(report.summary())
            last_error = ""
        except Cancelled:
            break
        except Exception as exc:  # reported, retried at the next poll
            message = f"error: {exc}" + (f" (hint: {exc.hint})" if getattr(exc, "hint", "") else "")
            if message != last_error:  # one line per distinct problem, not per poll
                echo(message)
            last_error = message
        stop.wait(interval)


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
