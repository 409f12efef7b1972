"""What one input may cost the indexer: bytes per line and per page, characters per
field, nesting depth of an HTML page, and blank bytes in a row.

Indexing memory grows with the text of one document (about 110 bytes of peak
resident memory per character of body: a 1,000,000-character body peaks at
~250 MB in a one-worker build, a 50 MB one went past 4 GB), and every source
read is untrusted. So each bound below is explicit; an input past one is
rejected with its file, line and reason, and the run goes on. The defaults leave
a wide margin over real data: the whole ``../shared/corpus`` (38,830 articles)
has lines of at most 50,208 bytes, bodies of at most 37,006 characters and
titles of at most 856 (docs/operations.md, "Limits on input").

Every limit is a ``vnsearch index build`` / ``update`` flag and an environment
variable (``OPTIONS``: the CLI builds its options from that table).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .article import Article

__all__ = [
    "OPTIONS",
    "BlankRun",
    "PageTooLarge",
    "ReadLimits",
    "limit_name",
    "oversized_field",
    "oversized_text",
    "read_lines",
    "read_page",
    "too_long",
]

MIB = 1024 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on one input (see the module docstring); every value is at least 1."""

    # One JSON Lines record, without its line ending.
    line_bytes: int = 8 * MIB
    # One .html/.htm/.txt page file.
    page_bytes: int = 8 * MIB
    # Each of id, title, body, url, site and category, in characters.
    field_chars: int = 1_000_000
    # Elements nested in one HTML page (browsers stop nesting at 512 too).
    html_depth: int = 512
    # Blank lines in a row in a JSON Lines file; past this the rest of the file is
    # not read (a gzip of a billion empty lines would otherwise hold the lock for minutes).
    blank_bytes: int = 1 * MIB

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{OPTIONS[f.name][0]} must be a positive integer")


# field -> (CLI flag, environment variable, help)
OPTIONS: dict[str, tuple[str, str, str]] = {
    "line_bytes": (
        "--max-line-bytes",
        "VNSEARCH_MAX_LINE_BYTES",
        "Longest JSON Lines record (bytes); longer lines are skipped without being read whole.",
    ),
    "page_bytes": (
        "--max-page-bytes",
        "VNSEARCH_MAX_PAGE_BYTES",
        "Largest .html/.htm/.txt page file (bytes).",
    ),
    "field_chars": (
        "--max-field-chars",
        "VNSEARCH_MAX_FIELD_CHARS",
        "Longest id, title, body, url, site or category (characters).",
    ),
    "html_depth": (
        "--max-html-depth",
        "VNSEARCH_MAX_HTML_DEPTH",
        "Deepest nesting of elements in an HTML page.",
    ),
    "blank_bytes": (
        "--max-blank-bytes",
        "VNSEARCH_MAX_BLANK_BYTES",
        "Blank lines in a row (bytes) after which the rest of a JSON Lines file is skipped.",
    ),
}


def limit_name(name: str) -> str:
    """How a user sets the limit ``name``: its flag and variable."""
    flag, variable, _ = OPTIONS[name]
    return f"{flag} / {variable}"


def too_long(what: str, size: int, limit: int, name: str, unit: str = "bytes") -> str:
    """The reason given for an input past a limit, naming the flag that sets it."""
    return f"{what} has {size:,} {unit}, more than the limit of {limit:,} ({limit_name(name)})"


_FIELDS = ("id", "title", "body", "url", "site", "category")


def oversized_text(name: str, value: object, limits: ReadLimits) -> str | None:
    """Why the field ``name`` holding ``value`` is too long, or None."""
    if isinstance(value, str) and len(value) > limits.field_chars:
        return too_long(f"'{name}'", len(value), limits.field_chars, "field_chars", "characters")
    return None


def oversized_field(article: Article, limits: ReadLimits) -> str | None:
    """Why ``article`` is too large to index, or None."""
    for name in _FIELDS:
        if problem := oversized_text(name, getattr(article, name), limits):
            return problem
    return None


class BlankRun(Exception):
    """More blank bytes in a row than ``ReadLimits.blank_bytes``."""

    def __init__(self, line: int, limit: int):
        super().__init__(
            f"more than {limit:,} bytes of blank lines in a row from line {line} "
            f"({limit_name('blank_bytes')}); the rest of the file was not read"
        )


# Read size while passing over a line that is too long.
_SKIP_CHUNK = 1 * MIB


class LineSource(Protocol):
    """A binary file (plain or gzip) read line by line."""

    def readline(self, size: int = -1, /) -> bytes: ...


def read_lines(fh: LineSource, limits: ReadLimits) -> Iterator[tuple[int, bytes | None, int]]:
    """``(number, line, size)`` for every line of ``fh`` that is not blank.

    ``line`` keeps its ending (``b"\\n"``, absent on an unterminated last line);
    ``size`` is its length in bytes without the ending. A line longer than
    ``limits.line_bytes`` comes as ``(number, None, size)``: it is read past in
    chunks of 1 MiB and never held whole, so memory stays at the limit whatever
    the line. Blank lines cost a C ``readline`` each; more than
    ``limits.blank_bytes`` of them in a row raise :class:`BlankRun`.
    """
    number = 0
    blank = blank_from = 0
    cap = limits.line_bytes + 1  # room for the line ending
    while raw := fh.readline(cap):
        number += 1
        ended = raw.endswith(b"\n")
        if not ended and len(raw) == cap:
            size = len(raw)
            while chunk := fh.readline(_SKIP_CHUNK):
                size += len(chunk)
                if chunk.endswith(b"\n"):
                    size -= 1
                    break
            blank = 0
            yield number, None, size
            continue
        if raw.isspace():
            if not blank:
                blank_from = number
            blank += len(raw)
            if blank > limits.blank_bytes:
                raise BlankRun(blank_from, limits.blank_bytes)
            continue
        blank = 0
        yield number, raw, len(raw) - ended


class PageTooLarge(Exception):
    """A page file larger than ``ReadLimits.page_bytes``; the message is the reason."""


def read_page(path: Path, limits: ReadLimits) -> bytes:
    """The bytes of one page file, never more than ``limits.page_bytes`` of them
    (the size is checked before reading, and the read is bounded in case the
    file grows or is not a regular file). Raises :class:`PageTooLarge`, OSError."""
    limit = limits.page_bytes
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise PageTooLarge(too_long("page", size, limit, "page_bytes"))
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise PageTooLarge(
            f"page has more than the limit of {limit:,} bytes ({limit_name('page_bytes')})"
        )
    return data
