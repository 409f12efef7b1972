"""Index replicas: publish the live generation to a distribution directory on the
indexing host, pull it into the local index home on every API host.

    <dist>/LATEST               id of the publication to serve (replaced atomically)
    <dist>/g000007.3/           generation g000007 at Whoosh commit (TOC) 3:
        MANIFEST.json             the generation's manifest, as it was when published
        _MAIN_3.toc               Whoosh's table of contents of that commit
        MAIN_<segment>.seg ...    the segment files that TOC needs
        PUBLISHED.json            file list with sizes and SHA-256 (written last)
        PUBLISHED.json.sig        Ed25519 signature of PUBLISHED.json's exact bytes
    <dist>/g000007.3.tmp/       a publication being written (never named by LATEST)

Trust: anyone who can write ``<dist>`` could otherwise run code on every API host
(Whoosh's TOC and parts of its segments are pickles). So ``pull`` first reads
LATEST, PUBLISHED.json and its signature (each within a small size cap, regular
files only, never through a symbolic link: :mod:`indexer.untrusted`) and checks
the signature against the trusted public keys (:mod:`indexer.signing`); then it
copies each listed file with its signed size as a byte limit and its SHA-256
checked while copying; only then does anything open the staged index.

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
import errno
import hashlib
import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import TOC

from indexer.errors import ExitCode, StoreError
from indexer.files import fsync_dir, human_size, utc_now, write_atomic
from indexer.schema import SCHEMA_VERSION
from indexer.signing import SIGNATURE_BYTES, SigningKey, TrustedKeys, load_trusted
from indexer.store import MANIFEST, IndexHome, Manifest, repair_manifest
from indexer.untrusted import Deadline, Missing, Refused, UntrustedDir

LATEST = "LATEST"
PUBLISHED = "PUBLISHED.json"
SIGNATURE = PUBLISHED + ".sig"
# A copy of PUBLISHED.json in every pulled generation: what this host serves.
PULLED = "PULLED.json"
FORMAT = 1
INDEX_NAME = "MAIN"  # Whoosh's default index name, the one store.py uses


# Files of a generation, besides Whoosh's TOC and segments, that travel with each
# publication; True when a generation must have it. Unlike segments they may
# change at every commit, so a pull always fetches them and, on an update in
# place, replaces them after the TOC (the manifest last).
# Suggestions learned from searches (vnsearch analytics suggestions): written in
# the index home, copied into the generation by each new publication.
LEARNED_SUGGESTIONS = "SUGGESTIONS.json"
GENERATION_FILES: dict[str, bool] = {MANIFEST: True, LEARNED_SUGGESTIONS: False}

# Size caps for what is read before the signature is checked.
MAX_LATEST_BYTES = 64
MAX_PUBLISHED_BYTES = 1 << 20  # about 5,000 files; a publication has a few dozen
DEFAULT_TIMEOUT = 1800.0  # seconds for a whole pull (systemd's TimeoutStartSec too)
_FREE_SPACE_MARGIN = 64 << 20  # bytes left free on the index home's filesystem

_PUBLICATION_ID = re.compile(r"g[0-9]{6}\.[0-9]{1,9}")
# Files a publication may hold: plain names, nothing that could leave the directory.
_TOC_FILE = re.compile(r"_MAIN_([0-9]+)\.toc")
_SEGMENT_FILE = re.compile(r"MAIN_[0-9a-z]+\.[A-Za-z0-9_.]+")
_CHUNK = 1 << 20


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


def _refused(exc: Refused) -> CorruptPublication:
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
            raise _incomplete(Path(directory) / PUBLISHED) from None
        except Refused as exc:
            raise _refused(exc) from None
        return cls.parse(raw, str(Path(directory) / PUBLISHED))


def _incomplete(path: Path | str) -> ReplicaError:
    return ReplicaError(
        f"{path} is missing: the publication is incomplete",
        hint="publish again (vnsearch index publish); PUBLISHED.json is written last",
    )


def _check_publication(pub: Publication, path: str) -> None:
    if not _PUBLICATION_ID.fullmatch(pub.publication) or pub.publication != (
        f"{pub.generation}.{pub.toc_generation}"
    ):
        raise CorruptPublication(f"{path}: bad publication id {pub.publication!r}")
    names = [f.name for f in pub.files]
    if len(set(names)) != len(names):
        raise CorruptPublication(f"{path}: a file is listed twice")
    for f in pub.files:
        if not (
            f.name in GENERATION_FILES
            or _TOC_FILE.fullmatch(f.name)
            or _SEGMENT_FILE.fullmatch(f.name)
        ):
            raise CorruptPublication(f"{path}: unexpected file name {f.name!r}")
        if f.size < 0 or not re.fullmatch(r"[0-9a-f]{64}", f.sha256):
            raise CorruptPublication(f"{path}: bad size or SHA-256 for {f.name!r}")
    required = [n for n, needed in GENERATION_FILES.items() if needed]
    if _toc_name(pub.toc_generation) not in names or not set(required) <= set(names):
        raise CorruptPublication(f"{path}: the file list lacks the TOC or {MANIFEST}")
    if _published_at(pub) is None:
        raise CorruptPublication(f"{path}: bad published_at {pub.published_at!r}")


def _published_at(pub_or_info: Publication | dict) -> datetime | None:
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


def _toc_name(generation: int) -> str:
    return f"_{INDEX_NAME}_{generation}.toc"


# -- files -------------------------------------------------------------------------


def _sha256(path: Path, deadline: Deadline | None = None) -> str:
    """SHA-256 of a local (trusted) file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            if deadline is not None:
                deadline.check(str(path))
            h.update(chunk)
    return h.hexdigest()


