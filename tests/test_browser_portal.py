"""The portal features of the demo page in a real browser (headless Debian
Chromium via Playwright, the API under a real gunicorn on the sample index): the
"Xem theo ngày" date picker fed by /v1/calendar, and the article view (#/doc/<id>)
with newer/older (/neighbors) and related (/related) articles.

Screenshots of the date picker and the article view go to ``test-artifacts/``.
Skips without /usr/bin/chromium (see tests/test_browser.py).
"""

from __future__ import annotations

import re
from urllib.parse import quote_plus

import httpx
import pytest
from browser_support import ARTIFACTS, CHROMIUM, NO_CHROMIUM, phone_context

# The gunicorn, browser and page fixtures are in conftest.py (a page fails its
# test on a JavaScript error, an alert() or a Content-Security-Policy violation).

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM),
]

DAY = "2017-03-07"
RELATED_TO_Q5_2017_004 = {"q5-2018-004", "q5-2019-003", "tt-2023-002"}


def _api(base: str, path: str, **params) -> dict:
    resp = httpx.get(base + path, params=params, timeout=10)
    resp.raise_for_status()
    return resp.json()


def _count(page) -> int:
    m = re.search(r"Tìm thấy ([\d.]+) kết quả", page.inner_text(".vns-summary"))
    return int(m[1].replace(".", "")) if m else 0


def _ids_in(locator) -> list[str]:
    """Document ids of the #/doc/<id> links in ``locator``, in order."""
    return [
        href.removeprefix("#/doc/")
        for href in (a.get_attribute("href") for a in locator.locator("a[href^='#/doc/']").all())
    ]


def _go_to_month(page, year: int, month: int) -> None:
    """Year buttons until the calendar shows ``year``, then that month's button."""
    dialog = page.get_by_role("dialog", name="Xem theo ngày")
    title = dialog.locator(".vns-cal-title")
    for _ in range(200):
        shown = int(re.search(r"năm (\d{4})", title.inner_text())[1])
        if shown == year:
            break
        dialog.get_by_role("button", name="Năm trước" if shown > year else "Năm sau").click()
    dialog.get_by_role("button", name=re.compile(rf"^Tháng {month}\/{year}\b")).click()
    page.locator(".vns-cal-title").filter(has_text=f"Tháng {month} năm {year}").wait_for()
    page.locator(".vns-cal:not(.vns-loading)").wait_for()


def test_date_picker_lists_the_articles_of_one_day(api, page):
    page.goto(api + "/")
    page.click("button[type=submit]")  # everything, newest first
    page.locator(".vns-hit").first.wait_for()
    everything = _count(page)

    toggle = page.get_by_role("button", name="Xem theo ngày")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    dialog = page.get_by_role("dialog", name="Xem theo ngày")
    dialog.wait_for()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert toggle.get_attribute("aria-controls") == dialog.get_attribute("id")
    # Vietnamese weekday labels, Monday first.
    assert dialog.locator("th").all_inner_texts() == ["T2", "T3", "T4", "T5", "T6", "T7", "CN"]
    for name in ("Năm trước", "Tháng trước", "Tháng sau", "Năm sau"):
        assert dialog.get_by_role("button", name=name).is_visible()

    _go_to_month(page, 2017, 3)
    calendar = _api(api, "/v1/calendar", year=2017, month=3)
    days = {
        f"2017-03-{int(b.get_attribute('data-day')):02d}": b
        for b in dialog.locator("td button").all()
    }
    assert set(days) == set(calendar["days"])  # exactly the days with articles are clickable
    assert {"2017-03-07", "2017-03-15", "2017-03-24", "2017-03-29"} <= set(days)
    for day, button in days.items():
        n = calendar["days"][day]
        label = f"Ngày {int(day[8:])} tháng 3 năm 2017: {n} bài viết"
        assert button.get_attribute("aria-label") == label
        assert button.locator(".vns-cal-n").inner_text() == str(n)
    # The months of 2017 with articles are marked, with their counts in the label.
    marked = dialog.locator(".vns-cal-month.vns-has").all()
    assert len(marked) == len(calendar["months"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "date-picker.png"))

    # Keyboard: arrows move between days with articles, Enter picks one.
    days["2017-03-15"].focus()
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.getAttribute('data-day')") == "7"
    page.keyboard.press("Enter")
    assert dialog.is_hidden()
    assert toggle.get_attribute("aria-expanded") == "false"

    chip = page.get_by_role("button", name="Bỏ lọc ngày 07/03/2017")
    chip.wait_for()
    page.locator(".vns-results:not(.vns-loading)").wait_for()
    answer = _api(api, "/v1/search", **{"from": DAY, "to": DAY, "per_page": 50})
    assert answer["total_hits"] >= 2
    assert _count(page) == answer["total_hits"]
    assert _ids_in(page.locator(".vns-hits")) == [h["id"] for h in answer["hits"]]
    assert {t.get_attribute("datetime")[:10] for t in page.locator(".vns-hit time").all()} == {DAY}
    page.screenshot(path=str(ARTIFACTS / "date-picker-day.png"))

    chip.click()  # removing the chip brings everything back
    chip.wait_for(state="detached")
    page.locator(".vns-results:not(.vns-loading)").wait_for()
    assert _count(page) == everything


