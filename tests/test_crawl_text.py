"""The crawler's text handling: legacy Vietnamese encodings, charsets, URLs,
the site file, extraction of the seed's layout, and the mass-delete guard."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime

import pytest
from crawl_portal import article_html, make_article, to_cp1258, to_tcvn3

from indexer.build import build
from indexer.crawl.config import load_site, site_from_url
from indexer.crawl.decode import decode_page
from indexer.crawl.extract import extract_page
from indexer.crawl.legacy import (
    _TCVN3_FROM,
    _TCVN3_TO,
    convert_html,
    detect_font,
    from_tcvn3,
    from_vni,
    looks_tcvn3,
)
from indexer.crawl.urls import canonical, doc_id
from indexer.home import IndexHome
from indexer.sources import VN_TZ
from indexer.sources.article import Article, Gone
from indexer.sources.html_rules import SiteRules
from indexer.update import MassDelete, update

WORDS = [
    "Việt Nam",
    "Thành phố Hồ Chí Minh",
    "Đảng bộ quận",
    "Trường học",
    "Ủy ban nhân dân",
    "Người dân đánh giá cao",
    "Tiếng Việt",
    "Ngày 07 tháng Ba năm 2017",
]


class TestLegacy:
    def test_tcvn3_words(self):
        assert from_tcvn3("ViÖt Nam") == "Việt Nam"
        assert from_tcvn3("Thµnh phè Hå ChÝ Minh") == "Thành phố Hồ Chí Minh"
        assert from_tcvn3("Tin tøc sù kiÖn 07 Th¸ng Ba 2017") == "Tin tức sự kiện 07 Tháng Ba 2017"
        assert from_tcvn3("§¶ng bé quËn") == "Đảng bộ quận"

    @pytest.mark.parametrize("word", WORDS)
    def test_tcvn3_round_trip(self, word):
        # Capitals TCVN3 lacks (Ủ, Ư in "Ủy") come back in lower case, as ABC typed them.
        text = to_tcvn3(word).decode("latin-1")
        assert from_tcvn3(text).lower() == word.lower()

    @pytest.mark.skipif(shutil.which("iconv") is None, reason="iconv is not installed")
    def test_table_is_glibc_tcvn5712(self):
        for src, dst in zip(_TCVN3_FROM, _TCVN3_TO, strict=True):
            out = subprocess.run(
                ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"],
                input=src.encode("latin-1"),
                capture_output=True,
                check=True,
            )
            assert out.stdout.decode() == dst, (hex(ord(src)), dst)

    def test_vni_words(self):
        assert from_vni("Vieät Nam") == "Việt Nam"
        assert from_vni("Thaønh phoá Hoà Chí Minh") == "Thành phố Hồ Chí Minh"
        assert from_vni("Ñaûng boä quaän") == "Đảng bộ quận"
        assert from_vni("Tröôøng hoïc") == "Trường học"
        assert from_vni("UÛy ban nhaân daân") == "Ủy ban nhân dân"
        assert from_vni("naêm hoïc, ñaét, kyõ") == "năm học, đắt, kỹ"

    def test_detection(self):
        assert detect_font('<p style="font-family:.VnTime">') == "tcvn3"
        assert detect_font('<font face="VNI-Times">') == "vni"
        assert detect_font("<p>plain</p>") is None
        assert looks_tcvn3("Thµnh phè Hå ChÝ Minh")
        assert not looks_tcvn3("Thành phố Hồ Chí Minh")
        assert not looks_tcvn3("café à la crème")  # French is not TCVN3

    def test_convert_html_keeps_unicode_runs(self):
        html = '<p style="font-family:.VnTime">ViÖt Nam</p><p>Việt Nam, Chí Minh</p>'
        out, kind = convert_html(html)
        assert out == '<p style="font-family:.VnTime">Việt Nam</p><p>Việt Nam, Chí Minh</p>'
        assert kind == "tcvn3"
        assert convert_html("<p>café crème</p>") == ("<p>café crème</p>", None)
        vni = '<font face="VNI-Times">Vieät Nam</font>'
        assert convert_html(vni)[0] == '<font face="VNI-Times">Việt Nam</font>'
        assert convert_html(vni, "none")[0] == vni


class TestDecode:
    TEXT = "<p>Tiếng Việt: Thành phố Hồ Chí Minh, Ủy ban nhân dân quận, hội nghị năm 2017.</p>"

    def test_windows_1258_is_stored_nfc(self):
        raw = to_cp1258(self.TEXT)
        assert "\u0301".encode("cp1258") in raw  # tones really are combining there
        text, used = decode_page(raw, "windows-1258")
        assert text == self.TEXT and used == "cp1258"

    def test_lying_declarations(self):
        # Declared UTF-8, sent windows-1258.
        text, used = decode_page(to_cp1258(self.TEXT), "utf-8")
        assert text == self.TEXT and used.endswith("cp1258")
        # Declared ISO-8859-1, sent UTF-8.
        assert decode_page(self.TEXT.encode(), "iso-8859-1") == (self.TEXT, "utf-8")
        # Declared windows-1251 in <meta>, sent windows-1258.
        page = b'<meta charset="windows-1251">' + to_cp1258(self.TEXT)
        assert decode_page(page)[0].endswith(self.TEXT)

    def test_bom(self):
        assert decode_page(b"\xef\xbb\xbf" + self.TEXT.encode())[0] == self.TEXT


class TestUrls:
    def test_tracking_and_fragments(self):
        base = "http://127.0.0.1:8/tin-tuc/a.aspx"
        for variant in (
            f"{base}?utm_source=zalo&utm_medium=x",
            f"{base}#binh-luan",
            f"{base}?fbclid=1",
            "HTTP://127.0.0.1:8/tin-tuc/a.aspx",
        ):
            assert canonical(variant) == base
        assert canonical(f"{base}?b=2&a=1") == f"{base}?a=1&b=2"
        assert canonical(f"{base}?id=7&utm_campaign=t") == f"{base}?id=7"
        assert doc_id("quan5", base) == doc_id("quan5", canonical(base + "#x"))


class TestSiteFile:
    def test_url_only(self):
        site = site_from_url("https://www.quan5.example.gov.vn/tin-tuc?utm_source=x")
        assert site.name == "quan5.example.gov.vn"
        assert site.start == ("https://www.quan5.example.gov.vn/tin-tuc",)
        assert site.hosts == ("www.quan5.example.gov.vn",)
        with pytest.raises(ValueError):
            site_from_url("ftp://x")

    def test_full_file(self, tmp_path):
        path = tmp_path / "site.toml"
        path.write_text(
            'name = "quan5"\nstart = ["https://q5.example/"]\nsitemaps = "https://q5.example/s.xml"\n'
            'articles = ["/tin-tuc/.+\\\\.aspx$"]\ndeny = ["/dang-nhap"]\nlegacy = "tcvn3"\n'
            "[limits]\nmax_pages = 50\ntimeout = 5.5\n"
            '[politeness]\ndelay = 2\nconcurrency = 1\nuser_agent = "bot (+mailto:a@b.c)"\n'
            '[extract]\nbody = ["#content"]\n',
            "utf-8",
        )
        site = load_site(path)
        assert site.max_pages == 50 and site.timeout == 5.5 and site.delay == 2
        assert site.rules.body == ("#content",) and site.legacy == "tcvn3"
        assert site.is_article("https://q5.example/tin-tuc/a.aspx") is True
        assert not site.may_follow("https://q5.example/dang-nhap")
        assert not site.may_follow("https://other.example/")

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ('start = ["https://a/"]\ncolour = 1', "unknown key 'colour'"),
            ('start = ["https://a/"]\n[limits]\nmax_pages = 0', "out of range"),
            ('start = ["https://a/"]\n[politeness]\ndelay = "x"', "expected a number"),
            ('start = ["https://a/"]\ndeny = ["("]', "invalid regular expression"),
            ('start = ["https://a/"]\nlegacy = "viqr"', "auto, tcvn3, vni or none"),
            ('start = ["https://a/"]\n[extract]\nbody = ["p:::"]', "invalid CSS selector"),
            ('name = "x"', "at least one of"),
        ],
    )
    def test_bad_files_name_the_key(self, tmp_path, text, message):
        path = tmp_path / "site.toml"
        path.write_text(text, "utf-8")
        with pytest.raises(ValueError, match=message):
            load_site(path)


def test_seed_layout_from_html():
    a = make_article(3)
    found = extract_page(
        article_html(a, []),
        url="http://x/a",
        doc_id="q5-1",
        site="quan5",
        rules=SiteRules(),
        is_article=None,
        min_body_chars=100,
    )
    art = found.article
    assert art is not None, found.reason
    assert art.title == a.title and art.category == a.category and art.views == a.views
    h, mi = a.time
    assert art.published == datetime(a.day[2], a.day[1], a.day[0], h, mi, tzinfo=VN_TZ)
    assert "Số lượt người xem" not in art.body and "TIN ĐÃ ĐƯA" not in art.body
    assert a.paragraphs[0] in art.body


def test_site_selectors_from_the_html_source():
    """A saved SharePoint page of the portal, read with the selectors of the
    HTML source's site file, gives the same article through the crawler."""
    from pathlib import Path

    from indexer.sources.html import read_html_page
    from indexer.sources.html_rules import load_html_config

    fixtures = Path(__file__).parent / "fixtures"
    page = fixtures / "html" / "quan5-tuyen-giao-2017.html"
    rules = load_html_config(fixtures / "portal-sites.toml").sites[0]
    found = extract_page(page.read_text("utf-8"), url="http://q5/a", doc_id="a", site="quan5",
                         rules=rules, is_article=True, min_body_chars=0)  # fmt: skip
    saved = next(read_html_page(page))
    assert found.article is not None, found.reason
    assert found.article.title.startswith("Quận ủy Quận 5 triển khai công tác tuyên giáo")
    assert found.article.published == datetime(2017, 3, 7, 7, 25, tzinfo=VN_TZ)
    assert found.article.category == "Tin tức sự kiện"
    assert found.article.views == saved.views == 1864
    assert found.article.body.startswith(saved.body[:200])


def test_mass_delete_guard(tmp_path):
    home = IndexHome(tmp_path / "index")
    docs = [
        Article(id=f"d{i}", title=f"Bài {i}", body="Nội dung bài viết", site="quan5")
        for i in range(30)
    ]
    build(home, docs)
    gone = [Gone(f"d{i}", "quan5", "store", "404") for i in range(22)]
    with pytest.raises(MassDelete, match="22 of the 30"):
        update(home, gone)
    assert update(home, gone[:20]).deleted == 20  # 20 is not more than 20
    report = update(home, [Gone("d25", "quan5", "s", "404"), Gone("d26", "quan5", "s", "404")])
    assert report.deleted == 2
    assert update(home, [Gone("d27", "quan5", "s", "404")], allow_mass_delete=True).deleted == 1
