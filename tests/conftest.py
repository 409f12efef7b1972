"""Shared fixtures: one sample index per test session, and API clients on it.

The index holds ``data/sample`` (articles.jsonl and pages/), the scraped page in
``../shared/samples`` (each when present) and the fixture articles below, which
are always there so the API tests never depend on the other corpora.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import falcon.testing
import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, api_server, serve_directory
from e2e_support import free_port
from helpers import client_for

from indexer.build import build
from indexer.home import IndexHome
from indexer.sources import VN_TZ, Article, read_sources

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "data" / "sample"
SHARED_SAMPLES = ROOT.parent / "shared" / "samples"
PORTAL_PAGE_ID = "portal-page-quan5-2017-03-07"

# Every fixture article is on one of these sites, so a test can filter them out.
FIXTURE_SITES = ("fixture-a", "fixture-b")


def _at(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


FIXTURE_ARTICLES = [
    # Exact diacritics vs a trap that folds to the same letters.
    Article(
        id="fx-tuyen-giao",
        title="Hội nghị công tác tuyên giáo của phường",
        body="Ban tuyên giáo phường triển khai công tác tuyên giáo năm 2019.",
        url="https://fixture-a.example.vn/tuyen-giao",
        site="fixture-a",
        category="Tin tức sự kiện",
        published=_at(2019, 5, 10),
    ),
    Article(
        id="fx-tuyen-giao-trap",
        title="Mở tuyến giao thông mới qua phường",
        body="Tuyến giao hàng và tuyến giao thông công cộng được mở rộng.",
        url="https://fixture-b.example.vn/tuyen-giao-thong",
        site="fixture-b",
        category="Giao thông",
        published=_at(2019, 6, 1),
    ),
    # Old (hoà) and new (hòa) tone placement.
    Article(
        id="fx-hoa-binh-old",
        title="Khu phố hoà bình đón Tết",
        body="Người dân khu phố hoà bình cùng nhau dọn dẹp đường phố.",
        site="fixture-a",
        category="Văn hóa - Xã hội",
        published=_at(2018, 1, 20),
    ),
    Article(
        id="fx-hoa-binh-new",
        title="Giữ gìn hòa bình và an ninh trật tự",
        body="Công an phường phối hợp giữ gìn hòa bình, an ninh trên địa bàn.",
        site="fixture-b",
        category="Văn hóa - Xã hội",
        published=_at(2018, 2, 3),
    ),
    # Markup in the title and the body must come back escaped in highlights.
    Article(
        id="fx-script",
        title="<script>alert(1)</script> Thông báo tuyên giáo",
        body='Nội dung <script>alert(1)</script> tuyên giáo <img src=x onerror="alert(2)"> & hết.',
        site="fixture-a",
        category="Thông báo",
        published=_at(2020, 2, 29, 23, 30),
    ),
    # Late on New Year's Eve in Vietnam (still 2016 there, 2016-12-31 16:30 UTC).
    Article(
        id="fx-new-year-eve",
        title="Đêm giao thừa tại phường",
        body="Phường tổ chức bắn pháo hoa đêm giao thừa.",
        site="fixture-b",
        category="Văn hóa - Xã hội",
        published=_at(2016, 12, 31, 23, 30),
    ),
    # A date without a time, and an undated record.
    Article(
        id="fx-date-only",
        title="Lịch tiếp công dân tháng ba",
        body="Lãnh đạo phường tiếp công dân vào thứ năm hàng tuần.",
        site="fixture-a",
        category="Cải cách hành chính",
        published=date(2017, 3, 15),
    ),
    Article(
        id="fx-undated",
        title="Hỏi đáp: đăng ký tạm trú",
        body="Công dân đăng ký tạm trú tại công an phường nơi cư trú.",
        site="fixture-b",
    ),
]
FIXTURE_IDS = {a.id for a in FIXTURE_ARTICLES}


def sample_sources() -> list[Path]:
    """The sample corpora that exist on this checkout."""
    paths = [SAMPLE_DIR / "articles.jsonl", SAMPLE_DIR / "pages"]
    paths = [p for p in paths if p.exists()]
    if SHARED_SAMPLES.is_dir():
        paths.append(SHARED_SAMPLES)
    return paths


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index home with the sample corpora and the fixture articles (read-only)."""
    home = tmp_path_factory.mktemp("sample-index")
    report = build(IndexHome(home), [*read_sources(sample_sources()), *FIXTURE_ARTICLES])
    assert not report.rejected, report.rejected
    return home


@pytest.fixture(scope="session")
def client(sample_index: Path) -> falcon.testing.TestClient:
    return client_for(sample_index)


@pytest.fixture(scope="session")
def missing_index_client(tmp_path_factory: pytest.TempPathFactory) -> falcon.testing.TestClient:
    """A client on an index home where nothing has been built."""
    return client_for(tmp_path_factory.mktemp("no-index"))


@pytest.fixture(scope="session")
def has_portal_page() -> bool:
    return (SHARED_SAMPLES / f"{PORTAL_PAGE_ID}.txt").exists()


@pytest.fixture(scope="session")
def has_sample() -> bool:
    return (SAMPLE_DIR / "articles.jsonl").exists()


# -- the search box in a real browser (tests/test_browser*.py) ---------------------------

EMBED_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Một cổng thông tin khác</title></head>
<body>
<h1>Cổng thông tin phường</h1>
<form id="box" action="#"><input name="q" type="search"><button type="submit">Tìm</button></form>
<script src="{api}/static/vnsearch.js" data-form="#box" defer></script>
</body></html>
"""


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The API's address and two other loopback origins serving a portal page
    that embeds the box: one allowed by VNSEARCH_CORS_ORIGINS, one not."""
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    root = tmp_path_factory.mktemp("portal")
    (root / "embed.html").write_text(EMBED_PAGE.format(api=api), "utf-8")
    out = {"api": api, "api_port": str(api_port)}
    with contextlib.ExitStack() as stack:
        for name in ("allowed", "blocked"):
            out[name] = stack.enter_context(serve_directory(root))
        yield out


@pytest.fixture(scope="module")
def api(
    origins: dict[str, str], sample_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The API under gunicorn at ``origins["api"]``, CORS open to the allowed origin."""
    log = tmp_path_factory.mktemp("api") / "log"
    port = int(origins["api_port"])
    with api_server(port, sample_index, log, VNSEARCH_CORS_ORIGINS=origins["allowed"]) as server:
        yield server.base


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, launched once per module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page; fails the test on a JavaScript error, a dialog (alert() from
    injected markup) or a Content-Security-Policy violation."""
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    pg.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    pg.problems = problems
    yield pg
    context.close()
    assert problems == []
