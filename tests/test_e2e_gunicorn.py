"""The API under a real gunicorn on loopback, started the ways we ship it.

Each e2e test starts its own server on a free port, waits for it, talks HTTP with
httpx, then stops it with SIGTERM and checks that it exited cleanly.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import FIXTURE_ARTICLES
from e2e_support import Server, clean_env, free_port

from indexer.build import build
from indexer.home import IndexHome
from search_api.config import Config, ConfigError
from search_api.server import APP, GUNICORN_CONFIG, gunicorn_command


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(argv: list[str], env: dict[str, str], port: int, log: Path) -> Server:
        server = Server(argv, env, port, log)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


# -- end to end ----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_run_serves_search_and_stops_cleanly(servers, sample_index, tmp_path):
    """server.run() as `vnsearch serve` calls it: exec'd gunicorn with our config."""
    port = free_port()
    code = (
        "from search_api.server import run; "
        f"run(bind='127.0.0.1:{port}', workers=2, threads=4, index_dir={str(sample_index)!r})"
    )
    server = servers([sys.executable, "-c", code], clean_env(), port, tmp_path / "log")
    server.wait_until("/readyz")

    with httpx.Client(base_url=server.base, timeout=5.0) as http:
        ready = http.get("/readyz").json()
        assert ready["status"] == "ready" and ready["generation"] == "g000001"

        resp = http.get("/v1/search", params={"q": "tuyên giáo", "per_page": 50})
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/json"
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert "tuyên".encode() in resp.content and b"\\u" not in resp.content
        assert "fx-tuyen-giao" in [h["id"] for h in resp.json()["hits"]]

        resp = http.get("/v1/search", params={"page": "0"})
        assert resp.status_code == 400
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["code"] == "invalid_param" and resp.json()["param"] == "page"

        assert http.get("/v1/documents/fx-script").json()["id"] == "fx-script"
        assert http.get("/nowhere").json()["code"] == "not_found"

    # exec: the process we started is the gunicorn master itself.
    assert server.stop() == 0
    log = server.log()
    assert "Booting worker" in log and "gthread" in log
    assert log.count("Booting worker") >= 2
    assert "Shutting down: Master" in log
    assert "Traceback" not in log


@pytest.mark.e2e
def test_gunicorn_from_the_environment_picks_up_a_new_index(servers, tmp_path):
    """`python -m gunicorn -c python:search_api.gunicorn_conf search_api.wsgi:app`
    with VNSEARCH_* settings; the index is built while the server runs."""
    port = free_port()
    index_dir = tmp_path / "index"
    portal = "https://quan5.example.gov.vn"
    env = clean_env(
        VNSEARCH_BIND=f"127.0.0.1:{port}",
        VNSEARCH_INDEX_DIR=str(index_dir),
        VNSEARCH_WORKERS="1",
        VNSEARCH_THREADS="2",
        VNSEARCH_REFRESH_INTERVAL="0.1",
        VNSEARCH_CORS_ORIGINS=portal,
        VNSEARCH_LOG_LEVEL="warning",
    )
    argv = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, APP]
    server = servers(argv, env, port, tmp_path / "log")
    server.wait_until("/healthz")

    with httpx.Client(base_url=server.base, timeout=5.0) as http:
        resp = http.get("/readyz")
        assert resp.status_code == 503
        assert resp.headers["content-type"] == "application/problem+json"
        assert resp.json()["code"] == "index_unavailable"
        assert http.get("/v1/search", params={"q": "hòa bình"}).status_code == 503

        build(IndexHome(index_dir), FIXTURE_ARTICLES)
        server.wait_until("/readyz", timeout=10)
        assert http.get("/readyz").json()["doc_count"] == len(FIXTURE_ARTICLES)

        resp = http.get("/v1/search", params={"q": "hòa bình"}, headers={"Origin": portal})
        assert resp.status_code == 200
        assert resp.headers["access-control-allow-origin"] == portal
        assert {"fx-hoa-binh-old", "fx-hoa-binh-new"} <= {h["id"] for h in resp.json()["hits"]}

    assert server.stop() == 0
    assert "index unavailable" in server.log()  # logged at warning, without a traceback
    assert "Traceback" not in server.log()