def _copy_file(src: Path, dst: Path) -> tuple[int, str]:
    """Copy the local (trusted) file ``src`` to a new file ``dst`` (fsynced); the
    size and SHA-256 of what was read. Distribution directories are read only
    through :class:`UntrustedDir` (:func:`_fetch`)."""
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


def _fetch(source: UntrustedDir, entry: FileEntry, dst: Path, deadline: Deadline) -> str:
    """Copy a listed file of a publication to ``dst``, within its listed size;
    the SHA-256 of what was copied. The only place a pull reads file contents
    from a distribution directory (besides the capped LATEST, PUBLISHED.json
    and its signature)."""
    return source.copy(entry.name, dst, entry.size, deadline)


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link the local file ``src`` as ``dst`` (files are immutable), or copy
    across devices."""
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        _copy_file(src, dst)


def latest(dist: str | os.PathLike) -> str | None:
    """The publication LATEST names, or None when nothing was published."""
    try:
        with UntrustedDir.open(dist) as root:
            return _read_latest(root)
    except FileNotFoundError:
        return None
    except Refused as exc:
        raise _refused(exc) from None


def _read_latest(root: UntrustedDir) -> str | None:
    try:
        data = root.read_small(LATEST, MAX_LATEST_BYTES)
    except Missing:
        return None
    name = data.decode("ascii", "replace").strip()
    if not _PUBLICATION_ID.fullmatch(name):
        raise CorruptPublication(f"{root.label}/{LATEST} names {name!r}, not a publication")
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
        toc = TOC.read(ix.storage, INDEX_NAME)
        names = [_toc_name(toc.generation)]
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
    with home.lock(wait=wait, command="vnsearch index publish"):
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
            entries = [FileEntry(n, (gen / n).stat().st_size, _sha256(gen / n)) for n in names]
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
        tmp = gen / (LEARNED_SUGGESTIONS + ".tmp")
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
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
            and _sha256(src) == old.sha256
            and _link_previous(directory / src.name, staging, old)
        ):
            report.linked_files += 1
            return FileEntry(src.name, size, old.sha256)
    size, digest = _copy_file(src, staging / src.name)
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
        if p.is_dir() and _PUBLICATION_ID.fullmatch(p.name) and p.name != live:
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


# -- pull ----------------------------------------------------------------------------


@dataclass
class PullReport:
    publication: str
    generation: str
    # "unchanged" (already live), "new" (a generation switched to),
    # "updated" (a newer commit of the live generation applied in place)
    action: str = "unchanged"
    previous: str | None = None
    signed_by: str | None = None  # the trusted key's file name; None: --allow-unsigned
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
        signed = f"signed by {self.signed_by}" if self.signed_by else "unsigned"
        return (
            f"pulled {self.publication} ({signed}): generation {self.generation} {how} "
            f"(fetched {self.fetched_files} files, {human_size(self.fetched_bytes)}; reused "
            f"{self.reused_files} files, {human_size(self.reused_bytes)}) in {self.seconds:.1f} s"
        )


@dataclass
class _Authenticated:
    source: UntrustedDir  # the publication's directory, open
    pub: Publication
    raw: bytes  # PUBLISHED.json exactly as signed
    signed_by: str | None


def pull(
    home: IndexHome,
    dist: str | os.PathLike,
    *,
    trusted: TrustedKeys | None = None,
    allow_unsigned: bool = False,
    wait: float = 5.0,
    timeout: float = DEFAULT_TIMEOUT,
    cancel: threading.Event | None = None,
) -> PullReport:
    """Make the publication LATEST names in ``dist`` live in ``home``.

    ``PUBLISHED.json`` must be signed by one of the ``trusted`` keys; with
    ``allow_unsigned`` (and no keys) it is taken as it is, for a directory only
    trusted users can write. Nothing of the publication is opened before the
    signature is checked and every file is copied and checksummed; ``timeout``
    bounds the whole pull.

    Raises :class:`ReplicaError` (nothing published, incompatible schema, no
    room), :class:`CorruptPublication` (a file refused: size, checksum, type,
    signature, an older publication; naming the file) or :class:`Cancelled`;
    in every case the live index is left as it was.
    """
    if trusted is None and not allow_unsigned:
        raise ReplicaError(
            "no verify key: a pull checks the publication's signature before it reads "
            "anything else",
            hint="pass --verify-key FILE|DIR (or set VNSEARCH_VERIFY_KEY) with the "
            "publisher's public key; --allow-unsigned only for a local directory that "
            "only trusted users can write",
            exit_code=ExitCode.USAGE,
        )
    started = time.perf_counter()
    deadline = Deadline(timeout)
    dist = Path(dist)
    try:
        root = UntrustedDir.open(dist)
    except FileNotFoundError:
        raise _nothing_published(dist) from None
    except Refused as exc:
        raise _refused(exc) from None
    try:
        with root:
            auth = _authenticate_retrying(root, trusted)
            with auth.source:
                return _pull_authenticated(home, auth, wait, deadline, cancel, started)
    except Refused as exc:
        raise _refused(exc) from None


def _nothing_published(dist: Path) -> ReplicaError:
    return ReplicaError(
        f"nothing published in {dist} (no {LATEST})",
        hint="run vnsearch index publish --to DIR on the indexing host",
        exit_code=ExitCode.NO_INDEX,
    )


def _authenticate_retrying(root: UntrustedDir, trusted: TrustedKeys | None) -> _Authenticated:
    """:func:`_authenticate`, once more after a pause if the signature did not
    match: a re-publication (rollback) replaces PUBLISHED.json and its signature
    with two renames, and a pull may read between them."""
    try:
        return _authenticate(root, trusted)
    except Unauthenticated:
        time.sleep(0.5)
        return _authenticate(root, trusted)


def _authenticate(root: UntrustedDir, trusted: TrustedKeys | None) -> _Authenticated:
    """Read LATEST, PUBLISHED.json and its signature (capped, regular files only)
    and check the signature; parse PUBLISHED.json only after that."""
    pub_id = _read_latest(root)
    if pub_id is None:
        raise _nothing_published(Path(root.label))
    try:
        source = root.subdir(pub_id)
    except Missing:
        raise ReplicaError(
            f"{root.label}/{LATEST} names {pub_id}, which is not there",
            hint="publish again (vnsearch index publish); LATEST is written last",
        ) from None
    try:
        try:
            raw = source.read_small(PUBLISHED, MAX_PUBLISHED_BYTES)
        except Missing:
            raise _incomplete(f"{source.label}/{PUBLISHED}") from None
        signed_by = None
        if trusted is not None:
            signed_by = _verify(source, raw, trusted)
        pub = Publication.parse(raw, f"{source.label}/{PUBLISHED}")
        if pub.publication != pub_id:
            raise CorruptPublication(
                f"{source.label}/{PUBLISHED} is the manifest of {pub.publication}, not of {pub_id}"
            )
    except BaseException:
        source.close()
        raise
    return _Authenticated(source, pub, raw, signed_by)


def _verify(source: UntrustedDir, raw: bytes, trusted: TrustedKeys) -> str:
    where = f"{source.label}/{PUBLISHED}"
    try:
        signature = source.read_small(SIGNATURE, SIGNATURE_BYTES)
    except Missing:
        raise Unauthenticated(
            f"{where} is not signed ({SIGNATURE} is missing): refused",
            hint="publish with vnsearch index publish --sign-key FILE; pull an unsigned "
            "publication only from a trusted local directory, with --allow-unsigned",
        ) from None
    name = trusted.verify(raw, signature)
    if name is None:
        raise Unauthenticated(
            f"{where} is not signed by a trusted key (tried {', '.join(trusted.names)}): "
            "refused; the live index is unchanged",
            hint="if the publisher's key was replaced, add its new .pub file to the "
            "--verify-key directory; otherwise someone else wrote this publication",
        )
    return name


def _pull_authenticated(
    home: IndexHome,
    auth: _Authenticated,
    wait: float,
    deadline: Deadline,
    cancel: threading.Event | None,
    started: float,
) -> PullReport:
    pub = auth.pub
    if pub.schema_version != SCHEMA_VERSION:
        raise ReplicaError(
            f"publication {pub.publication} has schema version {pub.schema_version}, "
            f"this vnsearch needs {SCHEMA_VERSION}; the live index is unchanged",
            hint="run the same vnsearch version on the indexing host and on this host",
        )
    report = PullReport(
        pub.publication,
        pub.generation,
        signed_by=auth.signed_by,
        files=len(pub.files),
        bytes=pub.total_bytes,
    )
    with home.lock(wait=wait, command="vnsearch index pull"):
        home.clean_leftovers()
        live = home.current_name()
        report.previous = live
        if live == pub.generation and _pulled(home.path / live) == pub.publication:
            report.seconds = time.perf_counter() - started
            return report
        _check_not_older(home, live, auth)
        _check_free_space(home, auth)
        staging = home.path / (pub.generation + ".tmp")
        try:
            _stage(home, auth, staging, report, cancel, deadline)
            _check_opens(staging, pub)  # the first time anything is unpickled
            if live == pub.generation:
                _advance_in_place(home.path / live, staging, pub)
                report.action = "updated"
            else:
                _install(home, staging, pub)
                home.switch(pub.generation)
                home.prune(live)
                report.action = "new"
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    report.seconds = time.perf_counter() - started
    return report


def _pulled_info(gen: Path) -> dict | None:
    try:
        info = json.loads((gen / PULLED).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _pulled(gen: Path) -> str | None:
    info = _pulled_info(gen)
    return info.get("publication") if info else None


def _check_not_older(home: IndexHome, live: str | None, auth: _Authenticated) -> None:
    """Refuse a publication signed before the live one: someone who can write
    the distribution directory could otherwise put an older (genuine, signed)
    publication back and roll the fleet back. A rollback by the operator signs
    the older generation anew, so it is newer."""
    if live is None:
        return
    info = _pulled_info(home.path / live)
    live_at = _published_at(info) if info else None
    pub_at = _published_at(auth.pub)
    if live_at is None or pub_at is None or pub_at >= live_at:
        return
    raise CorruptPublication(
        f"{auth.source.label}/{PUBLISHED}: publication {auth.pub.publication} was signed at "
        f"{auth.pub.published_at}, before the live {info.get('publication')} "
        f"({info.get('published_at')}): an older publication put back? refused; "
        "the live index is unchanged",
        hint="to roll the fleet back, run vnsearch index rollback, then vnsearch index "
        "publish on the indexing host: that signs the older generation anew",
    )


def _check_free_space(home: IndexHome, auth: _Authenticated) -> None:
    """Room for what the pull will copy (files no local generation has with the
    same name and size), by the signed sizes, before anything is copied."""
    needed = 0
    for entry in auth.pub.files:
        local = [] if entry.name in GENERATION_FILES else _local_copies(home, entry.name)
        if not any(p.stat().st_size == entry.size for p in local):
            needed += entry.size
    free = shutil.disk_usage(home.path).free
    if needed + _FREE_SPACE_MARGIN > free:
        raise ReplicaError(
            f"publication {auth.pub.publication} needs {human_size(needed)} on the filesystem of "
            f"{home.path} ({auth.source.label}/{PUBLISHED}), {human_size(free)} is free "
            f"(and {human_size(_FREE_SPACE_MARGIN)} is kept free); the live index is unchanged",
            hint="free space on that filesystem (a host keeps the live and the previous "
            "generation, and stages the next one beside them), or give it more",
        )


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
    auth: _Authenticated,
    staging: Path,
    report: PullReport,
    cancel: threading.Event | None,
    deadline: Deadline,
) -> None:
    staging.mkdir()
    for entry in auth.pub.files:
        if cancel is not None and cancel.is_set():
            raise Cancelled("pull stopped before it finished; the live index is unchanged")
        dst = staging / entry.name
        if entry.name not in GENERATION_FILES and _reuse(home, entry, dst, deadline):
            report.reused_files += 1
            report.reused_bytes += entry.size
            continue
        digest = _fetch(auth.source, entry, dst, deadline)
        report.fetched_files += 1
        report.fetched_bytes += entry.size
        if digest != entry.sha256:
            raise CorruptPublication(
                f"{auth.source.label}/{entry.name} is corrupt: its SHA-256 is not the one "
                f"{PUBLISHED} lists"
            )
    write_atomic(staging / PULLED, auth.raw)  # exactly what was signed
    fsync_dir(staging)


def _reuse(home: IndexHome, entry: FileEntry, dst: Path, deadline: Deadline) -> bool:
    """Link a local file with the same name, size and checksum into ``dst``."""
    for local in _local_copies(home, entry.name):
        try:
            if local.stat().st_size != entry.size or _sha256(local, deadline) != entry.sha256:
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
    fsync_dir(home.path)


def _toc_generation(gen: Path) -> int:
    found = [int(m.group(1)) for p in gen.iterdir() if (m := _TOC_FILE.fullmatch(p.name))]
    return max(found, default=-1)


def _advance_in_place(gen: Path, staging: Path, pub: Publication) -> None:
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
    toc = _toc_name(pub.toc_generation)
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
            _TOC_FILE.fullmatch(p.name)
            or _SEGMENT_FILE.fullmatch(p.name)
            or p.name in GENERATION_FILES
        ):
            with contextlib.suppress(OSError):
                p.unlink()


def pull_loop(
    home: IndexHome,
    dist: str | os.PathLike,
    interval: float,
    *,
    stop: threading.Event,
    echo: Callable[[str], None] = print,
    verify_keys: Sequence[str | os.PathLike] = (),
    **options,
) -> None:
    """Pull every ``interval`` seconds until ``stop`` is set; ``options`` go to
    :func:`pull` (``trusted``, ``allow_unsigned``, ``wait``, ``timeout``).
    ``verify_keys`` (files or directories of ``.pub`` files) are read afresh
    at every poll, so a key added or retired during a rotation counts from the
    next poll on without a restart. A failed pull is reported and retried at
    the next poll; the live index stays as it was."""
    last_error = ""
    while not stop.is_set():
        try:
            if verify_keys:
                options["trusted"] = load_trusted(verify_keys)
            report = pull(home, dist, cancel=stop, **options)
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
