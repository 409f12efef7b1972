"""Portal integration over HTTP (Falcon TestClient): documents, stats, HTTP caching,
gzip, the access log, /metrics, the demo page and the search box files."""

from __future__ import annotations

import gzip
import json
import logging
import re
import threading
import time

import falcon.testing
import pytest
from conftest import FIXTURE_ARTICLES
from helpers import assert_problem, assert_security_headers

from indexer.build import build
from indexer.home import IndexHome
from search_api.app import create_app
from search_api.config import Config, ConfigError
from search_api.engine import titles as titles_module
from search_api.engine.service import SearchService

# -- documents and stats ----------------------------------------------------------------


def test_document_returns_every_stored_field(client):
    resp = client.simulate_get("/v1/documents/fx-tuyen-giao")
    assert resp.status_code == 200
    assert resp.json == {
        "id": "fx-tuyen-giao",
        "url": "https://fixture-a.example.vn/tuyen-giao",
        "title": "Hội nghị công tác tuyên giáo của phường",
        "published": "2019-05-10T09:00:00+07:00",
        "category": "Tin tức sự kiện",
        "site": "fixture-a",
        "body": "Ban tuyên giáo phường triển khai công tác tuyên giáo năm 2019.",
        "views": None,
    }
    undated = client.simulate_get("/v1/documents/fx-undated").json
    assert undated["published"] is None and undated["category"] is None


def test_absent_document_is_a_404_problem_without_cache_headers(client):
    resp = client.simulate_get("/v1/documents/no-such-id")
    assert_problem(resp, 404, "not_found")
    assert "ETag" not in resp.headers


def test_stats(client):
    resp = client.simulate_get("/v1/stats")
    assert resp.status_code == 200
    assert_security_headers(resp)
    stats = resp.json
    total = client.simulate_get("/v1/search", params={"facets": ""}).json["total_hits"]
    assert stats["doc_count"] == total
    assert stats["generation"] == "g000001"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*", stats["built_at"])
    assert stats["date_range"]["from"] <= "2016-01-22" and stats["date_range"]["to"] >= "2024-08-21"
    assert stats["undated"] >= 1  # fx-undated
    assert sum(stats["sites"].values()) <= stats["doc_count"]  # scraped pages have no site
    assert stats["sites"]["fixture-a"] == sum(a.site == "fixture-a" for a in FIXTURE_ARTICLES)
    assert stats["categories"]["Tin tức sự kiện"] >= 1
    assert "Cache-Control" in resp.headers and "ETag" in resp.headers


def test_stats_without_index_is_503(missing_index_client):
    assert_problem(missing_index_client.simulate_get("/v1/stats"), 503, "index_unavailable")


# -- HTTP caching ---------------------------------------------------------------------------

CACHED = [
    ("/v1/search", {"q": "tuyen giao", "facets": "year"}),
    ("/v1/suggest", {"q": "ubnd q"}),
    ("/v1/documents/fx-tuyen-giao", {}),
    ("/v1/stats", {}),
]


@pytest.mark.parametrize(("path", "params"), CACHED)
def test_etag_and_304(client, path, params):
    first = client.simulate_get(path, params=params)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{24}"', etag)
    assert first.headers["Cache-Control"] == "public, max-age=60"
    again = client.simulate_get(path, params=params)
    assert again.headers["ETag"] == etag  # stable while the index is unchanged

    cached = client.simulate_get(path, params=params, headers={"If-None-Match": etag})
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["ETag"] == etag
    assert cached.headers["Cache-Control"] == "public, max-age=60"
    assert_security_headers(cached)
    # Lists, the strong form and '*' match too (weak comparison); others do not.
    for header in (f'"nope", {etag}', etag[2:], "*"):
        resp = client.simulate_get(path, params=params, headers={"If-None-Match": header})
        assert resp.status_code == 304, header
    stale = client.simulate_get(path, params=params, headers={"If-None-Match": 'W/"0"'})
    assert stale.status_code == 200 and stale.headers["ETag"] == etag
    assert stale.json.keys() == first.json.keys()


