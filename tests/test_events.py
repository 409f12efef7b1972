"""Search events (search_api/events.py): what a line holds and never holds,
personal numbers masked, the writer's files, rotation, drops, orphans; and the
events the API writes for searches and suggestions."""

from __future__ import annotations

import os
import re
import threading
from datetime import date
from pathlib import Path

import falcon.testing
import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from search_api.app import create_app
from search_api.config import Config, ConfigError
from search_api.engine.request import SearchRequest
from search_api.event_records import COLUMNS, MASK, mask_numbers, normalized_query
from search_api.events import EventLog, close_orphans


def read_events(directory: Path) -> list[dict]:
    lines = []
    for path in sorted(directory.glob("events-*.jsonl*")):
        data = path.read_bytes()
        assert data == b"" or data.endswith(b"\n"), path
        lines += [orjson.loads(line) for line in data.splitlines()]
    return lines


# -- masking -----------------------------------------------------------------------------

_WORDS = st.sampled_from(["gọi", "số", "hotline", "anh", "UBND", "quận 5", "năm 2018", "cmnd"])
_SEP = st.sampled_from(["", " ", ".", "-"])


@st.composite
def phone(draw) -> tuple[str, str]:
    """A Vietnamese mobile or landline number as people write it; (text, digits)."""
    kind = draw(st.sampled_from(["mobile", "landline", "intl"]))
    if kind == "landline":
        digits = "02" + draw(st.text("0123456789", min_size=9, max_size=9))
        groups = [digits[:3], digits[3:7], digits[7:]]
    else:
        digits = (
            "0"
            + draw(st.sampled_from("35789"))
            + draw(st.text("0123456789", min_size=8, max_size=8))
        )
        groups = [digits[:4], digits[4:7], digits[7:]]
    sep = draw(_SEP)
    text = sep.join(groups)
    if kind == "intl":
        text = (
            "+84"
            + draw(st.sampled_from(["", " "]))
            + sep.join([digits[1:4], digits[4:7], digits[7:]])
        )
    return text, digits


@st.composite
def id_number(draw) -> tuple[str, str]:
    """An ID card number: 9 (CMND) or 12 (CCCD) digits in one run."""
    n = draw(st.sampled_from([9, 12]))
    digits = draw(st.text("0123456789", min_size=n, max_size=n))
    return digits, digits


@settings(derandomize=True, max_examples=300, deadline=None)
@given(before=_WORDS, number=st.one_of(phone(), id_number()), after=_WORDS)
@example(before="gọi", number=("0912 345 678", "0912345678"), after="ngay")
@example(before="số", number=("+84 912.345.678", "0912345678"), after="anh")
@example(before="cmnd", number=("012345678901", "012345678901"), after="năm 2018")
def test_personal_numbers_are_masked(before, number, after):
    text, digits = number
    query = f"{before} {text} {after}"
    masked = mask_numbers(query)
    assert MASK in masked
    assert digits[-8:] not in re.sub(r"\D", "", masked)
    norm = normalized_query(query)
    assert digits[-8:] not in re.sub(r"\D", "", norm)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["tuyên giáo", "quận", "UBND", "19/3/2018", "123/QĐ-UBND", "nhà"]),
            st.integers(1, 9999).map(str),  # years, house numbers: never start with 0
        ),
        max_size=6,
    )
)
@example(["2016", "2017", "2018"])
@example(["năm", "2016", "2017", "2018", "2019"])
def test_ordinary_numbers_are_kept(words):
    text = " ".join(words)
    assert mask_numbers(text) == text


def test_normalized_query_is_the_search_form():
    assert normalized_query("  Tuyên   GIÁO\u00a0Quận 5 ") == "tuyên giáo quận 5"
    assert normalized_query("Hòa bình") == "hoà bình"  # canonical tone placement


# -- the writer ----------------------------------------------------------------------------


def _req(q: str) -> SearchRequest:
    return SearchRequest(q=q, sites=("quan5",), years=("2018",), date_from=date(2018, 1, 1))


def _answer(hits: int = 3) -> dict:
    return {"total_hits": hits, "did_you_mean": "tuyên giáo", "relaxed": True}


def test_events_from_many_threads_are_whole_lines_none_lost(tmp_path):
    log = EventLog(tmp_path, rotate_bytes=20_000)
    n_threads, per_thread = 8, 250

    def worker(t: int) -> None:
        for i in range(per_thread):
            log.record("search", _req(f"q{t} {i}"), _answer(i), 1.5, "g000001.1")

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert log.flush()
    log.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) > 1, "rotation by size made several files"
    assert all(f.name.endswith(".jsonl") for f in files), "closed files lose .part"
    events = read_events(tmp_path)
    assert sorted(e["q"] for e in events) == sorted(
        f"q{t} {i}" for t in range(n_threads) for i in range(per_thread)
    )
    assert log.written == n_threads * per_thread and log.dropped == 0
    e = events[0]
    assert set(e) <= set(COLUMNS)
    assert e["type"] == "search" and e["sites"] == ["quan5"] and e["years"] == ["2018"]
    assert e["date_from"] == "2018-01-01" and e["relaxed"] is True
    assert e["did_you_mean"] == "tuyên giáo" and e["generation"] == "g000001.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", e["time"])


