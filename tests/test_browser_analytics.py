"""Analytics in a real browser (Debian's headless Chromium through Playwright):
the search box reports the opened result with ``navigator.sendBeacon`` and the
API writes it as a click event; the HTML report shows its charts.

Skipped when /usr/bin/chromium is missing. Screenshots go to ``test-artifacts/``
(git-ignored).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM,
    NO_CHROMIUM,
    TIMEOUT_MS,
    api_server,
    serve_directory,
)
from click.testing import CliRunner
from e2e_support import free_port

from search_api.analytics.generate import generate
from search_api.cli import main

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM),
]

PORTAL = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Cổng thông tin</title></head>
<body>
<form id="box" action="#"><input name="q" type="search"><button type="submit">Tìm</button></form>
<script src="{api}/static/vnsearch.js" data-form="#box" data-link="#/doc/{{id}}" {extra} defer>
</script>
</body></html>
"""


@pytest.fixture(scope="module")
def site(sample_index, tmp_path_factory) -> Iterator[dict]:
    """The API (events and clicks on) and a portal origin with two pages: one
    with click reporting, one without."""
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    root = tmp_path_factory.mktemp("portal")
    (root / "clicks.html").write_text(PORTAL.format(api=api, extra='data-clicks="1"'), "utf-8")
    (root / "plain.html").write_text(PORTAL.format(api=api, extra=""), "utf-8")
    events = tmp_path_factory.mktemp("events")
    log = tmp_path_factory.mktemp("api") / "log"
    with (
        serve_directory(root) as portal,
        api_server(
            api_port,
            sample_index,
            log,
            VNSEARCH_CORS_ORIGINS=portal,
            VNSEARCH_EVENTS_DIR=str(events),
            VNSEARCH_CLICKS="1",
        ),
    ):
        yield {"api": api, "portal": portal, "events": events}


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert errors == []


def _clicks(directory: Path) -> list[dict]:
    out = []
    for p in directory.glob("events-*"):
        out += [orjson.loads(x) for x in p.read_bytes().splitlines()]
    return [e for e in out if e["type"] == "click"]


def _wait_for_clicks(directory: Path, n: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _clicks(directory)
        if len(found) >= n:
            return found
        time.sleep(0.1)
    return _clicks(directory)


def _search(page, text: str) -> None:
    page.fill("input[name=q]", text)
    page.press("input[name=q]", "Enter")
    page.locator(".vns-hit").nth(1).wait_for()


def test_the_search_box_reports_the_opened_result_with_a_beacon(site, page):
    beacons = []
    page.on("request", lambda r: beacons.append(r) if r.url.endswith("/v1/clicks") else None)
    page.goto(site["portal"] + "/clicks.html")
    _search(page, "tuyen giao")
    second = page.locator(".vns-hit").nth(1).locator("a")
    href = second.get_attribute("href")
    second.click()
    page.wait_for_url("**" + href)
    clicks = _wait_for_clicks(site["events"], 1)
    assert len(beacons) == 1 and beacons[0].method == "POST"
    assert beacons[0].headers["content-type"].startswith("text/plain")
    assert len(clicks) == 1
    click = clicks[0]
    assert click["q"] == "tuyen giao" and click["position"] == 2 and click["page"] == 1
    assert href == "#/doc/" + click["doc_id"]


def test_no_beacon_unless_the_portal_enables_it(site, page):
    before = len(_clicks(site["events"]))
    beacons = []
    page.on("request", lambda r: beacons.append(r) if r.url.endswith("/v1/clicks") else None)
    page.goto(site["portal"] + "/plain.html")
    _search(page, "tuyen giao")
    page.locator(".vns-hit").first.locator("a").click()
    page.wait_for_timeout(500)
    assert beacons == [] and len(_clicks(site["events"])) == before


def test_the_html_report_shows_its_charts(page, tmp_path):
    generate(tmp_path / "ev", 20_000, seed=3, queries=300)
    report = tmp_path / "report.html"
    out = CliRunner().invoke(
        main, ["analytics", "report", "--events-dir", str(tmp_path / "ev"), "--html", str(report)]
    )
    assert out.exit_code == 0, out.output
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(report.as_uri())
    assert requests == [report.as_uri()]  # nothing fetched from anywhere
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for i in range(3):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
        assert charts.nth(i).locator("rect").count() >= 10
    top_label = page.locator("svg.chart").nth(1).locator("text").first.text_content()
    assert top_label and top_label in page.content()
    assert "Queries without results" in page.inner_text("body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "analytics-report.png"), full_page=True)
    assert (ARTIFACTS / "analytics-report.png").stat().st_size > 10_000
