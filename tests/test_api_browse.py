"""Issue 10 over HTTP: calendar, neighbours, related, sort=popular."""

from __future__ import annotations

import calendar as cal

import pytest

from tests.helpers import assert_problem


def test_calendar_days_equal_one_day_searches(client, has_sample):
    if not has_sample:
        pytest.skip("data/sample is absent")
    got = client.simulate_get("/v1/calendar", params={"year": 2017, "month": 3})
    assert got.status_code == 200
    days = got.json["days"]
    for day in range(1, cal.monthrange(2017, 3)[1] + 1):
        d = f"2017-03-{day:02d}"
        res = client.simulate_get("/v1/search", params={"from": d, "to": d, "facets": ""})
        assert days.get(d, 0) == res.json["total_hits"], d
    assert sum(days.values()) == got.json["months"]["2017-03"]


def test_calendar_parameters(client):
    assert_problem(
        client.simulate_get("/v1/calendar", params={"year": 2017}), 400, "missing_param", "month"
    )
    assert_problem(
        client.simulate_get("/v1/calendar", params={"year": 2017, "month": 13}),
        400,
        "invalid_param",
        "month",
    )
    assert_problem(
        client.simulate_get("/v1/calendar", params={"year": "x", "month": 1}),
        400,
        "invalid_param",
        "year",
    )


def test_neighbors_and_related(client, has_sample):
    if not has_sample:
        pytest.skip("data/sample is absent")
    res = client.simulate_get("/v1/documents/q5-2017-004/related", params={"n": 3})
    assert res.status_code == 200
    assert {h["id"] for h in res.json["related"]} == {"q5-2018-004", "q5-2019-003", "tt-2023-002"}
    res = client.simulate_get("/v1/documents/q5-2017-004/neighbors", params={"n": 2})
    assert res.status_code == 200 and res.headers["ETag"]
    published = [h["published"] for h in res.json["newer"]]
    assert published == sorted(published)
    assert_problem(client.simulate_get("/v1/documents/nope/related"), 404, "not_found")
    assert_problem(client.simulate_get("/v1/documents/nope/neighbors"), 404, "not_found")
    assert_problem(
        client.simulate_get("/v1/documents/q5-2017-004/related", params={"n": 0}),
        400,
        "invalid_param",
        "n",
    )


def test_sort_popular_over_http(client, has_sample):
    if not has_sample:
        pytest.skip("data/sample is absent")
    res = client.simulate_get("/v1/search", params={"sort": "popular", "site": "tintuc"})
    ids = [h["id"] for h in res.json["hits"]]
    views = [client.simulate_get(f"/v1/documents/{i}").json["views"] for i in ids]
    assert views == sorted(views, reverse=True)