def test_a_full_queue_drops_and_counts_never_blocks(tmp_path):
    drops = []
    log = EventLog(tmp_path, max_queue=5, on_drop=drops.append)
    log._pid = os.getpid()  # as if started, but with no writer draining the queue
    for i in range(12):
        log.record("search", _req(str(i)), _answer(), 1.0, "g1.1")
    assert log.dropped == 7 and len(drops) == 7


def test_an_unwritable_directory_costs_events_never_requests(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    drops = []
    log = EventLog(blocker / "events", on_drop=drops.append)
    for i in range(3):
        log.record("search", _req(str(i)), _answer(), 1.0, "g1.1")  # no exception here
    assert log.flush()
    assert log.dropped == 3 and sum(drops) == 3 and log.written == 0
    # The directory becomes usable: the next events are written.
    blocker.unlink()
    log.record("search", _req("after"), _answer(), 1.0, "g1.1")
    assert log.flush()
    log.close()
    assert [e["q"] for e in read_events(blocker / "events")] == ["after"]


def test_the_day_changes_the_file(tmp_path):
    times = iter([1_700_000_000.0, 1_700_000_000.0 + 86_400])
    log = EventLog(tmp_path, clock=lambda: next(times))
    log.record("search", _req("a"), _answer(), 1.0, "g1.1")
    assert log.flush()
    log.record("search", _req("b"), _answer(), 1.0, "g1.1")
    assert log.flush()
    log.close()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert [n.split("-")[1] for n in names] == ["20231114", "20231115"]


def test_files_of_dead_workers_are_closed_and_torn_lines_cut(tmp_path):
    host = "h1"
    dead = tmp_path / f"events-20261207-{host}-999999999-1.jsonl.part"
    dead.write_bytes(b'{"v":1,"type":"search","q":"a"}\n{"v":1,"ty')
    alive = tmp_path / f"events-20261207-{host}-{os.getpid()}-1.jsonl.part"
    alive.write_bytes(b"")
    other_host = tmp_path / "events-20261207-h2-999999999-1.jsonl.part"
    other_host.write_bytes(b"")
    closed = close_orphans(tmp_path, host)
    assert closed == [dead.with_suffix("")]
    assert dead.with_suffix("").read_bytes() == b'{"v":1,"type":"search","q":"a"}\n'
    assert alive.exists() and other_host.exists()


# -- configuration ----------------------------------------------------------------------------


def test_events_dir_is_validated(tmp_path):
    assert Config.from_env({}).events_dir == ""
    assert Config.from_env({"VNSEARCH_EVENTS_DIR": str(tmp_path)}).events_dir == str(tmp_path)
    a_file = tmp_path / "f"
    a_file.write_text("")
    with pytest.raises(ConfigError) as err:
        Config.from_env({"VNSEARCH_EVENTS_DIR": str(a_file)})
    assert err.value.variable == "VNSEARCH_EVENTS_DIR"
    with pytest.raises(ConfigError) as err:
        Config.from_env({"VNSEARCH_CLICKS": "1"})
    assert err.value.variable == "VNSEARCH_CLICKS"


# -- what the API writes -------------------------------------------------------------------


@pytest.fixture
def events_client(sample_index, tmp_path):
    config = Config.from_env(
        {"VNSEARCH_INDEX_DIR": str(sample_index), "VNSEARCH_EVENTS_DIR": str(tmp_path / "ev")}
    )
    log = EventLog(config.events_dir)
    client = falcon.testing.TestClient(create_app(config, events=log))
    yield client, log, tmp_path / "ev"
    log.close()


def test_the_api_writes_search_and_suggest_events_without_visitor_data(events_client):
    client, log, directory = events_client
    headers = {"User-Agent": "secret-agent/1.0", "Cookie": "sid=secret-cookie"}
    r = client.simulate_get(
        "/v1/search",
        params={"q": "tuyen giao 0912 345 678", "site": "quan5", "sort": "newest"},
        headers=headers,
        remote_addr="203.0.113.9",
    )
    assert r.status_code == 200
    client.simulate_get("/v1/search", params={"q": "tuyen giao", "page": "2"})
    client.simulate_get("/v1/suggest", params={"q": "tuyen gi"}, headers=headers)
    client.simulate_get("/v1/search", params={"q": "x" * 2001})  # 400: not an answered search
    assert log.flush()
    events = read_events(directory)
    assert [e["type"] for e in events] == ["search", "search", "suggest"]
    first, second, sug = events
    assert first["q"] == f"tuyen giao {MASK}" and first["folded"] == f"tuyen giao {MASK}"
    assert first["sites"] == ["quan5"] and first["sort"] == "newest" and first["page"] == 1
    assert first["hits"] == r.json["total_hits"]
    assert first["generation"].startswith("g") and first["latency_ms"] >= 0
    assert second["page"] == 2 and second.get("did_you_mean") == "tuyên giáo"
    assert sug["q"] == "tuyen gi" and sug["hits"] >= 1
    raw = b"".join(p.read_bytes() for p in directory.iterdir())
    for secret in (b"203.0.113.9", b"secret-agent", b"secret-cookie", b"0912", b"345 678"):
        assert secret not in raw
    assert all(set(e) <= set(COLUMNS) for e in events)


def test_no_events_dir_no_events(client):
    search = client.app._router.find("/v1/search")[0]
    suggest = client.app._router.find("/v1/suggest")[0]
    assert search.events is None and suggest.events is None
    assert client.app._router.find("/v1/clicks") is None
