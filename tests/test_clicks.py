"""POST /v1/clicks: only its shape, only its size, only so often, only when on."""

from __future__ import annotations

import falcon.testing
import orjson
import pytest
from helpers import assert_problem
from hypothesis import example, given, settings
from hypothesis import strategies as st

from search_api.app import create_app
from search_api.clicks import MAX_BYTES, RateLimiter
from search_api.config import Config
from search_api.events import EventLog

GOOD = {"q": "tuyen giao", "id": "q5-2018-002", "position": 3, "page": 1}


@pytest.fixture
def clicks(sample_index, tmp_path):
    config = Config.from_env(
        {
            "VNSEARCH_INDEX_DIR": str(sample_index),
            "VNSEARCH_EVENTS_DIR": str(tmp_path / "ev"),
            "VNSEARCH_CLICKS": "1",
            "VNSEARCH_CLICK_RATE": "5",
        }
    )
    log = EventLog(config.events_dir)
    client = falcon.testing.TestClient(create_app(config, events=log))
    yield client, log, tmp_path / "ev"
    log.close()


def _post(client, body, *, content_type="text/plain;charset=UTF-8", addr="198.51.100.1", **kw):
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return client.simulate_post(
        "/v1/clicks",
        body=data,
        headers={"Content-Type": content_type, **kw.pop("headers", {})},
        remote_addr=addr,
        **kw,
    )


def test_a_click_is_written_as_an_event(clicks):
    client, log, directory = clicks
    r = _post(client, {**GOOD, "q": "Tuyên Giáo 0912345678"})
    assert r.status_code == 204 and r.content == b""
    r = _post(client, GOOD, content_type="application/json")
    assert r.status_code == 204
    assert log.flush()
    events = [orjson.loads(x) for p in directory.iterdir() for x in p.read_bytes().splitlines()]
    assert [e["type"] for e in events] == ["click", "click"]
    assert events[0]["q"] == "tuyên giáo ***" and events[0]["doc_id"] == "q5-2018-002"
    assert events[0]["position"] == 3 and events[0]["page"] == 1
    assert b"198.51.100.1" not in b"".join(p.read_bytes() for p in directory.iterdir())


@pytest.mark.parametrize(
    "body",
    [
        {},
        [GOOD],
        "tuyen giao",
        {**GOOD, "extra": 1},
        {**GOOD, "ip": "1.2.3.4"},
        {k: v for k, v in GOOD.items() if k != "id"},
        {k: v for k, v in GOOD.items() if k != "position"},
        {**GOOD, "position": 0},
        {**GOOD, "position": "3"},
        {**GOOD, "position": True},
        {**GOOD, "position": 3.0},
        {**GOOD, "position": 1001},
        {**GOOD, "page": 0},
        {**GOOD, "id": ""},
        {**GOOD, "id": "x" * 201},
        {**GOOD, "id": 5},
        {**GOOD, "q": None},
        {**GOOD, "q": ["x"]},  # (a q over 2,000 characters no longer fits the 1 KB body)
    ],
)
def test_anything_but_the_shape_is_refused(clicks, body):
    client, log, _ = clicks
    r = _post(client, body, addr=f"198.51.100.{hash(str(body)) % 200 + 2}")
    assert_problem(r, 400, "invalid_click")
    assert log.written == 0


def test_not_json_wrong_media_too_large_or_unsized_is_refused(clicks):
    client, log, _ = clicks
    assert_problem(_post(client, b"{not json", addr="10.0.0.1"), 400, "invalid_click")
    assert_problem(_post(client, b"\xff\xfe", addr="10.0.0.2"), 400, "invalid_click")
    r = _post(client, GOOD, content_type="application/x-www-form-urlencoded", addr="10.0.0.3")
    assert_problem(r, 415, "unsupported_media_type")
    big = orjson.dumps({**GOOD, "q": "a " * MAX_BYTES})
    assert_problem(_post(client, big, addr="10.0.0.4"), 413, "body_too_large")
    r = client.simulate_post(
        "/v1/clicks",
        body=orjson.dumps(GOOD),
        headers={"Content-Type": "text/plain", "Transfer-Encoding": "chunked"},
        remote_addr="10.0.0.5",
    )
    assert r.status_code in (411, 413)
    assert r.headers["content-type"] == "application/problem+json"
    assert_problem(client.simulate_get("/v1/clicks"), 405, "method_not_allowed")
    assert log.written == 0


