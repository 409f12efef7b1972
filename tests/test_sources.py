"""Source readers: JSON Lines, scraped portal pages and the directory walk."""

from __future__ import annotations

import gzip
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from indexer.sources import (
    READERS,
    VN_TZ,
    Article,
    Rejection,
    parse_portal_page,
    read_jsonl,
    read_portal_page,
    read_sources,
)

SAMPLE = (
    Path(__file__).parents[1] / ".." / "shared" / "samples" / "portal-page-quan5-2017-03-07.txt"
)

NBSP = "\u00a0"

# Our own page in the portal layout: no visitor counter, a CH time, NBSP-only
# lines, an image caption, a views line with a thousands dot, then chrome.
PAGE = f"""
Cải cách hành chính 15 Tháng Mười Hai 2018 2:05:09 CH

Phường 9 tiếp nhận hồ sơ trực tuyến

{NBSP}
Từ tháng 12, người dân có thể nộp hồ sơ  qua cổng dịch vụ công.{NBSP}{NBSP}
   {NBSP}

Ảnh: bộ phận một cửa

Cán bộ phường hướng dẫn tận tình.


Số lượt người xem: 1.234 {NBSP}{NBSP}

TIN MỚI HƠN

TIN ĐÃ ĐƯA

Xem tiếp
Xem theo ngày Xem theo ngày
  • Video demo
Tìm kiếm"""


def articles(records: Iterator[Article | Rejection]) -> list[Article]:
    out = list(records)
    assert all(isinstance(r, Article) for r in out), out
    return out  # type: ignore[return-value]


# --- portal pages -------------------------------------------------------------


def test_sample_portal_page() -> None:
    if not SAMPLE.exists():
        pytest.skip("../shared/samples is not available")
    [page] = articles(read_portal_page(SAMPLE))
    assert page.id == "portal-page-quan5-2017-03-07"
    assert page.origin == str(SAMPLE)
    assert page.title == "Quận ủy Quận 5 triển khai công tác tuyên giáo năm 2017"
    assert page.category == "Tin tức sự kiện"
    assert page.published == datetime(2017, 3, 7, 7, 25, tzinfo=VN_TZ)
    assert page.views == 864
    assert page.body.startswith("Sáng ngày 3/3/2017")
    assert "Quang cảnh hội nghị" in page.body.split("\n")  # captions stay in the body
    for chrome in ("Số lượt người xem", "TIN MỚI HƠN", "TIN ĐÃ ĐƯA", "Xem theo ngày", "Tìm kiếm"):
        assert chrome not in page.body
    assert all(not line.strip().isdigit() for line in page.body.split("\n"))
    assert "SỐ LƯỢT TRUY CẬP" not in page.title + page.body
    assert NBSP not in page.body
    assert all(line == line.strip() and line for line in page.body.split("\n"))


def test_own_portal_page() -> None:
    page = parse_portal_page(PAGE, doc_id="p9", origin="here")
    assert page.id == "p9"
    assert page.origin == "here"
    assert page.category == "Cải cách hành chính"
    assert page.title == "Phường 9 tiếp nhận hồ sơ trực tuyến"
    assert page.published == datetime(2018, 12, 15, 14, 5, 9, tzinfo=VN_TZ)
    assert page.views == 1234
    assert page.body == (
        "Từ tháng 12, người dân có thể nộp hồ sơ qua cổng dịch vụ công.\n"
        "Ảnh: bộ phận một cửa\n"
        "Cán bộ phường hướng dẫn tận tình."
    )
    assert page.url is None and page.site is None


def test_portal_page_with_counter_block_and_nfd_and_crlf() -> None:
    text = "SỐ LƯỢT TRUY CẬP\n\n1\n7\n7\n" + PAGE
    text = unicodedata.normalize("NFD", text).replace("\n", "\r\n")
    page = parse_portal_page(text, doc_id="x")
    assert page.title == "Phường 9 tiếp nhận hồ sơ trực tuyến"  # NFC again
    assert page.category == "Cải cách hành chính"
    assert page.body.startswith("Từ tháng 12")
    assert page.views == 1234


def test_portal_page_without_views_line_stops_at_chrome() -> None:
    text = "\n".join(line for line in PAGE.split("\n") if "người xem" not in line)
    page = parse_portal_page(text, doc_id="x")
    assert page.views is None
    assert page.body.endswith("Cán bộ phường hướng dẫn tận tình.")
    assert "TIN" not in page.body


def test_portal_page_without_views_or_chrome_keeps_the_rest() -> None:
    text = "Thông báo 01 Tháng Giêng 2019\nTiêu đề\nDòng một\n\nDòng hai\n"
    page = parse_portal_page(text, doc_id="x")
    assert (page.category, page.title, page.body) == ("Thông báo", "Tiêu đề", "Dòng một\nDòng hai")
    assert page.published == date(2019, 1, 1)


