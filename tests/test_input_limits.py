"""Bounds on one input (indexer/sources/limits.py): a line, a page, a field, the
nesting of an HTML page and a run of blank lines. Each input past a bound is
rejected with its file, line and reason, in bounded memory and time, and the
inputs beside it are indexed. The large cases (a 1 GB line, a billion blank
lines, a 50 MB body) are measured with peak RSS by ``bench/limits.py``; here the
same code paths run on small inputs with small limits."""

from __future__ import annotations

import gzip
import io
import json
import time
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from indexer.build import build
from indexer.home import IndexHome
from indexer.sources import (
    READERS,
    Article,
    ReadLimits,
    Rejection,
    make_readers,
    read_sources,
)
from indexer.sources.html import nesting_depth
from indexer.sources.limits import BlankRun, read_lines
from search_api.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "html"
CORPUS = ROOT.parent / "shared" / "corpus"
MIB = 1024 * 1024


def row(i: int, **extra: str) -> bytes:
    record = {"id": f"d{i}", "title": f"Thông báo số {i}", "body": f"Nội dung {i}.", **extra}
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def nested_page(depth: int, *, tag: str = "div", close: str | None = None) -> str:
    """A page whose only text sits ``depth`` elements deep (no <p>, so the body is
    found by walking down from <body>)."""
    close = close if close is not None else f"</{tag}>"
    return (
        "<html><head><title>Trang lồng sâu</title></head><body><h1>Trang lồng sâu</h1>"
        + f"<{tag}>" * depth
        + "Nội dung nằm rất sâu."
        + close * depth
        + "</body></html>"
    )


def records(paths: list[Path], **limits: int) -> list[Article | Rejection]:
    return list(read_sources(paths, readers=make_readers(ReadLimits(**limits))))


# -- 6. deeply nested HTML ---------------------------------------------------------------


def test_a_deeply_nested_page_is_rejected_and_the_pages_beside_it_are_indexed(
    tmp_path: Path,
) -> None:
    # Issue 15, item 6: 3,000-5,000 nested <div> ended the whole run with a RecursionError.
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("quan5-tuyen-giao-2017.html", "tintuc-vinamilk-top-1000.html"):
        (pages / name).write_bytes((FIXTURES / name).read_bytes())
    for depth in (3000, 5000):
        (pages / f"deep-{depth}.html").write_text(nested_page(depth), "utf-8")
    report = build(IndexHome(tmp_path / "index"), read_sources([pages]), workers=1)
    assert report.indexed == 2
    assert sorted((Path(r.source).name, r.location) for r in report.rejected) == [
        ("deep-3000.html", "file"),
        ("deep-5000.html", "file"),
    ]
    for r in report.rejected:
        assert (
            r.reason
            == "elements nested deeper than 512 (--max-html-depth / VNSEARCH_MAX_HTML_DEPTH)"
        )


def test_a_page_nested_100_000_deep_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    # Lexbor parses 100,000 nested <div> (1.3 MB) in ~32 s: the page must not reach it.
    path = tmp_path / "bomb.html"
    path.write_text(nested_page(100_000, tag="div class=x"), "utf-8")
    started = time.monotonic()
    [record] = records([path])
    assert isinstance(record, Rejection) and "nested deeper than 512" in record.reason
    assert time.monotonic() - started < 10


def test_the_nesting_estimate_counts_what_nests_and_nothing_else() -> None:
    assert nesting_depth(nested_page(700)) == 700
    assert nesting_depth("<div/>" * 600) == 600  # "/>" does not close an HTML element
    svg = "<svg>" + '<path d="M0 0"/>' * 5000 + "</svg>"  # it does in SVG
    assert nesting_depth(svg) == 1
    # Elements that hold nothing or close themselves; tags inside scripts and comments.
    flat = "<p>a<p>b<br><img src=x><li>c<li>d<td>e<td>f" * 2000
    assert nesting_depth(flat) == 0
    assert nesting_depth("<script>" + "<div>" * 5000 + "</script><!--" + "<b>" * 5000) == 0
    for page in FIXTURES.glob("*.html"):
        assert 3 <= nesting_depth(page.read_text("utf-8")) <= 20, page
    assert nesting_depth(nested_page(10_000), stop_above=50) == 51


