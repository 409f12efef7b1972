"""Abusive and normal clients on loopback, for the slow-client test
(tests/test_nginx_e2e.py) and bench/limits.py: connections that send a request
header line every few seconds and never finish (slowloris), sockets that connect
and send nothing, and a probe that times normal queries meanwhile.

Every client stops when told and closes what it opened; the addresses are
127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import http.client
import math
import socket
import threading
import time
from dataclasses import dataclass, field


class SlowHeaders:
    """``n`` connections that each send a request line, then one header line every
    ``every`` seconds, never the blank line that ends the headers."""

    def __init__(self, port: int, n: int, every: float = 5.0):
        self.port, self.n, self.every = port, n, every
        self.socks: list[socket.socket] = []
        self.lines_sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SlowHeaders:
        for i in range(self.n):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            s.sendall(f"GET /v1/search?q=slow{i} HTTP/1.1\r\nHost: x\r\n".encode())
            self.socks.append(s)
        self._thread.start()
        return self

    def _run(self) -> None:
        k = 0
        while not self._stop.wait(self.every):
            k += 1
            for s in self.socks:
                with contextlib.suppress(OSError):
                    s.sendall(f"X-Slow-{k}: {k}\r\n".encode())
                    self.lines_sent += 1

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(self.every + 5)
        for s in self.socks:
            s.close()


class IdleSockets:
    """``n`` connections that send nothing."""

    def __init__(self, port: int, n: int):
        self.port, self.n = port, n
        self.socks: list[socket.socket] = []

    def __enter__(self) -> IdleSockets:
        for _ in range(self.n):
            self.socks.append(socket.create_connection(("127.0.0.1", self.port), timeout=2))
        return self

    def __exit__(self, *exc) -> None:
        for s in self.socks:
            s.close()


@dataclass
class Probe:
    """Latencies (seconds) of normal queries, one at a time on fresh connections;
    ``None`` for a query that failed or timed out."""

    latencies: list[float | None] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return sum(1 for t in self.latencies if t is None)

    def percentile(self, p: float) -> float:
        """Nearest rank over every query, a failure counting as infinitely slow."""
        ordered = sorted(math.inf if t is None else t for t in self.latencies)
        if not ordered:
            return math.nan
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def probe(
    port: int, paths: list[str], seconds: float, *, rate: float = 5.0, timeout: float = 5.0
) -> Probe:
    """Send ``paths`` in turn at ``rate`` per second for ``seconds`` (each on a new
    connection, as a visitor's browser would open one), timing each."""
    out = Probe()
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        path = paths[n % len(paths)]
        t0 = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            out.latencies.append(time.monotonic() - t0 if resp.status == 200 else None)
        except (OSError, http.client.HTTPException):
            out.latencies.append(None)
        finally:
            conn.close()
        n += 1
        time.sleep(max(0.0, start + n / rate - time.monotonic()))
    return out
