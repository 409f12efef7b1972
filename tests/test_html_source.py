"""The HTML page reader, on pages written for these tests: a SharePoint-era
district portal (layout tables, ``ctl00_`` ids, visitor counter, "TIN MỚI HƠN")
and a modern news site (og: metadata, ``<article>``)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from indexer.build import build
from indexer.home import IndexHome
from indexer.sources import READERS, Article, HtmlReader, Rejection, read_sources
from indexer.sources.dates import VN_TZ
from indexer.sources.html import parse_html_page
from indexer.sources.html_rules import HtmlConfig, SiteRules, load_html_config
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

FIXTURES = Path(__file__).parent / "fixtures"
PORTAL = FIXTURES / "html" / "quan5-tuyen-giao-2017.html"
NEWS = FIXTURES / "html" / "tintuc-vinamilk-top-1000.html"


def read_one(path: Path, reader=None) -> Article | Rejection:
    [record] = (reader or READERS[".html"])(path)
    return record


def test_html_and_htm_are_registered() -> None:
    assert isinstance(READERS[".html"], HtmlReader)
    assert READERS[".htm"] is READERS[".html"]


def test_sharepoint_portal_page_with_defaults() -> None:
    a = read_one(PORTAL)
    assert isinstance(a, Article)
    assert a.id == "quan5-tuyen-giao-2017"
    assert a.title == "Quận ủy Quận 5 triển khai công tác tuyên giáo năm 2017"
    assert a.published == datetime(2017, 3, 7, 7, 25, tzinfo=VN_TZ)
    assert a.category == "Tin tức sự kiện"  # last breadcrumb item that is not "Trang chủ"
    assert a.url.endswith("/Pages/quan-uy-quan-5-trien-khai-cong-tac-tuyen-giao-nam-2017.aspx")
    assert a.site == "quan5.example.gov.vn"
    assert a.views == 1864
    assert a.origin == str(PORTAL)
    lines = a.body.split("\n")
    assert lines[0].startswith("Sáng ngày 3/3/2017, Quận ủy Quận 5 đã tổ chức hội nghị")
    assert "Quang cảnh hội nghị" in lines  # the photo caption of the layout table
    # <br/> splits a paragraph; inline markup does not.
    assert (
        "Công tác tuyên truyền kịp thời, nhanh chóng và chủ động biên soạn hướng dẫn tuyên truyền."
        in lines
    )
    assert lines[-1] == "Ban Tuyên giáo Quận ủy"
    chrome = ["SỐ LƯỢT TRUY CẬP", "TIN MỚI HƠN", "Xem tiếp", "Tìm kiếm", "Video demo"]
    chrome += ["Bản quyền", "Trang chủ", "wEPDw", "_spBodyOnLoad", "Số lượt người xem"]
    for text in chrome:
        assert text not in a.body, text


def test_modern_news_page_with_defaults() -> None:
    a = read_one(NEWS)
    assert isinstance(a, Article)
    assert a.title == "Vinamilk lọt Top 1.000 thương hiệu hàng đầu châu Á"  # og:title, not <title>
    assert a.published == datetime(2020, 10, 1, 16, 35, 34, tzinfo=VN_TZ)
    assert a.category == "Kinh doanh"
    assert a.url == (
        "https://tintuc.example.vn/kinh-doanh/vinamilk-lot-top-1000-thuong-hieu-20201001163534963.htm"
    )
    assert a.site == "tintuc.example.vn"
    assert a.views is None
    lines = a.body.split("\n")
    assert lines[0].startswith("(Tin tức) - Vinamilk là doanh nghiệp Việt Nam duy nhất")
    assert "vào nông nghiệp công nghệ cao" in a.body  # a link inside a paragraph stays inline
    assert lines[-1] == "Năm 2019, doanh thu của Vinamilk đạt hơn 56.000 tỷ đồng."
    chrome = ["Chia sẻ", "Tin liên quan", "bình luận", "Đọc nhiều", "Ảnh:", "Minh Anh"]
    chrome += ["Thời sự", "Giấy phép", "dataLayer", "headline"]
    for text in chrome:
        assert text not in a.body, text


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


def test_vietnamese_date_text_without_metadata() -> None:
    html = page(
        "<title>Giá xăng giảm</title>",
        '<h1>Giá xăng giảm</h1><span class="date">Thứ tư, 7/2/2024, 23:41 (GMT+7)</span>'
        "<article><p>Giá xăng giảm từ chiều nay.</p></article>",
    )
    p = parse_html_page(html)
    assert p.published == datetime(2024, 2, 7, 23, 41, tzinfo=VN_TZ)
    assert p.title == "Giá xăng giảm" and p.body == "Giá xăng giảm từ chiều nay."


def test_portal_category_and_date_line() -> None:
    html = page(
        body='<table><tr><td class="hdr">Văn hóa - Xã hội 12 Tháng Tư 2017 2:05:00 CH</td></tr>'
        "<tr><td><h1>Ngày hội đọc sách</h1></td></tr>"
        '<tr><td><div class="ms-rtestate-field"><p>Thư viện quận tổ chức.</p></div></td></tr>'
        "</table>"
    )
    p = parse_html_page(html, rules=SiteRules(published=("td.hdr",)))
    assert p.published == datetime(2017, 4, 12, 14, 5, tzinfo=VN_TZ)
    assert p.category == "Văn hóa - Xã hội"


def test_densest_block_when_no_selector_matches() -> None:
    html = page(
        "<title>Tiêu đề</title>",
        '<div class="menu"><p>Trang chủ</p></div>'
        '<div class="noidung"><p>Đoạn một khá dài về công tác tuyên giáo.</p>'
        "<p>Đoạn hai cũng dài về hội nghị.</p></div>",
    )
    assert parse_html_page(html).body == (
        "Đoạn một khá dài về công tác tuyên giáo.\nĐoạn hai cũng dài về hội nghị."
    )


def test_site_config_overrides_defaults(tmp_path: Path) -> None:
    config = load_html_config(FIXTURES / "portal-sites.toml")
    reader = HtmlReader(config)
    # A portal whose <title> is the portal's name, not the article's.
    text = PORTAL.read_text("utf-8").replace(
        "<title>\n\tQuận ủy", "<title>Cổng thông tin điện tử Quận 5 - Quận ủy"
    )
    path = tmp_path / "quan5-page.html"
    path.write_text(text, "utf-8")
    a = read_one(path, reader)
    assert a.site == "quan5"
    assert a.title == "Quận ủy Quận 5 triển khai công tác tuyên giáo năm 2017"
    assert a.category == "Tin tức sự kiện"
    assert a.published == datetime(2017, 3, 7, 7, 25, tzinfo=VN_TZ)
    # A page no site matches keeps the defaults.
    other = read_one(NEWS, reader)
    assert other.site == "tintuc.example.vn"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[default]\ntitel = ["h1"]', "unknown key 'titel'"),
        ('[default]\ntitle = ["h1[[["]', "invalid CSS selector"),
        ('[default]\ntitle = [""]', "expected a selector"),
        ('[[site]]\nname = "x"', "'match'"),
        ('[[site]]\nmatch = ["*"]', "'name'"),
        ("[sites]\n", "unknown table 'sites'"),
        ("title = [", "not valid TOML"),
    ],
)
def test_bad_config_names_the_problem(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(toml, "utf-8")
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        load_html_config(path)


def test_default_config_section_applies_to_every_page(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[default]\nremove = ["p.quangcao"]\n', "utf-8")
    config = load_html_config(path)
    assert config.default.remove == ("p.quangcao",)
    assert config.rules_for("x.html", None) is config.default
    assert isinstance(config, HtmlConfig)


def test_pages_without_article_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_text(page("<title>Trang chủ</title>"), "utf-8")
    (tmp_path / "notitle.htm").write_text(page(body="<p>Chỉ có nội dung.</p>"), "utf-8")
    (tmp_path / "binary.html").write_bytes(b"\xff\xfe\x00garbage\x81")
    records = list(read_sources([tmp_path]))
    assert all(isinstance(r, Rejection) and r.location == "file" for r in records)
    reasons = {Path(r.source).name: r.reason for r in records}
    assert "no main text" in reasons["empty.html"]
    assert "no title" in reasons["notitle.htm"]
    assert "cannot decode" in reasons["binary.html"]


def test_legacy_windows_1258_page(tmp_path: Path) -> None:
    # Windows-1258 has precomposed "ư" but writes tones as combining marks.
    title = "Tin t\u01b0\u0301c"
    html = page(
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1258">'
        f"<title>{title}</title>",
        f"<article><p>{title} hôm nay.</p></article>",
    )
    path = tmp_path / "legacy.html"
    path.write_bytes(html.encode("cp1258"))
    a = read_one(path)
    assert unicodedata.normalize("NFC", a.title) == "Tin tức"


def test_html_pages_are_indexed_and_searchable(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    report = build(home, read_sources([FIXTURES / "html"]))
    assert report.indexed == 2 and not report.rejected
    svc = SearchService(str(home.path))
    try:
        hits = svc.search(SearchRequest(q="tuyen giao"))["hits"]
        assert [h["id"] for h in hits] == ["quan5-tuyen-giao-2017"]
        assert hits[0]["published"] == "2017-03-07T07:25:00+07:00"
    finally:
        svc.close()