def test_date_picker_follows_the_query_and_closes_with_escape(api, page):
    page.goto(api + "/?q=sot+xuat+huyet")
    page.locator(".vns-hit").first.wait_for()
    toggle = page.get_by_role("button", name="Xem theo ngày")
    with page.expect_request(lambda r: "/v1/calendar?" in r.url) as asked:
        toggle.click()
    # It opens on the newest month of the results, counting only matching articles.
    assert "q=sot+xuat+huyet" in asked.value.url
    months = _api(api, "/v1/search", q="sot xuat huyet")["facets"]["month"]
    newest = max(months)
    year, month = int(newest[:4]), int(newest[5:7])
    page.locator(".vns-cal-title").filter(has_text=f"Tháng {month} năm {year}").wait_for()
    page.locator(".vns-cal:not(.vns-loading)").wait_for()
    expected = _api(api, "/v1/calendar", year=year, month=month, q="sot xuat huyet")["days"]
    shown = page.locator(".vns-cal td button").all()
    shown_days = {f"{year}-{month:02d}-{int(b.get_attribute('data-day')):02d}" for b in shown}
    assert shown_days == set(expected)
    # Focus moved into the dialog; Escape closes it and gives focus back to the toggle.
    assert page.evaluate("document.activeElement.closest('.vns-cal') !== null")
    page.keyboard.press("Escape")
    assert page.locator(".vns-cal").is_hidden()
    assert page.evaluate("document.activeElement.textContent") == "Xem theo ngày"

    # Previous/next month buttons move one month and fetch its counts.
    toggle.click()
    page.locator(".vns-cal:not(.vns-loading)").wait_for()
    page.get_by_role("button", name="Tháng trước").click()
    prev_year, prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
    page.locator(".vns-cal-title").filter(has_text=f"Tháng {prev_month} năm {prev_year}").wait_for()
    page.get_by_role("button", name="Tháng sau").click()
    page.locator(".vns-cal-title").filter(has_text=f"Tháng {month} năm {year}").wait_for()
    page.click("h1")  # a click elsewhere closes it
    assert page.locator(".vns-cal").is_hidden()

    # A category chip narrows the counts too.
    category = page.locator(".vns-facet").filter(has_text="Chuyên mục").locator(".vns-chip").first
    name = category.evaluate("b => b.firstChild.textContent")
    category.click()
    page.locator(".vns-chip[aria-pressed=true]").filter(has_text=name).wait_for()
    with page.expect_request(lambda r: "/v1/calendar?" in r.url) as asked:
        toggle.click()
    assert "q=sot+xuat+huyet" in asked.value.url
    assert "category=" + quote_plus(name) in asked.value.url


