"""What a search asks for, what it may fail with, and its time limit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

FACETS = ("year", "month", "day", "category", "site")
DEFAULT_FACETS = ("year", "month", "category")
SORTS = ("relevance", "newest", "oldest", "popular")


@dataclass(frozen=True, slots=True)
class SearchRequest:
    q: str = ""
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    date_from: date | None = None
    date_to: date | None = None
    categories: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    years: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    facets: tuple[str, ...] = DEFAULT_FACETS


class SearchTimeout(Exception):
    """The query did not finish within the service's time limit."""


class IndexUnavailable(Exception):
    """No searchable index (missing, or being replaced and failed to open)."""


class Deadline:
    """Checked between the costly steps of a query; a query past it stops."""

    def __init__(self, seconds: float | None):
        self.at = None if not seconds else time.monotonic() + seconds
        self.partial = False

    def expired(self) -> bool:
        return self.at is not None and time.monotonic() > self.at

    def check(self) -> None:
        # Once phrase checking has stopped with partial results, the query
        # finishes with them (flagged timed_out) instead of failing.
        if self.expired() and not self.partial:
            raise SearchTimeout
