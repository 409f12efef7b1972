"""Vietnamese source date parsing."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.sources.dates import MAX_YEAR, MIN_YEAR, VN_TZ, parse_date


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Portal format (month names, SA/CH)
        ("07 Tháng Ba 2017 7:25:00 SA", vn(2017, 3, 7, 7, 25)),
        ("07 Tháng Ba 2017 7:25:00 CH", vn(2017, 3, 7, 19, 25)),
        ("7 tháng 3 2017 07:25 SA", vn(2017, 3, 7, 7, 25)),
        ("07 tháng 03 2017", date(2017, 3, 7)),
        ("07 THÁNG BA 2017 7:25:00 sa", vn(2017, 3, 7, 7, 25)),
        ("  07\u00a0Tháng  Ba 2017   7:25:00\tSA ", vn(2017, 3, 7, 7, 25)),
        ("ngày 7 tháng 3 năm 2017", date(2017, 3, 7)),
        ("7 tháng năm năm 2017", date(2017, 5, 7)),
        ("07 Tháng Ba, 2017", date(2017, 3, 7)),
        ("07 Tháng Ba 2017 7:25 AM", vn(2017, 3, 7, 7, 25)),
        ("07 Tháng Ba 2017 7:25 PM", vn(2017, 3, 7, 19, 25)),
        # VnExpress
        ("Thứ tư, 7/2/2024, 23:41 (GMT+7)", vn(2024, 2, 7, 23, 41)),
        ("Chủ nhật, 21/1/2024, 10:27 (GMT+7)", vn(2024, 1, 21, 10, 27)),
        ("7/2/2024, 23:41 (GMT+7)", vn(2024, 2, 7, 23, 41)),
        ("Thứ tư, 7/2/2024, 23:41 (GMT+0)", vn(2024, 2, 8, 6, 41)),
        ("Thứ tư, 7/2/2024, 23:41 (GMT-5)", vn(2024, 2, 8, 11, 41)),
        ("Thứ tư, 7/2/2024, 10:00 (GMT+09:30)", vn(2024, 2, 7, 7, 30)),
        ("Thứ 4, 7/2/2024, 23:41 GMT+7", vn(2024, 2, 7, 23, 41)),
        ("T4, 7/2/2024 23:41 UTC", vn(2024, 2, 8, 6, 41)),
        ("Thứ tư, 7/2/2024", date(2024, 2, 7)),
        # Numeric day/month/year
        ("06/03/2017", date(2017, 3, 6)),
        ("6/3/2017", date(2017, 3, 6)),
        ("06-03-2017", date(2017, 3, 6)),
        ("06.03.2017", date(2017, 3, 6)),
        ("06/03/2017 08:15", vn(2017, 3, 6, 8, 15)),
        ("06/03/2017 08:15:30", vn(2017, 3, 6, 8, 15, 30)),
        ("06/03/2017 8:15:30 CH", vn(2017, 3, 6, 20, 15, 30)),
        ("06-03-2017 08:15", vn(2017, 3, 6, 8, 15)),
        # ISO 8601
        ("2017-03-06", date(2017, 3, 6)),
        ("2017-03-06T07:25:00", vn(2017, 3, 6, 7, 25)),
        ("2017-03-06 07:25", vn(2017, 3, 6, 7, 25)),
        ("2017-03-06T07:25:00+07:00", vn(2017, 3, 6, 7, 25)),
        ("2017-03-06T07:25:00Z", vn(2017, 3, 6, 14, 25)),
        ("2017-03-06t00:25:00z", vn(2017, 3, 6, 7, 25)),
        ("2017-03-06T07:25:00+0000", vn(2017, 3, 6, 14, 25)),
        ("2017-03-06T23:00:00-05:00", vn(2017, 3, 7, 11, 0)),
        ("2017-03-06T07:25:00.5+07:00", vn(2017, 3, 6, 7, 25, 0, 500000)),
        ("2017-03-06T07:25:00.123456789Z", vn(2017, 3, 6, 14, 25, 0, 123456)),
        ("2016-12-31T20:00:00Z", vn(2017, 1, 1, 3, 0)),
        # Compact
        ("20170306", date(2017, 3, 6)),
        ("20200229", date(2020, 2, 29)),
    ],
)
def test_parses(text: str, expected: datetime | date) -> None:
    got = parse_date(text)
    assert got == expected
    assert type(got) is type(expected)
    if isinstance(got, datetime):
        assert got.utcoffset() == timedelta(hours=7)
        assert got.tzinfo == VN_TZ


@pytest.mark.parametrize(
    ("name", "month"),
    [
        ("Một", 1), ("Giêng", 1), ("Hai", 2), ("Ba", 3), ("Tư", 4), ("Bốn", 4),
        ("Năm", 5), ("Sáu", 6), ("Bảy", 7), ("Tám", 8), ("Chín", 9), ("Mười", 10),
        ("Mười Một", 11), ("Mười Hai", 12), ("mười  một", 11), ("MƯỜI HAI", 12),
    ],
)  # fmt: skip
def test_month_names(name: str, month: int) -> None:
    assert parse_date(f"01 Tháng {name} 2017 1:00:00 SA") == vn(2017, month, 1, 1, 0)
    assert parse_date(f"01 tháng {name} 2017") == date(2017, month, 1)


@pytest.mark.parametrize(
    ("clock", "hour", "minute"),
    [
        ("12:00:00 SA", 0, 0),  # midnight
        ("12:59:59 SA", 0, 59),
        ("1:00:00 SA", 1, 0),
        ("11:59:00 SA", 11, 59),
        ("12:00:00 CH", 12, 0),  # noon
        ("12:30:00 CH", 12, 30),
        ("1:00:00 CH", 13, 0),
        ("11:59:00 CH", 23, 59),
        ("7:25:00SA", 7, 25),
    ],
)
def test_sa_ch(clock: str, hour: int, minute: int) -> None:
    got = parse_date(f"07 Tháng Ba 2017 {clock}")
    assert isinstance(got, datetime)
    assert (got.hour, got.minute) == (hour, minute)
    assert got.date() == date(2017, 3, 7)


def test_nfd_input() -> None:
    text = unicodedata.normalize("NFD", "07 Tháng Mười Một 2017 7:25:00 CH")
    assert text != unicodedata.normalize("NFC", text)
    assert parse_date(text) == vn(2017, 11, 7, 19, 25)
    vnexpress = unicodedata.normalize("NFD", "Thứ tư, 7/2/2024, 23:41 (GMT+7)")
    assert parse_date(vnexpress) == vn(2024, 2, 7, 23, 41)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("hôm qua", "unrecognised"),
        ("1 ngày trước", "unrecognised"),
        ("31/02/2017", "no day 31 in 02/2017"),
        ("29/02/2017", "that month has 28 days"),
        ("2017-02-30", "no day 30"),
        ("20170231", "no day 31"),
        ("31 Tháng Tư 2017", "no day 31 in 04/2017"),
        ("00/03/2017", "no day 0"),
        ("03/31/2017", "month 31"),
        ("2017-13-01", "month 13"),
        ("0000-01-01", "year 0"),
        ("07 Tháng Mười Ba 2017", "unrecognised"),
        ("07 Tháng Ba 17", "unrecognised"),
        ("7/2/24", "unrecognised"),
        ("06/03/2017 25:00", "impossible time"),
        ("06/03/2017 08:60", "impossible time"),
        ("13:00:00 CH", "unrecognised"),
        ("07 Tháng Ba 2017 13:25:00 CH", "hour 13"),
        ("07 Tháng Ba 2017 0:25:00 SA", "hour 0"),
        ("06/03/2017 08:15 (GMT+25)", "offset"),
        ("Thứ tư, 7/2/2024, 23:41 Author Song Ngư", "unexpected text"),
        ("06/03-2017", "unrecognised"),
        ("9999-12-31T23:00:00Z", "outside 1900–2200"),
        ("0001-01-01", "year 1 is outside 1900–2200"),
        ("2200-12-31T20:00:00Z", "year 2201 is outside"),  # after the shift to +07:00
    ],
)
def test_rejects_with_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_date(text)


# --- properties -------------------------------------------------------------

_MONTH_WORDS = [
    "Một", "Hai", "Ba", "Tư", "Năm", "Sáu", "Bảy", "Tám", "Chín", "Mười", "Mười Một", "Mười Hai",
]  # fmt: skip


def portal_format(moment: datetime, *, numeric_month: bool = False) -> str:
    """Format like the portal: ``07 Tháng Ba 2017 7:25:00 SA``."""
    month = str(moment.month) if numeric_month else _MONTH_WORDS[moment.month - 1]
    hour12 = moment.hour % 12 or 12
    marker = "SA" if moment.hour < 12 else "CH"
    return (
        f"{moment.day:02d} Tháng {month} {moment.year:04d} "
        f"{hour12}:{moment.minute:02d}:{moment.second:02d} {marker}"
    )


_naive = st.datetimes(
    min_value=datetime(MIN_YEAR, 1, 1), max_value=datetime(MAX_YEAR, 12, 31, 23, 59, 59)
)


@given(_naive, st.booleans(), st.sampled_from(["NFC", "NFD"]), st.booleans())
def test_portal_format_round_trips(
    naive: datetime, numeric_month: bool, form: str, upper: bool
) -> None:
    moment = naive.replace(microsecond=0, tzinfo=VN_TZ)
    text = unicodedata.normalize(form, portal_format(moment, numeric_month=numeric_month))
    assert parse_date(text.upper() if upper else text) == moment


@given(
    # A day inside the range at both ends: the shift to +07:00 stays inside it.
    st.datetimes(min_value=datetime(MIN_YEAR, 1, 2), max_value=datetime(MAX_YEAR, 12, 30)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_iso_with_any_offset_is_converted_to_vietnam_time(naive: datetime, minutes: int) -> None:
    moment = naive.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    got = parse_date(moment.isoformat())
    assert got == moment  # the same instant ...
    assert isinstance(got, datetime)
    assert got.utcoffset() == timedelta(hours=7)  # ... shown in Vietnam time


@given(st.dates(min_value=date(MIN_YEAR, 1, 1), max_value=date(MAX_YEAR, 12, 31)))
def test_numeric_and_iso_dates_round_trip(day: date) -> None:
    assert parse_date(f"{day.day}/{day.month}/{day.year:04d}") == day
    assert parse_date(f"{day.day:02d}-{day.month:02d}-{day.year:04d}") == day
    assert parse_date(day.isoformat()) == day
    assert parse_date(f"{day.year:04d}{day.month:02d}{day.day:02d}") == day
