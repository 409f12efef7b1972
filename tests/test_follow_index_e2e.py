"""API workers follow the index without a restart.

A real gunicorn (2 gthread workers) serves a steady, bounded stream of queries on
loopback while ``vnsearch index build`` and then ``vnsearch index update`` run as
separate processes. Not one request may fail, and the new documents must be
found by every worker within 2 seconds of the command finishing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from indexer.build import build
from indexer.home import IndexHome
from indexer.sources import Article

ROOT = Path(__file__).resolve().parents[1]
RATE = 20.0  # queries per second from the load thread
MAX_SECONDS = 120.0  # the load stops by itself after this, whatever happens
FOLLOW_WITHIN = 2.0  # seconds after the CLI exits
QUERIES = ["cong tac", "tuyên giáo", "hai dang", "sa mac", "quận 5", '"nhân dân"', ""]

TEXT = (
    "công tác tuyên giáo quận ủy hội nghị triển khai nhân dân phường thành phố "
    "giáo dục văn hóa xã hội kinh tế đầu tư xây dựng"
)
WORDS = TEXT.split(" ")


def row(i: int, tag: str = "") -> dict:
    body = " ".join(WORDS[(i * 5 + k) % len(WORDS)] for k in range(80))
    return {
        "id": f"e{i}",
        "title": f"Tin số {i} {tag}".strip(),
        "body": f"{body}. {tag}".strip(),
        "published": f"2020-01-{1 + i % 28:02d}",
        "site": "quan5",
    }


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Load:
    """A bounded stream of queries from one thread; records every outcome."""

    def __init__(self, base: str):
        self.base = base
        self.sent = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        started = time.monotonic()
        with httpx.Client(base_url=self.base, timeout=10.0) as http:
            while not self._stop.is_set() and time.monotonic() - started < MAX_SECONDS:
                q = QUERIES[self.sent % len(QUERIES)]
                self.sent += 1
                try:
                    r = http.get("/v1/search", params={"q": q, "per_page": 5})
                    if r.status_code != 200:
                        self.failures.append(f"{q!r}: {r.status_code} {r.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(f"{q!r}: {type(exc).__name__}: {exc}")
                self._stop.wait(1.0 / RATE)


def total_hits(base: str, q: str) -> int:
    # A new connection each time, so that requests reach both workers.
    r = httpx.get(f"{base}/v1/search", params={"q": q, "per_page": 1}, timeout=10.0)
    assert r.status_code == 200, r.text
    return r.json()["total_hits"]


def followed_within(base: str, q: str, expected: int, finished: float) -> float:
    """Seconds from ``finished`` until 20 requests in a row (on fresh connections)
    see ``expected`` hits for ``q``."""
    streak_start = None
    streak = 0
    while time.monotonic() - finished < 15.0:
        now = time.monotonic()
        if total_hits(base, q) == expected:
            streak_start = streak_start or now
            streak += 1
            if streak >= 20:
                return streak_start - finished
        else:
            streak_start, streak = None, 0
        time.sleep(0.02)
    pytest.fail(f"{q!r} did not reach {expected} hits on every worker within 15 s")


def vnsearch(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search_api.cli", *args], cwd=ROOT, capture_output=True, timeout=300
    )


@pytest.mark.e2e
def test_workers_follow_build_and_update_under_load(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(
        home, [Article(id=r["id"], title=r["title"], body=r["body"]) for r in map(row, range(30))]
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    env.pop("GUNICORN_CMD_ARGS", None)
    env["VNSEARCH_INDEX_DIR"] = str(home.path)
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed in finally
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
         "-b", f"127.0.0.1:{port}", "search_api.wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not get ready"
            time.sleep(0.1)
        assert total_hits(base, "hai dang") == 0

        with Load(base) as load:
            time.sleep(1.0)
            # A new generation: the 30 old articles and 120 about a lighthouse.
            source = write(
                tmp_path / "all.jsonl",
                [row(i) for i in range(30)] + [row(i, "hải đăng") for i in range(30, 150)],
            )
            done = vnsearch("index", "build", str(source), "--index-dir", str(home.path), "-q")
            finished = time.monotonic()
            assert done.returncode == 0, done.stderr.decode()
            build_lag = followed_within(base, "hai dang", 120, finished)

            # An update in place: 10 new articles, 5 changed, the rest unchanged.
            rows = [row(i) for i in range(30)] + [row(i, "hải đăng") for i in range(30, 150)]
            rows[:5] = [row(i, "sa mạc") for i in range(5)]
            rows += [row(i, "sa mạc") for i in range(150, 160)]
            write(source, rows)
            done = vnsearch("index", "update", str(source), "--index-dir", str(home.path), "-q")
            finished = time.monotonic()
            assert done.returncode == 0, done.stderr.decode()
            assert b"added 10 \xc2\xb7 replaced 5 \xc2\xb7 unchanged 145" in done.stdout
            update_lag = followed_within(base, "sa mac", 15, finished)
            time.sleep(0.5)

        assert load.failures == []
        assert load.sent >= 50
        assert build_lag <= FOLLOW_WITHIN, f"build followed after {build_lag:.2f} s"
        assert update_lag <= FOLLOW_WITHIN, f"update followed after {update_lag:.2f} s"
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
