"""Reading files from a directory that someone else can write (a distribution
directory): only what is asked for, never more than declared, never elsewhere.

- Every file is opened relative to the directory's descriptor, by a plain name,
  with ``O_NOFOLLOW``: a symbolic link is refused, never followed, so nothing
  outside the directory is read and nothing about it (size, checksum) is told.
- Only regular files: the type is checked with ``lstat`` before opening (a
  device is never opened) and with ``fstat`` after (the file may have been
  swapped in between). ``O_NONBLOCK`` keeps a FIFO from blocking the open.
- Small files are read up to a cap; copies stop at the declared size, and a
  file whose size is not the declared one is refused before it is read (a
  sparse 200 MB file costs one ``fstat``).
- A :class:`Deadline` bounds a whole operation: copies check it between chunks.

Every refusal is a :class:`Refused` naming the file and saying what is wrong
with it, in words that depend only on the file itself.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

_CHUNK = 1 << 20
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class Refused(Exception):
    """A file of an untrusted directory is not what it must be."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path} {reason}")
        self.path = path
        self.reason = reason


class Missing(Refused):
    """The file does not exist."""


class Deadline:
    """A time limit on a whole operation (seconds from now)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def check(self, path: str) -> None:
        if time.monotonic() > self._at:
            raise Refused(
                path, f"was still being read when the {self.seconds:g} s time limit ran out"
            )


class UntrustedDir:
    """A directory opened once; files read relative to its descriptor.

    Use as a context manager (the descriptor is closed on exit).
    """

    def __init__(self, fd: int, label: str):
        self._fd = fd
        self.label = label  # how messages name it: the path as the caller gave it

    @classmethod
    def open(cls, path: str | os.PathLike) -> UntrustedDir:
        """Open ``path``, a directory the operator named (it may be a symbolic
        link: the operator's choice). FileNotFoundError when it is absent."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise Refused(str(path), _reason(exc)) from None
        return cls(fd, str(path))

    def subdir(self, name: str) -> UntrustedDir:
        """The subdirectory ``name`` (a plain name), never through a link."""
        path = self._lstat_as(name, stat.S_ISDIR, "directory")
        try:
            fd = os.open(
                name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self._fd
            )
        except OSError as exc:
            raise Refused(path, _reason(exc)) from None
        return UntrustedDir(fd, path)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> UntrustedDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- files -----------------------------------------------------------------

    def read_small(self, name: str, cap: int) -> bytes:
        """The whole of file ``name``, refused when it holds more than ``cap`` bytes."""
        path = self._path(name)
        fd = self._open_regular(name)
        try:
            if os.fstat(fd).st_size > cap:
                raise Refused(path, f"is larger than its {cap}-byte limit")
            data = _read_upto(fd, cap + 1)
        except OSError as exc:
            raise Refused(path, _reason(exc)) from None
        finally:
            os.close(fd)
        if len(data) > cap:
            raise Refused(path, f"is larger than its {cap}-byte limit")
        return data

    def copy(self, name: str, dst: Path, size: int, deadline: Deadline | None = None) -> str:
        """Copy file ``name``, which must hold exactly ``size`` bytes, to the new
        file ``dst`` (fsynced); the SHA-256 of what was copied (hex).

        Refused when the file is not a regular file or not ``size`` bytes long,
        before or while it is read; ``dst`` is then left partial (the caller
        stages into a directory it removes). OSError for ``dst``'s own failures.
        """
        h = hashlib.sha256()
        with open(dst, "xb") as out:
            for chunk in self._read_exactly(name, size, deadline):
                h.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return h.hexdigest()

    def sha256(self, name: str, size: int, deadline: Deadline | None = None) -> str:
        """The SHA-256 of file ``name``, which must hold exactly ``size`` bytes."""
        h = hashlib.sha256()
        for chunk in self._read_exactly(name, size, deadline):
            h.update(chunk)
        return h.hexdigest()

    def _read_exactly(self, name: str, size: int, deadline: Deadline | None) -> Iterator[bytes]:
        """The bytes of regular file ``name`` in chunks, Refused unless it holds
        exactly ``size`` bytes (checked before and while reading: one byte more
        than is left is asked for, so a file that grew is caught) or when reading
        it fails."""
        path = self._path(name)
        fd = self._open_regular(name)
        try:
            if os.fstat(fd).st_size != size:
                raise Refused(path, _wrong_size(size))
            left = size
            while True:
                if deadline is not None:
                    deadline.check(path)
                try:
                    chunk = os.read(fd, min(_CHUNK, left + 1))
                except OSError as exc:
                    raise Refused(path, _reason(exc)) from None
                if not chunk:
                    break
                if len(chunk) > left:
                    raise Refused(path, _wrong_size(size))
                left -= len(chunk)
                yield chunk
            if left:
                raise Refused(path, _wrong_size(size))
        finally:
            os.close(fd)

    # -- helpers ---------------------------------------------------------------

    def _path(self, name: str) -> str:
        return os.path.join(self.label, name)

    def _lstat_as(self, name: str, is_kind: Callable[[int], bool], kind: str) -> str:
        """The label of the plain name ``name`` once its own inode (a link is not
        followed) is of ``kind``; Missing or Refused otherwise."""
        _plain(name)
        path = self._path(name)
        try:
            st = os.stat(name, dir_fd=self._fd, follow_symlinks=False)
        except FileNotFoundError:
            raise Missing(path, "is missing") from None
        except OSError as exc:
            raise Refused(path, _reason(exc)) from None
        if not is_kind(st.st_mode):
            raise Refused(path, _not_a(st, kind))
        return path

    def _open_regular(self, name: str) -> int:
        path = self._lstat_as(name, stat.S_ISREG, "regular file")
        try:
            fd = os.open(name, _OPEN_FLAGS, dir_fd=self._fd)
        except FileNotFoundError:
            raise Missing(path, "is missing") from None
        except OSError as exc:
            raise Refused(path, _reason(exc)) from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped since the lstat
            os.close(fd)
            raise Refused(path, _not_a(st, "regular file"))
        return fd


def _plain(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise Refused(repr(name), "is not a plain file name")


def _read_upto(fd: int, n: int) -> bytes:
    parts, left = [], n
    while left > 0:
        chunk = os.read(fd, min(_CHUNK, left))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _wrong_size(size: int) -> str:
    # The declared size only: what the file really holds is not told (it may be a
    # hard link to a file the attacker could not read).
    return f"does not hold the {size} bytes declared for it (a truncated or partial copy?)"


def _not_a(st: os.stat_result, wanted: str) -> str:
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        what = "a symbolic link"
    elif stat.S_ISFIFO(mode):
        what = "a FIFO"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        what = "a device"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    elif stat.S_ISDIR(mode):
        what = "a directory"
    else:
        what = "not a regular file"
    return f"is {what}, not a {wanted}: refused"


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symbolic link: refused"
    return f"cannot be read ({os.strerror(exc.errno) if exc.errno else exc})"
