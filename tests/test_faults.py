"""Faults: a worker SIGKILLed under load, the indexer SIGKILLed mid-update, a
damaged non-live generation, a full disk during a build; and the limits and
headers as a real gunicorn serves them. (A SIGKILLed build is in
test_lifecycle.py.) Everything runs on loopback."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from e2e_support import gunicorn_server, raw_request
from helpers import tmpfs
from index_support import article, child_pids, cli, ids, write_jsonl

from indexer.build import build
from indexer.errors import StoreError
from indexer.home import IndexHome
from indexer.inspection import check
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

# -- the API under a real gunicorn ----------------------------------------------------------------


@pytest.fixture(scope="module")
def server(sample_index, tmp_path_factory):
    log = tmp_path_factory.mktemp("faults") / "gunicorn.log"
    with gunicorn_server(sample_index, log, workers=2, threads=4, log_level="info") as srv:
        yield srv


CLOSE = b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


@pytest.mark.e2e
def test_gunicorn_answers_name_no_version(server):
    with httpx.Client(base_url=server.base) as http:
        for path in ("/v1/search", "/nowhere", "/"):
            resp = http.get(path)
            assert resp.headers["server"] == "gunicorn", resp.headers  # no version
            assert resp.headers["x-content-type-options"] == "nosniff"
            assert "x-powered-by" not in resp.headers


@pytest.mark.e2e
@pytest.mark.parametrize(
    "target",
    [
        b"/static/../../../../etc/passwd",
        b"/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        b"/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        b"/static/..\\..\\..\\etc\\passwd",
        b"/v1/documents/..%2F..%2Fetc%2Fpasswd",
        b"/v1/documents/../../etc/passwd",
        b"/../../etc/passwd",
    ],
)
def test_no_path_escapes_under_gunicorn(server, target):
    status, _, body = raw_request(server.port, b"GET " + target + CLOSE)
    assert status in (400, 404), (status, body[:200])
    assert b"root:" not in body


@pytest.mark.e2e
def test_size_limits_under_gunicorn(server):
    port = server.port
    # Just over VNSEARCH_MAX_URL_LENGTH: our 414 problem.
    target = b"/v1/search?q=" + b"a" * 8000
    status, head, body = raw_request(port, b"GET " + target + CLOSE)
    assert status == 414 and b"application/problem+json" in head and b"uri_too_long" in body
    # Past gunicorn's own request-line limit: its own (HTML) 414, before the app.
    target = b"/v1/search?q=" + b"a" * 9000
    status, head, body = raw_request(port, b"GET " + target + CLOSE)
    assert status == 414 and b"problem+json" not in head and b"Traceback" not in body
    # A body on a GET: 413 before any work.
    status, _, body = raw_request(
        port,
        b"GET /v1/search?q=a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Connection: close\r\n\r\nhello",
    )
    assert status == 413 and b"body_too_large" in body
    with httpx.Client(base_url=server.base) as http:
        assert http.post("/v1/search", content=b"x" * 10).status_code == 413
        assert http.delete("/static/vnsearch.js").status_code == 405


@pytest.mark.e2e
def test_a_worker_sigkilled_under_load_is_replaced_and_retries_succeed(server):
    """Clients keep searching while one of the two workers is SIGKILLed: the
    master starts a new one; the only failures are requests on the dead worker's
    connections, and each succeeds when retried once."""
    master = server.proc.pid
    before = child_pids(master)
    assert len(before) == 2
    victim = min(before)
    stop = threading.Event()
    lock = threading.Lock()
    counts = {"ok": 0, "failed_first": 0, "failed_retry": 0}

    def client(n: int) -> None:
        with httpx.Client(base_url=server.base, timeout=10) as http:
            i = 0
            while not stop.is_set():
                i += 1
                params = {"q": ["tuyên giáo", "hoà bình", "phường", "giao thông"][i % 4]}
                params["page"] = str(1 + (i + n) % 3)
                for attempt in (0, 1):
                    try:
                        ok = http.get("/v1/search", params=params).status_code == 200
                    except httpx.TransportError:
                        ok = False
                    with lock:
                        if ok:
                            counts["ok"] += 1
                            break
                        counts["failed_first" if attempt == 0 else "failed_retry"] += 1

    clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in clients:
        t.start()
    try:
        time.sleep(1.5)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            now = child_pids(master)
            if len(now) == 2 and victim not in now:
                break
            time.sleep(0.1)
        time.sleep(1.5)  # keep the load on the replacement
    finally:
        stop.set()
        for t in clients:
            t.join(30)
    after = child_pids(master)
    print(f"worker {victim} killed; workers {sorted(before)} -> {sorted(after)}; {counts}")
    assert victim not in after and len(after) == 2, (before, after)
    assert counts["failed_retry"] == 0, counts
    assert counts["failed_first"] <= 8, counts  # at most one per client connection
    assert counts["ok"] > 100, counts
    with httpx.Client(base_url=server.base) as http:
        assert http.get("/readyz").status_code == 200


# -- the indexer ----------------------------------------------------------------------------------


def _check_cli(index_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search_api.cli", "index", "check", "--index-dir", str(index_dir),
         *extra],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_indexer_sigkilled_mid_update_leaves_a_sound_index(tmp_path):
    home = IndexHome(tmp_path / "index")
    build(home, [article(i) for i in range(3)])
    source = write_jsonl(
        tmp_path / "new.jsonl", [article(i, words=300, tag="zulu") for i in range(300)]
    )
    svc = SearchService(str(home.path), refresh_interval=0)
    try:
        gen = home.current_dir()
        before = set(os.listdir(gen))
        with cli("index", "update", str(source), "--index-dir", str(home.path),
                 "--workers", "1", "-q") as proc:  # fmt: skip
            # Past PARALLEL_THRESHOLD (200) documents the writer opens and its
            # segment files appear; the commit is seconds away (100 more to add).
            deadline = time.monotonic() + 120
            while set(os.listdir(gen)) == before and proc.poll() is None:
                assert time.monotonic() < deadline, "the update never started writing"
                time.sleep(0.02)
            time.sleep(0.3)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        assert set(os.listdir(gen)) != before  # it was writing when killed
        # Nothing of the killed run is visible, and the index is sound.
        assert ids(svc) == {"a0", "a1", "a2"}
        assert ids(svc, "zulu") == set()
        result = _check_cli(home.path)
        assert result.returncode == 0, result.stderr
        # The next run completes (a small one: the point is that nothing is in its way).
        small = write_jsonl(tmp_path / "small.jsonl", [article(i, tag="zulu") for i in range(5)])
        with cli("index", "update", str(small), "--index-dir", str(home.path), "-q") as again:
            out, err = again.communicate(timeout=300)
        assert again.returncode == 0, err
        assert b"added 2" in out and b"replaced 3" in out
        assert _check_cli(home.path).returncode == 0
    finally:
        svc.close()
    svc = SearchService(str(home.path))
    try:
        assert svc.search(SearchRequest(q="zulu"))["total_hits"] == 5
    finally:
        svc.close()


def _corrupt(path: Path, how: str) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as f:
        if how == "truncate":
            f.truncate(size // 2)
        else:  # flip 64 bytes in the middle (postings)
            f.seek(size // 2)
            data = f.read(64)
            f.seek(size // 2)
            f.write(bytes(b ^ 0xFF for b in data))


@pytest.mark.parametrize(("how", "flags"), [("truncate", ()), ("flip", ("--deep",))])
def test_a_damaged_previous_generation_is_found_by_check(tmp_path, how, flags):
    home = IndexHome(tmp_path / "index")
    build(home, [article(i, words=200) for i in range(30)])
    build(home, [article(i, words=200) for i in range(31)])
    previous, live = home.generations()
    assert home.current_name() == live
    deep = bool(flags)
    assert check(home, generation=previous, deep=deep)["ok"]
    (segment,) = (home.path / previous).glob("*.seg")
    _corrupt(segment, how)
    result = _check_cli(home.path, "--generation", previous, *flags)
    assert result.returncode == 65, (result.stdout, result.stderr)
    assert "problem:" in result.stderr and "Traceback" not in result.stderr
    # The live generation is not affected, and says so.
    ok = check(home, deep=deep)
    assert ok["ok"] and ok["generation"] == live and ok["live"]
    missing = check(home, generation="g999999")
    assert not missing["ok"] and "no generation g999999" in missing["problems"][0]


def test_a_byte_changed_in_the_live_postings_needs_deep(tmp_path):
    home = IndexHome(tmp_path / "index")
    build(home, [article(i, words=200) for i in range(30)])
    (segment,) = home.current_dir().glob("*.seg")
    _corrupt(segment, "flip")
    assert check(home)["ok"]  # stored fields and columns are intact
    deep = check(home, deep=True)
    assert not deep["ok"] and "postings" in " ".join(deep["problems"])


def test_a_full_disk_fails_the_build_cleanly(tmp_path):
    """A 512 KB tmpfs holds the live generation but not the next one."""
    with tmpfs(tmp_path / "disk", "512k") as disk:
        home = IndexHome(disk / "index")
        build(home, [article(i) for i in range(3)])
        live = home.current_name()
        source = write_jsonl(tmp_path / "big.jsonl", [article(i, words=400) for i in range(120)])
        with cli("index", "build", str(source), "--index-dir", str(home.path),
                 "--workers", "1", "-q") as proc:  # fmt: skip
            _, err = proc.communicate(timeout=300)
        assert proc.returncode == 1, err
        message = err.decode()
        assert "Traceback" not in message, message
        assert "No space left on device" in message and "live index is unchanged" in message
        assert "hint: free disk space" in message
        assert home.current_name() == live and home.generations() == [live]
        assert not [p for p in home.path.iterdir() if p.name.endswith(".tmp")]
        assert _check_cli(home.path).returncode == 0
        svc = SearchService(str(home.path))
        try:
            assert ids(svc) == {"a0", "a1", "a2"}
        finally:
            svc.close()


def test_a_write_error_in_the_storage_layer_fails_the_build_cleanly(tmp_path, monkeypatch):
    """The same without a tmpfs: the storage layer raises ENOSPC at commit."""
    from whoosh.filedb.filestore import FileStorage

    home = IndexHome(tmp_path / "index")
    build(home, [article(i) for i in range(3)])
    live = home.current_name()

    def full(self, name, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)

    monkeypatch.setattr(FileStorage, "create_file", full)
    with pytest.raises(StoreError, match="No space left on device") as err:
        build(home, [article(i) for i in range(10)])
    assert "live index is unchanged" in str(err.value) and err.value.exit_code == 1
    monkeypatch.undo()
    assert home.current_name() == live and home.generations() == [live]
    assert not [p for p in home.path.iterdir() if p.name.endswith(".tmp")]
    assert check(home)["ok"]
