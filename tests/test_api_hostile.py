"""Visitor input never gives a 500: hostile strings as every parameter.

Every answer must be a 200 or a 400 problem (404 for document ids), and a 200
must carry no unescaped markup in the HTML it returns (the highlights); see
:func:`helpers.assert_no_unescaped_markup` for what counts as plain text.
"""

from __future__ import annotations

import random
from urllib.parse import quote

import orjson
import pytest
from helpers import assert_no_unescaped_markup, assert_problem
from hypothesis import given, settings
from hypothesis import strategies as st

PARAM_CODES = {"invalid_param", "query_too_long", "page_too_deep", "too_many_values"}

# fmt: off
BASE = [
    # quotes and query syntax
    '"', '""', '"""', '"tuyên giáo', 'tuyên giáo"', '"a" "b', "'", "''", "`", "«»", "“tuyên”",
    "*", "**", "?", "???", "tuy*", "gi?o", "*:*", "~", "tuyen~2", '"tuyên giáo"~3', "^",
    "tuyên^10", "giáo^-1", "body:x", 'title:"tuyên giáo"', "id:*", "published:[2017 TO 2018]",
    "category:{a TO b}", "_id:1", "AND", "OR", "NOT", "AND OR NOT", "NOT NOT", "a AND", "OR b",
    "&&", "||", "!", "-", "--", "- -", "-tuyên", "-\"tuyên giáo\"", "+", "+tuyên -giáo", "(",
    ")", "()", "((((", "))))", "[", "]", "{", "}", "[* TO *]", "{} []", "\\", "\\\\", "/",
    "/.*/", "/regex[/", ":", "::", "a:", ":a", "=", "&", "#", "%", "%%", "%s%n", "%00",
    # markup and injection
    "<", ">", "<>", "<mark>", "</mark>", "<mark>tuyên</mark>", "<script>alert(1)</script>",
    '"><script>alert(1)</script>', "<ScRiPt>alert(1)</sCrIpT>", "<img src=x onerror=alert(1)>",
    "javascript:alert(1)", "<svg/onload=alert(1)>", "<scr<script>ipt>", "&lt;script&gt;",
    "&amp;", "&#60;script&#62;", "' OR '1'='1", "1; DROP TABLE articles; --", "admin'--",
    '" OR 1=1 --', "UNION SELECT * FROM users", "${jndi:ldap://x/a}", "{{7*7}}", "../../etc/passwd",
    "$(rm -rf /)", "`id`", "\\x00", "NaN", "Infinity", "-1", "0", "1e309", "null", "true", "[]",
    "{}", '{"q": 1}',
    # control characters and invisible marks
    "\x00", "a\x00b", "\x01\x02\x03", "\x1b[31m", "\x7f", "\r\n", "\t", "\n\n", "\x0b\x0c",
    "\u0085", "\u2028\u2029", "\u200b", "\u200c\u200d", "\ufeff", "\u200e", "\u200f", "\u202e",
    "\u202etuyên\u202c", "\u2066\u2069", "\u061c",
    # combining marks, odd letters, scripts, emoji, non-characters, surrogates
    "\u0300", "\u0301\u0301\u0301", "a" + "\u0301" * 50, "ệ", "Đ", "ð", "ǅ", "ﬁ", "İ", "ß",
    "tuye\u0302\u0301n", "😀", "👍🏽", "👨‍👩‍👧", "🇻🇳", "\U0010ffff", "\ufffd", "\uffff", "\ud800",
    "\udfff", "\ud83d", "a\udc00b", "١٢٣", "𝟙𝟚𝟛", "Ⅻ", "½", "中文", "日本語", "العربية", "עברית",
    "ภาษาไทย", "한국어", "\u3000",
    # sizes
    "a" * 10_000, "tuyên " * 5_000, '"' * 10_000, "*" * 300, " " * 1_000, "-" * 257, "(" * 200,
    "a " * 40, "ư" * 256, "x" * 255 + "😀",
]
# fmt: on

NASTY = (
    "\"*?~^:()[]{}\\/-+!&|<>=%#'` \t\n\x00\x01\x1b\u200b\u200e\u202e\ufeff\u0301\u0300"
    "aeêếệoơờưđĐ😀\ud800\udfff中"
)


def hostile_strings() -> list[str]:
    out: list[str] = []
    for b in BASE:
        out += [b, f"tuyên giáo {b}", f"{b} hoà bình", b * 3, f'"{b}"', f"-{b}"]
    rng = random.Random(20170307)
    for _ in range(150):
        out.append("".join(rng.choice(NASTY) for _ in range(rng.randint(1, 60))))
    return list(dict.fromkeys(out))


