"""Issue 10 on the sample corpus: calendar, newer/older neighbours, related."""

from __future__ import annotations

import calendar as cal
from datetime import date
from pathlib import Path

import pytest

from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
pytestmark = pytest.mark.skipif(not SAMPLE.is_dir(), reason="data/sample is absent")

DENGUE = {"q5-2017-004", "q5-2018-004", "q5-2019-003", "tt-2023-002"}  # trap T10


@pytest.fixture(scope="module")
def svc(sample_index: Path) -> SearchService:
    service = SearchService(str(sample_index), background=False)
    yield service
    service.close()


@pytest.mark.parametrize(("year", "month"), [(2017, 3), (2017, 4), (2018, 11), (2016, 1)])
def test_calendar_counts_equal_one_day_searches(svc, year, month):
    got = svc.calendar(SearchRequest(), year, month)
    days_in_month = cal.monthrange(year, month)[1]
    for day in range(1, days_in_month + 1):
        d = date(year, month, day)
        total = svc.search(SearchRequest(q="", date_from=d, date_to=d))["total_hits"]
        assert got["days"].get(d.isoformat(), 0) == total, d
    for m, count in got["months"].items():
        assert svc.search(SearchRequest(q="", months=(m,)))["total_hits"] == count


def test_calendar_honours_query_and_filters(svc):
    everything = svc.calendar(SearchRequest(), 2017, 3)
    narrowed = svc.calendar(SearchRequest(q="tuyên giáo"), 2017, 3)
    assert sum(narrowed["days"].values()) < sum(everything["days"].values())
    only_site = svc.calendar(SearchRequest(sites=("quan1",)), 2017, 3)
    expected = svc.search(SearchRequest(q="", sites=("quan1",), months=("2017-03",)))
    assert sum(only_site["days"].values()) == expected["total_hits"]


def _stored(svc, doc_id):
    return svc.document(doc_id)


def test_neighbors_follow_date_order_within_category_and_site(svc):
    res = svc.search(SearchRequest(q="", sites=("quan5",), per_page=50, sort="oldest"))
    doc = res["hits"][len(res["hits"]) // 2]
    me = _stored(svc, doc["id"])
    got = svc.neighbors(doc["id"], 5)
    assert got["newer"] or got["older"]
    newer = [h["published"] for h in got["newer"]]
    older = [h["published"] for h in got["older"]]
    assert newer == sorted(newer) and older == sorted(older, reverse=True)
    for h in got["newer"] + got["older"]:
        other = _stored(svc, h["id"])
        assert other["category"] == me["category"] and other["site"] == me["site"]
        assert set(h) == {"id", "title", "url", "published"}
    assert all(p >= me["published"] for p in newer)
    assert all(p <= me["published"] for p in older)
    assert svc.neighbors("no-such-id", 5) is None


def test_related_prefers_the_same_topic(svc):
    for doc_id in DENGUE:
        got = [h["id"] for h in svc.related(doc_id, 5)["related"]]
        assert doc_id not in got
        others = DENGUE - {doc_id}
        assert set(got[: len(others)]) == others, (doc_id, got)
