"""The single-writer lock of an index home (``<home>/write.lock``).

Every command that writes an index home (build, update, delete, rollback,
publish, pull) holds it. It is an flock: it dies with its process, so a killed
writer never leaves a stale lock behind. The file records who holds it (pid,
host, command, since) for the message another writer prints.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Iterator

from indexer.errors import WriterBusy
from indexer.files import utc_now
from indexer.home import LOCK, IndexHome

__all__ = ["writer_lock"]

# -- fork safety ---------------------------------------------------------------------
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


@contextlib.contextmanager
def writer_lock(
    home: IndexHome, wait: float = 5.0, command: str = "", *, record: bool = True
) -> Iterator[None]:
    """Hold the single-writer lock of ``home``, waiting up to ``wait`` seconds.
    ``record=False`` writes nothing (not even who holds it): for a reader
    such as ``check``, which must work on a full or read-only disk."""
    if record:
        home.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(home.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    else:
        fd = os.open(home.path / LOCK, os.O_RDONLY)
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
                        f"another writer holds {home.path / LOCK}: {holder or 'unknown'}",
                        hint="wait for it to finish, or pass --wait SECONDS to wait longer",
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
