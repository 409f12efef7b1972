"""Visitor input never gives a 500: the hostile input corpus through every GET
endpoint's parameters.

The corpus is ``tests/data/hostile_inputs.jsonl`` (made by
``tests/data/make_hostile.py``; a test below keeps the two in step): wildcard
and regex bombs, deep nesting, Lucene/Whoosh syntax, SQL and script injection,
100 KB strings, null bytes, lone surrogates, mixed scripts, bidi marks, huge
numbers, broken percent-encoding. Endpoints and their parameters are read from
``/openapi.json``, so a new endpoint is covered without touching this file.

Every answer must be a 200 or a 4xx problem (400, 404, 414), and no HTML comes back with
unescaped markup: highlights are escaped except ``<mark>``, no error detail
echoes the input, the demo page never reflects it (see
:func:`helpers.assert_no_unescaped_markup` for what counts as plain text).
"""

from __future__ import annotations

import re
import subprocess
import sys
from urllib.parse import quote

import orjson
import pytest
from conftest import ROOT
from helpers import assert_no_unescaped_markup, assert_problem
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(ROOT / "tests" / "data"))
import make_hostile

PARAM_CODES = {"invalid_param", "missing_param", "query_too_long", "page_too_deep"}
PARAM_CODES |= {"too_many_values"}
# In the default run every string goes through /v1/search?q= (what visitors type
# into), every OTHER_STRIDE-th through each other parameter, and every
# BARE_STRIDE-th as an unknown parameter of parameterless endpoints. The slow
# run sends all of them everywhere.
FULL = {("/v1/search", "q")}
OTHER_STRIDE, BARE_STRIDE = 8, 40
CORPUS = make_hostile.load()
HOSTILE = [e["s"] for e in CORPUS if e["kind"] != "raw"]
RAW_QUERY_STRINGS = [e["s"] for e in CORPUS if e["kind"] == "raw"]
NASTY = make_hostile.NASTY
# Path parameters get a real value when they are not the one under attack.
PATH_DEFAULTS = {"doc_id": "fx-tuyen-giao", "file": "vnsearch.js"}


