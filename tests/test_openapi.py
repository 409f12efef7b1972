"""``/openapi.json`` describes the API as it behaves: real responses of every
endpoint validate against it (openapi-core), requests the API accepts are valid
by it, and requests the API refuses with 400 are invalid by it (so the
documented limits are the enforced ones)."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode

import falcon.testing
import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_core import Config as OpenAPIConfig
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from werkzeug.datastructures import ImmutableMultiDict

from indexer.sources.dates import MAX_YEAR, MIN_YEAR
from search_api import clicks, openapi, params
from search_api.app import create_app
from search_api.config import Config, env_name
from search_api.engine import suggest
from search_api.errors import PROBLEM_JSON, TITLES

HOST = "http://localhost"


@pytest.fixture(scope="module")
def spec(client) -> OpenAPI:
    resp = client.simulate_get("/openapi.json")
    assert resp.status_code == 200
    doc = resp.json
    assert doc["openapi"].startswith("3.1")
    # openapi-core decodes application/json only; our errors are problem+json.
    config = OpenAPIConfig(extra_media_type_deserializers={PROBLEM_JSON: json.loads})
    return OpenAPI.from_dict(doc, config=config)  # also validates the document itself


def _call(client, path: str, query: str = "", headers: dict | None = None):
    resp = client.simulate_get(path, query_string=query, headers=headers)
    request = MockRequest(
        HOST, "get", path, args=ImmutableMultiDict(parse_qsl(query, keep_blank_values=True))
    )
    response = MockResponse(
        data=resp.content,
        status_code=resp.status_code,
        content_type=resp.headers.get("Content-Type", "application/json"),
        headers=dict(resp.headers),
    )
    return resp, request, response


OK = [
    ("/v1/search", {}),
    ("/v1/search", {"q": "tuyen giao"}),  # did_you_mean
    ("/v1/search", {"q": "tuyên giáo", "per_page": "50", "sort": "newest"}),
    ("/v1/search", {"q": "xyzzy"}),
    ("/v1/search", {"q": "quan", "facets": "year,month,day,category,site", "year": "2017"}),
    ("/v1/search", {"q": "quan", "facets": ""}),
    ("/v1/search", {"from": "2017-01-01", "to": "2017-12-31", "month": "2017-03"}),
    ("/v1/search", [("category", "Tin tức sự kiện"), ("category", "Kinh tế"), ("page", "2")]),
    ("/v1/suggest", {"q": "ubnd q"}),
    ("/v1/suggest", {"q": "tuyen gi", "limit": "10"}),
    ("/v1/suggest", {}),
    ("/v1/documents/fx-tuyen-giao", {}),
    ("/v1/documents/fx-undated", {}),
    ("/v1/stats", {}),
    ("/v1/calendar", {"year": "2017", "month": "3"}),
    ("/v1/calendar", {"year": "2017", "month": "3", "q": "quận", "site": "quan5"}),
    ("/v1/documents/fx-tuyen-giao/neighbors", {"n": "3"}),
    ("/v1/documents/fx-tuyen-giao/related", {}),
    ("/v1/search", {"sort": "popular"}),
    # A question of 100 words: evaluated with its most informative (truncated, query.kept).
    ("/v1/search", {"q": " ".join(["tuyên giáo quận năm ở đâu"] * 17)}),
    ("/healthz", {}),
    ("/readyz", {}),
    ("/openapi.json", {}),
]


@pytest.mark.parametrize(("path", "params"), OK)
def test_successful_responses_match_the_document(client, spec, path, params):
    resp, request, response = _call(client, path, urlencode(params))
    assert resp.status_code == 200, resp.text[:300]
    spec.validate_request(request)
    spec.validate_response(request, response)


BAD = [
    ("/v1/search", {"page": "0"}),
    ("/v1/search", {"per_page": "51"}),
    ("/v1/search", {"per_page": "x"}),
    ("/v1/search", {"q": "a" * 2001}),
    ("/v1/search", {"sort": "random"}),
    ("/v1/search", {"from": "2017-13-01"}),
    ("/v1/search", {"year": "17"}),
    ("/v1/search", {"month": "2017-13"}),
    ("/v1/search", {"facets": "color"}),
    ("/v1/search", [("site", str(i)) for i in range(21)]),
    ("/v1/suggest", {"q": "quan", "limit": "0"}),
    ("/v1/suggest", {"q": "quan", "limit": "11"}),
    ("/v1/suggest", {"q": "a" * 2001}),
    ("/v1/calendar", {"year": "2017"}),
    ("/v1/calendar", {"year": "2017", "month": "13"}),
    ("/v1/documents/fx-tuyen-giao/related", {"n": "0"}),
    ("/v1/documents/fx-tuyen-giao/neighbors", {"n": "21"}),
]


@pytest.mark.parametrize(("path", "params"), BAD)
def test_refused_requests_are_invalid_by_the_document_too(client, spec, path, params):
    resp, request, response = _call(client, path, urlencode(params))
    assert resp.status_code == 400
    spec.validate_response(request, response)
    with pytest.raises(Exception):  # noqa: B017 - any openapi-core validation error
        spec.validate_request(request)


def test_errors_match_the_document(client, missing_index_client, spec):
    _resp, request, response = _call(client, "/v1/documents/nope")
    assert response.status_code == 404
    spec.validate_response(request, response)
    for path in ("/v1/search", "/v1/suggest", "/v1/stats", "/readyz", "/v1/documents/x"):
        _resp, request, response = _call(
            missing_index_client, path, "q=quan" if "s" in path else ""
        )
        assert response.status_code == 503, path
        spec.validate_response(request, response)


def test_not_modified_matches_the_document(client, spec):
    first = client.simulate_get("/v1/suggest", params={"q": "quan"})
    _resp, request, response = _call(
        client, "/v1/suggest", "q=quan", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert response.status_code == 304
    spec.validate_response(request, response)


def test_other_endpoints_match_the_document(client, spec):
    for path in ("/metrics", "/"):
        _resp, request, response = _call(client, path)
        assert response.status_code == 200
        spec.validate_response(request, response)


def test_limits_come_from_the_config():
    doc = openapi.build(
        Config(max_per_page=7, max_page_depth=70, max_query_chars=40, max_filter_values=3)
    )
    params = {p["name"]: p for p in doc["paths"]["/v1/search"]["get"]["parameters"]}
    assert params["per_page"]["schema"]["maximum"] == 7
    assert params["per_page"]["schema"]["default"] == 7
    assert params["q"]["schema"]["maxLength"] == 40
    assert params["site"]["schema"]["maxItems"] == 3
    assert "70" in params["page"]["description"]
    client = falcon.testing.TestClient(create_app(Config(max_per_page=7, max_page_depth=70)))
    served = client.simulate_get("/openapi.json").json
    served_params = {p["name"]: p for p in served["paths"]["/v1/search"]["get"]["parameters"]}
    assert served_params["per_page"]["schema"]["maximum"] == 7


def test_limits_and_patterns_come_from_the_constants_the_api_enforces():
    """The document states no limit of its own: each one is the constant
    search_api.params (or the module that enforces it) uses."""
    c = Config()
    doc = openapi.build(c)
    ops = {path: item["get"] for path, item in doc["paths"].items() if "get" in item}

    def query(path: str) -> dict:
        return {p["name"]: p["schema"] for p in ops[path]["parameters"]}

    for what in ("neighbors", "related"):
        n = query(f"/v1/documents/{{doc_id}}/{what}")["n"]
        assert (n["maximum"], n["default"]) == (params.MAX_LIST_N, params.DEFAULT_LIST_N)
    calendar = query("/v1/calendar")
    assert (calendar["year"]["minimum"], calendar["year"]["maximum"]) == (MIN_YEAR, MAX_YEAR)
    month = calendar["month"]
    assert (month["minimum"], month["maximum"]) == (params.FIRST_MONTH, params.LAST_MONTH)
    search = query("/v1/search")
    assert search["year"]["items"]["pattern"] == f"^{params.YEAR_PATTERN}$"
    assert search["month"]["items"]["pattern"] == f"^{params.MONTH_PATTERN}$"
    assert search["per_page"]["default"] == min(params.DEFAULT_PER_PAGE, c.max_per_page)
    assert search["sort"]["default"] == params.DEFAULT_SORT
    for name in ("from", "to"):
        assert search[name]["pattern"] == f"^({params.year_range_pattern(MIN_YEAR, MAX_YEAR)})-"
    limit = query("/v1/suggest")["limit"]
    assert (limit["maximum"], limit["default"]) == (suggest.MAX_LIMIT, suggest.DEFAULT_LIMIT)
    post = openapi.build(Config(clicks=True, events_dir="events"))["paths"]["/v1/clicks"]["post"]
    click = post["requestBody"]["content"]["application/json"]["schema"]["properties"]
    assert click["id"]["maxLength"] == clicks.MAX_ID_CHARS
    assert f"At most {clicks.MAX_BYTES} bytes" in post["description"]


def test_the_year_range_pattern_of_the_shipped_range():
    assert params.year_range_pattern(1900, 2200) == "19[0-9]{2}|2[01][0-9]{2}|2200"


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.integers(0, 9999), st.integers(0, 9999))
def test_the_year_range_pattern_matches_exactly_the_range(a: int, b: int):
    low, high = min(a, b), max(a, b)
    pattern = re.compile(f"^({params.year_range_pattern(low, high)})$")
    for year in {0, 9999, low - 1, low, low + 1, high - 1, high, high + 1, (low + high) // 2}:
        if 0 <= year <= 9999:
            assert bool(pattern.match(f"{year:04d}")) == (low <= year <= high), year


def test_every_route_is_documented(client, spec):
    app = client.app
    routes = {"/v1/search", "/v1/suggest", "/v1/documents/{doc_id}", "/v1/stats", "/healthz"}
    routes |= {"/v1/calendar", "/v1/documents/{doc_id}/neighbors"}
    routes |= {"/v1/documents/{doc_id}/related"}
    routes |= {"/readyz", "/metrics", "/openapi.json", "/", "/static/{file}"}
    documented = set(client.simulate_get("/openapi.json").json["paths"])
    assert documented == routes
    for route in app._router._roots:
        path = "/" + route.raw_segment
        assert any(d == path or d.startswith(path + "/") for d in documented), path


def test_docs_cover_every_endpoint_parameter_code_and_setting(client):
    """docs/api.md cannot go stale: every path, parameter and error code of the
    OpenAPI document, and every setting that shapes the API, appears in it."""
    text = (ROOT / "docs" / "api.md").read_text("utf-8")
    doc = client.simulate_get("/openapi.json").json
    for path, item in doc["paths"].items():
        shown = path.replace("{doc_id}", "{id}").replace("{file}", "")
        assert f"`GET {shown}" in text or f"`{shown}" in text, path
        for param in item["get"].get("parameters", []):
            if param["in"] == "query":
                assert f"`{param['name']}`" in text, (path, param["name"])
    for code in TITLES:
        assert f"`{code}`" in text, code
    for setting in (
        "max_query_chars",
        "max_query_words",
        "max_per_page",
        "max_page_depth",
        "max_filter_values",
        "cache_max_age",
        "cors_origins",
        "log_ips",
        "refresh_interval",
    ):
        assert env_name(setting) in text, setting