def test_nesting_the_estimate_misses_is_caught_by_the_body_walk(tmp_path: Path) -> None:
    # Each nested table counts once in the estimate but is four elements deep
    # (table > tbody > tr > td): the walk over the parsed content checks the real depth.
    path = tmp_path / "tables.html"
    path.write_text(nested_page(200, tag="table><tr><td", close="</td></tr></table>"), "utf-8")
    [record] = records([path], html_depth=300)
    assert isinstance(record, Rejection)
    assert record.reason.startswith("HTML page not recognised: elements nested deeper than 300")


def test_the_body_walk_has_no_recursion_limit(tmp_path: Path) -> None:
    path = tmp_path / "deep.html"
    path.write_text(nested_page(5000), "utf-8")
    [record] = records([path], html_depth=10_000)
    assert isinstance(record, Article), record
    assert record.body == "Nội dung nằm rất sâu."


def test_a_crawled_page_nested_too_deep_is_no_article_not_a_crash() -> None:
    from indexer.crawl.extract import extract_page
    from indexer.sources.html_rules import SiteRules

    got = extract_page(
        nested_page(5000), url="https://p.example.vn/a", doc_id="a", site="p",
        rules=SiteRules(), is_article=True, min_body_chars=1,
    )  # fmt: skip
    assert got.article is None
    assert got.reason.startswith("not an article: elements nested deeper than 512")


# -- 7. bytes per line, per page, per field; blank runs ------------------------------------


def test_read_lines_keeps_line_endings_and_numbers_and_skips_blank_lines() -> None:
    data = b"a\n\n  \r\nbb\r\n" + b"x" * 10 + b"\nc"
    got = list(read_lines(io.BytesIO(data), ReadLimits(line_bytes=8)))
    assert got == [(1, b"a\n", 1), (4, b"bb\r\n", 3), (5, None, 10), (6, b"c", 1)]
    # Exactly at the limit, with and without a line ending.
    assert list(read_lines(io.BytesIO(b"12345678\n12345678"), ReadLimits(line_bytes=8))) == [
        (1, b"12345678\n", 8),
        (2, b"12345678", 8),
    ]


