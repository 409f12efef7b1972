"""Source readers: turn input files into Article records, and report every unusable input.

``read_sources(paths)`` is the entry point. Files are read by extension (see
``READERS``); directories are walked recursively in sorted order, skipping hidden
entries. Problems never raise: they come out as ``Rejection`` records in the stream.
Every reader bounds what one input may cost (``ReadLimits``; ``make_readers``
gives the table for other limits).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from pathlib import Path

from .article import Article, Gone, Rejection
from .crawlstore import read_crawl_store
from .dates import VN_TZ, parse_date
from .html import HtmlReader, read_html_page
from .html_rules import HtmlConfig
from .jsonl import read_jsonl
from .limits import ReadLimits
from .portal import parse_portal_page, read_portal_page

__all__ = [
    "READERS",
    "VN_TZ",
    "Article",
    "Gone",
    "HtmlReader",
    "ReadLimits",
    "Rejection",
    "make_readers",
    "parse_date",
    "parse_portal_page",
    "read_crawl_store",
    "read_html_page",
    "read_jsonl",
    "read_portal_page",
    "read_sources",
]

Reader = Callable[[Path], Iterator[Article | Gone | Rejection]]

# File name ending (lower case) -> reader. A new format is one more line here.
READERS: dict[str, Reader] = {
    ".jsonl": read_jsonl,
    ".jsonl.gz": read_jsonl,
    ".txt": read_portal_page,
    ".html": read_html_page,
    ".htm": read_html_page,
    # A crawl store written by `vnsearch crawl` (indexer/crawl/store.py).
    ".sqlite": read_crawl_store,
}


def make_readers(
    limits: ReadLimits | None = None, html_config: HtmlConfig | None = None
) -> dict[str, Reader]:
    """The ``READERS`` table with other limits and HTML selectors (the crawl store,
    written by ``vnsearch crawl`` with its own size limits, is read as it is)."""
    limits = limits or ReadLimits()
    jsonl = partial(read_jsonl, limits=limits)
    html = HtmlReader(html_config, limits)
    return {
        **READERS,
        ".jsonl": jsonl,
        ".jsonl.gz": jsonl,
        ".txt": partial(read_portal_page, limits=limits),
        ".html": html,
        ".htm": html,
    }


def read_sources(
    paths: Iterable[str | Path], *, readers: dict[str, Reader] | None = None
) -> Iterator[Article | Gone | Rejection]:
    """Yield the records of every file named in ``paths`` or found under a named directory.

    ``readers`` replaces the ``READERS`` table (e.g. an HTML reader with site selectors).
    """
    table = READERS if readers is None else readers
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path, seen=set(), readers=table)
        elif path.exists():
            yield from _read_file(path, table)
        else:
            yield Rejection(str(path), "file", "no such file or directory")


def _reader_for(path: Path, readers: dict[str, Reader] = READERS) -> Reader | None:
    name = path.name.lower()
    # Longest ending first, so "x.jsonl.gz" is not taken for some ".gz" reader.
    for ending in sorted(readers, key=len, reverse=True):
        if name.endswith(ending):
            return readers[ending]
    return None


def _read_file(
    path: Path, readers: dict[str, Reader] = READERS
) -> Iterator[Article | Gone | Rejection]:
    reader = _reader_for(path, readers)
    if reader is None:
        kind = f"'{path.suffix}'" if path.suffix else "(no extension)"
        yield Rejection(str(path), "file", f"unsupported file type {kind}; expected {_expected()}")
    elif not path.is_file():
        yield Rejection(str(path), "file", "not a regular file")
    else:
        yield from reader(path)


def _walk(
    directory: Path, *, seen: set[tuple[int, int]], readers: dict[str, Reader] = READERS
) -> Iterator[Article | Gone | Rejection]:
    try:
        info = directory.stat()
        entries = sorted(directory.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        yield Rejection(str(directory), "file", f"cannot list directory: {exc.strerror or exc}")
        return
    # A symlink back to an ancestor would otherwise make the walk endless.
    if (info.st_dev, info.st_ino) in seen:
        return
    seen.add((info.st_dev, info.st_ino))
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from _walk(entry, seen=seen, readers=readers)
        elif entry.exists():
            yield from _read_file(entry, readers)
        else:
            yield Rejection(str(entry), "file", "broken symbolic link")


def _expected() -> str:
    endings = list(READERS)
    return ", ".join(endings[:-1]) + f" or {endings[-1]}" if len(endings) > 1 else endings[0]