HOSTILE = hostile_strings()

RAW_QUERY_STRINGS = [
    "q=%E0%A4%A",
    "q=%",
    "q=%%",
    "q=%zz",
    "q=%G0",
    "q=%E0%A4",
    "q=%C0%AF",
    "q=%FF%FE",
    "q=%F4%90%80%80",
    "q=%ED%A0%80%ED%B0%80",
    "q=%00%00",
    "%00=1",
    "q=a&&&",
    "=",
    "&",
    "&&q",
    "q",
    "q=a=b",
    "q=%2B%26%3D",
    ";q=1",
    "q=a;b",
    "q=\u00e9",
    "page=%00",
    "page=%E0%A4%A",
    "facets=%00",
    "facets=%",
    "from=%E0%A4%A",
    "year=%FF",
    "category=%ED%A0%80",
    "q=+&page=+&per_page=+",
    "q[]=a",
    "q.x=1",
    "facets",
    "facets=,,,",
    "sort=relevance%00",
]

OTHER_PARAMS = [
    "page",
    "per_page",
    "sort",
    "from",
    "to",
    "category",
    "site",
    "year",
    "month",
    "facets",
]
# fmt: off
OTHER_VALUES = [
    *HOSTILE[::15],
    "1e3", "0x10", "١", "𝟙", "+1", " 1", "1 ", "1_0", "01", "-0", "9" * 400,
    "2017-03-07\x00", "2017-3-7", "9999-12-31", "0001-01-01", "0000-01-01", "2017-02-29",
    "2016-02-29", "２０１７-03-07", "2017-03", "2017", "year,month", "year, month", "YEAR",
]
# fmt: on


def encode(name: str, value: str) -> str:
    """One parameter as a browser would send it (lone surrogates as their CESU bytes)."""
    return f"{name}={quote(value.encode('utf-8', 'surrogatepass'), safe='')}"


def check(resp, *, allowed=(200, 400)) -> None:
    assert resp.status_code in allowed, (resp.status_code, resp.text[:300])
    body = orjson.loads(resp.content)
    if resp.status_code == 200:
        assert_no_unescaped_markup(body)
    elif resp.status_code == 400:
        assert body["code"] in PARAM_CODES, body
        assert_problem(resp, 400, body["code"], body.get("param"))
    else:
        assert_problem(resp, resp.status_code, body["code"])


def test_there_are_enough_hostile_strings():
    assert len(HOSTILE) >= 500


def test_hostile_queries_give_200_or_400(client):
    statuses = {200: 0, 400: 0}
    for text in HOSTILE:
        resp = client.simulate_get("/v1/search", query_string=encode("q", text))
        check(resp)
        statuses[resp.status_code] += 1
    assert statuses[200] > 400 and statuses[400] > 5  # both paths were exercised


def test_hostile_queries_with_every_sort_and_facets(client):
    for text in HOSTILE[::7]:
        for extra in ("sort=newest", "sort=oldest", "facets=day,site"):
            check(client.simulate_get("/v1/search", query_string=f"{encode('q', text)}&{extra}"))
        qs = f"{encode('q', text)}&facets=year,month,day,category,site&per_page=50"
        check(client.simulate_get("/v1/search", query_string=qs))


@pytest.mark.parametrize("query_string", RAW_QUERY_STRINGS)
def test_raw_broken_query_strings_give_200_or_400(client, query_string):
    check(client.simulate_get("/v1/search", query_string=query_string))


@pytest.mark.parametrize("name", OTHER_PARAMS)
def test_hostile_values_of_other_parameters_give_200_or_400(client, name):
    for value in OTHER_VALUES:
        check(client.simulate_get("/v1/search", query_string=encode(name, value)))
        check(client.simulate_get("/v1/search", query_string=f"q=tuyen&{encode(name, value)}"))


def test_hostile_document_ids_give_200_or_404(client):
    for text in HOSTILE[::5]:
        path = "/v1/documents/" + quote(text.encode("utf-8", "surrogatepass"), safe="")
        check(client.simulate_get(path), allowed=(200, 404))


def test_hostile_queries_on_a_missing_index_give_503_or_400(missing_index_client):
    for text in HOSTILE[::25]:
        resp = missing_index_client.simulate_get("/v1/search", query_string=encode("q", text))
        if resp.status_code == 503:
            assert_problem(resp, 503, "index_unavailable")
        else:
            check(resp, allowed=(400,))


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.text(st.characters(exclude_categories=()), max_size=60),
        st.text(st.sampled_from(NASTY), max_size=300),
    )
)
def test_any_text_as_q_gives_200_or_400(client, text):
    check(client.simulate_get("/v1/search", query_string=encode("q", text)))
