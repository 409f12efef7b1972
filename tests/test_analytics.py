"""``vnsearch analytics``: every answer equals a brute-force count over a
generated, seeded event log; learned suggestions respect the threshold and the
denylist; the API blends them; publish/pull carry them."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import falcon.testing
import orjson
import pytest
from click.testing import CliRunner
from conftest import FIXTURE_ARTICLES
from replica_support import PUBLISHER, TRUSTED

from indexer.home import LEARNED_SUGGESTIONS, IndexHome
from indexer.replica.publication import CorruptPublication
from indexer.replica.publishing import publish
from indexer.replica.pulling import pull
from indexer.update import update
from search_api.analytics.generate import generate
from search_api.analytics.queries import parse_since
from search_api.app import create_app
from search_api.cli import main
from search_api.config import Config
from search_api.learned import SOURCE, LearnedSuggestions

EVENTS = 30_000


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("events")
    generate(d / "host-a", EVENTS * 2 // 3, seed=7, queries=400, files=3)
    generate(d / "host-b", EVENTS // 3, seed=8, queries=400, files=2)
    # A torn line and a foreign line: skipped, never the run.
    with open(next((d / "host-a").glob("*.jsonl")), "ab") as f:
        f.write(b'{"v":1,"type":"sea\n not json at all\n')
    return d


@pytest.fixture(scope="module")
def events(log_dir) -> list[dict]:
    out = []
    for path in sorted(log_dir.rglob("events-*")):
        for line in path.read_bytes().splitlines():
            with contextlib.suppress(orjson.JSONDecodeError):
                out.append(orjson.loads(line))
    return out


def run(*args: str) -> str:
    result = CliRunner().invoke(main, ["analytics", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def answer(name: str, log_dir: Path, *extra: str) -> list[dict]:
    return json.loads(
        run(name, "--events-dir", str(log_dir), "--json", "--limit", "100000", *extra)
    )


def vn_day(e: dict) -> str:
    t = datetime.fromisoformat(e["time"]) + timedelta(hours=7)
    return t.date().isoformat()


def searches(events, since: str | None = None, site: str | None = None) -> list[dict]:
    start = parse_since(since) if since else None
    return [
        e
        for e in events
        if e["type"] == "search"
        and e.get("page", 1) == 1
        and e.get("q")
        and (start is None or datetime.fromisoformat(e["time"]) >= start)
        and (site is None or site in e.get("sites", []))
    ]


def ranked(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


@pytest.mark.parametrize(
    ("since", "site"),
    [(None, None), ("2026-11-20", None), (None, "quan5"), ("2026-11-25", "quan1")],
)
def test_top_and_zero_equal_a_brute_force_count(log_dir, events, since, site):
    extra = (["--since", since] if since else []) + (["--site", site] if site else [])
    s = searches(events, since, site)
    top = answer("top", log_dir, *extra)
    assert [(r["query"], r["count"]) for r in top] == ranked(Counter(e["q"] for e in s))
    zero_by_q = Counter(e["q"] for e in s if not e.get("hits"))
    assert {r["query"]: r["zero_hits"] for r in top if r["zero_hits"]} == dict(zero_by_q)
    zero = answer("zero", log_dir, *extra)
    assert [(r["query"], r["count"]) for r in zero] == ranked(zero_by_q)
    last = {}
    for e in s:
        if not e.get("hits"):
            last[e["q"]] = max(last.get(e["q"], ""), vn_day(e))
    assert {r["query"]: r["last_day"] for r in zero} == last


def test_did_you_mean_and_relaxed(log_dir, events):
    s = searches(events)
    dym = answer("didyoumean", log_dir)
    assert [(r["query"], r["count"]) for r in dym] == ranked(
        Counter(e["q"] for e in s if e.get("did_you_mean"))
    )
    readings = defaultdict(Counter)
    for e in s:
        if e.get("did_you_mean"):
            readings[e["q"]][e["did_you_mean"]] += 1
    assert all(r["did_you_mean"] == readings[r["query"]].most_common(1)[0][0] for r in dym)
    rel = answer("relaxed", log_dir)
    assert [(r["query"], r["count"]) for r in rel] == ranked(
        Counter(e["q"] for e in s if e.get("relaxed"))
    )


def test_clicks_and_noclick(log_dir, events):
    s = [e for e in searches(events) if e.get("hits")]
    per_q = Counter(e["q"] for e in s)
    clicks = [e for e in events if e["type"] == "click" and e["q"] in per_q]
    n_clicks = Counter(e["q"] for e in clicks)
    positions = defaultdict(list)
    for e in clicks:
        positions[e["q"]].append(e["position"])
    rows = answer("clicks", log_dir)
    assert [(r["query"], r["count"]) for r in rows] == ranked(per_q)
    for r in rows:
        assert r["clicks"] == n_clicks[r["query"]]
        assert r["ctr"] == pytest.approx(n_clicks[r["query"]] / per_q[r["query"]], abs=0.0006)
        if n_clicks[r["query"]]:
            mean = sum(positions[r["query"]]) / len(positions[r["query"]])
            assert r["mean_position"] == pytest.approx(mean, abs=0.006)
    noclick = answer("noclick", log_dir)
    expected = Counter({q: n for q, n in per_q.items() if not n_clicks[q]})
    assert noclick and [(r["query"], r["count"]) for r in noclick] == ranked(expected)


def test_daily(log_dir, events):
    rows = answer("daily", log_dir)
    s = searches(events)
    by_day = Counter(vn_day(e) for e in s)
    zero = Counter(vn_day(e) for e in s if not e.get("hits"))
    sug = Counter(vn_day(e) for e in events if e["type"] == "suggest")
    clk = Counter(vn_day(e) for e in events if e["type"] == "click")
    days = sorted({vn_day(e) for e in events}, reverse=True)
    assert [r["day"] for r in rows] == days
    for r in rows:
        d = r["day"]
        assert (r["searches"], r["zero_hits"], r["suggests"], r["clicks"]) == (
            by_day[d],
            zero[d],
            sug[d],
            clk[d],
        )


def test_csv_and_table_output(log_dir):
    text = run("top", "--events-dir", str(log_dir), "--csv", "--limit", "3")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3 and set(rows[0]) == {"query", "count", "zero_hits", "avg_hits"}
    table = run("top", "--events-dir", str(log_dir), "--limit", "3")
    assert table.splitlines()[0].split() == ["query", "count", "zero_hits", "avg_hits"]
    assert rows[0]["query"] in table


def test_bad_input_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(main, ["analytics", "top", "--events-dir", str(tmp_path / "nope")])
    assert r.exit_code == 1 and "not a directory" in r.output
    r = CliRunner().invoke(
        main, ["analytics", "top", "--events-dir", str(tmp_path), "--since", "yesterday"]
    )
    assert r.exit_code == 1 and "--since" in r.output
    # An empty directory is no error: nothing to count yet.
    assert json.loads(run("top", "--events-dir", str(tmp_path), "--json")) == []


def test_since_is_a_vietnam_day():
    assert parse_since("2026-11-20") == datetime(2026, 11, 19, 17)
    assert parse_since("1d", today=date(2026, 12, 7)) == datetime(2026, 12, 6, 17)
    assert parse_since("7d", today=date(2026, 12, 7)) == datetime(2026, 11, 30, 17)


# -- learned suggestions -------------------------------------------------------------------


def _search(q: str, hits: int, t: str = "2026-11-05T03:00:00.000") -> dict:
    return {"v": 1, "type": "search", "time": t, "q": q, "folded": fold(q), "hits": hits}


def fold(text: str) -> str:
    from indexer.analysis import fold as f

    return f(text)


def _write(directory: Path, events: list[dict]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "events-20261105-h-1-1.jsonl").write_bytes(
        b"".join(orjson.dumps(e) + b"\n" for e in events)
    )


def test_suggestions_respect_threshold_found_results_and_denylist(tmp_path):
    ev = (
        [_search("tuyên giáo", 5)] * 3
        + [_search("tuyen giao", 5)] * 4  # folds alike: 7 together, shown with diacritics
        + [_search("học phí", 2)] * 6
        + [_search("hoc bong", 2)] * 5  # one short of the threshold
        + [_search("lịch tiêm", 0)] * 9  # never found anything
        + [_search("đất đai", 0)] * 3
        + [_search("đất đai", 4, "2026-11-06T03:00:00.000")] * 3  # found, the last time
        + [_search("chết người", 3)] * 8  # denied (written without diacritics in the list)
        + [_search("gọi ***", 3)] * 8  # a masked personal number
        + [{**_search("học phí", 2), "page": 2}] * 20  # further pages: not new searches
    )
    _write(tmp_path / "ev", ev)
    home = tmp_path / "home"
    home.mkdir()
    (home / "SUGGESTIONS.deny").write_text("# never suggested\nchet\n\n", "utf-8")
    out = CliRunner().invoke(
        main,
        [
            "analytics",
            "suggestions",
            "--events-dir",
            str(tmp_path / "ev"),
            "--index-dir",
            str(home),
            "--min-count",
            "6",
        ],
    )
    assert out.exit_code == 0, out.output
    doc = orjson.loads((home / LEARNED_SUGGESTIONS).read_bytes())
    assert doc["suggestions"] == [
        {"text": "tuyên giáo", "count": 7},
        {"text": "học phí", "count": 6},
        {"text": "đất đai", "count": 6},
    ]
    assert doc["min_count"] == 6


def test_suggest_blends_learned_suggestions_marked_as_such(sample_index, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_index, home)
    client = falcon.testing.TestClient(
        create_app(Config.from_env({"VNSEARCH_INDEX_DIR": str(home)}))
    )
    before = client.simulate_get("/v1/suggest", params={"q": "tuyen gi"}).json["suggestions"]
    assert before and all("source" not in s for s in before)
    (home / LEARNED_SUGGESTIONS).write_bytes(
        orjson.dumps(
            {
                "format": 1,
                "suggestions": [
                    {"text": "tuyên giáo cơ sở", "count": 40},
                    {"text": "tuyên giáo", "count": 90},
                    {"text": "giao thông", "count": 99},
                ],
            }
        )
    )
    suggest = client.app._router.find("/v1/suggest")[0]
    suggest.learned._checked = float("-inf")  # no waiting for the next check
    r = client.simulate_get("/v1/suggest", params={"q": "tuyen gi", "limit": "5"})
    got = r.json["suggestions"]
    learned = [s for s in got if s.get("source") == SOURCE]
    assert [s["title"] for s in learned] == ["tuyên giáo", "tuyên giáo cơ sở"]
    assert got[:2] == learned and len(got) == 5
    assert learned[0]["highlight"] == "<mark>tuyên gi</mark>áo"
    assert learned[0]["id"] is None and learned[0]["url"] is None
    assert got[2:] == before[:3]
    # a broken file is no error: the titles alone
    (home / LEARNED_SUGGESTIONS).write_bytes(b"{broken")
    suggest.learned._checked = float("-inf")
    r = client.simulate_get("/v1/suggest", params={"q": "tuyen gi"})
    assert r.status_code == 200 and r.json["suggestions"] == before


def _learned(body_count: int) -> bytes:
    return b'{"format": 1, "suggestions": [{"text": "tuyen giao", "count": %d}]}' % body_count


def test_publish_and_pull_carry_the_learned_suggestions(sample_index, tmp_path):
    src, dst, dist = tmp_path / "src", tmp_path / "dst", tmp_path / "dist"
    shutil.copytree(sample_index, src)
    dst.mkdir()
    origin, host = IndexHome(src), IndexHome(dst)
    (src / LEARNED_SUGGESTIONS).write_bytes(_learned(9))
    publish(origin, dist, signer=PUBLISHER)
    assert pull(host, dist, trusted=TRUSTED).action == "new"
    live = host.current_dir()
    assert (live / LEARNED_SUGGESTIONS).read_bytes() == _learned(9)
    learned = LearnedSuggestions(dst, check_seconds=0)
    assert [e.count for e in learned.current().match("tuyen", 5)] == [9]
    # Re-publishing the same commit keeps what it published; new suggestions
    # travel with the next commit (an update) or generation.
    (src / LEARNED_SUGGESTIONS).write_bytes(_learned(8))
    assert publish(origin, dist, signer=PUBLISHER).already_published
    assert pull(host, dist, trusted=TRUSTED).action == "unchanged"
    assert (live / LEARNED_SUGGESTIONS).read_bytes() == _learned(9)
    update(origin, [replace(FIXTURE_ARTICLES[0], title="Một tiêu đề mới")])
    publish(origin, dist, signer=PUBLISHER)
    assert pull(host, dist, trusted=TRUSTED).action == "updated"
    assert (live / LEARNED_SUGGESTIONS).read_bytes() == _learned(8)
    assert [e.count for e in learned.current().match("tuyen", 5)] == [8]
    # None in the home: the next publication has none, and neither has the host.
    (src / LEARNED_SUGGESTIONS).unlink()
    update(origin, [replace(FIXTURE_ARTICLES[0], title="Một tiêu đề khác")])
    publish(origin, dist, signer=PUBLISHER)
    assert pull(host, dist, trusted=TRUSTED).action == "updated"
    assert not (live / LEARNED_SUGGESTIONS).exists() and learned.current() is None


def test_a_tampered_learned_file_in_a_publication_is_refused(sample_index, tmp_path):
    src, dst, dist = tmp_path / "src", tmp_path / "dst", tmp_path / "dist"
    shutil.copytree(sample_index, src)
    dst.mkdir()
    (src / LEARNED_SUGGESTIONS).write_bytes(_learned(3))
    publish(IndexHome(src), dist, signer=PUBLISHER)
    pub_dir = dist / (dist / "LATEST").read_text().strip()
    (pub_dir / LEARNED_SUGGESTIONS).write_bytes(_learned(7))  # same size, other bytes
    with pytest.raises(CorruptPublication):
        pull(IndexHome(dst), dist, trusted=TRUSTED)
    assert IndexHome(dst).current_name() is None


def test_learned_suggestions_reload_when_the_file_changes(tmp_path):
    learned = LearnedSuggestions(tmp_path, check_seconds=0)
    assert learned.current() is None
    (tmp_path / LEARNED_SUGGESTIONS).write_text(
        '{"format": 1, "suggestions": [{"text": "Học  Phí", "count": 3}]}', "utf-8"
    )
    got = learned.current()
    assert got is not None and [e.text for e in got.match("hoc p", 5)] == ["học phí"]
    assert got.match("h", 5) == []  # one letter: too little typed
    (tmp_path / LEARNED_SUGGESTIONS).unlink()
    assert learned.current() is None


def test_the_html_report_is_one_self_contained_file(log_dir, tmp_path):
    report = tmp_path / "r.html"
    run("report", "--events-dir", str(log_dir), "--html", str(report), "--since", "2026-11-10")
    html = report.read_text("utf-8")
    assert html.count('<svg role="img"') == 3 and html.count("<rect") > 40
    assert "since 2026-11-10" in html and "Queries without results" in html
    # nothing to fetch: no script, no external reference, a CSP that allows none
    assert "<script" not in html and "src=" not in html and "href=" not in html
    assert "default-src 'none'" in html
    top = answer("top", log_dir, "--since", "2026-11-10")[0]["query"]
    assert f">{top}</text>" in html or f">{top[:31]}…</text>" in html
