"""The record every source reader produces, and the report of an unusable input."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class Article:
    """One document to index. Text fields are raw; the indexer normalises them."""

    id: str
    title: str
    body: str
    url: str | None = None
    site: str | None = None
    category: str | None = None
    # An aware datetime (converted to +07:00 by the reader) or a plain date when
    # the source gives no time; None for undated records (FAQ passages, ...).
    published: datetime | date | None = None
    views: int | None = None
    # Where it came from, for reports: "path" or "path:line".
    origin: str = ""
    extra: dict = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class Rejection:
    """An input that could not become an Article; never dropped silently."""

    source: str  # file path as given/walked
    location: str  # "line 12", "record 3", "file"
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.location}: {self.reason}"


@dataclass(slots=True, frozen=True)
class Gone:
    """A document whose source says it no longer exists (a crawled page that now
    answers 404 or 410): ``index update`` deletes it, within the mass-delete guard."""

    id: str
    site: str | None
    source: str
    reason: str
