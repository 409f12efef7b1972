"""Scaling out: a real nginx, configured by deploy/nginx/vnsearch.conf, in front of
two API instances (gunicorn), each on its own index copy made by ``index pull``.

- A new generation is published (signed) and pulled by both hosts (each
  checking the signature with the publisher's public key) while a query stream
  runs through nginx: not one request fails, and within seconds both hosts
  report the new generation and the new document is found.
- One API instance is SIGKILLed (master and workers) under the stream: nginx
  routes around it; only requests in flight at that moment may fail.
- Slow and idle clients (16 connections sending a header line every few
  seconds, 200 sockets sending nothing) hold nginx's connections, not the API's
  2 × 4 threads: normal queries keep their latency (issue 15, item 8).
- A request line past nginx's 8 KB header buffer gets nginx's 414 as the API's
  problem+json (item 14).

Everything listens on loopback; nginx runs in the foreground with its pid, logs,
temporary files and cache under the test's directory. Skipped without nginx
(`.ci/run` installs it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import pytest
from conftest import FIXTURE_ARTICLES
from e2e_support import Server, clean_env, free_port
from loopback_clients import IdleSockets, SlowHeaders, probe
from nginx_support import NGINX, Nginx
from replica_support import PUBLISHER, write_pair

from indexer.build import build
from indexer.home import IndexHome
from indexer.replica.publishing import publish
from indexer.replica.pulling import pull
from indexer.signing import load_trusted
from search_api.server import gunicorn_command

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.nginx,
    pytest.mark.skipif(
        NGINX is None, reason="nginx is not installed (apt-get install nginx-light)"
    ),
]

RATE = 30.0  # requests per second through nginx
MAX_STREAM_SECONDS = 20.0  # the stream stops by itself after this, whatever happens
CONVERGE_WITHIN = 5.0  # seconds from the end of the pulls

EXTRA = replace(
    FIXTURE_ARTICLES[0],
    id="fx-scale-out-extra",
    title="Khánh thành nhà văn hóa khu phố Quỳnh Lâm",
    body="Nhà văn hóa Quỳnh Lâm mở cửa phục vụ người dân từ tháng sáu.",
)
NEW_QUERY = "Quỳnh Lâm"
STREAM = [
    ("/v1/search", {"q": "tuyên giáo"}),
    ("/v1/search", {"q": "tuyen giao", "facets": "year,category"}),
    ("/v1/search", {"q": NEW_QUERY}),
    ("/v1/search", {"q": "hòa bình", "sort": "newest"}),
    ("/v1/suggest", {"q": "tuyên"}),
    ("/v1/search", {"q": "giao thừa"}),
    ("/v1/documents/fx-tuyen-giao", {}),
    ("/v1/search", {"q": "", "page": "2", "per_page": "2"}),
]


# -- the cluster ---------------------------------------------------------------------------


@dataclass
class Cluster:
    origin: IndexHome
    dist: Path
    hosts: list[IndexHome]
    apis: list[Server]
    nginx: Nginx
    verify_key: Path  # the publisher's public key, as copied to every API host

    def publish(self):
        return publish(self.origin, self.dist, signer=PUBLISHER)

    def pull(self, home: IndexHome):
        return pull(home, self.dist, trusted=load_trusted([self.verify_key]))


@pytest.fixture
def cluster_factory(tmp_path: Path) -> Iterator:
    started: list[Server | Nginx] = []

    def make(cache_max_age: int) -> Cluster:
        origin = IndexHome(tmp_path / "origin")
        dist = tmp_path / "dist"
        build(origin, FIXTURE_ARTICLES)
        _, verify_key = write_pair(tmp_path / "keys")
        hosts, apis = [], []
        cluster = Cluster(origin, dist, hosts, apis, None, verify_key)  # type: ignore[arg-type]
        cluster.publish()
        for i in (1, 2):
            home = IndexHome(tmp_path / f"host{i}")
            assert cluster.pull(home).generation == "g000001"
            port = free_port()
            argv, env, _ = gunicorn_command(
                bind=f"127.0.0.1:{port}",
                workers=1,
                threads=4,
                index_dir=home.path,
                access_log=True,
                environ=clean_env(
                    VNSEARCH_REFRESH_INTERVAL="0.2",
                    VNSEARCH_CACHE_MAX_AGE=str(cache_max_age),
                    VNSEARCH_LOG_LEVEL="warning",
                ),
            )
            env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each master makes its own
            server = Server(argv, env, port, tmp_path / f"api{i}.log")
            started.append(server)
            hosts.append(home)
            apis.append(server)
        for server in apis:
            server.wait_until("/readyz")
        upstreams = [a.base.removeprefix("http://") for a in apis]
        nginx = Nginx(tmp_path / "nginx", free_port(), upstreams)
        started.append(nginx)
        nginx.wait_ready()
        cluster.nginx = nginx
        return cluster

    yield make
    for thing in reversed(started):
        if isinstance(thing, Nginx):
            thing.stop()
        else:
            thing.kill()


@dataclass
class Outcome:
    at: float
    path: str
    status: int | None  # None: no HTTP answer at all
    error: str = ""
    ids: set[str] = field(default_factory=set)
    cache: str = ""


class QueryStream:
    """Requests through nginx at RATE per second, several in flight at once;
    stops when told or after MAX_STREAM_SECONDS."""

    def __init__(self, base: str):
        self.base = base
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> QueryStream:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(MAX_STREAM_SECONDS + 10)

    def _one(self, http: httpx.Client, path: str, params: dict) -> None:
        at = time.monotonic()
        try:
            r = http.get(path, params=params)
            ids = set()
            if r.status_code == 200 and path == "/v1/search":
                ids = {h["id"] for h in r.json()["hits"]}
            outcome = Outcome(
                at, path, r.status_code, r.text[:200], ids, r.headers.get("x-cache-status", "")
            )
        except httpx.HTTPError as exc:
            outcome = Outcome(at, path, None, f"{type(exc).__name__}: {exc}")
        with self._lock:
            self.outcomes.append(outcome)

    def _run(self) -> None:
        started = time.monotonic()
        limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
        with (
            httpx.Client(base_url=self.base, timeout=10.0, limits=limits) as http,
            ThreadPoolExecutor(max_workers=8) as pool,
        ):
            n = 0
            while not self._stop.is_set() and time.monotonic() - started < MAX_STREAM_SECONDS:
                path, params = STREAM[n % len(STREAM)]
                pool.submit(self._one, http, path, params)
                n += 1
                # Keep the schedule: the n-th request leaves at n / RATE seconds.
                self._stop.wait(max(0.0, started + n / RATE - time.monotonic()))

    def failures(self, since: float = 0.0) -> list[Outcome]:
        return [o for o in self.outcomes if o.at >= since and o.status != 200]


def readyz(server: Server) -> dict:
    return httpx.get(server.base + "/readyz", timeout=2.0).json()


# -- the tests ----------------------------------------------------------------------------


def test_new_generation_rolls_across_hosts_behind_nginx_without_a_failed_request(
    cluster_factory,
) -> None:
    cluster = cluster_factory(cache_max_age=1)
    with QueryStream(cluster.nginx.base) as stream:
        time.sleep(2.0)
        build(cluster.origin, [*FIXTURE_ARTICLES, EXTRA])
        published = cluster.publish()
        assert (published.publication, published.signed_by) == ("g000002.1", "publisher")
        switch_started = time.monotonic()
        for home in cluster.hosts:
            report = cluster.pull(home)
            assert (report.action, report.signed_by) == ("new", "publisher.pub")
        pulled = time.monotonic()

        # Every host reports the new generation...
        deadline = pulled + CONVERGE_WITHIN
        while any(readyz(api)["generation"] != "g000002" for api in cluster.apis):
            assert time.monotonic() < deadline, [readyz(api) for api in cluster.apis]
            time.sleep(0.05)
        converged = time.monotonic() - pulled
        # ... and the new document is found through nginx (cached answers expire in 1 s).
        while True:
            r = httpx.get(cluster.nginx.base + "/v1/search", params={"q": NEW_QUERY})
            if EXTRA.id in {h["id"] for h in r.json()["hits"]}:
                break
            assert time.monotonic() < deadline + 1.0, "the new document is not found"
            time.sleep(0.05)
        found = time.monotonic() - pulled
        time.sleep(1.5)  # the stream keeps running on the new generation

    print(
        f"pulls took {pulled - switch_started:.2f} s; converged {converged:.2f} s, "
        f"found {found:.2f} s after; {len(stream.outcomes)} requests"
    )
    # The stream really ran through the roll-out (the count is loose: a loaded
    # machine sends fewer than RATE per second; failures are what must be zero).
    assert len(stream.outcomes) >= RATE * 2
    assert stream.failures() == []
    for api in cluster.apis:
        stats = httpx.get(api.base + "/v1/stats").json()
        assert (stats["generation"], stats["doc_count"]) == ("g000002", len(FIXTURE_ARTICLES) + 1)
    assert any(EXTRA.id in o.ids for o in stream.outcomes)  # the stream saw it too
    assert not any(EXTRA.id in o.ids for o in stream.outcomes if o.at < switch_started)
    # The cache config works with the API's Cache-Control, and both hosts got traffic.
    assert any(o.cache == "HIT" for o in stream.outcomes)
    for api in cluster.apis:
        assert api.log().count("GET /v1/") > 10
        assert "Traceback" not in api.log()
    assert "[error]" not in cluster.nginx.error_log()


def test_nginx_routes_around_a_killed_api_instance(cluster_factory) -> None:
    cluster = cluster_factory(cache_max_age=0)  # nothing cached: every request goes upstream
    survivor, victim = cluster.apis
    with QueryStream(cluster.nginx.base) as stream:
        time.sleep(2.0)
        killed_at = time.monotonic()
        os.killpg(victim.proc.pid, signal.SIGKILL)  # gunicorn master and its workers
        victim.proc.wait(5)
        time.sleep(3.0)
    after = [o for o in stream.outcomes if o.at >= killed_at]
    failed = stream.failures()
    print(f"{len(stream.outcomes)} requests, {len(after)} after the kill, {len(failed)} failed")
    assert len(after) >= RATE  # loose: the machine may be loaded
    # Only requests in flight at the moment of the kill may fail.
    assert len(failed) <= 3, failed
    assert all(o.at < killed_at + 1.0 for o in failed), failed
    assert stream.failures(since=killed_at + 1.0) == []
    with pytest.raises(httpx.TransportError):
        httpx.get(victim.base + "/healthz", timeout=1.0)
    assert readyz(survivor)["generation"] == "g000001"
    # nginx did try the dead host, and took it out of rotation.
    log = cluster.nginx.error_log()
    assert victim.base.removeprefix("http://") in log
    assert "upstream server temporarily disabled" in log
    assert httpx.get(cluster.nginx.base + "/readyz").status_code == 200


# -- slow and idle clients, long request lines (issue 15, items 8 and 14) -------------------


@pytest.fixture
def front(tmp_path: Path) -> Iterator[tuple[Server, Nginx]]:
    """One API instance as `vnsearch serve` runs it by default (2 workers × 4
    threads) behind the shipped nginx configuration."""
    home = IndexHome(tmp_path / "index")
    build(home, FIXTURE_ARTICLES)
    port = free_port()
    argv, env, _ = gunicorn_command(
        bind=f"127.0.0.1:{port}", workers=2, threads=4, index_dir=home.path, access_log=True,
        environ=clean_env(
            VNSEARCH_LOG_LEVEL="warning",
            VNSEARCH_BEHIND_PROXY="1",
            VNSEARCH_CACHE_MAX_AGE="0",  # nothing cached by nginx: every query reaches the API
        ),
    )  # fmt: skip
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    api = Server(argv, env, port, tmp_path / "api.log")
    nginx = None
    try:
        api.wait_until("/readyz")
        nginx = Nginx(tmp_path / "nginx", free_port(), [api.base.removeprefix("http://")])
        nginx.wait_ready()
        yield api, nginx
    finally:
        if nginx is not None:
            nginx.stop()
        api.kill()


# Searches and a document, as visitors send them.
NORMAL = [
    f"/v1/search?q={q}&per_page={n}"
    for n in range(1, 11)
    for q in ("tuy%C3%AAn+gi%C3%A1o", "tuyen+giao", "h%C3%B2a+b%C3%ACnh", "giao+th%E1%BB%ABa")
] + ["/v1/documents/fx-tuyen-giao"]
SLOW_EVERY = 2.0  # seconds between header lines of a slow client (the run: 5)
PROBE_SECONDS = 6.0


def test_slow_and_idle_clients_do_not_stall_the_api_behind_nginx(front) -> None:
    # Straight at gunicorn, 16 such clients or 200 idle sockets made every normal
    # query time out (bench/limits.py measures both ways side by side).
    api, nginx = front
    port = int(nginx.base.rsplit(":", 1)[1])
    baseline = probe(port, NORMAL, 3.0)
    with SlowHeaders(port, 16, every=SLOW_EVERY) as slow:
        during_slow = probe(port, NORMAL, PROBE_SECONDS)
        assert slow.lines_sent >= 16 * 2  # they were really dribbling headers meanwhile
    with IdleSockets(port, 200):
        during_idle = probe(port, NORMAL, PROBE_SECONDS)
    p95 = {name: r.percentile(95) for name, r in
           (("baseline", baseline), ("slow", during_slow), ("idle", during_idle))}  # fmt: skip
    print({k: f"{v * 1000:.1f} ms" for k, v in p95.items()})
    for result in (baseline, during_slow, during_idle):
        assert len(result.latencies) >= 10
        assert result.failures == 0, result.latencies
    # "Keep their latency": far from the 5 s timeouts of the direct case, with
    # room for a loaded CI machine.
    assert p95["slow"] < max(1.0, 10 * p95["baseline"])
    assert p95["idle"] < max(1.0, 10 * p95["baseline"])
    # Every normal query reached the API; nginx never passed the incomplete ones on.
    sent = sum(len(r.latencies) for r in (baseline, during_slow, during_idle))
    assert api.log().count("GET /v1/") >= sent
    assert "q=slow" not in api.log()
    assert "[error]" not in nginx.error_log()


def test_nginx_answers_request_lines_past_its_buffer_as_problem_json(front) -> None:
    _, nginx = front
    port = int(nginx.base.rsplit(":", 1)[1])
    for pad in (8_000, 8_150, 9_000, 50_000):  # the API's 414 below 8 KB, nginx's above
        target = b"/v1/search?q=a&pad=" + b"b" * pad
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.split(b" ", 2)[1] == b"414", (pad, head)
        assert b"content-type: application/problem+json" in head.lower(), (pad, head)
        problem = json.loads(body)
        assert (problem["status"], problem["code"]) == (414, "uri_too_long"), pad
    assert "[error]" not in nginx.error_log()
