"""People's questions (issue 14): long queries are matched by a share of their
informative words and never refused; short keyword queries stay precise. On
small articles written here."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indexer.schema import VN_TZ
from indexer.sources import Article
from search_api.engine.ranking import MAX_QUERY_TERMS, RankingSettings
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService
from tests.helpers import client_for

WHEN = datetime(2021, 5, 1, tzinfo=VN_TZ)

DOCS = [
    # The answer to the question below: it lacks "tôi", "con", "cần", "mang".
    Article(
        "khai-sinh",
        "Đăng ký khai sinh",
        "Hồ sơ đăng ký khai sinh gồm tờ khai theo mẫu và giấy chứng sinh do bệnh viện cấp. "
        "Người đi đăng ký nộp tại Ủy ban nhân dân cấp xã nơi cư trú.",
        published=WHEN,
    ),
    # Shares common words with the question, but is not about it.
    Article(
        "ket-hon",
        "Đăng ký kết hôn",
        "Hai bên nam nữ nộp tờ khai đăng ký kết hôn tại Ủy ban nhân dân cấp xã. "
        "Tôi cần mang giấy tờ tùy thân.",
        published=WHEN,
    ),
    Article(
        "tiem-chung",
        "Tiêm chủng cho trẻ",
        "Trẻ em được tiêm vaccine miễn phí tại trạm y tế xã theo lịch tiêm chủng mở rộng.",
        published=WHEN,
    ),
    # Holds the short query's words, but not all of them.
    Article(
        "giay-chung-sinh",
        "Giấy chứng sinh",
        "Bệnh viện cấp giấy chứng sinh cho trẻ sơ sinh.",
        published=WHEN,
    ),
]


@pytest.fixture(scope="module")
def question_index(tmp_path_factory) -> Path:
    from indexer.build import build
    from indexer.home import IndexHome

    home = IndexHome(tmp_path_factory.mktemp("questions") / "ix")
    build(home, DOCS, workers=1)
    return home.path


@pytest.fixture(scope="module")
def svc(question_index: Path) -> SearchService:
    service = SearchService(str(question_index), background=False)
    yield service
    service.close()


def ids(svc: SearchService, q: str) -> list[str]:
    return [h["id"] for h in svc.search(SearchRequest(q=q, per_page=20))["hits"]]


QUESTION = "Tôi muốn đăng ký khai sinh cho con thì cần mang những giấy tờ gì, nộp ở đâu?"


@pytest.mark.parametrize("q", [QUESTION, QUESTION.lower()])
def test_a_question_whose_answer_lacks_some_words_is_found_first(svc, q):
    # No document holds every informative word of the question (tôi, muốn, con...).
    assert ids(svc, q)[0] == "khai-sinh"


def test_an_unaccented_question_is_found_too(svc):
    from indexer.analysis import fold

    assert ids(svc, fold(QUESTION))[0] == "khai-sinh"


def test_a_short_keyword_query_still_needs_every_word(svc):
    # Both words, or no match: giay-chung-sinh has "sơ" (sơ sinh) but not "hồ".
    assert ids(svc, "hồ sơ") == ["khai-sinh"]
    assert ids(svc, "tiêm vaccine") == ["tiem-chung"]


def test_a_question_word_makes_a_short_query_a_question(svc):
    # Two informative words and a question word: matched by a share of them.
    got = ids(svc, "tiêm vaccine ở đâu")
    assert got[0] == "tiem-chung"


def test_exact_diacritics_still_rank_first_in_a_question(tmp_path):
    from indexer.build import build
    from indexer.home import IndexHome

    docs = [
        Article(
            "tone", "Bản tin", "Người dân đến xem đàn gá ở chợ huyện mỗi sáng.", published=WHEN
        ),
        Article(
            "exact", "Bản tin", "Người dân đến xem đàn gà ở chợ huyện mỗi sáng.", published=WHEN
        ),
    ]
    home = IndexHome(tmp_path / "ix")
    build(home, docs, workers=1)
    s = SearchService(str(home.path), background=False)
    try:
        got = [h["id"] for h in s.search(SearchRequest(q="người dân xem đàn gà ở chợ nào"))["hits"]]
        assert got[0] == "exact"
    finally:
        s.close()


def test_a_query_longer_than_the_engine_evaluates_keeps_its_rarest_words(question_index):
    ranking = dataclasses.replace(RankingSettings(), max_query_terms=5)
    svc = SearchService(str(question_index), background=False, ranking=ranking)
    try:
        q = '"tờ khai" và là của các những TP.HCM vaccine xyzzyq cho với'
        res = svc.search(SearchRequest(q=q))
        assert res["truncated"] is True
        kept = res["query"]["kept"].split()
        assert len(kept) <= 5
        # The quoted phrase and the typed token first, then the rare word; function
        # words and words the index has never seen last.
        assert kept[:2] == ["tờ", "khai"] and "tp" in kept and "hcm" in kept
        assert "vaccine" in kept and "xyzzyq" not in kept and "và" not in kept
        short = svc.search(SearchRequest(q="tiêm vaccine"))
        assert "truncated" not in short and "kept" not in short["query"]
    finally:
        svc.close()


# -- never refused: long random Vietnamese text through the API ------------------------------

SYLLABLES = (
    "tôi muốn hỏi về thủ tục đăng ký khai sinh cho con ở ủy ban nhân dân xã phường "
    "cần những giấy tờ gì và nộp tại đâu thời gian bao lâu lệ phí bao nhiêu tiền "
    "người dân có thể làm hồ sơ trực tuyến được không nếu quá hạn thì bị phạt thế nào "
    "TP.HCM Hà Nội Đà Nẵng 2021 covid-19 vaccine tiêm chủng trẻ em bệnh viện"
).split()


@pytest.fixture(scope="module")
def api(question_index):
    return client_for(question_index)


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    words=st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=400),
    punctuation=st.sampled_from([" ", ", ", " - ", "? ", ". "]),
)
@example(words=["đâu"] * 400, punctuation=" ")
@example(words=["TP.HCM"] * 300, punctuation=", ")
def test_no_query_of_up_to_2000_characters_is_refused(api, words, punctuation):
    q = punctuation.join(words)[:2000]
    resp = api.simulate_get("/v1/search", params={"q": q})
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    body = resp.json
    if len(q.split()) > MAX_QUERY_TERMS:
        assert len(body["query"].get("kept", body["query"]["normalized"]).split()) <= (
            MAX_QUERY_TERMS
        )


def test_a_truncated_answer_says_so_through_the_api(api):
    q = " ".join(["thủ tục đăng ký khai sinh ở đâu"] * 12)  # 84 syllables
    body = api.simulate_get("/v1/search", params={"q": q}).json
    assert body["truncated"] is True
    assert body["query"]["kept"] == "thủ tục đăng ký khai sinh ở đâu"
    assert body["hits"][0]["id"] == "khai-sinh"
