"""Search events: one JSON line per search, suggestion and result click, for
``vnsearch analytics`` (see search_api/analytics/) and the learned suggestions.

Switched on by ``VNSEARCH_EVENTS_DIR``. What a line holds (and never: no IP
address, cookie, user agent or raw query) is in :mod:`search_api.event_records`;
docs/operations.md says how long it is kept and how to delete it.

The request thread only appends a tuple of references to a bounded queue (a
``deque``: no lock, no wake-up): when the queue is full the event is dropped and
counted (``vnsearch_events_dropped_total``), never waited for. One background
thread per process wakes every :data:`FLUSH_SECONDS`, then normalises, masks,
serialises and writes what has queued up, one ``write`` per batch, so lines are
whole and never interleaved. (Waking per event instead put the writer's work
and a GIL hand-over into every request: +20% on cached searches.) Each worker
process has its own file:

    <dir>/events-<YYYYMMDD>-<host>-<pid>-<n>.jsonl.part   being written
    <dir>/events-<YYYYMMDD>-<host>-<pid>-<n>.jsonl        closed: safe to ship

A file is closed (renamed) at :data:`ROTATE_BYTES`, when the UTC day changes,
and when the worker exits; ``.part`` files left by a killed worker of this host
are closed by the next writer that starts here (a torn last line cut off).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import logging
import os
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import orjson

from search_api.event_records import BUILDERS

log = logging.getLogger("vnsearch.events")

# Events waiting for the writer; beyond this they are dropped (and counted).
MAX_QUEUE = 10_000
# Largest batch written at once, and the longest an event waits for its batch.
MAX_BATCH = 1_000
FLUSH_SECONDS = 0.5
ROTATE_BYTES = 64 * 1024 * 1024
OPEN_SUFFIX = ".part"


# -- the writer ------------------------------------------------------------------------


class EventLog:
    """The events of one process: :meth:`record` on request threads, a daemon
    thread writing them. Starts its thread on first use in each process (the
    app may be built before gunicorn forks)."""

    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        max_queue: int = MAX_QUEUE,
        rotate_bytes: int = ROTATE_BYTES,
        on_drop: Callable[[int], None] | None = None,
        on_write: Callable[[int], None] | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.directory = Path(directory)
        self.max_queue = max_queue
        self.rotate_bytes = rotate_bytes
        self.on_drop = on_drop
        self.on_write = on_write
        self.clock = clock
        self.host = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64] or "host"
        self.dropped = 0
        self.written = 0
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: deque[tuple] = deque()
        self._busy = False  # the writer holds events taken off the queue
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._file: io.FileIO | None = None
        self._path: Path | None = None
        self._day = ""
        self._bytes = 0
        self._seq = 0
        self._last_warning = float("-inf")

    # -- request threads ---------------------------------------------------------------

    def record(self, kind: str, *args) -> None:
        """Queue one event (``kind`` and the arguments of its builder); never blocks."""
        if self._pid != os.getpid():
            self.start()
        if len(self._queue) < self.max_queue:
            self._queue.append((kind, self.clock(), args))  # atomic under the GIL
            return
        self._dropped(1)

    def _dropped(self, n: int) -> None:
        self.dropped += n  # a lost increment under a race costs one count, not a request
        if self.on_drop is not None:
            self.on_drop(n)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Start this process's writer (done by the first :meth:`record` too)."""
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked child inherits neither the thread nor a usable file.
            self._queue = deque()
            self._file = None
            self._stop = threading.Event()
            self._wake = threading.Event()
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                close_orphans(self.directory, self.host)
            except OSError as exc:  # the writer will count what it cannot write
                log.warning("search events directory %s: %s", self.directory, exc)
            self._thread = threading.Thread(target=self._run, name="vnsearch-events", daemon=True)
            self._pid = os.getpid()
            self._thread.start()
            atexit.register(self.close)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued and close the file (renamed to ``.jsonl``)."""
        thread = self._thread
        if thread is None or self._pid != os.getpid():
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout)
        self._thread = None
        self._pid = 0

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while time.monotonic() < deadline:
            if not self._queue and not self._busy:
                return True
            self._wake.set()
            time.sleep(0.005)
        return False

    # -- the writer thread -------------------------------------------------------------

    def _run(self) -> None:
        q = self._queue
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            while q:
                self._busy = True
                batch: list[tuple] = []
                while q and len(batch) < MAX_BATCH:
                    batch.append(q.popleft())
                try:
                    self._write(batch)
                except Exception as exc:
                    # Disk full, directory gone or unwritable: these are lost,
                    # and counted; the next batch tries a new file.
                    self._dropped(len(batch))
                    self._failed(exc, len(batch))
                finally:
                    self._busy = False
            if self._stop.is_set():
                break
        self._close_file()

    def _failed(self, exc: Exception, n: int) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 60:  # one warning a minute, not one a batch
            self._last_warning = now
            log.warning("cannot write %d search events to %s: %s", n, self.directory, exc)
        with contextlib.suppress(OSError):
            self._close_file()
        self._file = None

    def _write(self, batch: list[tuple]) -> None:
        lines: dict[str, list[bytes]] = {}
        for kind, ts, args in batch:
            try:
                event = BUILDERS[kind](ts, *args)
            except Exception:
                log.warning("cannot build a %s event", kind, exc_info=True)
                continue
            # Absent means null, false or empty: lines stay short.
            event = {k: v for k, v in event.items() if v is not None and v is not False and v != []}
            lines.setdefault(event["time"][:10].replace("-", ""), []).append(
                orjson.dumps(event) + b"\n"
            )
        for day, day_lines in lines.items():
            data = b"".join(day_lines)
            f = self._file_for(day, len(data))
            f.write(data)  # unbuffered: one write of whole lines
            self._bytes += len(data)
            self.written += len(day_lines)
            if self.on_write is not None:
                self.on_write(len(day_lines))

    def _file_for(self, day: str, size: int) -> io.FileIO:
        if self._file is not None and (
            day != self._day or (self._bytes + size > self.rotate_bytes and self._bytes > 0)
        ):
            self._close_file()
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._day = day
            while True:
                self._seq += 1
                name = f"events-{day}-{self.host}-{os.getpid()}-{self._seq}.jsonl"
                path = self.directory / (name + OPEN_SUFFIX)
                if not path.exists() and not (self.directory / name).exists():
                    break
            self._file = open(path, "xb", buffering=0)  # noqa: SIM115 (kept open)
            self._path = path
            self._bytes = 0
        return self._file

    def _close_file(self) -> None:
        if self._file is None:
            return
        self._file.close()
        self._file = None
        if self._path is not None:
            with contextlib.suppress(OSError):
                os.replace(self._path, self._path.with_suffix(""))
        self._path = None


def close_orphans(directory: Path, host: str) -> list[Path]:
    """Close the ``.part`` files that dead processes of ``host`` left: cut a torn
    last line, rename to ``.jsonl``. Returns the closed files."""
    closed = []
    pattern = re.compile(rf"events-\d{{8}}-{re.escape(host)}-(\d+)-\d+\.jsonl\.part")
    for path in directory.glob(f"events-*-{host}-*.jsonl.part"):
        m = pattern.fullmatch(path.name)
        if m is None or _alive(int(m.group(1))):
            continue
        with contextlib.suppress(OSError):
            _cut_torn_line(path)
            os.replace(path, path.with_suffix(""))
            closed.append(path.with_suffix(""))
    return closed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cut_torn_line(path: Path) -> None:
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        if size == 0:
            return
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return
        # Find the last newline (lines are short: read back in blocks).
        pos = size
        while pos > 0:
            start = max(0, pos - 65536)
            f.seek(start)
            block = f.read(pos - start)
            i = block.rfind(b"\n")
            if i >= 0:
                f.truncate(start + i + 1)
                return
            pos = start
        f.truncate(0)
