"""The end-to-end harness: a real gunicorn (or any server command) on a free
loopback port, its log kept, stopped with SIGTERM and, as a last resort, its
whole session SIGKILLed; and raw HTTP requests sent byte for byte."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from search_api.server import gunicorn_command

ROOT = Path(__file__).resolve().parents[1]

READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A gunicorn started in its own session, output kept in a log file."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace")

    def wait_until(self, path: str, status: int = 200, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last = None
        with httpx.Client(base_url=self.base, timeout=2.0) as http:
            while time.monotonic() < deadline:
                assert self.proc.poll() is None, f"server exited early:\n{self.log()}"
                try:
                    last = http.get(path)
                    if last.status_code == status:
                        return
                except httpx.TransportError as exc:
                    last = exc
                time.sleep(0.1)
        pytest.fail(f"{path} not {status} after {timeout}s (last: {last!r}):\n{self.log()}")

    def stop(self) -> int:
        """SIGTERM, wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=STOP_TIMEOUT)
        finally:
            self.kill()

    def kill(self) -> None:
        """Last resort: SIGKILL the session this test started (master and workers)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without VNSEARCH_* settings or GUNICORN_CMD_ARGS, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    env.pop("GUNICORN_CMD_ARGS", None)
    env.update(extra)
    return env


@contextlib.contextmanager
def gunicorn_server(
    index_dir: str | Path, log: Path, *, workers: int, threads: int, log_level: str
) -> Iterator[Server]:
    """gunicorn as `vnsearch serve` starts it, on ``index_dir``, ready on /readyz."""
    port = free_port()
    argv, env, _ = gunicorn_command(
        bind=f"127.0.0.1:{port}", workers=workers, threads=threads, index_dir=index_dir,
        environ=clean_env(VNSEARCH_LOG_LEVEL=log_level),
    )  # fmt: skip
    server = Server(argv, env, port, log)
    try:
        server.wait_until("/readyz")
        yield server
    finally:
        server.kill()


def raw_request(port: int, request: bytes) -> tuple[int, bytes, bytes]:
    """Send bytes as they are (no client-side normalisation of the path);
    returns status, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body