def test_etag_depends_on_the_parsed_request(client):
    def tag(path, **params):
        return client.simulate_get(path, params=params).headers["ETag"]

    assert tag("/v1/search", q="tuyen giao") != tag("/v1/search", q="tuyen giao", page="2")
    assert tag("/v1/search", q="tuyen giao") != tag("/v1/search", q="tuyên giáo")
    # The same request written differently is the same answer.
    assert tag("/v1/search", q="x", page="1") == tag("/v1/search", q="x")
    assert tag("/v1/search", q="x", category="") == tag("/v1/search", q="x")
    assert tag("/v1/suggest", q="ubnd q") != tag("/v1/suggest", q="ubnd q", limit="3")
    assert tag("/v1/documents/fx-tuyen-giao") != tag("/v1/documents/fx-script")


class _PartialService:
    """A service whose search hit the time limit (flagged timed_out)."""

    class _Snap:
        version = "g000001.1"

        def release(self):
            pass

    def snapshot(self):
        return self._Snap()

    def search(self, req):
        return {"hits": [], "total_hits": 0, "timed_out": True}


def test_partial_results_are_not_cacheable():
    client = falcon.testing.TestClient(create_app(Config(), service=_PartialService()))
    resp = client.simulate_get("/v1/search", params={"q": '"mot hai ba"'})
    assert resp.status_code == 200 and resp.json["timed_out"] is True
    assert resp.headers["Cache-Control"] == "no-store"
    assert "ETag" not in resp.headers


def test_errors_are_not_cacheable(client):
    resp = client.simulate_get("/v1/search", params={"page": "0"})
    assert resp.headers["Cache-Control"] == "no-store" and "ETag" not in resp.headers


def test_cache_max_age_is_configurable(sample_index):
    client = falcon.testing.TestClient(
        create_app(Config(index_dir=str(sample_index), cache_max_age=5))
    )
    assert client.simulate_get("/v1/stats").headers["Cache-Control"] == "public, max-age=5"
    client = falcon.testing.TestClient(
        create_app(Config(index_dir=str(sample_index), cache_max_age=0))
    )
    resp = client.simulate_get("/v1/suggest", params={"q": "quan"})
    assert resp.headers["Cache-Control"] == "no-cache" and "ETag" in resp.headers
    assert Config.from_env({"VNSEARCH_CACHE_MAX_AGE": "120"}).cache_max_age == 120
    with pytest.raises(ConfigError, match="VNSEARCH_CACHE_MAX_AGE"):
        Config.from_env({"VNSEARCH_CACHE_MAX_AGE": "-1"})
    with pytest.raises(ConfigError, match="VNSEARCH_CACHE_MAX_AGE"):
        Config.from_env({"VNSEARCH_CACHE_MAX_AGE": "a minute"})


def test_etags_change_when_the_index_is_rebuilt(tmp_path):
    home = IndexHome(tmp_path / "ix")
    build(home, FIXTURE_ARTICLES[:4])
    service = SearchService(str(home.path), refresh_interval=0, background=False)
    client = falcon.testing.TestClient(
        create_app(Config(index_dir=str(home.path)), service=service)
    )
    requests = [
        ("/v1/documents/fx-tuyen-giao", {}),
        ("/v1/stats", {}),
        ("/v1/search", {"q": "tuyen giao"}),
    ]
    before = {p: client.simulate_get(p, params=q).headers["ETag"] for p, q in requests}
    suggest = {"q": "tuyen"}
    old_suggest = client.simulate_get("/v1/suggest", params=suggest)

    build(home, FIXTURE_ARTICLES)  # a new generation with more documents
    for path, params in requests:
        resp = client.simulate_get(path, params=params, headers={"If-None-Match": before[path]})
        assert resp.status_code == 200, path
        assert resp.headers["ETag"] != before[path], path
    assert client.simulate_get("/v1/stats").json["generation"] == "g000002"

    # Suggestions follow once the new title index is built in the background;
    # until then they come, tagged as before, from the previous generation.
    tag = old_suggest.headers["ETag"]
    deadline = time.monotonic() + 10
    while True:
        resp = client.simulate_get("/v1/suggest", params=suggest, headers={"If-None-Match": tag})
        if resp.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert resp.status_code == 200 and resp.headers["ETag"] != tag
    assert len(resp.json["suggestions"]) > len(old_suggest.json["suggestions"])
    service.close()


