"""What gunicorn allows (search_api/gunicorn_conf.py) and what `vnsearch serve`
says about it: the request line a real gunicorn lets through to the app's own 414
problem (issue 15, item 14), the connection settings it is tuned to beside the
shipped nginx configuration, and the warning when it would face other machines'
clients without a proxy (item 8). The slow and idle clients themselves are in
tests/test_nginx_e2e.py."""

from __future__ import annotations

import importlib
import os
import re

import pytest
from conftest import ROOT
from e2e_support import gunicorn_server, raw_request

import search_api.server as server_module
from search_api.config import Config
from search_api.server import exposure_warning

NGINX_CONF = ROOT / "deploy" / "nginx" / "vnsearch.conf"


def _request(port: int, target: bytes) -> tuple[int, bytes, bytes]:
    request = b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    status, head, body = raw_request(port, request)
    return status, head.lower(), body


def _target(line_bytes: int) -> bytes:
    """A search target whose request line (GET ... HTTP/1.1) has this many bytes."""
    prefix = b"/v1/search?q=a&pad="
    return prefix + b"b" * (line_bytes - len(b"GET  HTTP/1.1") - len(prefix))


@pytest.fixture(scope="module")
def gunicorn(sample_index, tmp_path_factory):
    log = tmp_path_factory.mktemp("gunicorn-limits") / "gunicorn.log"
    with gunicorn_server(sample_index, log, workers=1, threads=2, log_level="warning") as srv:
        yield srv.port


@pytest.mark.e2e
# Just past VNSEARCH_MAX_URL_LENGTH (8000 since issue 14: the target is the line
# less 13 bytes) up to gunicorn's maximum.
@pytest.mark.parametrize("line_bytes", [Config().max_url_length + 14, 8_100, 8_190])
def test_every_request_line_gunicorn_reads_gets_the_apps_414_problem(gunicorn, line_bytes):
    # Once, gunicorn refused lines over 4,160 bytes itself, with an HTML page.
    status, head, body = _request(gunicorn, _target(line_bytes))
    assert status == 414
    assert b"content-type: application/problem+json" in head
    assert b'"code":"uri_too_long"' in body


@pytest.mark.e2e
def test_past_8190_bytes_gunicorn_answers_itself_as_documented(gunicorn):
    status, head, body = _request(gunicorn, _target(8_191))
    assert status == 414 and b"content-type: text/html" in head
    assert b"Traceback" not in body
    docs = (ROOT / "docs" / "api.md").read_text("utf-8")
    assert "8,190" in docs and "HTML" in docs


def test_gunicorn_connection_settings_fit_the_shipped_nginx(monkeypatch) -> None:
    import search_api.gunicorn_conf as conf

    monkeypatch.delenv("VNSEARCH_MAX_URL_LENGTH", raising=False)
    saved = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    conf = importlib.reload(conf)
    try:
        nginx = NGINX_CONF.read_text("utf-8")
        upstream = nginx[nginx.index("upstream vnsearch {") :]
        upstream = upstream[: upstream.index("\n}")]
        pool = int(re.search(r"^\s*keepalive (\d+);", upstream, re.M)[1])
        idle = float(re.search(r"^\s*keepalive_timeout (\d+)s;", upstream, re.M)[1])
        # nginx lets its idle upstream connections go before gunicorn closes them.
        assert conf.keepalive > idle
        # Room for nginx's pool from several nginx workers, and explicit (not 1000).
        assert conf.worker_connections == 256 and conf.worker_connections >= 4 * pool
        assert conf.limit_request_line == 8190
        assert conf.worker_class == "gthread"
    finally:
        if saved is None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


@pytest.mark.parametrize(
    ("bind", "warned"),
    [
        ("127.0.0.1:8000", False),
        ("127.0.0.53:8000", False),
        ("[::1]:8000", False),
        ("localhost:8000", False),
        ("unix:/run/vnsearch.sock", False),
        ("0.0.0.0:8000", True),
        ("[::]:8000", True),
        ("10.0.0.11:8000", True),
        ("search.example.gov.vn:8000", True),
    ],
)
def test_an_address_other_machines_reach_is_warned_about_unless_a_proxy_is_declared(
    bind: str, warned: bool
) -> None:
    assert bool(exposure_warning(Config(bind=bind))) is warned
    assert exposure_warning(Config(bind=bind, behind_proxy=True)) is None


def test_serve_prints_the_warning_before_gunicorn_starts(monkeypatch, tmp_path, capsys) -> None:
    started = []
    monkeypatch.setattr(server_module.os, "execve", lambda *args: started.append(args))
    for key in [k for k in os.environ if k.startswith("VNSEARCH_")]:
        monkeypatch.delenv(key)
    server_module.run(bind="0.0.0.0:8000", index_dir=tmp_path)
    err = capsys.readouterr().err
    assert "warning: 0.0.0.0:8000 is reachable from other machines" in err
    assert "VNSEARCH_BEHIND_PROXY=1" in err and "deploy/nginx/vnsearch.conf" in err
    assert len(started) == 1

    monkeypatch.setenv("VNSEARCH_BEHIND_PROXY", "1")
    server_module.run(bind="0.0.0.0:8000", index_dir=tmp_path)
    assert "reachable from other machines" not in capsys.readouterr().err
    assert len(started) == 2
