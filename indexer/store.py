"""The index on disk: generations, the atomic pointer, the writer lock, and the
only code that writes.

    <home>/CURRENT          name of the live generation (replaced atomically)
    <home>/g000007/         a complete Whoosh index + MANIFEST.json
    <home>/g000008.tmp/     a build in progress (never live; removed if abandoned)
    <home>/write.lock       held (flock) by the one running writer

A build writes a new generation beside the live one and switches CURRENT only
after Whoosh has committed and the manifest is written. flock locks die with
their process, so a killed writer never leaves a stale lock behind.

``update`` and ``delete`` change the live generation in place: Whoosh writes new
segments and then a new table of contents, and readers see either the old or the
new commit, never a half-written one.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing import Process
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from indexer.errors import ExitCode, IndexMissing, StoreError, WriterBusy
from indexer.faults import fault
from indexer.files import fsync_dir, utc_now, write_atomic
from indexer.schema import SCHEMA_VERSION, article_hash, build_schema, clean_id, to_document
from indexer.sources.article import Article, Gone, Rejection
from indexer.writer import open_writer, remove_orphans

MANIFEST = "MANIFEST.json"
CURRENT = "CURRENT"
LOCK = "write.lock"


class NothingRead(StoreError):
    """An update read no usable document; the live index was left as it was."""

    def __init__(self, report: Report):
        super().__init__(
            "no document was read; the live index is unchanged",
            hint="check the source paths and the rejected inputs",
            exit_code=ExitCode.REFUSED,
        )
        self.report = report


class MassDelete(StoreError):
    """An update would delete too much of a site (a broken portal answering 404
    everywhere must not empty the index); nothing was written."""

    def __init__(self, report: Report, site: str, deleting: int, total: int):
        super().__init__(
            f"refusing to delete {deleting} of the {total} documents of site {site!r} "
            f"(more than {MASS_DELETE_SHARE:.0%} and more than {MASS_DELETE_MIN}); "
            "the live index is unchanged",
            hint="check the site; if the pages are really gone, run again with --allow-mass-delete",
            exit_code=ExitCode.REFUSED,
        )
        self.report = report


# The mass-delete guard: a run may delete up to this share of a site's documents,
# or this many, whichever is more.
MASS_DELETE_SHARE = 0.10
MASS_DELETE_MIN = 20


class NothingIndexed(StoreError):
    """A build read no usable document; the live index was left as it was."""

    def __init__(self, report: Report):
        super().__init__(
            "nothing was indexed; the live index is unchanged",
            hint="check the rejected inputs",
            exit_code=ExitCode.REFUSED,
        )
        self.report = report


@dataclass
class Manifest:
    generation: str
    schema_version: int
    doc_count: int
    built_at: str
    updated_at: str
    build_seconds: float = 0.0
    sources: list[str] = field(default_factory=list)
    # The last update or delete that changed this generation (summary counts).
    last_change: dict = field(default_factory=dict)
    # Whoosh's commit (table of contents) generation this manifest describes:
    # a writer finding another one knows a run died between commit and manifest.
    toc_generation: int = -1

    @classmethod
    def read(cls, gen_dir: Path) -> Manifest:
        data = json.loads((gen_dir / MANIFEST).read_text("utf-8"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def write(self, gen_dir: Path) -> None:
        write_atomic(gen_dir / MANIFEST, json.dumps(asdict(self), ensure_ascii=False, indent=2))


# -- fork safety of the writer lock ----------------------------------------------
#
# ``writer(procs=N)`` forks Whoosh sub-writers while we hold the lock. A forked
# child shares the parent's open file description, and with it the flock: if
# the parent were SIGKILLed, orphaned children (blocked forever on their job
# queue) would keep the index locked. So a child forked while the lock is held
# drops its copy of the lock descriptor and asks the kernel to kill it when its
# parent dies (Linux ``PR_SET_PDEATHSIG``).

_HELD_LOCK_FDS: set[int] = set()
_PR_SET_PDEATHSIG = 1


def _after_fork_in_child() -> None:
    if not _HELD_LOCK_FDS:
        return
    parent = os.getppid()
    for fd in _HELD_LOCK_FDS:
        with contextlib.suppress(OSError):
            os.close(fd)  # the parent's lock is untouched: no LOCK_UN here
    _HELD_LOCK_FDS.clear()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)


os.register_at_fork(after_in_child=_after_fork_in_child)


class IndexHome:
    """A directory holding index generations."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    # -- reading ---------------------------------------------------------------

    def current_name(self) -> str | None:
        try:
            name = (self.path / CURRENT).read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current_dir(self) -> Path:
        name = self.current_name()
        if name is None or not (self.path / name / MANIFEST).exists():
            raise IndexMissing(
                f"no index in {self.path}",
                hint="build one with: vnsearch index build SOURCE... --index-dir " + str(self.path),
            )
        return self.path / name

    def open(self, *, mmap: bool = True) -> tuple[whoosh_index.Index, Manifest]:
        """The live generation's Whoosh index and manifest. ``mmap=False`` reads
        segment files with plain reads: long-running readers (API workers) then
        do not count the whole index as their own resident memory."""
        gen = self.current_dir()
        manifest = Manifest.read(gen)
        if manifest.schema_version != SCHEMA_VERSION:
            raise StoreError(
                f"index {gen} has schema version {manifest.schema_version}, "
                f"this vnsearch needs {SCHEMA_VERSION}",
                hint="rebuild it with: vnsearch index build SOURCE...",
            )
        storage = FileStorage(str(gen), supports_mmap=mmap)
        return storage.open_index(), manifest

    def generations(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(
            p.name for p in self.path.iterdir() if p.is_dir() and _is_generation_name(p.name)
        )

    # -- writing ---------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float = 5.0, command: str = "", *, record: bool = True) -> Iterator[None]:
        """Hold the single-writer lock, waiting up to ``wait`` seconds.
        ``record=False`` writes nothing (not even who holds it): for a reader
        such as ``check``, which must work on a full or read-only disk."""
        if record:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        else:
            fd = os.open(self.path / LOCK, os.O_RDONLY)
        deadline = time.monotonic() + max(wait, 0.0)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
                        raise WriterBusy(
                            f"another writer holds {self.path / LOCK}: {holder or 'unknown'}",
                            hint="wait for it to finish, or pass --wait SECONDS to wait longer",
                            exit_code=ExitCode.BUSY,
                        ) from None
                    time.sleep(0.1)
            if record:
                info = json.dumps(
                    {
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "command": command or " ".join(sys.argv),
                        "since": utc_now(),
                    },
                    ensure_ascii=False,
                )
                os.ftruncate(fd, 0)
                os.pwrite(fd, info.encode(), 0)
            _HELD_LOCK_FDS.add(fd)
            yield
        finally:
            if fd in _HELD_LOCK_FDS:
                _HELD_LOCK_FDS.discard(fd)
                if record:
                    with contextlib.suppress(OSError):
                        os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor releases the flock

    def _next_name(self) -> str:
        numbers = [int(n[1:7]) for n in self.generations()]
        numbers += [int(p.name[1:7]) for p in self._leftovers()]
        return f"g{(max(numbers, default=0) + 1):06d}"

    def _leftovers(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return [p for p in self.path.iterdir() if p.is_dir() and p.name.endswith(".tmp")]

    def clean_leftovers(self) -> list[str]:
        """Remove abandoned builds, and the pointer of a switch killed before
        its rename (``CURRENT.tmp``). Call with the lock held."""
        removed = []
        for p in self._leftovers():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
        with contextlib.suppress(FileNotFoundError):
            (self.path / (CURRENT + ".tmp")).unlink()
            removed.append(CURRENT + ".tmp")
        return removed

    def switch(self, name: str) -> None:
        """Make generation ``name`` live: write-then-rename, atomic for readers."""
        write_atomic(self.path / CURRENT, name + "\n")
        fsync_dir(self.path)

    def prune(self, previous: str | None = None) -> list[str]:
        """Delete every generation but the live one and the one to roll back to.

        ``previous`` is the generation that was live before the last switch (a
        build passes it). Without it, the newest generation older than the live
        one is kept. After a rollback the generation rolled back from is newer
        than the live one: the next build's switch makes the rolled-back-to
        generation ``previous``, and the bad one goes.
        """
        live = self.current_name()
        gens = self.generations()
        if live not in gens:
            return []
        if previous not in gens or previous == live:
            older = [g for g in gens if g < live]
            previous = older[-1] if older else None
        keep = {live, previous}
        removed = [g for g in gens if g not in keep]
        for g in removed:
            shutil.rmtree(self.path / g, ignore_errors=True)
        return removed

    def rollback(self) -> str:
        live = self.current_name()
        older = [g for g in self.generations() if live is None or g < live]
        if not older:
            raise StoreError("no previous generation to roll back to")
        self.switch(older[-1])
        return older[-1]


def _is_generation_name(name: str) -> bool:
    return len(name) == 7 and name[0] == "g" and name[1:].isdigit()


# -- building and updating ------------------------------------------------------


KEPT_REJECTIONS = 10_000  # reasons kept per run (all are counted); see Report.reject


@dataclass
class Report:
    # Records read: articles, and lines or records rejected on their own (a
    # rejected file is not a record), so read = added + replaced + unchanged
    # + rejected records.
    read: int = 0
    indexed: int = 0
    added: int = 0
    replaced: int = 0
    views_only: int = 0  # of the replaced: same text, new view count (not re-segmented)
    unchanged: int = 0
    deleted: int = 0
    # The first KEPT_REJECTIONS rejections, with their reasons; every one is
    # counted (a feed of a billion broken lines must not grow memory with it).
    rejected: list[Rejection] = field(default_factory=list)
    rejected_total: int = 0
    rejected_files: int = 0
    seconds: float = 0.0
    chars: int = 0
    generation: str = ""
    missing: list[str] = field(default_factory=list)  # ids to delete that were not there
    dry_run: bool = False
    repaired: str = ""  # what the run found and repaired before it started

    def reject(self, item: Rejection) -> None:
        """Count ``item``, and keep it for the report while fewer than
        KEPT_REJECTIONS are kept."""
        self.rejected_total += 1
        self.rejected_files += item.location == "file"
        if len(self.rejected) < KEPT_REJECTIONS:
            self.rejected.append(item)

    @property
    def rejected_records(self) -> int:
        return self.rejected_total - self.rejected_files

    @property
    def rejected_untold(self) -> int:
        """Rejections counted but not kept (past KEPT_REJECTIONS)."""
        return self.rejected_total - len(self.rejected)

    @property
    def docs_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.deleted)

    def summary(self) -> str:
        """The one-line summary every writing command ends with."""
        replaced = f"replaced {self.replaced}"
        if self.views_only:
            replaced += f" ({self.views_only} view counts only)"
        line = (
            f"read {self.read} · added {self.added} · {replaced} · "
            f"unchanged {self.unchanged} · deleted {self.deleted} · "
            f"rejected {self.rejected_records}"
        )
        if self.rejected_files:
            line += f" · file problems {self.rejected_files}"
        return line + (" · dry run, nothing written" if self.dry_run else "")


Progress = Callable[[int], None]

_LINE_SUFFIX = re.compile(r"^(.*):(\d+)$")


def origin_file(origin: str) -> str:
    """The file part of an origin: ``path`` for ``path:line`` (JSON Lines) or ``path``."""
    found = _LINE_SUFFIX.match(origin)
    return found.group(1) if found else origin


def _absolute_origin(origin: str) -> str:
    """Origins are stored with absolute paths, so an update run from another
    directory still recognises the files a document came from."""
    if not origin:
        return ""
    found = _LINE_SUFFIX.match(origin)
    if found:
        return f"{os.path.abspath(found.group(1))}:{found.group(2)}"
    return os.path.abspath(origin)


def _invalid(doc: dict) -> str:
    if not doc["id"]:
        return "empty id"
    if "/" in doc["id"]:
        # Routers and proxies decode %2F before routing: /v1/documents/{id}
        # could never reach it.
        return f"id {doc['id']!r} contains '/', which no /v1/documents/{{id}} URL can carry"
    if not doc["title"] and not doc["body"]:
        return "no title and no body text"
    return ""


def _documents(
    items: Iterable[Article | Rejection], report: Report, seen: set[str] | None = None
) -> Iterator[dict]:
    """Turn reader output into index documents, accounting for every input."""
    for item in items:
        if isinstance(item, Gone):
            continue  # a new generation simply does not hold it
        if isinstance(item, Rejection):
            report.reject(item)
            report.read += item.location != "file"
            continue
        report.read += 1
        doc = to_document(item)
        doc["origin"] = _absolute_origin(doc["origin"])
        where = item.origin or item.id
        if problem := _invalid(doc):
            report.reject(Rejection(where, "record", problem))
            continue
        if seen is not None:
            if doc["id"] in seen:
                report.reject(
                    Rejection(where, "record", f"duplicate id {doc['id']!r} (first one kept)")
                )
                continue
            seen.add(doc["id"])
        yield doc


@contextlib.contextmanager
def _disk_errors(what: str, after: str) -> Iterator[None]:
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


def _open_writer(ix: whoosh_index.Index, workers: int, limitmb: int):
    return open_writer(ix, workers, limitmb=limitmb)


def _abandon(writer) -> None:
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


def build(
    home: IndexHome,
    items: Iterable[Article | Rejection],
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
    with _disk_errors("writing the new generation", "the live index is unchanged"):
        _build(home, items, report, start, workers, wait, progress, sources, limitmb)
    return report


def _build(home, items, report, start, workers, wait, progress, sources, limitmb) -> None:
    with home.lock(wait=wait):
        home.clean_leftovers()
        name = home._next_name()
        tmp = home.path / (name + ".tmp")
        tmp.mkdir(parents=True)
        try:
            ix = whoosh_index.create_in(str(tmp), build_schema())
            writer = _open_writer(ix, workers, limitmb)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        try:
            for doc in _documents(items, report, seen=set()):
                writer.add_document(**doc)
                report.indexed += 1
                report.chars += len(doc["title"]) + len(doc["body"])
                if progress:
                    progress(1)
            if report.indexed == 0:
                raise NothingIndexed(report)
            writer.commit()
        except BaseException:
            _abandon(writer)
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
            sources=list(sources or []),
            toc_generation=ix.latest_generation(),
        ).write(tmp)
        ix.close()
        os.replace(tmp, home.path / name)
        fsync_dir(home.path)
        previous = home.current_name()
        home.switch(name)
        home.prune(previous)
        report.generation = name


# Below this many changed documents an update uses one plain writer: starting
# sub-processes (each importing pyvi) costs more than it saves.
PARALLEL_THRESHOLD = 200


class _PendingWriter:
    """Opens a Whoosh writer only once there is something to write, and a
    parallel one only when the changes turn out to be many."""

    def __init__(self, ix: whoosh_index.Index, workers: int, limitmb: int):
        self.ix = ix
        self.workers = workers
        self.limitmb = limitmb
        self.writer = None
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
        self.writer = _open_writer(self.ix, workers, self.limitmb)
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
            _abandon(self.writer)
        self.buffer, self.deletes = [], []


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


def _finish_change(home: IndexHome, gen: Path, manifest: Manifest, report: Report, what: str):
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


def _clean_writer_leftovers(gen: Path) -> None:
    """What a killed or failed writer left in the live generation: temporary
    directories, and segment files no commit uses (see ``remove_orphans``).
    Lock held."""
    for p in gen.iterdir():
        if p.is_dir() and p.name.endswith(".tmp"):
            shutil.rmtree(p, ignore_errors=True)
    remove_orphans(gen)


def _repair_manifest(gen: Path, ix: whoosh_index.Index, manifest: Manifest) -> str:
    """The index is the truth and MANIFEST.json is derived from it: a writer
    killed between Whoosh's commit and the manifest write leaves the manifest
    behind (wrong count, older commit). Rewrite it from the index; returns what
    was repaired ("" when nothing was). Lock held."""
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
    """``_repair_manifest`` for a command that holds the lock but does not
    write the index itself (``publish``): what it repaired, or ""."""
    ix = whoosh_index.open_dir(str(gen))
    try:
        return _repair_manifest(gen, ix, Manifest.read(gen))
    finally:
        ix.close()


def update(
    home: IndexHome,
    items: Iterable[Article | Rejection],
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
    after = "readers see all of this run's changes or none; vnsearch index check tells which"
    with _disk_errors("updating the index", after):
        _update(
            home,
            items,
            report,
            delete_missing,
            dry_run,
            workers,
            wait,
            progress,
            limitmb,
            allow_mass_delete,
        )
    report.seconds = time.perf_counter() - start
    return report


def _update(
    home,
    items,
    report,
    delete_missing,
    dry_run,
    workers,
    wait,
    progress,
    limitmb,
    allow_mass_delete=False,
):
    with home.lock(wait=wait):
        home.clean_leftovers()
        gen = home.current_dir()
        ix, manifest = home.open()
        report.generation = manifest.generation
        pending = _PendingWriter(ix, workers, limitmb)
        try:
            if not dry_run:
                _clean_writer_leftovers(gen)
                report.repaired = _repair_manifest(gen, ix, manifest)
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
                if progress:
                    progress(1)
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
                same_text = bool(old) and old.hash == article_hash(item)
                if same_text and old.views == item.views:
                    report.unchanged += 1
                    continue
                doc = to_document(item)
                if same_text and old.seg:
                    # Only the view count changed (views are not in the content
                    # hash): the document is replaced, its stored segmentation
                    # stands in for pyvi.
                    doc["_words"] = old.seg
                    report.views_only += 1
                doc["origin"] = _absolute_origin(doc["origin"])
                if problem := _invalid(doc):
                    report.reject(Rejection(where, "record", problem))
                    continue
                report.chars += len(doc["title"]) + len(doc["body"])
                if old:
                    report.replaced += 1
                    if not dry_run:
                        pending.delete(doc_id)
                else:
                    report.added += 1
                if not dry_run:
                    pending.add(doc)
            if articles == 0 and not gone:
                raise NothingRead(report)
            _guard_mass_delete(known, gone, seen, report, allow_mass_delete)
            for doc_id in gone:
                if doc_id not in seen:
                    report.deleted += 1
                    if not dry_run:
                        pending.delete(doc_id)
            if delete_missing:
                complete = files_read - files_failed
                for doc_id, old in known.items():
                    if old.file in complete and doc_id not in seen:
                        report.deleted += 1
                        if not dry_run:
                            pending.delete(doc_id)
            report.indexed = report.added + report.replaced
            committed = False if dry_run else pending.commit()
        except BaseException:
            pending.abandon()
            if not dry_run:
                # A full disk: the failed commit's segment files would keep it full.
                with contextlib.suppress(OSError):
                    remove_orphans(gen)
            raise
        finally:
            ix.close()
        if committed:
            _finish_change(home, gen, manifest, report, "update")


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
    with home.lock(wait=wait):
        gen = home.current_dir()
        ix, manifest = home.open()
        report.generation = manifest.generation
        try:
            if not dry_run:
                _clean_writer_leftovers(gen)
                report.repaired = _repair_manifest(gen, ix, manifest)
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
                    _abandon(writer)
                    with contextlib.suppress(OSError):
                        remove_orphans(gen)
                    raise
        finally:
            ix.close()
        if present and not dry_run:
            _finish_change(home, gen, manifest, report, "delete")
    report.seconds = time.perf_counter() - start
    return report