def test_suggest_answers_from_the_previous_index_while_the_new_one_builds(tmp_path, monkeypatch):
    home = IndexHome(tmp_path / "ix")
    build(home, FIXTURE_ARTICLES[:4])
    service = SearchService(str(home.path), refresh_interval=0, background=False)
    client = falcon.testing.TestClient(
        create_app(Config(index_dir=str(home.path)), service=service)
    )
    first = client.simulate_get("/v1/suggest", params={"q": "tuyen"}).json
    release = threading.Event()
    real_build = titles_module.build_title_index

    def slow_build(snap):
        assert release.wait(10)
        return real_build(snap)

    monkeypatch.setattr(titles_module, "build_title_index", slow_build)
    build(home, FIXTURE_ARTICLES)
    started = time.monotonic()
    for _ in range(5):  # no request waits for the build
        assert client.simulate_get("/v1/suggest", params={"q": "tuyen"}).json == first
    assert time.monotonic() - started < 2
    release.set()
    deadline = time.monotonic() + 10
    while client.simulate_get("/v1/suggest", params={"q": "tuyen"}).json == first:
        assert time.monotonic() < deadline, "the new title index never took over"
        time.sleep(0.02)
    service.close()


# -- gzip ---------------------------------------------------------------------------------------


def test_large_answers_are_gzipped_for_clients_that_accept_it(client):
    params = {"q": "quan", "per_page": "20"}
    plain = client.simulate_get("/v1/search", params=params)
    assert plain.status_code == 200 and len(plain.content) > 1024
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]

    accept = {"Accept-Encoding": "br, gzip"}
    packed = client.simulate_get("/v1/search", params=params, headers=accept)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert int(packed.headers["Content-Length"]) == len(packed.content) < len(plain.content)
    body = json.loads(gzip.decompress(packed.content))
    body["processing_time_ms"] = plain.json["processing_time_ms"]
    assert body == plain.json
    assert packed.headers["ETag"] == plain.headers["ETag"]


def test_small_answers_and_refusals_are_not_gzipped(client):
    small = client.simulate_get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in small.headers
    refused = client.simulate_get(
        "/v1/search", params={"q": "quan"}, headers={"Accept-Encoding": "gzip;q=0, identity"}
    )
    assert "Content-Encoding" not in refused.headers


def test_static_files_are_gzipped_too(client):
    resp = client.simulate_get("/static/vnsearch.js", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["Content-Encoding"] == "gzip"
    assert b"VNSearch" in gzip.decompress(resp.content)


# -- access log ---------------------------------------------------------------------------------


def _access_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "vnsearch.access"]


def test_access_log_is_one_json_line_per_request_without_the_query_or_ip(client, caplog):
    with caplog.at_level(logging.INFO, logger="vnsearch.access"):
        client.simulate_get("/v1/search", params={"q": "tuyên giáo bí mật"})
        client.simulate_get("/v1/suggest", params={"q": "ubnd q"})
        client.simulate_get("/v1/search", params={"page": "0"})
        client.simulate_get("/v1/documents/fx-tuyen-giao")
    lines = _access_lines(caplog)
    assert len(lines) == 4
    search, suggest, bad, doc = lines
    assert search["method"] == "GET" and search["path"] == "/v1/search"
    assert search["route"] == "/v1/search" and search["status"] == 200
    assert search["query_length"] == len("tuyên giáo bí mật")
    assert search["hits"] >= 1 and isinstance(search["duration_ms"], float)
    assert suggest["hits"] == 1 and suggest["route"] == "/v1/suggest"
    assert bad["status"] == 400 and bad["hits"] is None
    assert doc["route"] == "/v1/documents/{doc_id}" and doc["path"] == "/v1/documents/fx-tuyen-giao"
    text = caplog.text
    assert "bí mật" not in text and "127.0.0.1" not in text
    assert all("ip" not in line for line in lines)


def test_access_log_has_the_ip_only_when_asked(sample_index, caplog):
    client = falcon.testing.TestClient(
        create_app(
            Config.from_env({"VNSEARCH_INDEX_DIR": str(sample_index), "VNSEARCH_LOG_IPS": "1"})
        )
    )
    with caplog.at_level(logging.INFO, logger="vnsearch.access"):
        client.simulate_get("/healthz", remote_addr="192.0.2.7")
    assert _access_lines(caplog)[0]["ip"] == "192.0.2.7"
    with pytest.raises(ConfigError, match="VNSEARCH_LOG_IPS"):
        Config.from_env({"VNSEARCH_LOG_IPS": "maybe"})


