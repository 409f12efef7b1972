"""``pull``: make the publication LATEST names live in the local index home,
after checking its signature and copying and checksumming every file; and
``pull_loop``, which pulls at an interval."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexer.errors import ExitCode
from indexer.files import fsync_dir, human_size, write_atomic
from indexer.generations import clean_leftovers, prune, switch
from indexer.home import GENERATION_FILES, IndexHome
from indexer.lock import writer_lock
from indexer.replica.authentication import (
    Authenticated,
    authenticate_retrying,
    nothing_published,
)
from indexer.replica.copying import link_or_copy, sha256_of
from indexer.replica.installing import advance_in_place, check_opens, install
from indexer.replica.publication import (
    PUBLISHED,
    PULLED,
    Cancelled,
    CorruptPublication,
    FileEntry,
    ReplicaError,
    refused,
    when_published,
)
from indexer.schema import SCHEMA_VERSION
from indexer.signing import TrustedKeys, load_trusted
from indexer.untrusted import Deadline, Refused, UntrustedDir

__all__ = ["DEFAULT_TIMEOUT", "PullReport", "pull", "pull_loop"]

DEFAULT_TIMEOUT = 1800.0  # seconds for a whole pull (systemd's TimeoutStartSec too)
_FREE_SPACE_MARGIN = 64 << 20  # bytes left free on the index home's filesystem


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
        raise nothing_published(dist) from None
    except Refused as exc:
        raise refused(exc) from None
    try:
        with root:
            auth = authenticate_retrying(root, trusted)
            with auth.source:
                return _pull_authenticated(home, auth, wait, deadline, cancel, started)
    except Refused as exc:
        raise refused(exc) from None


def _pull_authenticated(
    home: IndexHome,
    auth: Authenticated,
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
    with writer_lock(home, wait=wait, command="vnsearch index pull"):
        clean_leftovers(home)
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
            check_opens(staging, pub)  # the first time anything is unpickled
            if live == pub.generation:
                advance_in_place(home.path / live, staging, pub)
                report.action = "updated"
            else:
                install(home, staging, pub)
                switch(home, pub.generation)
                prune(home, live)
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


def _check_not_older(home: IndexHome, live: str | None, auth: Authenticated) -> None:
    """Refuse a publication signed before the live one: someone who can write
    the distribution directory could otherwise put an older (genuine, signed)
    publication back and roll the fleet back. A rollback by the operator signs
    the older generation anew, so it is newer."""
    if live is None:
        return
    info = _pulled_info(home.path / live)
    live_at = when_published(info) if info else None
    pub_at = when_published(auth.pub)
    if info is None or live_at is None or pub_at is None or pub_at >= live_at:
        return
    raise CorruptPublication(
        f"{auth.source.label}/{PUBLISHED}: publication {auth.pub.publication} was signed at "
        f"{auth.pub.published_at}, before the live {info.get('publication')} "
        f"({info.get('published_at')}): an older publication put back? refused; "
        "the live index is unchanged",
        hint="to roll the fleet back, run vnsearch index rollback, then vnsearch index "
        "publish on the indexing host: that signs the older generation anew",
    )


def _check_free_space(home: IndexHome, auth: Authenticated) -> None:
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
    auth: Authenticated,
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
            if local.stat().st_size != entry.size or sha256_of(local, deadline) != entry.sha256:
                continue
            link_or_copy(local, dst)
        except OSError:
            dst.unlink(missing_ok=True)
            continue
        return True
    return False


def _fetch(source: UntrustedDir, entry: FileEntry, dst: Path, deadline: Deadline) -> str:
    """Copy a listed file of a publication to ``dst``, within its listed size;
    the SHA-256 of what was copied. The only place a pull reads file contents
    from a distribution directory (besides the capped LATEST, PUBLISHED.json
    and its signature)."""
    return source.copy(entry.name, dst, entry.size, deadline)


def pull_loop(
    home: IndexHome,
    dist: str | os.PathLike,
    interval: float,
    *,
    stop: threading.Event,
    echo: Callable[[str], None] = print,
    verify_keys: Sequence[str | os.PathLike] = (),
    **options: Any,
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
            hint = getattr(exc, "hint", "")
            message = f"error: {exc}" + (f" (hint: {hint})" if hint else "")
            if message != last_error:  # one line per distinct problem, not per poll
                echo(message)
            last_error = message
        stop.wait(interval)
