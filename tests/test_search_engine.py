"""The index and the search engine, end to end without HTTP: what the first
issue's acceptance asks, on small articles written here."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest

from indexer.build import build
from indexer.home import IndexHome
from indexer.schema import VN_TZ
from indexer.sources import Article, read_sources
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

SAMPLE_PAGE = Path(__file__).resolve().parents[1] / ".." / "shared" / "samples"


def _a(doc_id: str, title: str, body: str, **kw) -> Article:
    kw.setdefault("published", datetime(2017, 3, 7, 8, 0, tzinfo=VN_TZ))
    kw.setdefault("category", "Tin tức sự kiện")
    kw.setdefault("site", "quan5")
    return Article(id=doc_id, title=title, body=body, **kw)


ARTICLES = [
    _a(
        "tg",
        "Hội nghị công tác tuyên giáo",
        "Ban Tuyên giáo Quận ủy triển khai công tác tuyên giáo năm 2017.",
    ),
    _a(
        "tuyen",
        "Mở rộng tuyến giao hàng",
        "Doanh nghiệp mở thêm tuyến giao hàng nhanh trong nội thành.",
        published=datetime(2018, 5, 2, 9, 0, tzinfo=VN_TZ),
        category="Kinh tế",
    ),
    _a(
        "old",
        "Giữ gìn hoà bình",
        "Nhân dân chung tay giữ gìn hoà bình, sức khoẻ cộng đồng và thuỷ lợi.",
        published=date(2016, 1, 5),
    ),
    _a(
        "new",
        "Bảo vệ hòa bình",
        "Đoàn viên tuyên truyền về hòa bình, sức khỏe và thủy lợi.",
        published=datetime(2019, 7, 1, 14, 30, tzinfo=VN_TZ),
        category="Văn hóa - Xã hội",
    ),
    _a(
        "dn",
        "Đoàn công tác Quận 5 thăm Đà Nẵng",
        "Chuyến thăm thành phố Đà Nẵng diễn ra trong hai ngày.",
    ),
    _a(
        "nfd",
        unicodedata.normalize("NFD", "Ngày hội đọc sách"),
        unicodedata.normalize("NFD", "Thư viện quận tổ chức ngày hội đọc sách cho học sinh."),
        published=datetime(2017, 4, 23, 8, 0, tzinfo=VN_TZ),
    ),
    _a(
        "scatter",
        "Giáo dục và tuyên truyền",
        "Công tác tuyên truyền về giáo dục được đẩy mạnh.",
        published=datetime(2017, 3, 9, 8, 0, tzinfo=VN_TZ),
        category="Giáo dục",
    ),
    _a("xss", "Bài có mã lạ", "Biên tập viên dán nhầm <script>alert(1)</script> vào tuyên giáo."),
    _a(
        "faq",
        "Thủ tục đăng ký khai sinh cần giấy tờ gì?",
        "Người dân cần tờ khai và giấy chứng sinh.",
        published=None,
        category=None,
    ),
]


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> SearchService:
    home = tmp_path_factory.mktemp("engine") / "index"
    build(IndexHome(home), ARTICLES, workers=1)
    svc = SearchService(str(home))
    yield svc
    svc.close()


def ids(svc: SearchService, q: str, **kw) -> list[str]:
    return [h["id"] for h in svc.search(SearchRequest(q=q, per_page=50, **kw))["hits"]]


def test_unaccented_query_finds_every_spelling(service):
    found = ids(service, "tuyen giao")
    assert {"tg", "tuyen", "xss"} <= set(found)
    assert "scatter" in found  # tuyên ... giáo, not adjacent: still all words present


def test_accented_query_ranks_exact_diacritics_first(service):
    found = ids(service, "tuyên giáo")
    assert found.index("tg") < found.index("tuyen")
    found = ids(service, "tuyến giao")
    assert found[0] == "tuyen"


def test_adjacent_words_rank_above_scattered(service):
    found = ids(service, "tuyên giáo")
    assert found.index("tg") < found.index("scatter")


def test_old_and_new_tone_placement_are_equal(service):
    assert set(ids(service, "hoà bình")) == set(ids(service, "hòa bình")) == {"old", "new"}
    assert set(ids(service, "khỏe")) == set(ids(service, "khoẻ")) == {"old", "new"}
    assert set(ids(service, "thủy lợi")) == {"old", "new"}


def test_nfd_query_equals_nfc(service):
    for q in ("ngày hội đọc sách", "Đà Nẵng", "hòa bình"):
        assert ids(service, unicodedata.normalize("NFD", q)) == ids(service, q)
    assert ids(service, "đọc sách") == ["nfd"]


def test_da_nang_spellings(service):
    for q in ("Đà Nẵng", "đà nẵng", "da nang", "DA NANG", "\u00d0à Nẵng"):
        assert "dn" in ids(service, q), q


def test_quoted_phrase(service):
    assert ids(service, '"công tác tuyên giáo"') == ["tg"]
    assert ids(service, '"tuyên truyền về giáo dục"') == ["scatter"]
    assert ids(service, '"giáo dục về tuyên truyền"') == []
    assert set(ids(service, '"tuyên truyền về"')) == {"new", "scatter"}
    assert set(ids(service, "công tác tuyên giáo")) >= {"tg", "scatter"}


def test_excluded_word(service):
    assert "tuyen" not in ids(service, "giao -hàng")
    assert "tg" in ids(service, "giao -hàng")


def test_highlight_marks_original_accented_words(service):
    res = service.search(SearchRequest(q="tuyen giao"))
    hit = next(h for h in res["hits"] if h["id"] == "tg")
    assert "<mark>tuyên giáo</mark>" in hit["highlight"]["title"]
    assert "<mark>Tuyên giáo</mark>" in hit["highlight"]["snippet"]


def test_highlight_escapes_html(service):
    res = service.search(SearchRequest(q="tuyên giáo"))
    hit = next(h for h in res["hits"] if h["id"] == "xss")
    assert "<script>" not in hit["highlight"]["snippet"]
    assert "&lt;script&gt;" in hit["highlight"]["snippet"]


def test_did_you_mean_for_unaccented_query(service):
    res = service.search(SearchRequest(q="cong tac tuyen giao"))
    assert res["did_you_mean"] == "công tác tuyên giáo"
    assert "did_you_mean" not in service.search(SearchRequest(q="công tác tuyên giáo"))


def test_empty_query_lists_newest_first_undated_last(service):
    found = ids(service, "")
    assert found[0] == "new" and found[-1] == "faq"
    assert ids(service, "", sort="oldest")[0] == "old"


def test_facets_and_filters(service):
    res = service.search(SearchRequest(q="", facets=("year", "month", "day", "category", "site")))
    assert res["facets"]["year"] == {"2019": 1, "2018": 1, "2017": 5, "2016": 1}
    assert res["facets"]["month"]["2017-03"] == 4
    assert res["facets"]["day"]["2017-03-07"] == 3
    for year, count in res["facets"]["year"].items():
        assert service.search(SearchRequest(q="", years=(year,)))["total_hits"] == count
    assert ids(service, "", categories=("Kinh tế",)) == ["tuyen"]
    got = ids(service, "", date_from=date(2017, 3, 7), date_to=date(2017, 3, 9))
    assert set(got) == {"tg", "dn", "scatter", "xss"}


def test_pagination(service):
    first = service.search(SearchRequest(q="", per_page=4))
    second = service.search(SearchRequest(q="", per_page=4, page=2))
    assert first["total_pages"] == 3 and first["total_hits"] == len(ARTICLES)
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}


def test_hostile_queries_do_not_raise(service):
    for q in [
        '"',
        '"""',
        "*",
        "body:x",
        "AND OR NOT",
        "((a)",
        "~2^3",
        "\x00",
        "a" * 5000,
        "-",
        "--x",
    ]:
        res = service.search(SearchRequest(q=q))
        assert isinstance(res["total_hits"], int)


