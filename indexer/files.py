"""Small file and clock helpers shared by the writer, the replicas and the CLI.

One home for them (issue 19): the durability rules (fsync the data, then the
directory; create temporary files new, never through a planted link) are the
same wherever an index home or a distribution directory is written.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path


def utc_now(timespec: str = "seconds") -> str:
    """The current UTC time in ISO 8601. Publications use microseconds: a pull
    refuses one signed before the live one, and two may come within a second."""
    return datetime.now(UTC).isoformat(timespec=timespec)


def fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write-then-rename, fsynced. The temporary file is created new, never opened
    through whatever is there (in a distribution directory, a planted link)."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def tree_size(path: Path) -> int:
    """Bytes of the regular files below ``path``; files that vanish while it
    walks (a generation being pruned) are skipped."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def human_size(n: float) -> str:
    """``1536`` -> ``1.5 KB`` (binary multiples, as ``du -h``)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"
