"""Parse the date strings found in Vietnamese sources.

Accepted (case-insensitive, NFC or NFD, extra spaces and NBSP ignored):

- portal:     ``07 Tháng Ba 2017 7:25:00 SA``, ``7 tháng 3 2017``, ``ngày 7 tháng 3 năm 2017``
- VnExpress:  ``Thứ tư, 7/2/2024, 23:41 (GMT+7)``
- numeric:    ``06/03/2017``, ``06-03-2017``, ``06.03.2017``, optionally followed by a time
- ISO 8601:   ``2017-03-06``, ``2017-03-06T07:25:00``, ``…+07:00``, ``…Z``
- compact:    ``20170306``

Years run from ``MIN_YEAR`` to ``MAX_YEAR`` (1900–2200); anything else is
refused with that reason. Numeric dates are day/month/year (Vietnamese order).
A time may carry SA/CH (or AM/PM) and an offset (``Z``, ``+07:00``, ``GMT+7``, ``(UTC-5)``). Naive
times are Vietnam time. A leading weekday is ignored (not checked).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone

__all__ = ["MAX_YEAR", "MIN_YEAR", "VN_TZ", "parse_date"]

# The one valid range of years, everywhere: the indexer rejects a date outside it
# (``0001-01-01`` is a placeholder, not a date), and the API's calendar and date
# filters take the same range, so every stored date can be asked for.
MIN_YEAR = 1900
MAX_YEAR = 2200

# Vietnam has kept UTC+7 without DST since 1975, so a fixed offset is exact.
VN_TZ = timezone(timedelta(hours=7))

_MONTH_NAMES = {
    "một": 1, "giêng": 1, "hai": 2, "ba": 3, "tư": 4, "bốn": 4, "năm": 5,
    "sáu": 6, "bảy": 7, "bẩy": 7, "tám": 8, "chín": 9, "mười": 10,
    "mười một": 11, "mười hai": 12,
}  # fmt: skip
# Longest first so "mười một" is not read as "mười".
_MONTH_ALT = "|".join(
    re.escape(name).replace(r"\ ", r"\s+") for name in sorted(_MONTH_NAMES, key=len, reverse=True)
)

_WEEKDAY = re.compile(
    r"(?:thứ\s*(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s*nhật|cn|t[2-7])\b\s*,?\s*"
)

# Each date form is matched at the start; the rest must match _TAIL.
_ISO = re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})")
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?!\d)")
_DMY = re.compile(r"(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{4})(?!\d)")
_WORDS = re.compile(
    rf"(?:ngày\s+)?(?P<d>\d{{1,2}})\s+tháng\s+(?P<m>\d{{1,2}}|{_MONTH_ALT})"
    r"\s*,?\s+(?:năm\s+)?(?P<y>\d{4})(?!\d)"
)
_TAIL = re.compile(
    r"""
    (?:
        (?:\s*,\s*|\s+|t)
        (?P<h>\d{1,2}):(?P<mi>\d{2})
        (?::(?P<s>\d{2})(?:[.,](?P<frac>\d+))?)?
        (?:\s*(?P<ampm>sa|ch|am|pm)\b)?
    )?
    \s*
    (?P<tz>
        z
      | [+-]\d{2}(?::?\d{2})?
      | \(?\s*(?:gmt|utc)\s*(?:[+-]\s*\d{1,2}(?::?\d{2})?)?\s*\)?
    )?
    """,
    re.VERBOSE,
)
_OFFSET = re.compile(r"(?P<sign>[+-])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?")


def parse_date(text: str) -> datetime | date:
    """Parse a source date: an aware datetime in ``VN_TZ``, or a ``date`` when no time is given.

    Raises ``ValueError`` with a short reason when the text is not a date.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a string, got {type(text).__name__}")
    s = " ".join(unicodedata.normalize("NFC", text).split()).lower()
    if not s:
        raise ValueError("empty date")
    if weekday := _WEEKDAY.match(s):
        s = s[weekday.end() :]

    for form in (_ISO, _COMPACT, _DMY, _WORDS):
        head = form.match(s)
        if head is None:
            continue
        tail = _TAIL.fullmatch(s, head.end())
        if tail is None:
            raise ValueError(f"unexpected text after the date: {s[head.end() :].strip()!r}")
        day = _make_date(head["y"], head["m"], head["d"])
        found = _with_time(day, tail)
        if not MIN_YEAR <= found.year <= MAX_YEAR:  # also after the shift to Vietnam time
            raise ValueError(f"year {found.year} is outside {MIN_YEAR}–{MAX_YEAR}")
        return found
    raise ValueError(f"unrecognised date format: {text.strip()!r}")


def _make_date(year: str, month: str, day: str) -> date:
    y, d = int(year), int(day)
    m = int(month) if month.isdigit() else _MONTH_NAMES[" ".join(month.split())]
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise ValueError(f"year {y} is outside {MIN_YEAR}–{MAX_YEAR}")
    if not 1 <= m <= 12:
        # The usual cause is a US-style m/d/y date.
        raise ValueError(f"impossible month {m} (dates are read day/month/year)")
    last = calendar.monthrange(y, m)[1]
    if not 1 <= d <= last:
        raise ValueError(f"no day {d} in {m:02d}/{y:04d} (that month has {last} days)")
    return date(y, m, d)


def _with_time(day: date, tail: re.Match[str]) -> datetime | date:
    if tail["h"] is None:
        return day  # an offset without a time says nothing about the day
    hour, minute, second = int(tail["h"]), int(tail["mi"]), int(tail["s"] or 0)
    micro = int((tail["frac"] or "0")[:6].ljust(6, "0"))
    if tail["ampm"]:
        if not 1 <= hour <= 12:
            marker = tail["ampm"].upper()
            raise ValueError(f"hour {hour} is not valid on a 12-hour clock ({marker})")
        # 12 SA is midnight, 12 CH is noon.
        hour = hour % 12 + (12 if tail["ampm"] in ("ch", "pm") else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"impossible time {hour:02d}:{minute:02d}:{second:02d}")
    tz = _parse_zone(tail["tz"])
    moment = datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=tz)
    try:
        return moment.astimezone(VN_TZ)
    except OverflowError:
        raise ValueError("date out of range after converting to Vietnam time") from None


def _parse_zone(text: str | None) -> timezone:
    if text is None:
        return VN_TZ
    if text == "z":
        return UTC
    found = _OFFSET.search(text)
    if found is None:
        return UTC  # bare "GMT" / "UTC"
    hours, minutes = int(found["h"]), int(found["m"] or 0)
    if hours > 14 or minutes > 59:
        raise ValueError(f"impossible UTC offset {text.strip()!r}")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if found["sign"] == "-" else offset)