@pytest.mark.skipif(not SAMPLE_PAGE.is_dir(), reason="../shared/samples is absent")
def test_sample_portal_page(tmp_path):
    home = IndexHome(tmp_path / "index")
    report = build(home, read_sources([SAMPLE_PAGE]), workers=1)
    assert report.indexed == 1 and not report.rejected
    svc = SearchService(str(home.path))
    try:
        doc = svc.document("portal-page-quan5-2017-03-07")
        assert doc["title"] == "Quận ủy Quận 5 triển khai công tác tuyên giáo năm 2017"
        assert doc["category"] == "Tin tức sự kiện"
        assert doc["published"] == "2017-03-07T07:25:00+07:00"
        assert doc["body"].startswith("Sáng ngày 3/3/2017")
        for chrome in ("Số lượt người xem", "TIN MỚI HƠN", "Xem theo ngày", "1\n7\n7\n4"):
            assert chrome not in doc["body"]
        assert doc["views"] == 864
        res = svc.search(SearchRequest(q="tuyen giao"))
        assert res["hits"][0]["id"] == "portal-page-quan5-2017-03-07"
        assert "<mark>tuyên giáo</mark>" in res["hits"][0]["highlight"]["title"]
    finally:
        svc.close()


def test_segment_without_dated_documents(tmp_path):
    """A parallel build can put only undated documents in one segment, which then
    has no date columns; every docnum must still get its own column values."""
    undated = [
        _a(f"u{i}", f"Hỏi đáp số {i}", "Người dân hỏi về thủ tục.", published=None)
        for i in range(30)
    ]
    home = IndexHome(tmp_path / "index")
    build(home, undated, workers=1)
    from indexer.update import update  # a second segment, with dates

    update(home, [_a("d1", "Tin mới về thủ tục", "Thủ tục hành chính được rút gọn.")])
    svc = SearchService(str(home.path), background=False)
    try:
        res = svc.search(SearchRequest(q="thủ tục", facets=("year",)))
        assert res["total_hits"] == 31
        assert res["hits"][0]["id"] == "d1"
        assert res["facets"]["year"] == {"2017": 1}
        assert ids(svc, "", sort="newest")[0] == "d1"
    finally:
        svc.close()


def test_time_limit_flags_partial_phrase_results(tmp_path):
    from search_api.engine.phrases import phrase_mask
    from search_api.engine.request import Deadline, SearchTimeout

    docs = [_a(f"p{i}", f"Tin {i}", "công tác tuyên giáo " * 3) for i in range(40)]
    home = IndexHome(tmp_path / "index")
    build(home, docs, workers=1)
    svc = SearchService(str(home.path), background=False, time_limit=1e-9, result_cache_size=0)
    try:
        # Even the first clause check is past a 1 ns deadline.
        with pytest.raises(SearchTimeout):
            svc.search(SearchRequest(q="tuyên giáo"))
    finally:
        svc.close()
    svc = SearchService(str(home.path), background=False, time_limit=None, result_cache_size=0)
    try:
        full = svc.search(SearchRequest(q='"công tác tuyên giáo"'))
        assert full["total_hits"] == 40 and "timed_out" not in full
        deadline = Deadline(3600)
        deadline.at = 0.0  # expired before phrase verification starts
        snap = svc.snapshot()
        try:
            from search_api.engine.query import parse

            pq = parse('"công tác tuyên giáo"')
            mask = phrase_mask(snap, pq.groups[0].syllables, snap.live, deadline)
            assert not mask.any() and deadline.partial
        finally:
            snap.release()
    finally:
        svc.close()
