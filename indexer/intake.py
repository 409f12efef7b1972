"""Reader output becoming index documents, every input accounted for in the
run's :class:`~indexer.report.Report` (shared by build and update)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

from indexer.report import Report
from indexer.schema import to_document
from indexer.sources.article import Article, Gone, Rejection

__all__ = ["absolute_origin", "documents", "invalid", "origin_file"]

_LINE_SUFFIX = re.compile(r"^(.*):(\d+)$")


def origin_file(origin: str) -> str:
    """The file part of an origin: ``path`` for ``path:line`` (JSON Lines) or ``path``."""
    found = _LINE_SUFFIX.match(origin)
    return found.group(1) if found else origin


def absolute_origin(origin: str) -> str:
    """Origins are stored with absolute paths, so an update run from another
    directory still recognises the files a document came from."""
    if not origin:
        return ""
    found = _LINE_SUFFIX.match(origin)
    if found:
        return f"{os.path.abspath(found.group(1))}:{found.group(2)}"
    return os.path.abspath(origin)


def invalid(doc: dict) -> str:
    """Why ``doc`` cannot be indexed, or "" when it can."""
    if not doc["id"]:
        return "empty id"
    if "/" in doc["id"]:
        # Routers and proxies decode %2F before routing: /v1/documents/{id}
        # could never reach it.
        return f"id {doc['id']!r} contains '/', which no /v1/documents/{{id}} URL can carry"
    if not doc["title"] and not doc["body"]:
        return "no title and no body text"
    return ""


def documents(
    items: Iterable[Article | Gone | Rejection], report: Report, seen: set[str] | None = None
) -> Iterator[dict]:
    """Turn reader output into index documents, accounting for every input."""
    for item in items:
        if isinstance(item, Gone):
            continue  # a new generation simply does not hold it
        if isinstance(item, Rejection):
            report.reject(item)
            report.read += item.location != "file"
            continue
        report.read += 1
        doc = to_document(item)
        doc["origin"] = absolute_origin(doc["origin"])
        where = item.origin or item.id
        if problem := invalid(doc):
            report.reject(Rejection(where, "record", problem))
            continue
        if seen is not None:
            if doc["id"] in seen:
                report.reject(
                    Rejection(where, "record", f"duplicate id {doc['id']!r} (first one kept)")
                )
                continue
            seen.add(doc["id"])
        yield doc
