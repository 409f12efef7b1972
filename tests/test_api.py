"""The HTTP API through Falcon's TestClient: parameters, errors, behaviours, headers."""

from __future__ import annotations

import logging
import unicodedata
from datetime import date, datetime
from urllib.parse import urlencode

import orjson
import pytest
from conftest import FIXTURE_IDS, FIXTURE_SITES, PORTAL_PAGE_ID
from helpers import assert_no_unescaped_markup, assert_problem, assert_security_headers, client_for

from search_api.app import create_app
from search_api.config import Config, ConfigError
from search_api.engine.request import DEFAULT_FACETS, FACETS

FIXTURES = "&".join(f"site={s}" for s in FIXTURE_SITES)


def search(client, query_string: str = "", **params) -> dict:
    """GET /v1/search expecting a 200; returns the decoded body. ``query_string``
    is sent as is, followed by the URL-encoded ``params``."""
    qs = "&".join(p for p in (query_string, urlencode(params)) if p)
    resp = client.simulate_get("/v1/search", query_string=qs)
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["Content-Type"] == "application/json"
    assert_security_headers(resp)
    return resp.json


def ids(body: dict) -> list[str]:
    return [h["id"] for h in body["hits"]]


def published(hit: dict) -> datetime | None:
    value = hit["published"]
    if value is None:
        return None
    if len(value) == 10:
        value += "T00:00:00+07:00"
    return datetime.fromisoformat(value)


# -- the response shape ---------------------------------------------------------------


