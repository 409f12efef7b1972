"""The embeddable search box in a real browser: Debian's headless Chromium, driven
by Playwright, against the API under a real gunicorn on loopback.

Needs /usr/bin/chromium (``.ci/run`` installs it; elsewhere these tests skip).
Never ``playwright install``: it downloads a browser build, which cannot work here.
A screenshot of the results page is saved to ``test-artifacts/``.
"""

from __future__ import annotations

import re

import pytest
from browser_support import ARTIFACTS, CHROMIUM, NO_CHROMIUM, TIMEOUT_MS, phone_context

# Fixtures (conftest.py): ``origins`` (the API's address and two portal origins,
# one allowed by CORS), ``api`` (gunicorn on it), ``browser`` and ``page``.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM),
]


def _type(page, text: str) -> None:
    page.click("input[name=q]")
    page.keyboard.type(text, delay=40)


def _summary(page) -> str:
    return page.inner_text(".vns-summary")


def _count(page) -> int:
    m = re.search(r"Tìm thấy ([\d.]+) kết quả", _summary(page))
    return int(m[1].replace(".", "")) if m else 0


def test_type_see_suggestions_navigate_and_search(api, page):
    resp = page.goto(api + "/")
    assert "script-src 'self'" in resp.headers["content-security-policy"]
    box = page.locator("input[name=q]")
    _type(page, "tuyen giao")

    listbox = page.locator("[role=listbox]")
    option = listbox.locator("[role=option]").first
    option.wait_for()
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "true"
    assert box.get_attribute("aria-controls") == listbox.get_attribute("id")
    assert "tuyên giáo" in listbox.inner_text()
    assert listbox.locator("mark").count() >= 1

    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
    assert option.get_attribute("aria-selected") == "true"
    page.keyboard.press("ArrowUp")  # wraps to the last option
    last = listbox.locator("[role=option]").last
    assert box.get_attribute("aria-activedescendant") == last.get_attribute("id")
    page.keyboard.press("Escape")
    assert listbox.is_hidden()
    assert box.get_attribute("aria-expanded") == "false"
    assert box.get_attribute("aria-activedescendant") is None

    page.keyboard.press("Enter")
    page.locator(".vns-hit").first.wait_for()
    assert _count(page) >= 2
    marks = page.locator(".vns-hit-title mark").all_inner_texts()
    assert "tuyên giáo" in [m.lower() for m in marks]
    assert page.locator(".vns-snippet mark").count() >= 1
    assert "Có phải bạn muốn tìm" in page.inner_text(".vns-dym")
    assert "tuyên giáo" in page.inner_text(".vns-dym")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "search-results.png"), full_page=True)


def test_choosing_a_suggestion_with_the_keyboard_searches_for_it(api, origins, page):
    # A box without data-link (the demo page opens the article instead:
    # tests/test_browser_portal.py).
    page.goto(origins["allowed"] + "/embed.html")
    _type(page, "ubnd q")
    page.locator("[role=option]").first.wait_for()
    assert page.locator("[role=option] mark").first.inner_text() == "UBND Q"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.locator(".vns-hit").first.wait_for()
    assert page.input_value("input[name=q]").startswith("UBND Quận 5")
    assert page.locator("[role=listbox]").is_hidden()
    assert "UBND Quận 5" in page.locator(".vns-hit-title").first.inner_text()


