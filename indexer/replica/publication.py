"""A publication in a distribution directory: its names, the format of
PUBLISHED.json (:class:`Publication`) and the checks a listed file passes,
the errors a replica raises, and LATEST.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from indexer.errors import ExitCode, StoreError
from indexer.home import GENERATION_FILES, MANIFEST
from indexer.untrusted import Missing, Refused, UntrustedDir
from indexer.whoosh_internals.naming import SEGMENT_FILE, TOC_FILE, toc_name

LATEST = "LATEST"
PUBLISHED = "PUBLISHED.json"
SIGNATURE = PUBLISHED + ".sig"
# A copy of PUBLISHED.json in every pulled generation: what this host serves.
PULLED = "PULLED.json"
FORMAT = 1

# Size caps for what is read before the signature is checked.
MAX_LATEST_BYTES = 64
MAX_PUBLISHED_BYTES = 1 << 20  # about 5,000 files; a publication has a few dozen

PUBLICATION_ID = re.compile(r"g[0-9]{6}\.[0-9]{1,9}")


class ReplicaError(StoreError):
    """A publication cannot be written or used; nothing local was changed."""


class CorruptPublication(ReplicaError):
    """A file of a publication is refused: wrong size or checksum, not a regular
    file, unsigned or not signed by a trusted key."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(
            message,
            hint=hint
            or "the live index is unchanged; publish again from the indexing host "
            "(vnsearch index publish) if the next pull fails the same way",
            exit_code=ExitCode.CORRUPT,
        )


class Unauthenticated(CorruptPublication):
    """PUBLISHED.json is unsigned, or no trusted key signed it."""


class Cancelled(ReplicaError):
    """A pull was stopped (SIGTERM) before it made anything live."""


def refused(exc: Refused) -> CorruptPublication:
    if isinstance(exc, Missing):
        return CorruptPublication(f"{exc.path} is missing (listed in {PUBLISHED})")
    return CorruptPublication(str(exc))


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

    def to_bytes(self) -> bytes:
        """PUBLISHED.json as written and signed."""
        return (self.to_json() + "\n").encode("utf-8")

    @classmethod
    def parse(cls, raw: bytes, path: str) -> Publication:
        """Validate the bytes of a PUBLISHED.json (CorruptPublication if unusable)."""
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CorruptPublication(f"{path} is unreadable: {exc}") from None
        if not isinstance(data, dict):
            raise CorruptPublication(f"{path} is not a publication manifest")
        if data.get("format") != FORMAT:
            raise ReplicaError(
                f"{path} has format {data.get('format')!r}, this vnsearch reads {FORMAT}",
                hint="use the same vnsearch version to publish and to pull",
            )
        try:
            files = [
                FileEntry(str(f["name"]), int(f["size"]), str(f["sha256"])) for f in data["files"]
            ]
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            pub = cls(**{**known, "files": files})
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptPublication(f"{path} is not a publication manifest: {exc!r}") from None
        _check_publication(pub, path)
        return pub

    @classmethod
    def read(cls, directory: str | os.PathLike) -> Publication:
        """Read and validate ``directory/PUBLISHED.json``, its signature unchecked
        (the publishing host's own view; ``pull`` authenticates first)."""
        try:
            with UntrustedDir.open(directory) as d:
                raw = d.read_small(PUBLISHED, MAX_PUBLISHED_BYTES)
        except (FileNotFoundError, Missing):
            raise incomplete(Path(directory) / PUBLISHED) from None
        except Refused as exc:
            raise refused(exc) from None
        return cls.parse(raw, str(Path(directory) / PUBLISHED))


def incomplete(path: Path | str) -> ReplicaError:
    return ReplicaError(
        f"{path} is missing: the publication is incomplete",
        hint="publish again (vnsearch index publish); PUBLISHED.json is written last",
    )


def _check_publication(pub: Publication, path: str) -> None:
    if not PUBLICATION_ID.fullmatch(pub.publication) or pub.publication != (
        f"{pub.generation}.{pub.toc_generation}"
    ):
        raise CorruptPublication(f"{path}: bad publication id {pub.publication!r}")
    names = [f.name for f in pub.files]
    if len(set(names)) != len(names):
        raise CorruptPublication(f"{path}: a file is listed twice")
    for f in pub.files:
        if not (
            f.name in GENERATION_FILES
            or TOC_FILE.fullmatch(f.name)
            or SEGMENT_FILE.fullmatch(f.name)
        ):
            raise CorruptPublication(f"{path}: unexpected file name {f.name!r}")
        if f.size < 0 or not re.fullmatch(r"[0-9a-f]{64}", f.sha256):
            raise CorruptPublication(f"{path}: bad size or SHA-256 for {f.name!r}")
    required = [n for n, needed in GENERATION_FILES.items() if needed]
    if toc_name(pub.toc_generation) not in names or not set(required) <= set(names):
        raise CorruptPublication(f"{path}: the file list lacks the TOC or {MANIFEST}")
    if when_published(pub) is None:
        raise CorruptPublication(f"{path}: bad published_at {pub.published_at!r}")


def when_published(pub_or_info: Publication | dict) -> datetime | None:
    """When a publication was signed (an aware datetime), None if unreadable."""
    value = (
        pub_or_info.get("published_at")
        if isinstance(pub_or_info, dict)
        else pub_or_info.published_at
    )
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo is not None else None


def latest(dist: str | os.PathLike) -> str | None:
    """The publication LATEST names, or None when nothing was published."""
    try:
        with UntrustedDir.open(dist) as root:
            return read_latest(root)
    except FileNotFoundError:
        return None
    except Refused as exc:
        raise refused(exc) from None


def read_latest(root: UntrustedDir) -> str | None:
    try:
        data = root.read_small(LATEST, MAX_LATEST_BYTES)
    except Missing:
        return None
    name = data.decode("ascii", "replace").strip()
    if not PUBLICATION_ID.fullmatch(name):
        raise CorruptPublication(f"{root.label}/{LATEST} names {name!r}, not a publication")
    return name