def test_an_oversized_line_is_never_held_whole() -> None:
    class Endless(io.RawIOBase):
        """40 MB of one line, then a short one, made up as they are read."""

        def __init__(self) -> None:
            self.left = 40 * MIB

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            if self.left <= 0:
                tail = b"\nok\n"[: len(buffer)]
                buffer[: len(tail)] = tail
                self.left -= len(tail)
                return len(tail) if self.left > -5 else 0
            n = min(len(buffer), self.left)
            buffer[:n] = b"x" * n
            self.left -= n
            return n

    tracemalloc.start()
    try:
        got = list(read_lines(io.BufferedReader(Endless()), ReadLimits(line_bytes=MIB)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == [(1, None, 40 * MIB), (2, b"ok\n", 2)]
    assert peak < 8 * MIB, peak


def test_a_huge_line_in_a_small_gzip_is_rejected_with_its_line_and_the_rest_is_read(
    tmp_path: Path,
) -> None:
    # Issue 15, item 7: a 1.2 MB .jsonl.gz holding one 1 GB line took the indexer
    # past 4-5 GB. The same at 64 MB here (bench/limits.py runs the 1 GB one).
    path = tmp_path / "feed.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=1) as gz:
        gz.write(row(1))
        gz.write(b'{"id": "huge", "title": "x", "body": "')
        for _ in range(64):
            gz.write(b"a" * MIB)
        gz.write(b'"}\n')
        gz.write(row(3))
    assert path.stat().st_size < 1 * MIB
    tracemalloc.start()
    try:
        got = records([path], line_bytes=4 * MIB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [r.id for r in got if isinstance(r, Article)] == ["d1", "d3"]
    [rejected] = [r for r in got if isinstance(r, Rejection)]
    assert (rejected.source, rejected.location) == (str(path), "line 2")
    size = 64 * MIB + len(b'{"id": "huge", "title": "x", "body": ""}')
    assert rejected.reason == (
        f"line has {size:,} bytes, more than the limit of {4 * MIB:,} "
        "(--max-line-bytes / VNSEARCH_MAX_LINE_BYTES); skipped"
    )
    assert peak < 16 * MIB, peak


@pytest.mark.parametrize("field", ["id", "title", "body", "url", "site", "category", "published"])
def test_a_field_past_its_limit_rejects_its_line(tmp_path: Path, field: str) -> None:
    path = tmp_path / "feed.jsonl"
    big = row(2) if field == "id" else row(2, **{field: "ă" * 1001})
    if field == "id":
        big = json.dumps({"id": "i" * 1001, "title": "t"}).encode() + b"\n"
    path.write_bytes(row(1) + big + row(3))
    got = records([path], field_chars=1000)
    assert [r.id for r in got if isinstance(r, Article)] == ["d1", "d3"]
    [rejected] = [r for r in got if isinstance(r, Rejection)]
    assert rejected.location == "line 2"
    assert rejected.reason == (
        f"'{field}' has 1,001 characters, more than the limit of 1,000 "
        "(--max-field-chars / VNSEARCH_MAX_FIELD_CHARS)"
    )


def test_a_billion_blank_lines_end_the_file_at_once(tmp_path: Path) -> None:
    # Issue 15, item 7: a gzip of a billion empty lines held the writer lock for
    # minutes. Here 200 million (200 MB unpacked, 200 KB packed): without the bound
    # reading them line by line takes about a minute; with it, milliseconds.
    path = tmp_path / "blank.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as gz:
        gz.write(row(1))
        block = b"\n" * (4 * MIB)
        for _ in range(50):
            gz.write(block)
        gz.write(row(2))
    started = time.monotonic()
    got = records([path])
    assert time.monotonic() - started < 5
    assert [r.id for r in got if isinstance(r, Article)] == ["d1"]
    [rejected] = [r for r in got if isinstance(r, Rejection)]
    assert (rejected.source, rejected.location) == (str(path), "file")
    assert rejected.reason == (
        "more than 1,048,576 bytes of blank lines in a row from line 2 "
        "(--max-blank-bytes / VNSEARCH_MAX_BLANK_BYTES); the rest of the file was not read"
    )


def test_blank_lines_below_the_bound_are_skipped_as_before() -> None:
    data = row(1) + b"\n \t\n" * 1000 + row(2) + b"\n" * 100 + row(3)
    got = list(read_lines(io.BytesIO(data), ReadLimits(blank_bytes=4000)))
    assert [n for n, _, _ in got] == [1, 2002, 2103]
    with pytest.raises(BlankRun, match="from line 2 "):
        list(read_lines(io.BytesIO(data), ReadLimits(blank_bytes=3999)))


@pytest.mark.parametrize("name", ["big.html", "big.htm", "big.txt"])
def test_a_page_past_its_limit_is_rejected_unread(tmp_path: Path, name: str) -> None:
    # Issue 15, item 7: a 20 MB HTML page peaked at 1.8 GB.
    path = tmp_path / name
    path.write_text("<p>" + "Nội dung. " * 2000 + "</p>", "utf-8")
    size = path.stat().st_size
    [rejected] = records([path], page_bytes=10_000)
    assert rejected == Rejection(
        str(path),
        "file",
        f"page has {size:,} bytes, more than the limit of 10,000 "
        "(--max-page-bytes / VNSEARCH_MAX_PAGE_BYTES)",
    )


def test_a_page_body_past_the_field_limit_is_rejected(tmp_path: Path) -> None:
    html = tmp_path / "long.html"
    html.write_text(f"<title>Dài</title><article><p>{'ă' * 2000}</p></article>", "utf-8")
    txt = tmp_path / "long.txt"
    txt.write_text(f"Tin tức 07 Tháng Ba 2017 7:25:00 SA\nDài\n{'ă' * 2000}\n", "utf-8")
    for path in (html, txt):
        [rejected] = records([path], field_chars=1000)
        assert isinstance(rejected, Rejection) and rejected.location == "file"
        assert rejected.reason.startswith("'body' has 2,000 characters, more than the limit")
        [ok] = records([path], field_chars=2000)
        assert isinstance(ok, Article)


def test_the_table_with_limits_reads_every_format_the_default_one_does() -> None:
    assert set(make_readers(ReadLimits(line_bytes=10))) == set(READERS)


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="--max-line-bytes must be a positive integer"):
        ReadLimits(line_bytes=0)


def test_the_cli_takes_every_limit_as_a_flag_or_a_variable(tmp_path: Path) -> None:
    source = tmp_path / "feed.jsonl"
    source.write_bytes(row(1) + row(2, body="b" * 500) + row(3))
    index_dir = str(tmp_path / "index")
    runner = CliRunner()
    common = ["index", "build", str(source), "--index-dir", index_dir, "--workers", "1", "-q"]

    result = runner.invoke(main, [*common, "--max-field-chars", "100"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "read 3 · added 2" in result.output and "rejected 1" in result.output
    assert f"rejected: {source}:line 2: 'body' has 500 characters" in result.output

    result = runner.invoke(
        main, common, env={"VNSEARCH_MAX_LINE_BYTES": "100"}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert f"rejected: {source}:line 2: line has 5" in result.output
    assert "(--max-line-bytes / VNSEARCH_MAX_LINE_BYTES); skipped" in result.output

    result = runner.invoke(main, [*common, "--max-page-bytes", "0"])
    assert result.exit_code == 2 and "--max-page-bytes" in result.output


@pytest.mark.corpus
@pytest.mark.slow
def test_the_whole_corpus_is_read_untouched_by_the_default_limits() -> None:
    files = sorted(CORPUS.glob("*.jsonl.gz"))
    if not files:
        pytest.skip(f"no corpus in {CORPUS}")
    got = list(read_sources(files))
    rejected = [r for r in got if isinstance(r, Rejection)]
    assert rejected == []
    assert len(got) == 38_830
    defaults = ReadLimits()
    assert max(len(a.body) for a in got) * 20 < defaults.field_chars
    assert max(len(a.title) for a in got) * 20 < defaults.field_chars


def test_rejections_are_all_counted_but_only_the_first_ones_kept(tmp_path, monkeypatch):
    """A feed of many broken lines costs a count per line, not a kept reason per
    line: the summary's arithmetic stays true past the cap."""
    import indexer.report

    monkeypatch.setattr(indexer.report, "KEPT_REJECTIONS", 5)
    feed = tmp_path / "broken.jsonl"
    feed.write_bytes(b"".join([row(1), *(b"{not json\n" for _ in range(40)), row(2)]))
    report = build(IndexHome(tmp_path / "index"), read_sources([feed]))
    assert len(report.rejected) == 5 and report.rejected_untold == 35
    assert report.rejected_records == 40 and report.added == 2
    assert report.read == report.added + report.replaced + report.unchanged + 40
    assert "rejected 40" in report.summary()
    result = CliRunner().invoke(
        main, ["index", "update", str(feed), "--index-dir", str(tmp_path / "index")]
    )
    assert result.exit_code == 0, result.output
    assert "35 more rejected, counted but not listed" in result.stderr
