"""Reading and copying local (trusted) files for replicas: checksums, copies,
hard links. A distribution directory is read only through
:class:`indexer.untrusted.UntrustedDir`."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

from indexer.untrusted import Deadline

_CHUNK = 1 << 20


def sha256_of(path: Path, deadline: Deadline | None = None) -> str:
    """SHA-256 of a local (trusted) file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            if deadline is not None:
                deadline.check(str(path))
            h.update(chunk)
    return h.hexdigest()


def copy_file(src: Path, dst: Path) -> tuple[int, str]:
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


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link the local file ``src`` as ``dst`` (files are immutable), or copy
    across devices."""
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
            raise
        copy_file(src, dst)