def test_portal_page_category_is_any_text_before_the_date() -> None:
    text = "Tin 5 tháng đầu năm - 07 Tháng Ba 2017 7:25:00 SA\nTiêu đề\nThân bài"
    page = parse_portal_page(text, doc_id="x")
    assert page.category == "Tin 5 tháng đầu năm"
    assert page.published == datetime(2017, 3, 7, 7, 25, tzinfo=VN_TZ)
    bare = parse_portal_page("07 Tháng Ba 2017\nTiêu đề\nThân bài", doc_id="x")
    assert bare.category is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "date line"),
        ("Chỉ có chữ\nkhông có ngày", "date line"),
        ("Tin tức 31 Tháng Hai 2017 7:25:00 SA\nTiêu đề\nThân", "no day 31"),
        ("Tin tức 07 Tháng Ba 2017 13:25:00 CH\nTiêu đề\nThân", "hour 13"),
        ("Tin tức 07 Tháng Ba 2017\n\n" + NBSP + "\n", "no title"),
        ("Tin tức 07 Tháng Ba 2017\nSố lượt người xem: 3\nTiêu đề", "no title"),
        ("Tin tức 07 Tháng Ba 2017\nTIN MỚI HƠN\nTiêu đề", "no title"),
    ],
)
def test_portal_layout_not_recognised(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_portal_page(text, doc_id="x")


def test_read_portal_page_rejections(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("không phải trang tin", encoding="utf-8")
    [rej] = read_portal_page(bad)
    assert rej == Rejection(str(bad), "file", rej.reason)
    assert "not recognised" in rej.reason

    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"Tin 07 Th\xe1ng Ba 2017\nTi\xeau \xf0\xea")  # Windows-1258
    [rej] = read_portal_page(latin)
    assert isinstance(rej, Rejection) and "UTF-8" in rej.reason

    [rej] = read_portal_page(tmp_path / "missing.txt")
    assert isinstance(rej, Rejection) and "cannot read" in rej.reason


def test_read_portal_page_strips_bom(tmp_path: Path) -> None:
    path = tmp_path / "trang-1.txt"
    path.write_text("\ufeff" + PAGE, encoding="utf-8")
    [page] = articles(read_portal_page(path))
    assert page.id == "trang-1"
    assert page.origin == str(path)


# --- JSON Lines -----------------------------------------------------------------


def write_lines(path: Path, lines: list[str]) -> Path:
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def test_jsonl_happy_path(tmp_path: Path) -> None:
    full = {
        "id": " a-1 ",
        "title": "Tiêu đề",
        "body": "Đoạn một\nĐoạn hai",
        "published": "2017-03-07T07:25:00+07:00",
        "category": " Tin tức ",
        "url": "https://example.vn/a-1",
        "site": "example.vn",
        "views": "864",
        "published_raw": "07 Tháng Ba 2017 7:25:00 SA",
        "tags": ["a", "b"],
    }
    path = write_lines(
        tmp_path / "a.jsonl",
        [
            json.dumps(full, ensure_ascii=False),
            "",
            "   ",
            json.dumps({"id": 42, "body": "chỉ có thân", "published": "06/03/2017", "views": 0}),
            json.dumps({"id": "b", "title": "t", "published": None, "category": "", "url": None}),
            json.dumps({"id": "c", "title": "t", "published": "  "}),
        ],
    )
    first, second, third, fourth = articles(read_jsonl(path))

    assert first == Article(
        id="a-1",
        title="Tiêu đề",
        body="Đoạn một\nĐoạn hai",
        url="https://example.vn/a-1",
        site="example.vn",
        category="Tin tức",
        published=datetime(2017, 3, 7, 7, 25, tzinfo=VN_TZ),
        views=864,
        origin=f"{path}:1",
        extra={"published_raw": "07 Tháng Ba 2017 7:25:00 SA", "tags": ["a", "b"]},
    )
    assert (second.id, second.title, second.body) == ("42", "", "chỉ có thân")
    assert second.published == date(2017, 3, 6)
    assert second.views == 0
    assert second.origin == f"{path}:4"  # blank lines still count
    assert third.published is None and third.category is None and third.url is None
    assert fourth.published is None  # a blank date means undated


def test_jsonl_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "1", "title": "t"}\r\n{"id": "2", "title": "u"}')
    assert [a.id for a in articles(read_jsonl(path))] == ["1", "2"]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"id": "1", "title": ', "invalid JSON"),
        ('{"id": "1", "title": "t"} trailing', "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got array"),
        ('"text"', "expected a JSON object, got string"),
        ("null", "expected a JSON object, got null"),
        ('{"title": "t"}', "missing 'id'"),
        ('{"id": null, "title": "t"}', "missing 'id'"),
        ('{"id": "  ", "title": "t"}', "'id' is empty"),
        ('{"id": 1.5, "title": "t"}', "'id' must be a string or integer, got number"),
        ('{"id": true, "title": "t"}', "'id' must be a string or integer, got boolean"),
        ('{"id": ["1"], "title": "t"}', "'id' must be a string or integer, got array"),
        ('{"id": "1"}', "needs a non-empty 'title' or 'body'"),
        ('{"id": "1", "title": " ", "body": "\\n"}', "needs a non-empty 'title' or 'body'"),
        ('{"id": "1", "title": 5}', "'title' must be a string, got integer"),
        ('{"id": "1", "title": "t", "body": ["p"]}', "'body' must be a string, got array"),
        ('{"id": "1", "title": "t", "published": "31/02/2017"}', "bad 'published'.*no day 31"),
        ('{"id": "1", "title": "t", "published": "hôm qua"}', "bad 'published'.*unrecognised"),
        ('{"id": "1", "title": "t", "published": 20170306}', "'published' must be a string"),
        ('{"id": "1", "title": "t", "category": 3}', "'category' must be a string"),
        ('{"id": "1", "title": "t", "url": {}}', "'url' must be a string, got object"),
        ('{"id": "1", "title": "t", "site": false}', "'site' must be a string, got boolean"),
        ('{"id": "1", "title": "t", "views": -1}', "'views' must not be negative"),
        ('{"id": "1", "title": "t", "views": "-1"}', "'views' must be a non-negative integer"),
        ('{"id": "1", "title": "t", "views": "nhiều"}', "'views' must be a non-negative integer"),
        ('{"id": "1", "title": "t", "views": 1.5}', "'views' must be a non-negative integer"),
        ('{"id": "1", "title": "t", "views": true}', "'views' must be a non-negative integer"),
    ],
)
def test_jsonl_rejections(tmp_path: Path, line: str, reason: str) -> None:
    good = '{"id": "ok", "title": "t"}'
    path = write_lines(tmp_path / "r.jsonl", [good, line, good])
    first, rejected, last = read_jsonl(path)
    assert isinstance(first, Article) and isinstance(last, Article)
    assert isinstance(rejected, Rejection)
    assert (rejected.source, rejected.location) == (str(path), "line 2")
    assert re.search(reason, rejected.reason), rejected.reason


