"""Nothing lost, no wrong answer (issue 15): a feed cut mid-write, documents
without views, dates or labels, ids that differ only in Unicode form or hold a
'/', dates outside the one valid range, and the arithmetic of the summary."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import time
import unicodedata
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner, Result
from helpers import assert_problem, client_for, tmpfs
from replica_support import PUBLISHER, TRUSTED

from indexer.build import build
from indexer.errors import StoreError
from indexer.faults import ENV
from indexer.home import IndexHome, Manifest
from indexer.inspection import check, stats
from indexer.replica.publishing import publish
from indexer.replica.pulling import pull
from indexer.schema import VN_TZ
from indexer.sources import Article, parse_date, read_jsonl
from indexer.sources.dates import MAX_YEAR, MIN_YEAR
from indexer.update import delete, update
from search_api.cli import main
from search_api.engine.browse import RELATED_TEXT_CHARS
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

SUMMARY = re.compile(
    r"read (\d+) · added (\d+) · replaced (\d+) · unchanged (\d+) · deleted (\d+) · rejected (\d+)"
)


def row(i: int, **extra) -> dict:
    out = {
        "id": f"d{i}",
        "title": f"Thông báo số {i}",
        "body": f"Ủy ban nhân dân phường thông báo lịch tiếp công dân lần {i}.",
        "published": f"2019-05-{1 + i % 28:02d}T08:00:00+07:00",
        "category": "Thông báo",
        "site": "phuong1",
    }
    out.update(extra)
    return {k: v for k, v in out.items() if v is not None}


def lines(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["index", *args], catch_exceptions=False)


def summary(result: Result) -> tuple[int, ...]:
    found = SUMMARY.search(result.output)
    assert found, result.output
    return tuple(int(n) for n in found.groups())


def doc_ids(home: IndexHome) -> set[str]:
    ix, _ = home.open()
    try:
        with ix.reader() as reader:
            return {stored["id"] for _, stored in reader.iter_docs()}
    finally:
        ix.close()


# -- 1. a feed cut off mid-write ----------------------------------------------------------------


def test_a_feed_cut_mid_line_makes_delete_missing_delete_nothing(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    data = lines([row(i) for i in range(30)])
    feed.write_bytes(data)
    index_dir = tmp_path / "index"
    assert (
        run("build", str(feed), "--index-dir", str(index_dir), "--workers", "1", "-q").exit_code
        == 0
    )
    # A copy still running: a third of the file, ending inside a record.
    cut = len(data) // 3
    assert data[cut - 1 : cut] != b"\n"
    feed.write_bytes(data[:cut])
    result = run("update", str(feed), "--delete-missing", "--index-dir", str(index_dir), "-q")
    assert result.exit_code == 0, result.output
    _, added, replaced, _, deleted, _ = summary(result)
    assert deleted == 0 and added == replaced == 0
    assert "cut off" in result.output and "deletes nothing" in result.output
    assert len(doc_ids(IndexHome(index_dir))) == 30
    # The same file, complete again, with its last record dropped: now it deletes.
    feed.write_bytes(lines([row(i) for i in range(29)]))
    result = run("update", str(feed), "--delete-missing", "--index-dir", str(index_dir), "-q")
    assert summary(result)[4] == 1


def test_a_last_line_without_newline_that_parses_is_a_complete_file(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(lines([row(i) for i in range(3)]).rstrip(b"\n"))
    items = list(read_jsonl(feed))
    assert [type(i).__name__ for i in items] == ["Article"] * 3


def test_a_cut_file_says_which_line_and_why(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(lines([row(0), row(1)]) + b'{"id": "d2", "title": "Th')
    items = list(read_jsonl(feed))
    assert [type(i).__name__ for i in items] == ["Article", "Article", "Rejection", "Rejection"]
    line, whole = items[2], items[3]
    assert line.location == "line 3" and "no newline" in line.reason
    assert whole.location == "file" and "cut off" in whole.reason


# -- 2. sort=popular: missing views rank last -----------------------------------------------------


def test_documents_without_a_view_count_rank_after_every_counted_one(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    day = datetime(2020, 1, 1, 8, tzinfo=VN_TZ)
    build(
        home,
        [
            Article(id="none", title="không có lượt xem", body="x", published=day),
            Article(id="zero", title="không lượt xem", body="x", views=0),
            Article(id="many", title="nhiều lượt xem", body="x", views=864),
        ],
    )
    # An update adding only documents without views (a segment without the column).
    update(home, [Article(id="none2", title="cũng không có", body="y")])
    svc = SearchService(str(home.path), refresh_interval=0)
    try:
        hits = svc.search(SearchRequest(q="", sort="popular"))["hits"]
        assert [h["id"] for h in hits] == ["many", "zero", "none", "none2"]
        doc = svc.document("none")
        assert doc is not None and doc["views"] is None
    finally:
        svc.close()


# -- 3. stats and check after an update adding only undated, unlabelled documents ---------------


def test_check_and_stats_after_an_update_of_undated_unlabelled_documents(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    day = datetime(2020, 1, 1, 8, tzinfo=VN_TZ)
    build(
        home,
        [Article(id=f"a{i}", title=f"bài {i}", body="x", published=day, site="s", category="c")
         for i in range(5)],
    )  # fmt: skip
    update(home, [Article(id=f"u{i}", title=f"hỏi đáp {i}", body="y") for i in range(3)])
    result = check(home)
    assert result["ok"], result["problems"]
    numbers = stats(home)
    assert numbers["documents"] == 8
    assert numbers["date_range"]["dated"] == 5 and numbers["date_range"]["undated"] == 3
    assert numbers["sites"] == {"s": 5, "(none)": 3}
    assert numbers["categories"] == {"c": 5, "(none)": 3}


# -- 9. ids: NFC, and no '/' -----------------------------------------------------------------------


def test_ids_are_nfc_normalised_everywhere(tmp_path: Path) -> None:
    nfc, nfd = unicodedata.normalize("NFC", "hoà"), unicodedata.normalize("NFD", "hoà")
    assert nfc != nfd
    home = IndexHome(tmp_path / "index")
    build(home, [Article(id=nfd, title="hoà bình", body="x")])
    report = update(home, [Article(id=nfc, title="hoà bình", body="x")])
    assert (report.added, report.unchanged) == (0, 1)
    assert doc_ids(home) == {nfc}
    client = client_for(home.path)
    for form in (nfc, nfd):
        resp = client.simulate_get("/v1/documents/" + quote(form))
        assert resp.status_code == 200 and resp.json["id"] == nfc
        assert client.simulate_get(f"/v1/documents/{quote(form)}/related").status_code == 200


def test_an_id_with_a_slash_is_rejected_with_its_reason(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    report = build(
        home, [Article(id="tin/1", title="một", body="x"), Article(id="ok", title="hai", body="y")]
    )
    assert report.added == 1 and doc_ids(home) == {"ok"}
    (rejection,) = report.rejected
    assert "'/'" in rejection.reason
    report = update(home, [Article(id="tin/2", title="ba", body="z")], delete_missing=False)
    assert report.added == 0 and len(report.rejected) == 1


# -- 11. one valid date range ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["0001-01-01", "1899-12-31", "2201-01-01", "01/01/1000"])
def test_dates_outside_the_range_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=f"{MIN_YEAR}.{MAX_YEAR}"):
        parse_date(text)


def test_the_range_ends_are_accepted() -> None:
    assert parse_date(f"{MIN_YEAR}-01-01") == date(MIN_YEAR, 1, 1)
    assert parse_date(f"{MAX_YEAR}-12-31") == date(MAX_YEAR, 12, 31)


def test_the_same_range_in_the_indexer_calendar_filters_and_openapi(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(lines([row(0, published="0001-01-01"), row(1)]))
    items = list(read_jsonl(feed))
    assert "outside" in items[0].reason and items[1].published is not None
    home = IndexHome(tmp_path / "index")
    build(home, [i for i in items if isinstance(i, Article)])
    client = client_for(home.path)
    for year in (MIN_YEAR - 1, MAX_YEAR + 1):
        assert_problem(
            client.simulate_get(f"/v1/calendar?year={year}&month=1"), 400, "invalid_param", "year"
        )
    assert client.simulate_get(f"/v1/calendar?year={MIN_YEAR}&month=1").status_code == 200
    for param in ("from", "to"):
        for day in (f"{MIN_YEAR - 1}-12-31", f"{MAX_YEAR + 1}-01-01"):
            assert_problem(
                client.simulate_get(f"/v1/search?{param}={day}"), 400, "invalid_param", param
            )
        assert client.simulate_get(f"/v1/search?{param}={MIN_YEAR}-01-01").status_code == 200
    spec = client.simulate_get("/openapi.json").json
    params = {p["name"]: p for p in spec["paths"]["/v1/calendar"]["get"]["parameters"]}
    assert params["year"]["schema"]["minimum"] == MIN_YEAR
    assert params["year"]["schema"]["maximum"] == MAX_YEAR
    search = {p["name"]: p for p in spec["paths"]["/v1/search"]["get"]["parameters"]}
    for param in ("from", "to"):
        assert f"{MIN_YEAR}-01-01" in search[param]["description"]
        pattern = re.compile(search[param]["schema"]["pattern"])
        for year in range(MIN_YEAR - 100, MAX_YEAR + 100):
            assert bool(pattern.search(f"{year:04d}-01-01")) == (MIN_YEAR <= year <= MAX_YEAR)


# -- 12. CURRENT.tmp, and read = added + replaced + unchanged + rejected --------------------------


def test_an_interrupted_switch_is_not_an_abandoned_build(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(home, [Article(id="a", title="một", body="x")])
    (home.path / "CURRENT.tmp").write_text("g000009\n")
    result = check(home)
    assert result["ok"]
    assert not any("abandoned build" in w for w in result["warnings"]), result["warnings"]
    assert any("CURRENT.tmp" in w for w in result["warnings"]), result["warnings"]
    update(home, [Article(id="b", title="hai", body="y")])
    assert not (home.path / "CURRENT.tmp").exists()
    assert check(home)["warnings"] == []


def test_the_summary_adds_up(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    bad = [b"not json\n", b'{"id": "x"}\n', b'{"id": "tin/1", "title": "a"}\n', b"[1]\n"]
    feed.write_bytes(lines([row(i) for i in range(4)]) + b"".join(bad) + lines([row(0)]))
    index_dir = tmp_path / "index"
    result = run("build", str(feed), "--index-dir", str(index_dir), "--workers", "1", "-q")
    read, added, replaced, unchanged, _, rejected = summary(result)
    assert (read, added, rejected) == (9, 4, 5)
    assert read == added + replaced + unchanged + rejected
    feed.write_bytes(lines([row(i, title=f"mới {i}") for i in range(2)]) + b"".join(bad))
    result = run("update", str(feed), "--index-dir", str(index_dir), "-q")
    read, added, replaced, unchanged, _, rejected = summary(result)
    assert (read, replaced, rejected) == (6, 2, 4)
    assert read == added + replaced + unchanged + rejected
    manifest = Manifest.read(IndexHome(index_dir).current_dir())
    assert manifest.last_change["read"] == 6


# -- 4. killed between Whoosh's commit and the manifest ------------------------------------------


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search_api.cli", "index", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_a_kill_between_commit_and_manifest_is_repaired_by_the_next_writer(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(lines([row(i) for i in range(4)]))
    index_dir = str(tmp_path / "index")
    assert (
        _cli("build", str(feed), "--index-dir", index_dir, "--workers", "1", "-q").returncode == 0
    )
    feed.write_bytes(lines([row(i) for i in range(10)]))
    killed = _cli("update", str(feed), "--index-dir", index_dir, "-q",
                  env={ENV: "after-commit:kill"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    # Committed, but the manifest still describes the commit before.
    home = IndexHome(index_dir)
    assert len(doc_ids(home)) == 10 and Manifest.read(home.current_dir()).doc_count == 4
    broken = _cli("check", "--index-dir", index_dir)
    assert broken.returncode == 65 and "MANIFEST.json says 4" in broken.stderr
    # The next writer, with nothing to change, notices and repairs.
    again = _cli("update", str(feed), "--index-dir", index_dir, "-q")
    assert again.returncode == 0, again.stderr
    assert "unchanged 10" in again.stdout and "repaired: MANIFEST.json said 4" in again.stderr
    assert _cli("check", "--index-dir", index_dir).returncode == 0
    assert Manifest.read(home.current_dir()).last_change["command"] == "repair"


def test_publish_after_such_a_kill_publishes_what_pull_accepts(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(home, [Article(id=f"a{i}", title=f"bài {i}", body="x") for i in range(3)])
    gen = home.current_dir()
    # What the kill leaves: a commit newer than the manifest.
    before = Manifest.read(gen)
    update(home, [Article(id="b", title="hai", body="y")])
    before.write(gen)
    assert not check(home)["ok"]
    dist, host = tmp_path / "dist", IndexHome(tmp_path / "host")
    publish(home, dist, signer=PUBLISHER)
    assert check(home)["ok"]
    assert pull(host, dist, trusted=TRUSTED).generation == home.current_name()
    assert check(host)["ok"] and len(doc_ids(host)) == 4


# -- 5. a full disk during an update --------------------------------------------------------------


def _big(n: int, words: int = 400) -> list[Article]:
    text = " ".join(f"từ{k % 977} ngữ{k % 613}" for k in range(words))
    return [Article(id=f"big{i}", title=f"bài dài {i}", body=f"{text} {i}") for i in range(n)]


def test_a_failed_update_leaves_no_orphaned_segment_files(tmp_path: Path, monkeypatch) -> None:
    home = IndexHome(tmp_path / "index")
    build(home, [Article(id="a", title="một", body="x")])
    gen = home.current_dir()
    before = set(os.listdir(gen))
    monkeypatch.setenv(ENV, "before-toc:enospc")
    with pytest.raises(StoreError, match="No space left on device"):
        update(home, _big(30, words=50))
    assert set(os.listdir(gen)) == before
    monkeypatch.delenv(ENV)
    assert check(home)["ok"] and doc_ids(home) == {"a"}
    assert update(home, _big(3, words=50)).added == 3
    assert check(home)["ok"]


def test_orphans_left_by_a_killed_writer_are_removed_by_the_next(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(lines([row(i) for i in range(3)]))
    index_dir = str(tmp_path / "index")
    assert (
        _cli("build", str(feed), "--index-dir", index_dir, "--workers", "1", "-q").returncode == 0
    )
    gen = IndexHome(index_dir).current_dir()
    before = set(os.listdir(gen))
    feed.write_bytes(lines([row(i) for i in range(8)]))
    killed = _cli("update", str(feed), "--index-dir", index_dir, "-q",
                  env={ENV: "before-toc:kill"})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL
    assert set(os.listdir(gen)) > before  # the killed commit's segment files
    assert _cli("check", "--index-dir", index_dir).returncode == 0
    home = IndexHome(index_dir)
    assert delete(home, ["nothing-here"]).deleted == 0  # any writer cleans up
    assert set(os.listdir(gen)) == before


def test_check_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    """On a full (or read-only) disk: every write the check could make fails."""
    home = IndexHome(tmp_path / "index")
    build(home, [Article(id="a", title="một", body="x")])

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    for name in ("pwrite", "write", "ftruncate", "replace", "rename", "mkdir", "makedirs"):
        monkeypatch.setattr(os, name, full)
    real_open = os.open

    def read_only_open(path, flags, *args):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            full()
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", read_only_open)
    result, numbers = check(home), stats(home)
    monkeypatch.undo()
    assert result["ok"], result
    assert numbers["documents"] == 1


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_an_update_that_fills_a_real_disk_gives_the_space_back(tmp_path: Path) -> None:
    """A 1 MB tmpfs holds the live generation but not the update."""
    with tmpfs(tmp_path / "disk", "1m") as disk:
        home = IndexHome(disk / "index")
        build(home, [Article(id="a", title="một", body="x")])
        free = _free(disk)
        feed = tmp_path / "big.jsonl"
        rows = [{"id": a.id, "title": a.title, "body": a.body} for a in _big(150)]
        feed.write_bytes(lines(rows))
        for _ in range(2):  # a retry fails the same clean way, not on leftovers
            proc = _cli("update", str(feed), "--index-dir", str(home.path), "-q")
            assert proc.returncode == 1 and "No space left on device" in proc.stderr
            assert "Traceback" not in proc.stderr
            assert _free(disk) >= free - 64 * 1024, (free, _free(disk))
        result = _cli("check", "--index-dir", str(home.path))
        assert result.returncode == 0, result.stderr
        assert doc_ids(home) == {"a"}
        assert update(home, _big(2, words=20)).added == 2


# -- 10. related articles of a very long document -------------------------------------------------


def test_related_reads_a_bounded_beginning_and_is_cached(tmp_path: Path) -> None:
    filler = "công tác tuyên giáo " * (RELATED_TEXT_CHARS // 20 + 50)
    home = IndexHome(tmp_path / "index")
    build(
        home,
        [
            Article(id="long", title="Bản tin một", body=filler + "ngựa vằn hươu cao cổ"),
            Article(id="short", title="Bản tin hai", body="công tác tuyên giáo"),
            Article(id="tail", title="Chuyện sở thú", body="ngựa vằn và hươu cao cổ"),
        ],
    )
    svc = SearchService(str(home.path), refresh_interval=0)
    try:
        first = svc.related("long", 5)
        assert first is not None
        # Words past the bound do not make an article related.
        assert [r["id"] for r in first["related"]] == ["short"]
        assert "long" in [r["id"] for r in svc.related("tail", 5)["related"]]
        # Cached per index version: the same answer, without the work.
        started = time.perf_counter()
        for _ in range(200):
            assert svc.related("long", 5) == first
        assert time.perf_counter() - started < 0.5
        assert svc.related("missing", 5) is None
    finally:
        svc.close()
