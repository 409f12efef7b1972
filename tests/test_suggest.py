"""Search-as-you-type: ``GET /v1/suggest`` and the module behind it."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLE_DIR
from helpers import assert_problem, assert_security_headers

from indexer.analysis import fold, syllables
from search_api.engine.suggest import MAX_LIMIT, mark, parse_typed

MARK = re.compile(r"<mark>(.*?)</mark>")


def suggest(client, q: str, **params) -> list[dict]:
    resp = client.simulate_get("/v1/suggest", params={"q": q, **params})
    assert resp.status_code == 200, resp.text[:500]
    assert resp.headers["Content-Type"] == "application/json"
    assert_security_headers(resp)
    body = resp.json
    assert body["query"] == q
    for s in body["suggestions"]:
        assert set(s) == {"id", "title", "highlight", "url", "published"}
        # The highlight is the title, escaped, with <mark> added and nothing else.
        bare = s["highlight"].replace("<mark>", "").replace("</mark>", "")
        assert "<" not in bare and ">" not in bare
        unescaped = bare.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert unescaped == s["title"]
    return body["suggestions"]


needs_sample = pytest.mark.skipif(
    not (SAMPLE_DIR / "articles.jsonl").exists(), reason="data/sample is missing"
)


@needs_sample
def test_abbreviation_and_partial_word(client):
    found = suggest(client, "ubnd q")
    assert found, "no suggestion for 'ubnd q'"
    assert found[0]["title"].startswith("UBND Quận 5")
    assert found[0]["highlight"].startswith("<mark>UBND Q</mark>uận 5")
    assert found[0]["id"] == "q5-2017-011"
    assert found[0]["url"].startswith("https://quan5.example.gov.vn/")
    assert found[0]["published"].startswith("2017-11-16")


@needs_sample
def test_unaccented_prefix_marks_the_typed_part_of_the_accented_title(client):
    found = suggest(client, "tuyen gi")
    by_id = {s["id"]: s for s in found}
    assert "q5-2018-002" in by_id, [s["title"] for s in found]
    hl = by_id["q5-2018-002"]["highlight"]
    assert "<mark>tuyên gi</mark>áo" in hl
    # Titles with the words in the typed order come before any other.
    in_order = ["tuyen gi" in fold(s["title"]) for s in found]
    assert in_order == sorted(in_order, reverse=True), [s["title"] for s in found]


def test_accented_query_ranks_exact_diacritics_first(client):
    found = suggest(client, "tuyên giáo", limit=10)
    titles = [s["title"] for s in found]
    assert any("tuyến giao" in t for t in titles)  # folded match is still offered
    first_trap = next(i for i, t in enumerate(titles) if "tuyến giao" in t)
    assert all("tuyên giáo" in t for t in titles[:first_trap])
    assert first_trap >= 1


def test_every_typed_word_must_be_in_the_title(client):
    found = suggest(client, "hoa binh", limit=10)
    assert len(found) >= 2  # hoà bình (old tone placement) and hòa bình
    for s in found:
        words = {fold(w) for w in syllables(s["title"])}
        assert {"hoa", "binh"} <= words, s["title"]
    assert suggest(client, "xyzzy") == []
    assert suggest(client, "tuyen xyzz") == []


@needs_sample
def test_identical_titles_are_shown_once(client):
    # q5-2017-007 is in articles.jsonl and again as a scraped page.
    found = suggest(client, "ve sinh moi truong", limit=10)
    titles = [s["title"] for s in found]
    assert "Quận 5 ra quân tổng vệ sinh môi trường khu dân cư" in titles
    assert len(titles) == len(set(titles))


def test_trailing_space_completes_the_last_word(client):
    def folded_words(title: str) -> set[str]:
        return {fold(w) for w in syllables(title)}

    complete = suggest(client, "giao ", limit=10)
    assert complete
    assert all("giao" in folded_words(s["title"]) for s in complete)
    # Without the space "giao" is a prefix: "giáo", "giao" and "giao..." all match.
    assert len(suggest(client, "giao", limit=10)) >= len(complete)


def test_markup_in_titles_is_escaped(client):
    found = suggest(client, "thong bao tuyen")
    s = next(s for s in found if s["id"] == "fx-script")
    assert s["title"].startswith("<script>")
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert s["highlight"].startswith(escaped + " <mark>Thông báo tuyên</mark>")


@pytest.mark.parametrize("limit", ["1", "3", str(MAX_LIMIT)])
def test_limit_is_respected(client, limit):
    assert 1 <= len(suggest(client, "quan", limit=limit)) <= int(limit)


def test_default_limit_is_5(client):
    assert len(suggest(client, "quan")) == 5


@pytest.mark.parametrize("limit", ["0", "-1", str(MAX_LIMIT + 1), "abc", "1.5", "1e3"])
def test_limit_out_of_bounds_is_400(client, limit):
    resp = client.simulate_get("/v1/suggest", params={"q": "quan", "limit": limit})
    assert_problem(resp, 400, "invalid_param", "limit")


@pytest.mark.parametrize("q", ["", " ", "   ", ".,;!?", "\u0301", "-"])
def test_empty_or_wordless_query_gives_no_suggestions(client, q):
    assert suggest(client, q) == []


def test_missing_q_gives_no_suggestions(client):
    resp = client.simulate_get("/v1/suggest")
    assert resp.status_code == 200 and resp.json == {"query": "", "suggestions": []}


def test_repeated_parameters_are_400(client):
    resp = client.simulate_get("/v1/suggest", query_string="q=a&q=b")
    assert_problem(resp, 400, "invalid_param", "q")


def test_too_long_query_is_400(client):
    resp = client.simulate_get("/v1/suggest", params={"q": "a" * 2001})
    assert_problem(resp, 400, "query_too_long", "q")


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "title:* AND body:?",
    "\x00\x01\x02",
    "%00%ff",
    "\ufeff\u200b\u202e quận",
    "😀 🇻🇳",
    "a" * 256,
    "x " * 32,
    "((((((((((",
    "q" * 41 + " q",
    "Ð Ɖ ð",
    "ㄱ 한국 中文",
    "TP.HCM Q.5",
    "\u0301\u0300 ubnd",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_input_is_200_or_400(client, q):
    resp = client.simulate_get("/v1/suggest", params={"q": q, "limit": "10"})
    assert resp.status_code in (200, 400), (resp.status_code, resp.text[:300])
    if resp.status_code == 200:
        suggest(client, q, limit="10")  # shape and escaping checks
    else:
        assert_problem(resp, 400, resp.json["code"], "q")


def test_missing_index_is_503(missing_index_client):
    resp = missing_index_client.simulate_get("/v1/suggest", params={"q": "quan"})
    assert_problem(resp, 503, "index_unavailable")


# -- the module -----------------------------------------------------------------------


def test_parse_typed_splits_complete_words_and_the_prefix():
    t = parse_typed("UBND  q", 32)
    assert (t.words, t.prefix) == (("ubnd",), "q")
    t = parse_typed("tuyên gi", 32)
    assert (t.words, t.prefix, t.accented) == (("tuyen",), "gi", ("tuyên",))
    t = parse_typed("quận 5 ", 32)
    assert (t.words, t.prefix) == (("quan", "5"), None)
    assert parse_typed("  ", 32).count == 0
    assert parse_typed("a b c d", 2).words == ("c",)  # the last words typed count


def test_mark_merges_neighbours_and_escapes():
    assert mark("UBND Quận 5 & <b>", {"ubnd"}, "q") == "<mark>UBND Q</mark>uận 5 &amp; &lt;b&gt;"
    assert mark("Đà Nẵng", set(), "da") == "<mark>Đà</mark> Nẵng"
    assert mark("Đà Nẵng", {"da"}, "n") == "<mark>Đà N</mark>ẵng"
    assert mark("không khớp", {"xyz"}, "q") == "không khớp"
    # A partly marked syllable does not merge with the next one.
    assert mark("quận quân", set(), "qu") == "<mark>qu</mark>ận <mark>qu</mark>ân"