@settings(derandomize=True, max_examples=150, deadline=None)
@given(body=st.binary(max_size=MAX_BYTES))
@example(body=b'{"q": "a", "id": "b", "position": 1, "page": 1, "x": 1}')
@example(body=b"null")
def test_arbitrary_bodies_never_500(sample_index, tmp_path_factory, body):
    client = _fuzz_client(sample_index, tmp_path_factory)
    r = _post(client, body)
    assert r.status_code in (204, 400, 413, 429)
    if r.status_code != 204:
        assert r.headers["content-type"] == "application/problem+json"


_FUZZ: dict = {}


def _fuzz_client(sample_index, tmp_path_factory):
    if "client" not in _FUZZ:
        config = Config.from_env(
            {
                "VNSEARCH_INDEX_DIR": str(sample_index),
                "VNSEARCH_EVENTS_DIR": str(tmp_path_factory.mktemp("fuzz-ev")),
                "VNSEARCH_CLICKS": "1",
                "VNSEARCH_CLICK_RATE": "100000",
            }
        )
        _FUZZ["client"] = falcon.testing.TestClient(create_app(config))
    return _FUZZ["client"]


def test_clicks_are_rate_limited_per_client(clicks):
    client, _, _ = clicks
    assert [_post(client, GOOD, addr="192.0.2.7").status_code for _ in range(5)] == [204] * 5
    r = _post(client, GOOD, addr="192.0.2.7")
    assert_problem(r, 429, "too_many_clicks")
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert _post(client, GOOD, addr="192.0.2.8").status_code == 204  # another client
    # Behind the local proxy: the address nginx appended is the client.
    for _ in range(5):
        r = _post(client, GOOD, addr="127.0.0.1", headers={"X-Forwarded-For": "1.1.1.1, 192.0.2.9"})
        assert r.status_code == 204
    r = _post(client, GOOD, addr="127.0.0.1", headers={"X-Forwarded-For": "192.0.2.9"})
    assert r.status_code == 429
    r = _post(client, GOOD, addr="127.0.0.1", headers={"X-Forwarded-For": "192.0.2.10"})
    assert r.status_code == 204


def test_the_limit_resets_each_minute():
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    now[0] = 61.0
    assert limiter.allow("a")


def test_clicks_are_off_unless_enabled(client):
    assert_problem(client.simulate_post("/v1/clicks"), 404, "not_found")
    # and, as for every other path, no request body is read at all
    assert_problem(client.simulate_post("/v1/clicks", body=b"{}"), 413, "body_too_large")


@pytest.mark.parametrize(
    ("body", "status"),
    [(GOOD, 204), ({**GOOD, "x": 1}, 400), ({**GOOD, "position": 0}, 400), ({"q": "a"}, 400)],
)
def test_clicks_match_the_openapi_document(clicks, body, status):
    import json

    from openapi_core import Config as OpenAPIConfig
    from openapi_core import OpenAPI
    from openapi_core.testing import MockRequest, MockResponse

    from search_api.errors import PROBLEM_JSON

    client, _, _ = clicks
    doc = client.simulate_get("/openapi.json").json
    assert "/v1/clicks" in doc["paths"]
    spec = OpenAPI.from_dict(
        doc, config=OpenAPIConfig(extra_media_type_deserializers={PROBLEM_JSON: json.loads})
    )
    data = orjson.dumps(body)
    resp = _post(client, data, content_type="application/json", addr="203.0.113.50")
    assert resp.status_code == status
    request = MockRequest(
        "http://localhost", "post", "/v1/clicks", data=data, content_type="application/json"
    )
    response = MockResponse(
        data=resp.content,
        status_code=resp.status_code,
        content_type=resp.headers.get("Content-Type", "application/json"),
        headers=dict(resp.headers),
    )
    spec.validate_response(request, response)
    if status == 204:
        spec.validate_request(request)
    else:
        with pytest.raises(Exception):  # noqa: B017 - any openapi-core validation error
            spec.validate_request(request)
