"""Read a crawl store (``vnsearch crawl``'s SQLite file) as a source.

Every page whose last answer was an article becomes an Article (one per
document id: the same article reached under two URLs, e.g. through a redirect,
is one document), and every article page that now answers 404/410 becomes a
``Gone`` record, unless the same document is still served under another URL.
``index update`` then applies the usual content-hash rules: unchanged articles
cost a hash and never reach pyvi.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from .article import Article, Gone, Rejection
from .dates import parse_date

__all__ = ["article_from_json", "article_to_json", "read_crawl_store"]


def article_to_json(article: Article) -> dict:
    published = article.published
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "url": article.url,
        "site": article.site,
        "category": article.category,
        "published": published.isoformat() if isinstance(published, datetime | date) else None,
        "views": article.views,
    }


def article_from_json(data: dict, origin: str) -> Article:
    published = parse_date(data["published"]) if data.get("published") else None
    return Article(
        id=data["id"],
        title=data.get("title") or "",
        body=data.get("body") or "",
        url=data.get("url"),
        site=data.get("site"),
        category=data.get("category"),
        published=published,
        views=data.get("views"),
        origin=origin,
    )


def read_crawl_store(path: Path) -> Iterator[Article | Gone | Rejection]:
    """Yield the articles and the gone documents of the crawl store at ``path``."""
    from indexer.crawl.store import CrawlStore  # the store's one definition

    path = Path(path)
    where = os.path.abspath(path)
    try:
        store = CrawlStore(path, readonly=True)
    except (ValueError, OSError) as exc:
        yield Rejection(str(path), "file", str(exc))
        return
    try:
        live: set[str] = set()
        for rowid, url, data in store.articles():
            if data.get("id") in live:
                continue
            try:
                article = article_from_json(data, f"{where}:{rowid}")
            except (KeyError, ValueError, TypeError) as exc:
                yield Rejection(str(path), f"page {url}", f"unreadable stored article: {exc}")
                continue
            live.add(article.id)
            yield article
        for rowid, url, doc_id, site in store.gone():
            if doc_id not in live:
                yield Gone(doc_id, site, f"{where}:{rowid}", f"{url} answers 404/410")
    finally:
        store.db.close()
