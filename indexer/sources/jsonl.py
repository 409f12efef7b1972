"""Read articles from JSON Lines files (``.jsonl``, ``.jsonl.gz``), one object a line.

Fields: ``id`` (string or integer) and a non-empty ``title`` or ``body`` are required.
``published`` is parsed with :func:`parse_date`; an unparsable date rejects the line
(the source must be fixed), while null or a blank string means undated. ``url``,
``site`` and ``category`` are stripped, blank meaning absent. ``views`` is a
non-negative integer or a string of digits. Any other key goes to ``extra``.

Every line is bounded (``ReadLimits``): a line longer than ``line_bytes`` is
skipped without being read whole, a field longer than ``field_chars`` rejects
its line, and a run of blank lines past ``blank_bytes`` ends the file.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from .article import Article, Rejection
from .dates import parse_date
from .limits import BlankRun, ReadLimits, oversized_text, read_lines, too_long

__all__ = ["read_jsonl"]

_KNOWN = frozenset({"id", "title", "body", "url", "site", "category", "published", "views"})
_BOUNDED = ("id", "title", "body", "url", "site", "category", "published")  # in this order
_DIGITS = re.compile(r"\d{1,18}")  # longer is not a view count (and int() has a limit)
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean",
               int: "integer", float: "number", type(None): "null"}  # fmt: skip


CUT_OFF = (
    "the file looks cut off (its last line, {n}, has no newline and does not parse): "
    "update --delete-missing deletes nothing from it"
)


class _BadRecord(ValueError):
    """A line that cannot become an Article; the message is the reason."""

    unparsable = False


class _Unparsable(_BadRecord):
    """A line that is not JSON at all (or not UTF-8)."""

    unparsable = True


_DEFAULT_LIMITS = ReadLimits()


def read_jsonl(path: Path, limits: ReadLimits = _DEFAULT_LIMITS) -> Iterator[Article | Rejection]:
    """Yield an Article or a Rejection for every non-blank line of ``path``.

    A file that cannot be opened, or a gzip stream that breaks off, ends with one
    ``Rejection(location="file")`` after the records read so far; so does a file
    whose last line has no newline and does not parse (cut off mid-write), and a
    run of blank lines longer than ``limits.blank_bytes``.
    """
    path = Path(path)
    source = str(path)
    gzipped = path.name.lower().endswith(".gz")
    n = 0
    try:
        with gzip.open(path, "rb") if gzipped else open(path, "rb") as fh:
            for n, raw, size in read_lines(fh, limits):
                if raw is None:
                    reason = too_long("line", size, limits.line_bytes, "line_bytes")
                    yield Rejection(source, f"line {n}", reason + "; skipped")
                    continue
                if n == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")  # BOM from Windows editors
                if not raw.strip():
                    continue
                try:
                    yield _article(raw, origin=f"{path}:{n}", limits=limits)
                except _BadRecord as exc:
                    if raw.endswith(b"\n") or not exc.unparsable:
                        yield Rejection(source, f"line {n}", str(exc))
                        continue
                    # The last line, without its newline, and broken: the file
                    # was cut off (a copy or download still running). The file
                    # rejection tells ``update --delete-missing`` to keep the
                    # documents of this file that were not read.
                    yield Rejection(source, f"line {n}", f"no newline at the end and {exc}")
                    yield Rejection(source, "file", CUT_OFF.format(n=n))
    except BlankRun as exc:
        yield Rejection(source, "file", str(exc))
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        yield Rejection(source, "file", f"corrupt or truncated gzip data after line {n}: {exc}")
    except OSError as exc:
        yield Rejection(source, "file", f"cannot read file: {exc.strerror or exc}")


def _article(raw: bytes, *, origin: str, limits: ReadLimits) -> Article:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise _Unparsable(f"not valid UTF-8: {bad.reason} at byte {bad.start}") from None
        raise _Unparsable(f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(obj, dict):
        raise _BadRecord(f"expected a JSON object, got {_type(obj)}")
    # Before any parsing of a value: a 5 MB 'published' string is not a date.
    for key in _BOUNDED:
        if problem := oversized_text(key, obj.get(key), limits):
            raise _BadRecord(problem)

    doc_id = obj.get("id")
    if doc_id is None:
        raise _BadRecord("missing 'id'")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        raise _BadRecord(f"'id' must be a string or integer, got {_type(doc_id)}")
    doc_id = str(doc_id).strip()
    if not doc_id:
        raise _BadRecord("'id' is empty")

    title = _text(obj, "title") or ""
    body = _text(obj, "body") or ""
    if not title.strip() and not body.strip():
        raise _BadRecord("needs a non-empty 'title' or 'body'")

    published = None
    if date_text := _label(obj, "published"):
        try:
            published = parse_date(date_text)
        except ValueError as exc:
            raise _BadRecord(f"bad 'published' {date_text!r}: {exc}") from None

    return Article(
        id=doc_id,
        title=title,
        body=body,
        url=_label(obj, "url"),
        site=_label(obj, "site"),
        category=_label(obj, "category"),
        published=published,
        views=_views(obj.get("views")),
        origin=origin,
        extra={k: v for k, v in obj.items() if k not in _KNOWN},
    )


def _text(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _BadRecord(f"'{key}' must be a string, got {_type(value)}")
    return value


def _label(obj: dict[str, Any], key: str) -> str | None:
    """A short field: stripped, with blank meaning absent."""
    value = _text(obj, key)
    if value is None:
        return None
    return value.strip() or None


def _views(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise _BadRecord(f"'views' must not be negative, got {value}")
        return value
    raise _BadRecord(f"'views' must be a non-negative integer, got {value!r}")


def _type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)