# -- metrics ---------------------------------------------------------------------------------


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the first ``name`` sample with these labels, or None."""
    for line in text.splitlines():
        m = re.fullmatch(rf"{re.escape(name)}(?:\{{(.*)\}})? (\S+)", line)
        if m:
            found = dict(re.findall(r'(\w+)="([^"]*)"', m[1] or ""))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(m[2])
    return None


def test_metrics_count_requests_per_route_and_describe_the_index(sample_index, monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)  # this app's own registry
    client = falcon.testing.TestClient(create_app(Config(index_dir=str(sample_index))))
    for _ in range(3):
        client.simulate_get("/v1/search", params={"q": "quan"})
    client.simulate_get("/v1/search", params={"page": "0"})
    client.simulate_get("/v1/documents/no-such-id")
    client.simulate_get("/v1/documents/a%20b")
    client.simulate_get("/nowhere/at/all")
    resp = client.simulate_get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    assert resp.headers["Cache-Control"] == "no-store"
    text = resp.text
    requests = "vnsearch_http_requests_total"
    assert _sample(text, requests, route="/v1/search", method="GET", status="200") == 3
    assert _sample(text, requests, route="/v1/search", status="400") == 1
    assert _sample(text, requests, route="/v1/documents/{doc_id}", status="404") == 2
    assert _sample(text, requests, route="unmatched", status="404") == 1
    assert "/nowhere" not in text  # labels are route templates, never raw paths
    hist = "vnsearch_http_request_duration_seconds"
    assert _sample(text, hist + "_count", route="/v1/search") == 4
    assert _sample(text, hist + "_bucket", route="/v1/search", le="+Inf") == 4
    stats = client.simulate_get("/v1/stats").json
    assert _sample(text, "vnsearch_index_documents") == stats["doc_count"]
    assert _sample(text, "vnsearch_index_generation", generation="g000001") == 1
    assert _sample(text, "vnsearch_index_up") == 1


def test_metrics_without_an_index_say_so(missing_index_client):
    text = missing_index_client.simulate_get("/metrics").text
    assert _sample(text, "vnsearch_index_up") == 0
    assert _sample(text, "vnsearch_index_documents") is None


# -- the demo page and the search box files ------------------------------------------------------


def test_demo_page_has_a_strict_content_security_policy(client):
    resp = client.simulate_get("/")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    html = resp.text
    # No inline script or style: every <script> has a src, no on*= handlers, no style=.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+\s*=", html) and "style=" not in html and "<style" not in html
    assert 'src="/static/vnsearch.js"' in html
    assert_security_headers(resp)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("vnsearch.js", "javascript"),
        ("vnsearch.css", "text/css"),
        ("demo.css", "text/css"),
        ("demo.js", "javascript"),
    ],
)
def test_search_box_files_are_served(client, name, kind):
    resp = client.simulate_get(f"/static/{name}")
    assert resp.status_code == 200
    assert kind in resp.headers["Content-Type"]
    assert resp.headers["Cache-Control"] == "public, max-age=60"
    assert resp.headers.get("ETag")


def test_search_box_script_is_small_and_never_uses_eval(client):
    js = client.simulate_get("/static/vnsearch.js").content
    # Under 15 KB until the "Xem theo ngày" date picker (22.1 KB with it).
    assert len(js) < 23 * 1024
    text = js.decode()
    assert "eval(" not in text and "new Function" not in text and "document.write" not in text
    # innerHTML only ever receives the API's highlight strings.
    for line in text.splitlines():
        if "innerHTML" in line:
            allowed = r"innerHTML = (s\.highlight|h\.highlight\.(title|snippet));"
            assert re.search(allowed, line), line


def test_demo_article_view_inserts_only_text(client):
    js = client.simulate_get("/static/demo.js").text
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "eval(" not in js
    assert 'src="/static/demo.js"' in client.simulate_get("/").text


def test_static_route_does_not_escape_its_directory(client):
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py"):
        assert client.simulate_get(path).status_code == 404, path


def test_importing_the_gunicorn_config_leaves_the_environment_alone(monkeypatch):
    import importlib
    import os

    import search_api.gunicorn_conf as conf

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    importlib.reload(conf)
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