@pytest.mark.e2e
def test_concurrent_requests_then_graceful_stop(servers, sample_index, tmp_path):
    """Many clients at once on 2 workers × 4 threads, an access log, then SIGTERM."""
    port = free_port()
    argv, env, config = gunicorn_command(
        bind=f"127.0.0.1:{port}",
        index_dir=sample_index,
        access_log=True,
        environ=clean_env(),
    )
    assert (config.workers, config.threads) == (2, 4)
    server = servers(argv, env, port, tmp_path / "log")
    server.wait_until("/readyz")

    queries = ["tuyên giáo", "tuyen giao", "hoà bình", "phường", "", "giao thừa", '"a', "*"] * 10

    limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
    with httpx.Client(base_url=server.base, timeout=10.0, limits=limits) as http:

        def ask(q: str) -> int:
            resp = http.get("/v1/search", params={"q": q, "facets": "year,month,category,site"})
            assert resp.json()["query"]["text"] == q
            return resp.status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(ask, queries))
    assert statuses == [200] * len(queries)

    assert server.stop() == 0
    log = server.log()
    assert log.count("GET /v1/search") == len(queries)  # access log on
    assert "Traceback" not in log


# -- the command run() builds (no server started) ----------------------------------------------


def test_gunicorn_command_passes_overrides_through_the_environment(tmp_path):
    argv, env, config = gunicorn_command(
        bind="127.0.0.1:9123",
        workers=3,
        threads=5,
        index_dir=tmp_path / "idx",
        log_level="DEBUG",
        environ={"VNSEARCH_WORKERS": "7", "VNSEARCH_MAX_PER_PAGE": "20", "PATH": "/bin"},
    )
    assert argv == [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG, APP]
    assert env["VNSEARCH_BIND"] == "127.0.0.1:9123"
    assert env["VNSEARCH_WORKERS"] == "3"  # the argument wins over the environment
    assert env["VNSEARCH_THREADS"] == "5"
    assert env["VNSEARCH_INDEX_DIR"] == str((tmp_path / "idx").absolute())
    assert env["VNSEARCH_LOG_LEVEL"] == "debug"
    assert env["PATH"] == "/bin" and env["VNSEARCH_MAX_PER_PAGE"] == "20"
    assert config == Config.from_env(env)


def test_gunicorn_command_defaults_come_from_the_environment():
    argv, env, config = gunicorn_command(environ={"VNSEARCH_THREADS": "6"}, access_log=True)
    assert argv[-3:] == ["--access-logfile", "-", APP]
    assert (config.bind, config.workers, config.threads) == ("127.0.0.1:8000", 2, 6)
    assert "VNSEARCH_WORKERS" not in env


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [
        ({"workers": 0}, "--workers"),
        ({"threads": -1}, "--threads"),
        ({"bind": "nowhere"}, "--bind"),
        ({"log_level": "chatty"}, "--log-level"),
    ],
)
def test_gunicorn_command_errors_name_the_flag(kwargs, flag):
    with pytest.raises(ConfigError, match=flag):
        gunicorn_command(environ={}, **kwargs)


def test_gunicorn_command_errors_in_the_environment_name_the_variable():
    with pytest.raises(ConfigError, match="VNSEARCH_THREADS"):
        gunicorn_command(workers=2, environ={"VNSEARCH_THREADS": "lots"})


def test_gunicorn_config_module_reads_the_environment(monkeypatch):
    import importlib

    import search_api.gunicorn_conf as conf

    monkeypatch.setenv("VNSEARCH_BIND", "127.0.0.1:9999")
    monkeypatch.setenv("VNSEARCH_WORKERS", "5")
    monkeypatch.setenv("VNSEARCH_THREADS", "3")
    monkeypatch.setenv("VNSEARCH_LOG_LEVEL", "error")
    try:
        conf = importlib.reload(conf)
        assert conf.bind == ["127.0.0.1:9999"]
        assert (conf.workers, conf.threads, conf.loglevel) == (5, 3, "error")
        assert conf.worker_class == "gthread"
        assert conf.accesslog is None
        assert conf.max_requests > 0 and 0 < conf.max_requests_jitter < conf.max_requests
        assert conf.graceful_timeout < conf.timeout
    finally:
        monkeypatch.undo()
        importlib.reload(conf)
