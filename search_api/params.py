"""Query parameters as the API reads them: one set of rules and limits.

Parameters are read with Falcon's helpers, so a malformed value becomes a 400
``invalid_param`` naming the parameter (see :mod:`search_api.errors`). Blank
values (``?from=&category=``, as HTML forms send them) count as absent, except
``facets=`` which asks for no facets.

The responders (:mod:`search_api.resources`) and the OpenAPI document
(:mod:`search_api.openapi`) both take their limits and patterns from here, so
the documented limit is the enforced one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import falcon
import falcon.uri

from indexer.sources.dates import MAX_YEAR, MIN_YEAR
from search_api.config import Config
from search_api.engine.request import DEFAULT_FACETS, FACETS, SORTS, SearchRequest
from search_api.errors import param_error

DATE_FORMAT = "%Y-%m-%d"
DEFAULT_PER_PAGE = 10
DEFAULT_SORT = "relevance"
# Articles per list beside one article (/v1/documents/{id}/neighbors and /related).
DEFAULT_LIST_N = 5
MAX_LIST_N = 20
# Months of the calendar (/v1/calendar?month=).
FIRST_MONTH, LAST_MONTH = 1, 12
# Filter values as written in the query string (anchored with ^...$ in OpenAPI).
YEAR_PATTERN = "[0-9]{4}"
MONTH_PATTERN = "[0-9]{4}-(0[1-9]|1[0-2])"

# Parameters of /v1/search that take one value; repeating one is an error rather than a guess.
SEARCH_SINGLE = ("q", "page", "per_page", "sort", "from", "to")
_YEAR = re.compile(YEAR_PATTERN)
_MONTH = re.compile(MONTH_PATTERN)

# Integers and dates as the document writes them, in ASCII digits. Python's int()
# would also take "5_0" (50), " 5", "+5" and other scripts' digits ("٥"), and
# strptime "2017-3-7"; the fuzzer's hunt for accepted invalid input (issue 15,
# item 13) is what found that.
_INTEGER = re.compile(r"-?[0-9]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def year_value(value: str) -> str:
    """A ``year=`` filter value (YYYY), else ValueError."""
    if not _YEAR.fullmatch(value):
        raise ValueError(value)
    return value


def month_value(value: str) -> str:
    """A ``month=`` filter value (YYYY-MM), else ValueError."""
    if not _MONTH.fullmatch(value):
        raise ValueError(value)
    return value


def year_range_pattern(low: int = MIN_YEAR, high: int = MAX_YEAR) -> str:
    """A regular expression for the four-digit years ``low``..``high``, as a
    schema-driven client (and the fuzzer) can follow it; JSON Schema has no
    minimum for date strings. 1900-2200 gives ``19[0-9]{2}|2[01][0-9]{2}|2200``."""
    parts = _digit_ranges(f"{low:04d}", f"{high:04d}")
    return "|".join(re.sub(r"(?:\[0-9\]){2,}", _repeat, p) for p in parts)


def _repeat(m: re.Match[str]) -> str:
    return f"[0-9]{{{len(m.group(0)) // 5}}}"


def _digit_class(a: int, b: int) -> str:
    if a == b:
        return str(a)
    return f"[{a}{b}]" if b == a + 1 else f"[{a}-{b}]"


def _digit_ranges(lo: str, hi: str) -> list[str]:
    """Patterns, each a digit or a class per position, covering lo..hi (same length)."""
    if lo == hi:
        return [lo]
    if len(lo) == 1:
        return [_digit_class(int(lo), int(hi))]
    if lo[0] == hi[0]:
        return [lo[0] + p for p in _digit_ranges(lo[1:], hi[1:])]
    n = len(lo) - 1
    parts: list[str] = []
    first, last = int(lo[0]), int(hi[0])
    if lo[1:] != "0" * n:
        parts += [lo[0] + p for p in _digit_ranges(lo[1:], "9" * n)]
        first += 1
    whole_last = hi[1:] == "9" * n
    if first <= (last if whole_last else last - 1):
        parts.append(_digit_class(first, last if whole_last else last - 1) + "[0-9]" * n)
    if not whole_last:
        parts += [hi[0] + p for p in _digit_ranges("0" * n, hi[1:])]
    return parts


def single_params(req: falcon.Request, names: tuple[str, ...]) -> None:
    """400 when one of ``names`` is repeated: one value, not a guess."""
    for name in names:
        if isinstance(req.params.get(name), list):
            raise param_error(name, f'The "{name}" parameter may be given only once.')


def int_param(
    req: falcon.Request,
    name: str,
    *,
    default: int,
    min_value: int | None = None,
    max_value: int | None = None,
) -> int:
    """``req.get_param_as_int`` for integers written in ASCII digits only."""
    _ascii_digits(req, name)
    value = req.get_param_as_int(name, min_value=min_value, max_value=max_value, default=default)
    assert value is not None  # a default is given
    return value


def required_int_param(req: falcon.Request, name: str, *, min_value: int, max_value: int) -> int:
    """:func:`int_param` for a parameter that must be given (400 ``missing_param``)."""
    _ascii_digits(req, name)
    value = req.get_param_as_int(name, required=True, min_value=min_value, max_value=max_value)
    assert value is not None  # required: Falcon raises when absent
    return value


def _ascii_digits(req: falcon.Request, name: str) -> None:
    raw = req.params.get(name)
    for value in raw if isinstance(raw, list) else () if raw is None else (raw,):
        if not _INTEGER.fullmatch(value):
            raise param_error(name, f'The "{name}" parameter must be an integer (digits 0-9).')


def date_param(req: falcon.Request, name: str) -> date | None:
    """``req.get_param_as_date`` for YYYY-MM-DD in ASCII digits only."""
    value = req.get_param(name)
    if value is not None and not _DATE.fullmatch(value):
        raise param_error(name, f'The "{name}" parameter must be a date as YYYY-MM-DD.')
    return req.get_param_as_date(name, format_string=DATE_FORMAT)


def query_text(req: falcon.Request, config: Config) -> str:
    """``q`` within the configured length limits (400 ``query_too_long`` if not)."""
    q = req.get_param("q", default="") or ""
    if len(q) > config.max_query_chars:
        raise param_error(
            "q", f"The query is longer than {config.max_query_chars} characters.", "query_too_long"
        )
    if len(q.split()) > config.max_query_words:
        raise param_error(
            "q", f"The query has more than {config.max_query_words} words.", "query_too_long"
        )
    return q


def filter_values(
    req: falcon.Request,
    name: str,
    config: Config,
    transform: Callable[[str], str] | None = None,
) -> tuple[str, ...]:
    """A repeatable filter (``category=a&category=b``): distinct values in order,
    at most ``config.max_filter_values`` of them (400 ``too_many_values``)."""
    values = req.get_param_as_list(name, transform=transform, default=[])
    if len(values) > config.max_filter_values:
        raise param_error(
            name,
            f'The "{name}" parameter may be given at most {config.max_filter_values} times.',
            "too_many_values",
        )
    return tuple(dict.fromkeys(values))


def facet_names(req: falcon.Request) -> tuple[str, ...]:
    """``facets=year,site``: the facets to count (absent: the default; blank: none)."""
    # Read with blank values kept: "facets=" means no facets, absent means the default.
    raw = falcon.uri.parse_query_string(req.query_string, keep_blank=True).get("facets")
    if raw is None:
        return DEFAULT_FACETS
    items = raw if isinstance(raw, list) else [raw]
    names = [n.strip() for item in items for n in item.split(",") if n.strip()]
    if any(n not in FACETS for n in names):
        raise param_error("facets", f'The "facets" parameter takes names from {", ".join(FACETS)}.')
    return tuple(dict.fromkeys(names))


def search_request(req: falcon.Request, config: Config) -> SearchRequest:
    """The parameters of ``GET /v1/search``, checked, as a :class:`SearchRequest`."""
    cfg = config
    single_params(req, SEARCH_SINGLE)
    q = query_text(req, cfg)

    page = int_param(req, "page", min_value=1, default=1)
    per_page = int_param(
        req,
        "per_page",
        min_value=1,
        max_value=cfg.max_per_page,
        default=min(DEFAULT_PER_PAGE, cfg.max_per_page),
    )
    if page * per_page > cfg.max_page_depth:
        raise param_error(
            "page",
            f"Results are available up to number {cfg.max_page_depth} "
            f"(page × per_page); refine the query instead.",
            "page_too_deep",
        )

    sort = req.get_param("sort", default=DEFAULT_SORT) or DEFAULT_SORT
    if sort not in SORTS:
        raise param_error("sort", f'The "sort" parameter must be one of {", ".join(SORTS)}.')

    date_from = date_param(req, "from")
    date_to = date_param(req, "to")
    for name, day in (("from", date_from), ("to", date_to)):
        if day and not MIN_YEAR <= day.year <= MAX_YEAR:
            raise param_error(
                name, f'The "{name}" date must be from {MIN_YEAR}-01-01 to {MAX_YEAR}-12-31.'
            )
    if date_from and date_to and date_from > date_to:
        raise param_error("from", 'The "from" date is after the "to" date.')

    return SearchRequest(
        q=q,
        page=page,
        per_page=per_page,
        sort=sort,
        date_from=date_from,
        date_to=date_to,
        categories=filter_values(req, "category", cfg),
        sites=filter_values(req, "site", cfg),
        years=filter_values(req, "year", cfg, year_value),
        months=filter_values(req, "month", cfg, month_value),
        facets=facet_names(req),
    )