def test_jsonl_invalid_utf8_is_a_line_rejection(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    path.write_bytes(b'{"id": "1", "title": "\xff"}\n{"id": "2", "title": "t"}\n')
    rejected, ok = read_jsonl(path)
    assert isinstance(rejected, Rejection) and "UTF-8" in rejected.reason
    assert rejected.location == "line 1"
    assert isinstance(ok, Article) and ok.id == "2"


def test_jsonl_gz(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "a.jsonl.gz",
        [json.dumps({"id": i, "title": f"bài {i}"}, ensure_ascii=False) for i in range(3)],
    )
    assert [a.title for a in articles(read_jsonl(path))] == ["bài 0", "bài 1", "bài 2"]


def test_truncated_gzip_yields_what_was_read_then_a_file_rejection(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": i, "body": f"đoạn {i} " * 20}, ensure_ascii=False) for i in range(400)
    ]
    whole = write_lines(tmp_path / "whole.jsonl.gz", lines).read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole[: len(whole) * 2 // 3])

    *read, last = read_jsonl(cut)
    assert isinstance(last, Rejection)
    assert (last.source, last.location) == (str(cut), "file")
    assert "truncated" in last.reason
    assert read and all(isinstance(r, Article) for r in read)
    assert [a.id for a in read] == [str(i) for i in range(len(read))]  # no partial line
    assert len(read) < len(lines)


def test_not_gzip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "fake.jsonl.gz"
    path.write_text('{"id": "1", "title": "t"}\n')
    [rejected] = read_jsonl(path)
    assert isinstance(rejected, Rejection) and rejected.location == "file"
    assert "gzip" in rejected.reason


def test_missing_jsonl(tmp_path: Path) -> None:
    [rejected] = read_jsonl(tmp_path / "nope.jsonl")
    assert isinstance(rejected, Rejection) and rejected.location == "file"
    assert "cannot read" in rejected.reason


# --- read_sources -------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small source tree: nested dirs, hidden entries, an unsupported file."""
    root = tmp_path / "src"
    (root / "b" / "deeper").mkdir(parents=True)
    (root / ".hidden").mkdir()
    write_lines(root / "a.jsonl", ['{"id": "a1", "title": "t"}', '{"id": "a2", "title": "t"}'])
    write_lines(root / "b" / "c.jsonl.gz", ['{"id": "c1", "title": "t"}'])
    (root / "b" / "deeper" / "page.txt").write_text(PAGE, encoding="utf-8")
    (root / "b" / "notes.csv").write_text("x,y\n")
    (root / "b" / "README").write_text("đọc tôi\n")
    (root / ".hidden" / "x.jsonl").write_text('{"id": "hidden", "title": "t"}\n')
    (root / ".secret.jsonl").write_text('{"id": "secret", "title": "t"}\n')
    return root


def test_read_sources_walks_directories_in_sorted_order(tree: Path) -> None:
    records = list(read_sources([str(tree)]))
    assert [r.id if isinstance(r, Article) else r.source for r in records] == [
        "a1",
        "a2",
        str(tree / "b" / "README"),
        "c1",
        "page",
        str(tree / "b" / "notes.csv"),
    ]
    readme, csv = (r for r in records if isinstance(r, Rejection))
    assert csv == Rejection(
        str(tree / "b" / "notes.csv"),
        "file",
        "unsupported file type '.csv'; expected .jsonl, .jsonl.gz, .txt, .html, .htm or .sqlite",
    )
    assert readme.reason.startswith("unsupported file type (no extension)")


def test_read_sources_files_and_missing_paths(tree: Path) -> None:
    missing = tree / "missing.jsonl"
    records = list(read_sources([tree / "a.jsonl", missing, tree / ".secret.jsonl"]))
    assert [r.id for r in records if isinstance(r, Article)] == ["a1", "a2", "secret"]
    [rejected] = [r for r in records if isinstance(r, Rejection)]
    assert rejected == Rejection(str(missing), "file", "no such file or directory")


def test_read_sources_extension_is_case_insensitive(tmp_path: Path) -> None:
    write_lines(tmp_path / "UP.JSONL", ['{"id": "u", "title": "t"}'])
    (tmp_path / "PAGE.TXT").write_text(PAGE, encoding="utf-8")
    assert sorted(a.id for a in articles(read_sources([tmp_path]))) == ["PAGE", "u"]


def test_read_sources_new_reader_is_one_dict_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_html(path: Path) -> Iterator[Article | Rejection]:
        yield Article(id=path.stem, title="html", body="", origin=str(path))

    monkeypatch.setitem(READERS, ".html", read_html)
    (tmp_path / "x.html").write_text("<p>x</p>")
    [page] = articles(read_sources([tmp_path]))
    assert page.title == "html"
    [other] = read_sources([tmp_path / "y.xml"])
    assert isinstance(other, Rejection)  # missing
    (tmp_path / "y.xml").write_text("<x/>")
    [other] = read_sources([tmp_path / "y.xml"])
    assert isinstance(other, Rejection)
    assert other.reason.endswith("expected .jsonl, .jsonl.gz, .txt, .html, .htm or .sqlite")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_read_sources_survives_symlink_loops_and_broken_links(tmp_path: Path) -> None:
    write_lines(tmp_path / "a.jsonl", ['{"id": "a", "title": "t"}'])
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "z.jsonl").symlink_to(tmp_path / "gone.jsonl")
    records = list(read_sources([tmp_path]))
    assert [r.id for r in records if isinstance(r, Article)] == ["a"]
    [broken] = [r for r in records if isinstance(r, Rejection)]
    assert broken.source == str(tmp_path / "z.jsonl")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_read_sources_unreadable_paths(tmp_path: Path) -> None:
    locked_file = tmp_path / "a.jsonl"
    write_lines(locked_file, ['{"id": "a", "title": "t"}'])
    locked_dir = tmp_path / "d"
    locked_dir.mkdir()
    locked_file.chmod(0)
    locked_dir.chmod(0)
    try:
        records = list(read_sources([locked_file, locked_dir]))
    finally:
        locked_file.chmod(0o644)
        locked_dir.chmod(0o755)
    assert [(r.source, r.location) for r in records] == [
        (str(locked_file), "file"),
        (str(locked_dir), "file"),
    ]
    assert all(isinstance(r, Rejection) and "ermission" in r.reason for r in records)


def test_read_errors_become_rejections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Root-independent stand-ins for permission errors.
    odd = tmp_path / "odd.jsonl"
    odd.mkdir()
    [rejected] = read_jsonl(odd)
    assert isinstance(rejected, Rejection) and rejected.reason.startswith("cannot read file")
    [rejected] = read_portal_page(odd)
    assert isinstance(rejected, Rejection) and rejected.reason.startswith("cannot read file")

    def denied(self: Path) -> Iterator[Path]:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", denied)
    [rejected] = read_sources([tmp_path])
    assert rejected == Rejection(str(tmp_path), "file", "cannot list directory: Permission denied")
