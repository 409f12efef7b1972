"""The index on disk: generations, the atomic pointer, the writer lock, and the
only code that writes.

    <home>/CURRENT          name of the live generation (replaced atomically)
    <home>/g000007/         a complete Whoosh index + MANIFEST.json
    <home>/g000008.tmp/     a build in progress (never live; removed if abandoned)
    <home>/write.lock       held (flock) by the one running writer

A build writes a new generation beside the live one and switches CURRENT only
after Whoosh has committed and the manifest is written. flock locks die with
their process, so a killed writer never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index

from indexer.schema import SCHEMA_VERSION, build_schema, to_document
from indexer.sources.article import Article, Rejection

MANIFEST = "MANIFEST.json"
CURRENT = "CURRENT"
LOCK = "write.lock"
KEEP_GENERATIONS = 2  # the live one and one to roll back to


class StoreError(Exception):
    """A user-facing problem with the index directory (missing, locked, ...)."""

    def __init__(self, message: str, hint: str = "", exit_code: int = 1):
        super().__init__(message)
        self.hint = hint
        self.exit_code = exit_code


class IndexMissing(StoreError):
    pass


class WriterBusy(StoreError):
    pass


class NothingIndexed(StoreError):
    """A build read no usable document; the live index was left as it was."""

    def __init__(self, report: Report):
        super().__init__(
            "nothing was indexed; the live index is unchanged",
            hint="check the rejected inputs",
            exit_code=4,
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

    @classmethod
    def read(cls, gen_dir: Path) -> Manifest:
        data = json.loads((gen_dir / MANIFEST).read_text("utf-8"))
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def write(self, gen_dir: Path) -> None:
        tmp = gen_dir / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), "utf-8")
        os.replace(tmp, gen_dir / MANIFEST)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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

    def open(self) -> tuple[whoosh_index.Index, Manifest]:
        gen = self.current_dir()
        manifest = Manifest.read(gen)
        if manifest.schema_version != SCHEMA_VERSION:
            raise StoreError(
                f"index {gen} has schema version {manifest.schema_version}, "
                f"this vnsearch needs {SCHEMA_VERSION}",
                hint="rebuild it with: vnsearch index build SOURCE...",
            )
        return whoosh_index.open_dir(str(gen)), manifest

    def generations(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(
            p.name for p in self.path.iterdir() if p.is_dir() and _is_generation_name(p.name)
        )

    # -- writing ---------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, wait: float = 5.0, command: str = "") -> Iterator[None]:
        """Hold the single-writer lock, waiting up to ``wait`` seconds."""
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
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
                            exit_code=75,
                        ) from None
                    time.sleep(0.1)
            info = json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "command": command or " ".join(sys.argv),
                    "since": _now(),
                },
                ensure_ascii=False,
            )
            os.ftruncate(fd, 0)
            os.pwrite(fd, info.encode(), 0)
            yield
        finally:
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
        """Remove abandoned builds. Call with the lock held."""
        removed = []
        for p in self._leftovers():
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
        return removed

    def switch(self, name: str) -> None:
        """Make generation ``name`` live: write-then-rename, atomic for readers."""
        tmp = self.path / (CURRENT + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(name + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path / CURRENT)
        _fsync_dir(self.path)

    def prune(self, keep: int = KEEP_GENERATIONS) -> list[str]:
        """Delete all generations but the live one and the ``keep - 1`` newest before it."""
        live = self.current_name()
        gens = self.generations()
        if live not in gens:
            return []
        older = [g for g in gens if g < live][::-1][: max(keep - 1, 0)]
        keep_set = {live, *older}
        removed = [g for g in gens if g not in keep_set and g < live]
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


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- building and updating ------------------------------------------------------


@dataclass
class Report:
    read: int = 0
    indexed: int = 0
    added: int = 0
    replaced: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    chars: int = 0
    generation: str = ""

    @property
    def docs_per_second(self) -> float:
        return self.indexed / self.seconds if self.seconds else 0.0


Progress = Callable[[int], None]


def _documents(
    items: Iterable[Article | Rejection], report: Report, seen: set[str] | None = None
) -> Iterator[dict]:
    """Turn reader output into index documents, accounting for every input."""
    for item in items:
        if isinstance(item, Rejection):
            report.rejected.append(item)
            continue
        report.read += 1
        doc = to_document(item)
        where = item.origin or item.id
        if not doc["id"]:
            report.rejected.append(Rejection(where, "record", "empty id"))
            continue
        if not doc["title"] and not doc["body"]:
            report.rejected.append(Rejection(where, "record", "no title and no body text"))
            continue
        if seen is not None:
            if doc["id"] in seen:
                report.rejected.append(
                    Rejection(where, "record", f"duplicate id {doc['id']!r} (first one kept)")
                )
                continue
            seen.add(doc["id"])
        yield doc


def build(
    home: IndexHome,
    items: Iterable[Article | Rejection],
    *,
    workers: int = 1,
    wait: float = 5.0,
    progress: Progress | None = None,
    sources: list[str] | None = None,
    limitmb: int = 256,
) -> Report:
    """Write a complete new generation and make it live. The live index is
    untouched until the very last step."""
    report = Report()
    start = time.perf_counter()
    with home.lock(wait=wait):
        home.clean_leftovers()
        name = home._next_name()
        tmp = home.path / (name + ".tmp")
        tmp.mkdir(parents=True)
        ix = whoosh_index.create_in(str(tmp), build_schema())
        if workers > 1:
            writer = ix.writer(procs=workers, multisegment=True, limitmb=limitmb)
        else:
            writer = ix.writer(limitmb=limitmb)
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
            writer.cancel()
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report.seconds = time.perf_counter() - start
        now = _now()
        Manifest(
            generation=name,
            schema_version=SCHEMA_VERSION,
            doc_count=ix.doc_count(),
            built_at=now,
            updated_at=now,
            build_seconds=round(report.seconds, 3),
            sources=list(sources or []),
        ).write(tmp)
        ix.close()
        os.replace(tmp, home.path / name)
        _fsync_dir(home.path)
        home.switch(name)
        home.prune()
        report.generation = name
    return report
