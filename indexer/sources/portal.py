"""Read one article from a page scraped off a district portal as plain text.

Layout, top to bottom (see ``shared/samples/portal-page-*.txt``)::

    SỐ LƯỢT TRUY CẬP / 1 / 7 / …              visitor counter (optional, ignored)
    Tin tức sự kiện 07 Tháng Ba 2017 7:25:00 SA  category + date
    <title>
    <body paragraphs, image captions, blank and NBSP-only lines>
    Số lượt người xem: 864                      views (optional)
    TIN MỚI HƠN / TIN ĐÃ ĐƯA / Xem tiếp / …     navigation chrome (ignored)

Everything above the date line is ignored; the body stops at the views line or at
the first navigation line, whichever comes first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from .article import Article, Rejection
from .dates import parse_date
from .limits import PageTooLarge, ReadLimits, oversized_field, read_page

__all__ = ["parse_portal_page", "read_portal_page"]

# Where a date may start inside the category + date line.
_DATE_START = re.compile(r"(?:ngày\s+)?\d{1,2}\s+tháng\s", re.IGNORECASE)
# A failed candidate this close to the end of its line was probably meant as the date.
_DATE_MAX_LEN = 48
_VIEWS = re.compile(r"số\s+lượt\s+người\s+xem\s*:?\s*(?P<n>\d[\d.,]*)?", re.IGNORECASE)
# Whole lines (after bullets are stripped) made only of navigation words.
_CHROME = re.compile(
    r"(?:(?:tin mới hơn|tin đã đưa|các tin khác|tin khác|xem tiếp|xem theo ngày"
    r"|video demo|tìm kiếm|số lượt truy cập)\s*)+",
    re.IGNORECASE,
)
_BULLETS = " •·▪►»*-"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))


def parse_portal_page(text: str, *, doc_id: str, origin: str = "") -> Article:
    """Parse the text of one scraped portal page.

    Raises ``ValueError`` with the reason when the layout is not recognised.
    """
    lines = [_clean(line) for line in unicodedata.normalize("NFC", text).splitlines()]

    at, category, published = _find_header(lines)

    rest = lines[at + 1 :]
    stop = next((i for i, line in enumerate(rest) if _is_stop(line)), len(rest))
    content = [line for line in rest[:stop] if line]
    if not content:
        raise ValueError("no title after the date line")
    title, body = content[0], content[1:]

    views = None
    for line in rest[stop:]:
        if (found := _VIEWS.match(line)) and found["n"]:
            digits = re.sub(r"\D", "", found["n"])  # "1.234" uses a thousands dot
            views = int(digits) if len(digits) <= 18 else None
            break

    return Article(
        id=doc_id,
        title=title,
        body="\n".join(body),
        category=category,
        published=published,
        views=views,
        origin=origin,
    )


_DEFAULT_LIMITS = ReadLimits()


def read_portal_page(
    path: Path, limits: ReadLimits = _DEFAULT_LIMITS
) -> Iterator[Article | Rejection]:
    """Yield the Article of a portal page file (id = file stem), or one Rejection;
    a file over ``limits.page_bytes`` is not read."""
    path = Path(path)
    try:
        text = read_page(path, limits).decode("utf-8-sig")
    except PageTooLarge as exc:
        yield Rejection(str(path), "file", str(exc))
        return
    except UnicodeDecodeError as exc:
        yield Rejection(str(path), "file", f"not valid UTF-8: {exc.reason} at byte {exc.start}")
        return
    except OSError as exc:
        yield Rejection(str(path), "file", f"cannot read file: {exc.strerror or exc}")
        return
    try:
        article = parse_portal_page(text, doc_id=path.stem, origin=str(path))
    except ValueError as exc:
        yield Rejection(str(path), "file", f"portal page not recognised: {exc}")
        return
    if problem := oversized_field(article, limits):
        yield Rejection(str(path), "file", problem)
    else:
        yield article


def _clean(line: str) -> str:
    # str.split() also splits on NBSP and the other Unicode spaces.
    return " ".join(line.translate(_INVISIBLE).split())


def _find_header(lines: list[str]) -> tuple[int, str | None, datetime | date]:
    """Index, category and date of the first line that ends with a parsable date."""
    near_miss = ""
    for at, line in enumerate(lines):
        for start in _DATE_START.finditer(line):
            try:
                published = parse_date(line[start.start() :])
            except ValueError as exc:
                if not near_miss and len(line) - start.start() <= _DATE_MAX_LEN:
                    near_miss = f"; {line!r}: {exc}"
                continue
            category = line[: start.start()].rstrip(" -–—|:·•") or None
            return at, category, published
    raise ValueError(f"no '<category> 07 Tháng Ba 2017 7:25:00 SA' date line{near_miss}")


def _is_stop(line: str) -> bool:
    return bool(_VIEWS.match(line) or _CHROME.fullmatch(line.strip(_BULLETS)))