def encode(value: str) -> str:
    """A value as a browser would send it (lone surrogates as their CESU bytes)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


_TAG = re.compile(r"<\s*(script|img|svg|iframe|style|a\s)", re.IGNORECASE)


def check(resp, sent: str = "", *, allowed=(200, 400, 404, 414)) -> None:
    """200 or a 4xx problem; no markup from ``sent`` comes back where it could run."""
    assert resp.status_code in allowed, (resp.status_code, resp.text[:300])
    kind = resp.headers.get("Content-Type", "")
    if resp.status_code >= 400:
        body = orjson.loads(resp.content)
        if resp.status_code == 400:
            assert body["code"] in PARAM_CODES, body
            assert_problem(resp, 400, body["code"], body.get("param"))
        else:
            assert_problem(resp, resp.status_code, body["code"])
        assert "<" not in body["detail"], body  # details never echo what was sent
    elif kind.startswith("application/json"):
        assert_no_unescaped_markup(orjson.loads(resp.content))
    elif kind.startswith("text/html") and _TAG.search(sent):
        assert sent not in resp.text  # the demo page never reflects input


def operations(client) -> list[tuple[str, list[str], list[str]]]:
    """(path template, query parameter names, path parameter names) of every
    GET operation in /openapi.json."""
    doc = client.simulate_get("/openapi.json").json
    out = []
    for path, item in doc["paths"].items():
        params = item["get"].get("parameters", [])
        query = [p["name"] for p in params if p["in"] == "query"]
        in_path = [p["name"] for p in params if p["in"] == "path"]
        out.append((path, query, in_path))
    return out


def _fill(template: str, attacked: str | None = None, value: str = "") -> str:
    path = template
    for name, default in PATH_DEFAULTS.items():
        path = path.replace("{" + name + "}", encode(value) if name == attacked else default)
    return path


def test_the_corpus_is_big_and_fresh():
    assert len(HOSTILE) >= 1000
    kinds = {e["kind"] for e in CORPUS}
    assert kinds >= {"syntax", "injection", "control", "unicode", "size", "bomb", "nesting"}
    assert kinds >= {"number", "random", "raw"}
    assert max(map(len, HOSTILE)) >= 100_000
    assert any("\ud800" <= c <= "\udfff" for s in HOSTILE for c in s)  # lone surrogates
    assert any("\x00" in s for s in HOSTILE) and any("\u202e" in s for s in HOSTILE)
    script = ROOT / "tests" / "data" / "make_hostile.py"
    stale = subprocess.run([sys.executable, str(script), "--check"], capture_output=True)
    assert stale.returncode == 0, stale.stderr.decode()


def _sweep(client, stride: int = 1, bare_stride: int = 1) -> dict[int, int]:
    """The corpus as each query and path parameter of each GET operation;
    parameterless endpoints get it as an unknown parameter. Returns the count
    of each status."""
    ops = operations(client)
    assert {p for p, _, _ in ops} >= {"/v1/search", "/v1/suggest", "/v1/documents/{doc_id}"}
    statuses: dict[int, int] = {}
    for template, query, in_path in ops:
        for name in [*(query or ["x"]), *in_path]:
            if (template, name) in FULL:
                values = HOSTILE
            else:
                values = HOSTILE[:: stride if query or in_path else bare_stride]
            for value in values:
                if name in in_path:
                    resp = client.simulate_get(_fill(template, name, value))
                else:
                    qs = f"{name}={encode(value)}"
                    resp = client.simulate_get(_fill(template), query_string=qs)
                check(resp, value)
                statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
    assert set(statuses) <= {200, 400, 404, 414}, statuses
    print(f"hostile sweep: {sum(statuses.values())} requests, statuses {statuses}")
    return statuses


def test_every_string_through_every_parameter_of_every_endpoint(client):
    statuses = _sweep(client, OTHER_STRIDE, BARE_STRIDE)
    # Both paths were exercised.
    assert statuses[200] > 2000 and statuses[400] > 1000 and statuses[404] > 100, statuses


@pytest.mark.slow
def test_every_string_through_every_parameter_of_every_endpoint_in_full(client):
    statuses = _sweep(client)
    assert sum(statuses.values()) > 20_000, statuses


def test_hostile_queries_find_no_markup_in_highlights(client):
    """With a query that matches the fixture whose title and body hold <script>
    and <img onerror>, every hostile string added to it is still escaped."""
    for text in HOSTILE[::6]:
        q = encode("tuyên giáo " + text[:200])
        qs = f"q={q}&per_page=50&facets=year,month,day,category,site"
        check(client.simulate_get("/v1/search", query_string=qs), text)
    resp = client.simulate_get("/v1/search", params={"q": "tuyên giáo", "per_page": "50"})
    hits = {h["id"]: h for h in resp.json["hits"]}
    assert "&lt;script&gt;" in hits["fx-script"]["highlight"]["title"]
    assert_no_unescaped_markup(resp.json)


def test_hostile_queries_with_every_sort_and_facets(client):
    for text in HOSTILE[::14]:
        for extra in ("sort=newest", "sort=oldest", "sort=popular", "facets=day,site"):
            check(client.simulate_get("/v1/search", query_string=f"q={encode(text)}&{extra}"))
        qs = f"q={encode(text)}&facets=year,month,day,category,site&per_page=50"
        check(client.simulate_get("/v1/search", query_string=qs))


def test_raw_broken_query_strings_on_every_endpoint(client):
    for template, _, _ in operations(client):
        for query_string in RAW_QUERY_STRINGS:
            check(client.simulate_get(_fill(template), query_string=query_string))


def test_huge_numbers_as_page_per_page_and_limit(client):
    numbers = [e["s"] for e in CORPUS if e["kind"] == "number"]
    for value in numbers:
        for path, name in (("/v1/search", "page"), ("/v1/search", "per_page"),
                           ("/v1/suggest", "limit")):  # fmt: skip
            resp = client.simulate_get(path, query_string=f"{name}={encode(value)}")
            check(resp, value)
            if value.strip().isdigit() and int(value) > 10**9:
                assert resp.status_code == 400, (name, value)


def test_hostile_queries_on_a_missing_index_give_503_or_400(missing_index_client):
    for text in HOSTILE[::25]:
        resp = missing_index_client.simulate_get("/v1/search", query_string=f"q={encode(text)}")
        if resp.status_code == 503:
            assert_problem(resp, 503, "index_unavailable")
        else:
            check(resp, allowed=(400, 414))


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(st.characters(exclude_categories=()), max_size=60),
        st.text(st.sampled_from(NASTY), max_size=300),
    )
)
def test_any_text_as_q_gives_200_or_400(client, text):
    check(client.simulate_get("/v1/search", query_string=f"q={encode(text)}"), allowed=(200, 400))