def test_search_response_has_the_documented_keys(client):
    body = search(client, q="tuyen giao")
    assert set(body) >= {
        "query",
        "hits",
        "page",
        "per_page",
        "total_hits",
        "total_pages",
        "facets",
        "processing_time_ms",
    }
    assert body["query"] == {"text": "tuyen giao", "normalized": "tuyen giao", "accented": False}
    assert body["hits"], body
    for hit in body["hits"]:
        assert set(hit) >= {"id", "url", "title", "published", "category", "site", "score"}
        assert set(hit["highlight"]) == {"title", "snippet"}
        assert isinstance(hit["score"], float)
    assert body["page"] == 1 and body["per_page"] == 10
    assert body["total_pages"] == -(-body["total_hits"] // 10)
    assert list(body["facets"]) == list(DEFAULT_FACETS)
    assert isinstance(body["processing_time_ms"], float)


def test_did_you_mean_is_passed_through(client):
    body = search(client, q="tuyen giao")
    assert body["did_you_mean"] == "tuyên giáo"
    assert "did_you_mean" not in search(client, q="tuyên giáo")


def test_vietnamese_comes_back_as_utf8_not_escaped(client):
    resp = client.simulate_get("/v1/search", params={"q": "tuyên giáo"})
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert "tuyên".encode() in resp.content
    assert b"\\u" not in resp.content
    assert resp.content.decode("utf-8")  # valid UTF-8


# -- q ------------------------------------------------------------------------------------


def test_empty_query_lists_everything_newest_first(client):
    body = search(client, f"{FIXTURES}&per_page=50")
    assert set(ids(body)) == FIXTURE_IDS
    dates = [published(h) for h in body["hits"]]
    dated = [d for d in dates if d is not None]
    assert dated == sorted(dated, reverse=True)
    assert dates[-1] is None  # undated last
    assert all(h["score"] == 0.0 for h in body["hits"])


def test_blank_q_is_the_empty_query(client):
    assert ids(search(client, f"q=&{FIXTURES}")) == ids(search(client, FIXTURES))
    assert ids(search(client, f"q=+++&{FIXTURES}")) == ids(search(client, FIXTURES))


def test_query_finds_the_portal_page_with_marks_on_the_accented_words(client, has_portal_page):
    if not has_portal_page:
        pytest.skip("../shared/samples is absent")
    body = search(client, q="tuyen giao", per_page=50)
    hit = next(h for h in body["hits"] if h["id"] == PORTAL_PAGE_ID)
    title = hit["highlight"]["title"]
    assert "<mark>tuyên giáo</mark>" in title or "<mark>tuyên</mark> <mark>giáo</mark>" in title
    assert "<mark>" in hit["highlight"]["snippet"]


@pytest.mark.parametrize(
    ("exact", "trap", "where"),
    [
        ("fx-tuyen-giao", "fx-tuyen-giao-trap", FIXTURES),
        ("q5-2018-002", "tt-2017-001", ""),  # sample corpus trap T1
    ],
)
def test_exact_diacritics_rank_above_a_trap(client, has_sample, exact, trap, where):
    if not exact.startswith("fx-") and not has_sample:
        pytest.skip("data/sample is absent")
    found = ids(search(client, where, q="tuyên giáo", per_page=50))
    assert exact in found and trap in found
    assert found.index(exact) < found.index(trap)


def test_tone_placement_does_not_matter(client):
    old = search(client, FIXTURES, q="hoà bình", per_page=50)
    new = search(client, FIXTURES, q="hòa bình", per_page=50)
    assert {"fx-hoa-binh-old", "fx-hoa-binh-new"} <= set(ids(old))
    assert sorted(ids(old)) == sorted(ids(new))


@pytest.mark.parametrize("text", ["hòa bình", "hoà bình", "tuyên giáo", "Đêm giao thừa"])
def test_nfd_and_nfc_queries_give_the_same_hits(client, text):
    nfc = search(client, q=unicodedata.normalize("NFC", text), per_page=50)
    nfd = search(client, q=unicodedata.normalize("NFD", text), per_page=50)
    assert nfc["total_hits"] > 0
    assert ids(nfc) == ids(nfd)


def test_markup_in_documents_is_escaped_in_highlights(client):
    body = search(client, FIXTURES, q="tuyên giáo", per_page=50)
    hit = next(h for h in body["hits"] if h["id"] == "fx-script")
    assert hit["title"].startswith("<script>")  # the stored field is plain text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit["highlight"]["title"]
    assert "&lt;script&gt;" in hit["highlight"]["snippet"]
    assert "&lt;img" in hit["highlight"]["snippet"]
    assert_no_unescaped_markup(body)
    for item in search(client, q="alert", per_page=50)["hits"]:
        assert "<script" not in item["highlight"]["title"] + item["highlight"]["snippet"]


def test_query_of_exactly_the_limits_is_accepted(client):
    search(client, q="a" * 256)
    search(client, q=" ".join(["nhà"] * 32))


# -- page and per_page ---------------------------------------------------------------------


def test_pages_partition_the_results(client):
    all_ids = ids(search(client, FIXTURES, per_page=8))
    pages = [ids(search(client, FIXTURES, per_page=3, page=p)) for p in (1, 2, 3)]
    assert [i for p in pages for i in p] == all_ids
    body = search(client, FIXTURES, per_page=3, page=3)
    assert body["page"] == 3 and body["per_page"] == 3
    assert body["total_hits"] == len(FIXTURE_IDS) and body["total_pages"] == 3


def test_a_page_past_the_end_is_empty(client):
    body = search(client, FIXTURES, page=5, per_page=10)
    assert body["hits"] == [] and body["total_hits"] == len(FIXTURE_IDS)


def test_page_depth_limit_is_inclusive(client):
    search(client, page=100, per_page=10)
    search(client, page=20, per_page=50)


# -- sort ------------------------------------------------------------------------------------


def test_sort_newest_and_oldest(client):
    newest = search(client, FIXTURES, q="phường", sort="newest", per_page=50)
    oldest = search(client, FIXTURES, q="phường", sort="oldest", per_page=50)
    assert newest["total_hits"] >= 5
    nd = [published(h) for h in newest["hits"] if h["published"]]
    od = [published(h) for h in oldest["hits"] if h["published"]]
    assert nd == sorted(nd, reverse=True)
    assert od == sorted(od)


def test_sort_relevance_is_by_score(client):
    body = search(client, q="tuyên giáo", sort="relevance", per_page=50)
    scores = [h["score"] for h in body["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert ids(body) == ids(search(client, q="tuyên giáo", per_page=50))  # the default


# -- from / to -----------------------------------------------------------------------------


def test_date_range_is_inclusive_in_vietnam_time(client):
    # 2016-12-31 23:30 +07:00 is on the 31st in Vietnam (16:30 UTC).
    body = search(client, FIXTURES, **{"from": "2016-12-31", "to": "2016-12-31"})
    assert ids(body) == ["fx-new-year-eve"]
    body = search(client, FIXTURES, **{"from": "2020-02-29", "to": "2020-02-29"})
    assert ids(body) == ["fx-script"]
    body = search(client, FIXTURES, **{"from": "2017-03-15"})
    for hit in body["hits"]:
        assert published(hit).date() >= date(2017, 3, 15)
    assert "fx-date-only" in ids(body) and "fx-undated" not in ids(body)
    body = search(client, FIXTURES, to="2017-03-15")
    assert set(ids(body)) == {"fx-new-year-eve", "fx-date-only"}


# -- filters ---------------------------------------------------------------------------------


def test_filters_are_repeatable_and_combine(client):
    one = search(client, "site=fixture-a", per_page=50)
    both = search(client, FIXTURES, per_page=50)
    assert {h["site"] for h in one["hits"]} == {"fixture-a"}
    assert both["total_hits"] == len(FIXTURE_IDS) > one["total_hits"]
    body = search(client, f"{FIXTURES}&category=Giao+th%C3%B4ng&category=Th%C3%B4ng+b%C3%A1o")
    assert set(ids(body)) == {"fx-tuyen-giao-trap", "fx-script"}
    body = search(client, f"{FIXTURES}&year=2018&year=2020")
    assert set(ids(body)) == {"fx-hoa-binh-old", "fx-hoa-binh-new", "fx-script"}
    body = search(client, f"{FIXTURES}&month=2018-02&month=2016-12")
    assert set(ids(body)) == {"fx-hoa-binh-new", "fx-new-year-eve"}
    body = search(client, f"{FIXTURES}&year=2018&month=2018-02")
    assert ids(body) == ["fx-hoa-binh-new"]


def test_blank_filter_values_are_ignored(client):
    """HTML forms send empty fields: they mean 'no filter'."""
    body = search(client, f"{FIXTURES}&from=&to=&category=&year=&month=&page=&per_page=&sort=")
    assert body["total_hits"] == len(FIXTURE_IDS)


def test_unknown_filter_value_matches_nothing(client):
    assert search(client, category="Không có")["total_hits"] == 0


def test_unknown_parameters_are_ignored(client):
    assert search(client, f"{FIXTURES}&utm_source=portal")["total_hits"] == len(FIXTURE_IDS)


# -- facets --------------------------------------------------------------------------------


def test_facets_parameter(client):
    assert list(search(client)["facets"]) == list(DEFAULT_FACETS)
    assert search(client, "facets=")["facets"] == {}
    assert list(search(client, "facets=site,day")["facets"]) == ["site", "day"]
    assert list(search(client, "facets=year,,year")["facets"]) == ["year"]
    assert list(search(client, "facets=year&facets=site")["facets"]) == ["year", "site"]
    assert list(search(client, f"facets={','.join(FACETS)}")["facets"]) == list(FACETS)


@pytest.mark.parametrize("q", ["", "tuyen giao", "phường"])
@pytest.mark.parametrize(
    ("facet", "param"), [("year", "year"), ("month", "month"), ("category", "category")]
)
def test_facet_counts_equal_filtered_totals(client, q, facet, param):
    counts = search(client, q=q, facets=facet)["facets"][facet]
    assert counts
    for value, count in counts.items():
        body = search(client, q=q, facets="", **{param: value})
        assert body["total_hits"] == count, (facet, value)


def test_facet_counts_per_site_and_day(client):
    body = search(client, FIXTURES, facets="site,day")
    assert body["facets"]["site"] == {"fixture-a": 4, "fixture-b": 4}
    assert body["facets"]["day"]["2016-12-31"] == 1
    assert sum(body["facets"]["day"].values()) == len(FIXTURE_IDS) - 1  # one is undated


# -- invalid parameters: 400 problem+json ----------------------------------------------------

INVALID = [
    ("page=0", "invalid_param", "page"),
    ("page=-1", "invalid_param", "page"),
    ("page=abc", "invalid_param", "page"),
    ("page=1.5", "invalid_param", "page"),
    ("page=1&page=2", "invalid_param", "page"),
    ("per_page=0", "invalid_param", "per_page"),
    ("per_page=51", "invalid_param", "per_page"),
    ("per_page=ten", "invalid_param", "per_page"),
    ("per_page=5&per_page=6", "invalid_param", "per_page"),
    ("page=101&per_page=10", "page_too_deep", "page"),
    ("page=21&per_page=50", "page_too_deep", "page"),
    ("page=99999999999999999999999", "page_too_deep", "page"),
    ("sort=best", "invalid_param", "sort"),
    ("sort=Newest", "invalid_param", "sort"),
    ("sort=newest&sort=oldest", "invalid_param", "sort"),
    ("from=2017-13-01", "invalid_param", "from"),
    ("from=2017%2F03%2F07", "invalid_param", "from"),
    ("from=07-03-2017", "invalid_param", "from"),
    ("from=yesterday", "invalid_param", "from"),
    ("to=2017-02-30", "invalid_param", "to"),
    ("to=2017-03-07T10:00", "invalid_param", "to"),
    ("from=2018-01-02&to=2018-01-01", "invalid_param", "from"),
    ("from=2018-01-01&from=2018-01-02", "invalid_param", "from"),
    ("year=17", "invalid_param", "year"),
    ("year=20170", "invalid_param", "year"),
    ("year=abcd", "invalid_param", "year"),
    ("year=2017&year=x", "invalid_param", "year"),
    ("month=2017", "invalid_param", "month"),
    ("month=2017-1", "invalid_param", "month"),
    ("month=2017-13", "invalid_param", "month"),
    ("month=2017-00", "invalid_param", "month"),
    ("month=03-2017", "invalid_param", "month"),
    ("facets=foo", "invalid_param", "facets"),
    ("facets=year,foo", "invalid_param", "facets"),
    ("facets=Year", "invalid_param", "facets"),
    ("q=" + "a" * 2001, "query_too_long", "q"),
    ("q=" + "+".join(["nh%C3%A0"] * 401), "query_too_long", "q"),
    ("q=a&q=b", "invalid_param", "q"),
    ("&".join(["category=c"] * 21), "too_many_values", "category"),
    ("&".join(["site=s"] * 21), "too_many_values", "site"),
    ("&".join(["year=2017"] * 21), "too_many_values", "year"),
    ("&".join(["month=2017-03"] * 21), "too_many_values", "month"),
]


@pytest.mark.parametrize(
    ("query_string", "code", "param"), INVALID, ids=[i[0][:40] for i in INVALID]
)
def test_invalid_parameters_are_400_problems(client, query_string, code, param):
    resp = client.simulate_get("/v1/search", query_string=query_string)
    assert_problem(resp, 400, code, param)


def test_query_length_counts_characters_not_bytes(sample_index):
    # 300 characters (the default 2,000 of "ệ" would pass the URL limit first).
    c = client_for(sample_index, VNSEARCH_MAX_QUERY_CHARS="300")
    search(c, q="ệ" * 300)  # 900 bytes of UTF-8
    assert_problem(
        c.simulate_get("/v1/search", params={"q": "ệ" * 301}), 400, "query_too_long", "q"
    )


def test_limits_come_from_the_config(sample_index):
    c = client_for(
        sample_index,
        VNSEARCH_MAX_QUERY_CHARS="5",
        VNSEARCH_MAX_QUERY_WORDS="2",
        VNSEARCH_MAX_PER_PAGE="5",
        VNSEARCH_MAX_PAGE_DEPTH="20",
        VNSEARCH_MAX_FILTER_VALUES="2",
    )
    assert c.simulate_get("/v1/search", query_string="q=a+b&per_page=5&page=4").status_code == 200
    assert_problem(
        c.simulate_get("/v1/search", query_string="q=abcdef"), 400, "query_too_long", "q"
    )
    assert_problem(c.simulate_get("/v1/search", query_string="q=a+b+c"), 400, "query_too_long", "q")
    assert_problem(
        c.simulate_get("/v1/search", query_string="per_page=6"), 400, "invalid_param", "per_page"
    )
    resp = c.simulate_get("/v1/search", query_string="per_page=5&page=5")
    assert_problem(resp, 400, "page_too_deep", "page")
    resp = c.simulate_get("/v1/search", query_string="site=a&site=b&site=c")
    assert_problem(resp, 400, "too_many_values", "site")
    # The default per_page (10) shrinks to the maximum instead of failing.
    assert c.simulate_get("/v1/search").json["per_page"] == 5


# -- other routes ---------------------------------------------------------------------------


def test_healthz(client, missing_index_client):
    for c in (client, missing_index_client):
        resp = c.simulate_get("/healthz")
        assert resp.status_code == 200 and resp.json == {"status": "ok"}
        assert_security_headers(resp)


def test_readyz(client):
    resp = client.simulate_get("/readyz")
    assert resp.status_code == 200
    body = resp.json
    assert body["status"] == "ready"
    assert body["generation"] == "g000001"
    assert body["doc_count"] >= len(FIXTURE_IDS)
    assert body["doc_count"] == search(client, facets="")["total_hits"]


def test_missing_index_is_503_not_500(missing_index_client):
    c = missing_index_client
    assert_problem(c.simulate_get("/readyz"), 503, "index_unavailable")
    resp = c.simulate_get("/v1/search", params={"q": "tuyên giáo"})
    assert_problem(resp, 503, "index_unavailable")
    assert resp.headers["Retry-After"] == "5"
    assert_problem(c.simulate_get("/v1/documents/fx-script"), 503, "index_unavailable")
    # Parameters are still checked first.
    assert_problem(c.simulate_get("/v1/search", params={"page": "0"}), 400, "invalid_param", "page")


def test_document_by_id(client):
    resp = client.simulate_get("/v1/documents/fx-tuyen-giao")
    assert resp.status_code == 200
    assert resp.json["id"] == "fx-tuyen-giao"
    assert resp.json["body"].startswith("Ban tuyên giáo")
    assert resp.json["published"].startswith("2019-05-10T09:00:00")
    resp = client.simulate_get("/v1/documents/fx-script")
    assert resp.json["title"].startswith("<script>")  # plain text, JSON-encoded


@pytest.mark.parametrize("doc_id", ["nope", "fx-tuyen-giao%20", "%3Cscript%3E", "a%00b"])
def test_unknown_document_is_404(client, doc_id):
    assert_problem(client.simulate_get(f"/v1/documents/{doc_id}"), 404, "not_found")


@pytest.mark.parametrize(
    "path", ["/v1", "/v1/search/", "/v2/search", "/v1/documents", "/admin", "/static/nope.js"]
)
def test_unknown_routes_are_404_problems(client, path):
    assert_problem(client.simulate_get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/search"),
        ("DELETE", "/v1/documents/x"),
        ("PUT", "/healthz"),
        ("PATCH", "/readyz"),
    ],
)
def test_wrong_methods_are_405_problems(client, method, path):
    resp = client.simulate_request(method, path)
    assert_problem(resp, 405, "method_not_allowed")
    assert "GET" in resp.headers["Allow"]


# -- unexpected errors ------------------------------------------------------------------------


class _Snapshot:
    version = "v1"

    def release(self):
        pass


class _Broken:
    def snapshot(self):
        return _Snapshot()

    def search(self, req):
        raise RuntimeError("secret internals /srv/index at 0xdeadbeef")

    def status(self):
        raise KeyError("doc_count")

    def document(self, doc_id):
        raise ZeroDivisionError


def test_unexpected_errors_are_generic_500s_with_the_traceback_only_in_the_log(caplog):
    import falcon.testing

    client = falcon.testing.TestClient(create_app(Config(), service=_Broken()))
    with caplog.at_level(logging.ERROR, logger="vnsearch.api"):
        resp = client.simulate_get("/v1/search", params={"q": "x"})
    body = assert_problem(resp, 500, "internal_error")
    assert "secret" not in resp.text and "RuntimeError" not in resp.text
    assert body["detail"] == body["detail"].strip() and "logged" in body["detail"]
    assert "secret internals" in caplog.text and "Traceback" in caplog.text
    assert_problem(client.simulate_get("/readyz"), 500, "internal_error")
    assert_problem(client.simulate_get("/v1/documents/x"), 500, "internal_error")


# -- headers and CORS -----------------------------------------------------------------------------


def test_security_headers_on_every_kind_of_response(client, missing_index_client):
    for resp in (
        client.simulate_get("/v1/search"),
        client.simulate_get("/healthz"),
        client.simulate_get("/v1/search", params={"page": "0"}),
        client.simulate_get("/nowhere"),
        client.simulate_post("/v1/search"),
        client.simulate_options("/v1/search"),
        missing_index_client.simulate_get("/readyz"),
    ):
        assert_security_headers(resp)
    # Answers are cacheable for VNSEARCH_CACHE_MAX_AGE seconds (see test_portal_api.py).
    assert client.simulate_get("/v1/search").headers["Cache-Control"] == "public, max-age=60"


def test_no_cors_headers_by_default(client):
    resp = client.simulate_get("/v1/search", headers={"Origin": "https://portal.example.gov.vn"})
    assert resp.status_code == 200
    assert not [h for h in resp.headers if h.lower().startswith("access-control-")]


def test_cors_allowlist(sample_index):
    portal = "https://quan5.example.gov.vn"
    c = client_for(sample_index, VNSEARCH_CORS_ORIGINS=f" {portal}/, https://quan1.example.gov.vn ")
    resp = c.simulate_get("/v1/search", headers={"Origin": portal})
    assert resp.headers["Access-Control-Allow-Origin"] == portal
    assert "Origin" in resp.headers["Vary"]
    resp = c.simulate_get("/v1/search", params={"page": "0"}, headers={"Origin": portal})
    assert_problem(resp, 400, "invalid_param", "page")
    assert resp.headers["Access-Control-Allow-Origin"] == portal  # errors are readable too
    resp = c.simulate_get("/v1/search", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in resp.headers
    resp = c.simulate_options(
        "/v1/search", headers={"Origin": portal, "Access-Control-Request-Method": "GET"}
    )
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == portal
    assert "GET" in resp.headers["Access-Control-Allow-Methods"]


def test_cors_wildcard(sample_index):
    c = client_for(sample_index, VNSEARCH_CORS_ORIGINS="*")
    resp = c.simulate_get("/healthz", headers={"Origin": "https://any.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


def test_one_orjson_handler_for_json_and_problems(client):
    app = client.app
    json_handler = app.resp_options.media_handlers["application/json"]
    assert app.resp_options.media_handlers["application/problem+json"] is json_handler
    assert app.req_options.media_handlers["application/json"] is json_handler
    assert orjson.loads(json_handler.serialize({"a": "ă"}, "application/json")) == {"a": "ă"}


# -- configuration -----------------------------------------------------------------------------


def test_config_defaults():
    c = Config.from_env({})
    assert c == Config()
    assert (c.index_dir, c.cors_origins, c.max_query_chars, c.max_query_words) == (
        "index",
        (),
        2000,
        400,
    )
    assert (c.max_per_page, c.max_page_depth, c.max_filter_values) == (50, 1000, 20)
    assert (c.refresh_interval, c.log_level, c.bind, c.workers, c.threads) == (
        1.0,
        "info",
        "127.0.0.1:8000",
        2,
        4,
    )


def test_config_casts_every_variable():
    c = Config.from_env(
        {
            "VNSEARCH_INDEX_DIR": "/srv/index",
            "VNSEARCH_CORS_ORIGINS": "https://a.example.vn, http://localhost:3000/,",
            "VNSEARCH_MAX_QUERY_CHARS": "100",
            "VNSEARCH_MAX_QUERY_WORDS": "10",
            "VNSEARCH_MAX_PER_PAGE": "20",
            "VNSEARCH_MAX_PAGE_DEPTH": "200",
            "VNSEARCH_MAX_FILTER_VALUES": "5",
            "VNSEARCH_REFRESH_INTERVAL": "0.25",
            "VNSEARCH_LOG_LEVEL": "DEBUG",
            "VNSEARCH_BIND": "0.0.0.0:9000",
            "VNSEARCH_WORKERS": "3",
            "VNSEARCH_THREADS": "8",
            "UNRELATED": "x",
        }
    )
    assert c == Config(
        index_dir="/srv/index",
        cors_origins=("https://a.example.vn", "http://localhost:3000"),
        max_query_chars=100,
        max_query_words=10,
        max_per_page=20,
        max_page_depth=200,
        max_filter_values=5,
        refresh_interval=0.25,
        log_level="debug",
        bind="0.0.0.0:9000",
        workers=3,
        threads=8,
    )
    assert Config.from_env({"VNSEARCH_WORKERS": "  "}).workers == 2  # blank: default
    assert Config.from_env({"VNSEARCH_BIND": "unix:/run/vnsearch.sock"}).bind.startswith("unix:")
    assert Config.from_env({"VNSEARCH_BIND": "[::1]:8000"}).bind == "[::1]:8000"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VNSEARCH_MAX_QUERY_CHARS", "abc"),
        ("VNSEARCH_MAX_QUERY_CHARS", "0"),
        ("VNSEARCH_MAX_QUERY_WORDS", "1.5"),
        ("VNSEARCH_MAX_PER_PAGE", "-3"),
        ("VNSEARCH_MAX_PAGE_DEPTH", "1e3"),
        ("VNSEARCH_MAX_FILTER_VALUES", "٣"),
        ("VNSEARCH_REFRESH_INTERVAL", "soon"),
        ("VNSEARCH_REFRESH_INTERVAL", "nan"),
        ("VNSEARCH_REFRESH_INTERVAL", "-1"),
        ("VNSEARCH_LOG_LEVEL", "loud"),
        ("VNSEARCH_BIND", "8000"),
        ("VNSEARCH_BIND", "localhost:http"),
        ("VNSEARCH_BIND", "localhost:70000"),
        ("VNSEARCH_WORKERS", "0"),
        ("VNSEARCH_THREADS", "many"),
        ("VNSEARCH_CORS_ORIGINS", "portal.example.gov.vn"),
        ("VNSEARCH_CORS_ORIGINS", "https://a.example.vn/search"),
        ("VNSEARCH_CORS_ORIGINS", "*,https://a.example.vn"),
        ("VNSEARCH_INDEX_DIR", "a\0b"),
    ],
)
def test_config_bad_values_name_the_variable(variable, value):
    with pytest.raises(ConfigError, match=variable) as info:
        Config.from_env({variable: value})
    assert info.value.variable == variable


def test_config_per_page_cannot_exceed_the_depth():
    with pytest.raises(ConfigError, match="VNSEARCH_MAX_PER_PAGE"):
        Config.from_env({"VNSEARCH_MAX_PER_PAGE": "50", "VNSEARCH_MAX_PAGE_DEPTH": "10"})


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        Config().workers = 3  # type: ignore[misc]
