"""`vnsearch crawl` end to end against a fixture portal on 127.0.0.1
(tests/crawl_portal.py): first crawl and index, a recrawl after the portal
changed, politeness read from the server's log, and a crawl killed with
SIGKILL and resumed."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crawl_portal import SPECIAL_ARTICLES, Portal, PortalServer, make_article

from indexer.analysis import segment
from indexer.home import IndexHome
from indexer.sources.crawlstore import read_crawl_store
from indexer.update import update
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

ROOT = Path(__file__).resolve().parents[1]
DELAY = 0.1
CONCURRENCY = 2
TIMEOUT = 1.0


def vnsearch(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search_api.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def site_file(path: Path, base: str, **limits) -> Path:
    extra = "".join(f"{k} = {v}\n" for k, v in limits.items())
    path.write_text(
        f'name = "quan5"\nstart = ["{base}/"]\n'
        f"[limits]\ntimeout = {TIMEOUT}\nmax_bytes = 100000\nretries = 1\n{extra}"
        f"[politeness]\ndelay = {DELAY}\nconcurrency = {CONCURRENCY}\n"
        'user_agent = "vnsearch-test (+mailto:admin@example.test)"\n',
        "utf-8",
    )
    return path


def article_paths(log: list[dict]) -> list[dict]:
    return [r for r in log if r["path"].startswith("/tin-tuc/")]


@pytest.fixture(scope="module")
def portal_run(tmp_path_factory):
    """The portal, its server and the first crawl (fetch + index in one command)."""
    tmp = tmp_path_factory.mktemp("crawl")
    portal = Portal(
        articles={a.slug: a for a in (make_article(i) for i in range(12))},
        slow_seconds=TIMEOUT * 2.5,
        big_bytes=300_000,
    )
    with PortalServer(portal) as server:
        site = site_file(tmp / "site.toml", server.base)
        index_dir = tmp / "index"
        report = tmp / "report.jsonl"
        first = vnsearch("crawl", str(site), "--index-dir", str(index_dir), "--report", str(report))
        mark = server.mark()
        yield {
            "portal": portal,
            "server": server,
            "site": site,
            "index": index_dir,
            "report": report,
            "first": first,
            "mark": mark,
            "tmp": tmp,
        }


def _search(index_dir: Path, q: str) -> list[dict]:
    service = SearchService(str(index_dir))
    try:
        return service.search(SearchRequest(q=q, per_page=10))["hits"]
    finally:
        service.close()


def _document(index_dir: Path, doc_id: str) -> dict | None:
    service = SearchService(str(index_dir))
    try:
        return service.document(doc_id)
    finally:
        service.close()


def test_first_crawl_indexes_every_article(portal_run):
    first = portal_run["first"]
    assert first.returncode == 0, first.stderr
    assert "crawl: fetched" in first.stdout and "disallowed by robots 1" in first.stdout
    index_dir = portal_run["index"]
    expected = {
        a.path: (a.title, a.date_line, a.category, a.views)
        for a in portal_run["portal"].articles.values()
    }
    for path, (title, _, category, views) in expected.items():
        hits = [h for h in _search(index_dir, title) if h["url"].endswith(path)]
        assert len(hits) == 1, (path, title)
        hit = hits[0]
        assert hit["title"] == title and hit["category"] == category
        a = portal_run["portal"].articles[path.split("/")[-1].removesuffix(".aspx")]
        assert hit["published"].startswith(f"{a.day[2]}-{a.day[1]:02d}-{a.day[0]:02d}T")
        assert _document(index_dir, hit["id"])["views"] == views
    # windows-1258, a lying charset, TCVN3: found by their Unicode words, dated, counted.
    for path, (title, day, category, views) in SPECIAL_ARTICLES.items():
        hits = [h for h in _search(index_dir, title) if h["url"].endswith(path)]
        assert len(hits) == 1, path
        assert hits[0]["title"] == title
        assert hits[0]["published"].startswith(day) and hits[0]["category"] == category
        assert _document(index_dir, hits[0]["id"])["views"] == views
    # The 500 that recovers (one retry) was indexed too.
    assert _search(index_dir, "làm sạch kênh rạch")
    # The CLI finds them the same way.
    out = vnsearch("search", "Thành phố Hồ Chí Minh thi đua", "--index-dir", str(index_dir))
    assert out.returncode == 0 and "tổng kết công tác thi đua" in out.stdout


def test_first_crawl_requests_and_report(portal_run):
    log = portal_run["server"].requests()[: portal_run["mark"]]
    assert log, "the server saw no request"
    # robots.txt disallows /private/: never asked for.
    assert not [r for r in log if r["path"].startswith("/private/")]
    # Tracking parameters and fragments: the first article was fetched once.
    first = portal_run["portal"].articles["bai-viet-00000"].path
    assert [r["path"] for r in log].count(first) == 1
    assert all("vnsearch-test" in r["agent"] for r in log)
    # The 500 was retried once and then answered.
    assert [r["status"] for r in log if r["path"] == "/flaky.aspx"] == [500, 200]
    rows = [json.loads(line) for line in portal_run["report"].read_text("utf-8").splitlines()]
    reasons = {row["url"].split("/", 3)[3]: row["reason"] for row in rows}
    assert "redirect loop" in reasons["loop-a"]
    assert "size limit" in reasons["big.aspx"]
    assert "timed out" in reasons["slow.aspx"]
    assert "robots.txt" in reasons["private/noi-bo.aspx"]
    assert "links" in reasons["tin-tuc?page=1"]  # a listing, not an article


def test_politeness_from_the_server_log(portal_run):
    log = portal_run["server"].requests()[: portal_run["mark"]]
    # Requests in flight at once, from the server's start and end times. The
    # slow page's thread keeps sleeping after the crawler gave up on it (and
    # closed the connection) at the timeout: its interval ends there.
    events = []
    for r in log:
        end = min(r["end"], r["start"] + TIMEOUT + 0.02) if r["path"] == "/slow.aspx" else r["end"]
        events += [(r["start"], 1), (end, -1)]
    active = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        active += step
        peak = max(peak, active)
    assert 1 <= peak <= CONCURRENCY
    starts = sorted(r["start"] for r in log)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # DOWNLOAD_DELAY is kept between any two requests to the host. The server
    # stamps a request when its thread starts, which a loaded machine can delay:
    # that moves one start later, shortening the gap after it by what it adds
    # to the gap before. So: over the whole crawl, and over each pair of gaps.
    assert starts[-1] - starts[0] >= (len(starts) - 1) * DELAY * 0.95
    pairs = [a + b for a, b in itertools.pairwise(gaps)]
    assert min(pairs) >= 2 * DELAY * 0.7, sorted(pairs)[:5]


def test_recrawl_updates_only_what_changed(portal_run, monkeypatch):
    portal, server = portal_run["portal"], portal_run["server"]
    index_dir = portal_run["index"]
    changed = portal.articles["bai-viet-00002"]
    changed.paragraphs = [
        *changed.paragraphs,
        "Bổ sung: hội nghị thống nhất kế hoạch sơ kết quý II.",
    ]
    changed.lastmod = "2017-04-01"
    new = make_article(12)
    new.lastmod = "2017-04-02"
    portal.articles[new.slug] = new
    removed = portal.articles.pop("bai-viet-00003")
    unchanged = {a.path for a in portal.articles.values()} - {changed.path, new.path}
    old_removed = [h for h in _search(index_dir, removed.title) if h["url"].endswith(removed.path)]
    assert old_removed

    mark = server.mark()
    second = vnsearch("crawl", str(portal_run["site"]), "--index-dir", str(index_dir), "--no-index")
    assert second.returncode == 0, second.stderr
    log = server.requests(mark)
    for r in article_paths(log):
        if r["path"] in unchanged:
            assert r["status"] == 304, r  # never downloaded again
    # The windows-1258, lying-charset, TCVN3 and recovered pages did not change either.
    for path in (*SPECIAL_ARTICLES, "/flaky.aspx"):
        assert [r["status"] for r in log if r["path"] == path] in ([304], []), path
    statuses = {r["path"]: r["status"] for r in article_paths(log)}
    assert statuses[changed.path] == 200 and statuses[new.path] == 200
    assert statuses[removed.path] == 404
    not_modified = sum(1 for r in article_paths(log) if r["status"] == 304)
    skipped = len(unchanged) - len({r["path"] for r in article_paths(log)} & unchanged)
    assert not_modified + skipped == len(unchanged)
    assert "not modified" in second.stdout

    # The index update reads the store; pyvi runs for the changed and new articles only.
    segmented: list[str] = []
    real = segment.word_spans

    def counting(text: str):
        segmented.append(text)
        return real(text)

    monkeypatch.setattr(segment, "word_spans", counting)
    report = update(IndexHome(index_dir), read_crawl_store(index_dir / "crawl.sqlite"))
    assert (report.added, report.replaced, report.deleted) == (1, 1, 0 + 1)
    # Each segmented text is the title or the body of the changed or the new article.
    marks = (changed.title, new.title, "(mã số 00002)", "(mã số 00012)")
    assert segmented and all(any(m in t for m in marks) for t in segmented), segmented
    assert [h for h in _search(index_dir, new.title) if h["url"].endswith(new.path)]
    assert [
        h
        for h in _search(index_dir, "thống nhất kế hoạch sơ kết")
        if h["url"].endswith(changed.path)
    ]
    assert _document(index_dir, old_removed[0]["id"]) is None
    check = vnsearch("index", "check", "--index-dir", str(index_dir))
    assert check.returncode == 0, check.stderr
    # `index update` reads the same store from the command line: nothing left to do.
    again = vnsearch("index", "update", str(index_dir / "crawl.sqlite"), "--index-dir",
                     str(index_dir), "--dry-run", "-q")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "added 0 · replaced 0 · unchanged 16 · deleted 0" in again.stdout


def _crawl_until(server: PortalServer, cmd: list[str], articles: int) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while len(article_paths(server.requests())) < articles and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def test_ctrl_c_stops_cleanly_and_resumes(tmp_path):
    portal = Portal(articles={a.slug: a for a in (make_article(i) for i in range(40))},
                    specials=False, delay=0.05)  # fmt: skip
    with PortalServer(portal) as server:
        site = site_file(tmp_path / "site.toml", server.base)
        index_dir = tmp_path / "index"
        cmd = [sys.executable, "-m", "search_api.cli", "crawl", str(site), "--index-dir",
               str(index_dir), "-q"]  # fmt: skip
        proc = _crawl_until(server, cmd, 10)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 1, (out, err)
        assert "stopped before the end (shutdown)" in err and "to resume" in err
        # What was fetched before Ctrl-C is indexed.
        assert "index: read" in out
        before = len(article_paths(server.requests()))
        assert before < 40
        again = vnsearch("crawl", str(site), "--index-dir", str(index_dir))
        assert again.returncode == 0, again.stderr
        assert "resumed run 1" in again.stdout
        fetched = [r["path"] for r in article_paths(server.requests()) if r["status"] == 200]
        assert sorted(fetched) == sorted({a.path for a in portal.articles.values()})
    check = vnsearch("index", "check", "--index-dir", str(index_dir), "--json")
    assert json.loads(check.stdout)["documents"] == 40


def test_kill_9_then_resume(tmp_path):
    portal = Portal(
        articles={a.slug: a for a in (make_article(i) for i in range(40))},
        specials=False,
        delay=0.05,
    )
    with PortalServer(portal) as server:
        site = site_file(tmp_path / "site.toml", server.base)
        index_dir = tmp_path / "index"
        cmd = [
            sys.executable,
            "-m",
            "search_api.cli",
            "crawl",
            str(site),
            "--index-dir",
            str(index_dir),
            "-q",
        ]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(article_paths(server.requests())) < 12 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # past a commit of the store (every 0.5 s)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        before = len(article_paths(server.requests()))
        assert 12 <= before < 38, "the crawl was not killed in the middle"
        assert not (index_dir / "CURRENT").exists()

        again = vnsearch("crawl", str(site), "--index-dir", str(index_dir))
        assert again.returncode == 0, again.stderr
        assert "resumed run 1" in again.stdout, again.stdout
        fetched = [r["path"] for r in article_paths(server.requests()) if r["status"] == 200]
        # Pages answered before the kill were not asked for again, except those
        # of the last half second, whose answers were not committed yet.
        refetched = len(fetched) - len(set(fetched))
        assert refetched <= 8 and refetched < before / 2, (before, sorted(fetched))
        assert set(fetched) == {a.path for a in portal.articles.values()}
    check = vnsearch("index", "check", "--index-dir", str(index_dir), "--json")
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["documents"] == 40, check.stdout  # nothing indexed twice


def test_mass_delete_stops_and_asks(tmp_path):
    """A portal that suddenly answers 404 for most articles does not empty the index."""
    portal = Portal(articles={a.slug: a for a in (make_article(i) for i in range(25))},
                    specials=False, per_page=25)  # fmt: skip
    with PortalServer(portal) as server:
        site = site_file(tmp_path / "site.toml", server.base)
        index_dir = tmp_path / "index"
        assert vnsearch("crawl", str(site), "--index-dir", str(index_dir)).returncode == 0
        for i in range(22):
            portal.articles.pop(f"bai-viet-{i:05d}")
        refused = vnsearch("crawl", str(site), "--index-dir", str(index_dir))
        assert refused.returncode == 4, refused.stderr
        assert "refusing to delete 22 of the 25 documents" in refused.stderr
        assert "--allow-mass-delete" in refused.stderr
        check = vnsearch("index", "check", "--index-dir", str(index_dir), "--json")
        assert json.loads(check.stdout)["documents"] == 25  # unchanged
        allowed = vnsearch("crawl", str(site), "--index-dir", str(index_dir),
                           "--allow-mass-delete")  # fmt: skip
        assert allowed.returncode == 0, allowed.stderr
        assert "deleted 22" in allowed.stdout
    check = vnsearch("index", "check", "--index-dir", str(index_dir), "--json")
    assert json.loads(check.stdout)["documents"] == 3