def test_article_view_with_newer_older_and_related_news(api, page):
    doc_id = "q5-2017-004"
    doc = _api(api, f"/v1/documents/{doc_id}")
    neighbors = _api(api, f"/v1/documents/{doc_id}/neighbors", n=5)
    related = _api(api, f"/v1/documents/{doc_id}/related", n=5)

    page.goto(api + "/?q=diet+lang+quang")
    link = page.locator(f".vns-hit-title a[href='#/doc/{doc_id}']")
    link.click()
    title = page.locator(".article-title")
    title.wait_for()
    assert page.url.endswith(f"/?q=diet+lang+quang#/doc/{doc_id}")  # no navigation away
    assert page.locator("#results").is_hidden()
    assert title.inner_text() == doc["title"]
    assert page.evaluate("document.activeElement.className") == "article-title"
    assert page.text_content(".article-category") == doc["category"]
    published = doc["published"]
    assert page.inner_text(".article-meta time").startswith(
        f"{published[8:10]}/{published[5:7]}/{published[:4]}"
    )
    paragraphs = [p for p in doc["body"].split("\n") if p.strip()]
    assert page.locator(".article-body p").all_inner_texts() == paragraphs
    views = f"{doc['views']:,}".replace(",", ".")  # 1.098
    assert page.inner_text(".article-views") == f"Số lượt người xem: {views}"

    related_list = page.locator(".news-list.related")
    assert related_list.locator("h2").text_content() == "Tin liên quan"
    shown = _ids_in(related_list)
    assert shown == [r["id"] for r in related["related"]]
    assert set(shown) >= RELATED_TO_Q5_2017_004
    newer, older = page.locator(".news-list.newer"), page.locator(".news-list.older")
    assert newer.locator("h2").text_content() == "TIN MỚI HƠN"
    assert _ids_in(newer) == [r["id"] for r in neighbors["newer"]]
    assert _ids_in(older) == [r["id"] for r in neighbors["older"]]
    assert newer.is_visible() and older.is_visible() == bool(neighbors["older"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "article-view.png"), full_page=True)

    # A newer article opens in the same view, and has this one among its older news.
    first_newer = neighbors["newer"][0]
    newer.locator("a").first.click()
    title.filter(has_text=first_newer["title"]).wait_for()
    page.locator(".news-list.older").filter(has_text=doc["title"]).wait_for()
    assert page.url.endswith(f"#/doc/{first_newer['id']}")

    # Back (the browser's, then the page's own button) returns to the results.
    page.go_back()
    title.filter(has_text=doc["title"]).wait_for()
    page.get_by_role("button", name="Về trang kết quả tìm kiếm").click()
    page.locator("#results .vns-hit").first.wait_for()
    assert page.locator("#article").is_hidden()
    assert "#" not in page.url
    assert page.evaluate("document.activeElement.getAttribute('href')") == f"#/doc/{doc_id}"


def test_a_suggestion_opens_its_article_and_a_new_search_closes_it(api, page):
    page.goto(api + "/")
    page.click("input[name=q]")
    page.keyboard.type("ubnd q", delay=40)
    option = page.locator("[role=option]").first
    option.wait_for()
    option.click()
    page.locator(".article-title").filter(has_text="UBND Quận 5").wait_for()
    assert "#/doc/" in page.url
    page.fill("input[name=q]", "tuyen giao")
    page.keyboard.press("Enter")
    page.locator("#results .vns-hit").first.wait_for()
    assert page.locator("#article").is_hidden()
    assert "#" not in page.url


def test_article_text_is_never_markup_and_unknown_ids_say_so(api, page):
    page.goto(api + "/#/doc/fx-script")
    page.locator(".article-title").wait_for()
    assert "<script>alert(1)</script>" in page.inner_text(".article-title")
    assert "<img src=x" in page.inner_text(".article-body")
    assert page.locator("#article script, #article img").count() == 0

    page.goto(api + "/#/doc/no-such-article")
    page.locator("#article [role=alert]").filter(has_text="Không tìm thấy bài viết này").wait_for()
    page.get_by_role("button", name="Về trang kết quả tìm kiếm").click()
    assert page.locator("#article").is_hidden()


def test_article_view_on_a_phone(api, browser):
    context = phone_context(browser)
    pg = context.new_page()
    pg.goto(api + "/#/doc/q5-2017-004")
    pg.locator(".news-list.related li").first.wait_for()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "article-view-mobile.png"), full_page=True)
    pg.goto(api + "/")
    pg.get_by_role("button", name="Xem theo ngày").click()
    pg.locator(".vns-cal:not(.vns-loading) td button").first.wait_for()
    assert pg.evaluate("document.documentElement.scrollWidth") <= 390
    pg.screenshot(path=str(ARTIFACTS / "date-picker-mobile.png"))
    context.close()