def test_year_and_month_chips_narrow_the_list_and_pages_turn(api, page):
    page.goto(api + "/")
    page.click("button[type=submit]")  # an empty query: everything, newest first
    page.locator(".vns-pages").wait_for()
    everything = _count(page)
    assert everything > 10
    first_page = page.locator(".vns-hit-title").all_inner_texts()
    assert len(first_page) == 10

    page.get_by_role("button", name="Trang sau").click()
    page.locator(".vns-page[aria-current=page]").filter(has_text="2").wait_for()
    assert page.locator(".vns-hits").get_attribute("start") == "11"
    second_page = page.locator(".vns-hit-title").all_inner_texts()
    assert second_page and not set(second_page) & set(first_page)
    assert page.get_by_role("button", name="Trang trước").is_visible()

    dates = page.locator(".vns-facet").filter(has_text="Xem theo ngày")
    dates.locator(".vns-chip").filter(has_text="2017").click()
    page.locator(".vns-chip[aria-pressed=true]").filter(has_text="2017").wait_for()
    in_2017 = _count(page)
    assert 0 < in_2017 < everything
    assert page.locator(".vns-hits").get_attribute("start") == "1"  # back to page 1
    assert all(d.startswith("2017-") for d in _hit_dates(page))

    dates.locator(".vns-chip").filter(has_text="Tháng 3/2017").click()
    page.locator(".vns-chip[aria-pressed=true]").filter(has_text="Tháng 3/2017").wait_for()
    assert 0 < _count(page) < in_2017
    assert all(d.startswith("2017-03-") for d in _hit_dates(page))

    page.get_by_role("button", name="Bỏ lọc").click()
    page.locator(".vns-chip[aria-pressed=true]").first.wait_for(state="detached")
    assert _count(page) == everything


def _hit_dates(page) -> list[str]:
    return [t.get_attribute("datetime") for t in page.locator(".vns-hit time").all()]


def test_no_results_did_you_mean_and_plain_text_fields(api, page):
    page.goto(api + "/?q=xyzzy+qwerty")
    page.locator(".vns-empty").wait_for()
    assert "Không tìm thấy kết quả" in page.inner_text(".vns-results")
    assert page.locator(".vns-hit").count() == 0

    page.fill("input[name=q]", "hoi nghi tuyen giao")
    page.keyboard.press("Enter")
    page.locator(".vns-dym button").wait_for()
    page.locator(".vns-dym button").click()
    page.locator(".vns-summary").filter(has_text="hội nghị tuyên giáo").wait_for()
    assert page.input_value("input[name=q]") == "hội nghị tuyên giáo"

    # A title with markup in it is shown as text (the page fixture fails on alert()).
    page.fill("input[name=q]", "thong bao tuyen giao")
    page.keyboard.press("Enter")
    title = page.locator(".vns-hit-title").filter(has_text="<script>")
    title.first.wait_for()
    assert "<script>alert(1)</script>" in title.first.inner_text()
    assert page.locator(".vns-results script").count() == 0


def test_failed_request_shows_a_message_and_retries(api, page):
    page.route("**/v1/search?*", lambda route: route.fulfill(status=503, body="down"))
    page.goto(api + "/")
    _type(page, "quan 5")
    page.keyboard.press("Enter")
    alert = page.locator(".vns-error[role=alert]")
    alert.wait_for()
    assert "Không thể tải kết quả tìm kiếm" in alert.inner_text()
    page.unroute("**/v1/search?*")
    page.get_by_role("button", name="Thử lại").click()
    page.locator(".vns-hit").first.wait_for()
    assert page.locator(".vns-error").count() == 0


def test_embedded_on_another_origin_with_cors(api, origins, page):
    page.goto(origins["allowed"] + "/embed.html")
    page.locator("link[href$='/static/vnsearch.css']").wait_for(state="attached")
    _type(page, "tuyen gi")
    with page.expect_response(lambda r: "/v1/search?" in r.url) as answer:
        page.locator("[role=option]").first.wait_for()
        page.keyboard.press("Enter")
    assert answer.value.headers["access-control-allow-origin"] == origins["allowed"]
    page.locator(".vns-hit").first.wait_for()
    assert page.locator(".vns-hit-title mark").count() >= 1
    assert page.locator(".vns-results").evaluate("e => getComputedStyle(e).marginTop") != "0px"


def test_an_origin_that_is_not_allowed_gets_the_error_message(api, origins, browser):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    pg.goto(origins["blocked"] + "/embed.html")
    pg.fill("input[name=q]", "quan 5")
    pg.keyboard.press("Enter")
    pg.locator(".vns-error[role=alert]").wait_for()
    assert "Không thể tải kết quả tìm kiếm" in pg.inner_text(".vns-error")
    context.close()


def test_small_screen(api, browser):
    context = phone_context(browser)
    pg = context.new_page()
    pg.goto(api + "/?q=sot+xuat+huyet")
    pg.locator(".vns-hit").first.wait_for()
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page scrolls sideways on a phone"
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "search-results-mobile.png"))
    context.close()
