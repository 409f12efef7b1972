"""The index home as readers see it: which generation is live, its manifest,
and its Whoosh index opened for reading.

    <home>/CURRENT          name of the live generation (replaced atomically)
    <home>/g000007/         a complete Whoosh index + MANIFEST.json
    <home>/g000008.tmp/     a build in progress (never live; removed if abandoned)
    <home>/write.lock       held (flock) by the one running writer
    <home>/SUGGESTIONS.json suggestions learned from searches (optional)

API workers import this module and nothing of the writing side: the writer
lock and generation switching live in :mod:`indexer.lock` and
:mod:`indexer.generations`, the writers in :mod:`indexer.build` and
:mod:`indexer.update`. Importing it must not import ``multiprocessing`` nor
Whoosh's writing modules (``tests/test_home.py`` checks).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from indexer.errors import IndexMissing, StoreError
from indexer.files import write_atomic
from indexer.schema import SCHEMA_VERSION

MANIFEST = "MANIFEST.json"
CURRENT = "CURRENT"
LOCK = "write.lock"

# Suggestions learned from searches (vnsearch analytics suggestions): written in
# the index home, copied into the generation by each new publication.
LEARNED_SUGGESTIONS = "SUGGESTIONS.json"

# Files of a generation, besides Whoosh's TOC and segments, that travel with each
# publication; True when a generation must have it. Unlike segments they may
# change at every commit, so a pull always fetches them and, on an update in
# place, replaces them after the TOC (the manifest last).
GENERATION_FILES: dict[str, bool] = {MANIFEST: True, LEARNED_SUGGESTIONS: False}


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


def is_generation_name(name: str) -> bool:
    return len(name) == 7 and name[0] == "g" and name[1:].isdigit()


class IndexHome:
    """A directory holding index generations (the reading side; see
    :mod:`indexer.lock` and :mod:`indexer.generations` for writing)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

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
            p.name for p in self.path.iterdir() if p.is_dir() and is_generation_name(p.name)
        )
