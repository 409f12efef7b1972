"""The crawl store: what was fetched and extracted, in one SQLite file.

One row per canonical URL (``pages``) holds the last answer (status, final URL,
``ETag``, ``Last-Modified``, the sitemap's ``lastmod``, a hash of the body), the
extracted article (JSON) and its content hash, the links found on the page,
first and last seen, and the last error. ``runs`` records each crawl; a run that
did not finish (Ctrl-C, ``kill -9``, a time or page limit) is resumed by the
next one: the frontier is the rows claimed by the run (``queued_run``) and not
yet answered (``done_run``).

Writes are committed in small batches (every ``COMMIT_EVERY`` changes or
``COMMIT_SECONDS``), in WAL mode: a ``kill -9`` loses at most the last batch,
whose pages are fetched again by the resumed run (a page is stored by URL, so
fetching it twice never makes two documents).

The index reads this file through ``indexer.sources.crawlstore`` (``vnsearch
index update crawl.sqlite``); nothing here writes the index.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.files import utc_now

__all__ = ["FORMAT", "CrawlStore", "Row"]

FORMAT = 1
COMMIT_EVERY = 200
COMMIT_SECONDS = 0.5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    reason TEXT,
    stats TEXT
);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    final_url TEXT,
    status INTEGER,
    etag TEXT,
    last_modified TEXT,
    sitemap_lastmod TEXT,
    body_hash TEXT,
    kind TEXT NOT NULL DEFAULT 'new',
    doc_id TEXT,
    article TEXT,
    article_hash TEXT,
    links TEXT,
    depth INTEGER NOT NULL DEFAULT 0,
    role TEXT NOT NULL DEFAULT 'page',
    first_seen TEXT NOT NULL,
    last_seen TEXT,
    last_error TEXT,
    queued_run INTEGER,
    done_run INTEGER
);
CREATE INDEX IF NOT EXISTS pages_frontier ON pages (queued_run, done_run);
CREATE INDEX IF NOT EXISTS pages_site_kind ON pages (site, kind);
"""

# kind: new (never answered) · article · page (followed, not an article) ·
# gone (404/410) · rejected (answered, not usable: too big, not HTML) · error.


@dataclass(frozen=True, slots=True)
class Row:
    url: str
    site: str
    status: int | None
    etag: str | None
    last_modified: str | None
    sitemap_lastmod: str | None
    body_hash: str | None
    kind: str
    doc_id: str | None
    article_hash: str | None
    links: list[str]
    depth: int
    role: str
    feeds: list[str]
    sitemaps: list[str]


class CrawlStore:
    def __init__(self, path: str | Path, *, readonly: bool = False):
        self.path = Path(path)
        if readonly:
            uri = f"file:{self.path}?mode=ro"
            self.db = sqlite3.connect(uri, uri=True, timeout=30)
            self._check_format()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(_SCHEMA)
            self.db.execute(
                "INSERT OR IGNORE INTO meta VALUES ('format', ?), ('kind', 'vnsearch-crawl')",
                (str(FORMAT),),
            )
            self._check_format()
            self.db.commit()
        self._pending = 0
        self._last_commit = time.monotonic()

    def _check_format(self) -> None:
        try:
            meta = dict(self.db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path}: not a vnsearch crawl store ({exc})") from None
        if meta.get("kind") != "vnsearch-crawl":
            raise ValueError(f"{self.path}: not a vnsearch crawl store")
        if meta.get("format") != str(FORMAT):
            raise ValueError(f"{self.path}: crawl store format {meta.get('format')}, need {FORMAT}")

    # -- batching ------------------------------------------------------------------

    def _changed(self) -> None:
        self._pending += 1
        if self._pending >= COMMIT_EVERY or time.monotonic() - self._last_commit > COMMIT_SECONDS:
            self.commit()

    def commit(self) -> None:
        self.db.commit()
        self._pending = 0
        self._last_commit = time.monotonic()

    def close(self) -> None:
        self.commit()
        self.db.close()

    # -- runs ----------------------------------------------------------------------

    def open_run(self, site: str) -> tuple[int, bool]:
        """The run to continue (an unfinished one of ``site``) or a new one; and
        whether it is resumed."""
        row = self.db.execute(
            "SELECT id FROM runs WHERE site = ? AND finished IS NULL ORDER BY id DESC LIMIT 1",
            (site,),
        ).fetchone()
        if row:
            return row[0], True
        cur = self.db.execute("INSERT INTO runs (site, started) VALUES (?, ?)", (site, utc_now()))
        self.commit()
        assert cur.lastrowid is not None  # an INSERT into a rowid table sets it
        return cur.lastrowid, False

    def finish_run(self, run: int, reason: str, stats: dict, *, complete: bool) -> None:
        self.db.execute(
            "UPDATE runs SET finished = ?, reason = ?, stats = ? WHERE id = ?",
            (utc_now() if complete else None, reason, json.dumps(stats), run),
        )
        self.commit()

    # -- the frontier ----------------------------------------------------------------

    def claim(self, url: str, site: str, run: int, depth: int, role: str) -> Row | None:
        """Mark ``url`` as queued by ``run``; None when the run already has it."""
        now = utc_now()
        cur = self.db.execute(
            "INSERT INTO pages (url, site, depth, role, first_seen, queued_run)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (url) DO UPDATE SET queued_run = excluded.queued_run,"
            " depth = min(depth, excluded.depth), role = excluded.role"
            " WHERE queued_run IS NOT excluded.queued_run",
            (url, site, depth, role, now, run),
        )
        if cur.rowcount == 0:
            return None
        self._changed()
        return self.get(url)

    def get(self, url: str) -> Row | None:
        r = self.db.execute(
            "SELECT url, site, status, etag, last_modified, sitemap_lastmod, body_hash, kind,"
            " doc_id, article_hash, links, depth, role FROM pages WHERE url = ?",
            (url,),
        ).fetchone()
        if r is None:
            return None
        # links: the page's links, then the feeds and sitemaps it names as
        # "feed URL" / "sitemap URL" (a space never occurs in a URL).
        stored = json.loads(r[10]) if r[10] else []
        links = [u for u in stored if " " not in u]
        feeds = [u[5:] for u in stored if u.startswith("feed ")]
        sitemaps = [u[8:] for u in stored if u.startswith("sitemap ")]
        # A sqlite row is a tuple of any length to a type checker: a list says so.
        return Row(*[*r[:10], links, r[11], r[12], feeds, sitemaps])

    def frontier(self, run: int) -> list[Row]:
        """Pages the run queued and has not answered (a resumed run asks for them again)."""
        urls = [
            u
            for (u,) in self.db.execute(
                "SELECT url FROM pages WHERE queued_run = ? AND done_run IS NOT ?"
                " ORDER BY depth, rowid",
                (run, run),
            )
        ]
        return [r for u in urls if (r := self.get(u))]

    def answered_in(self, run: int) -> Iterator[Row]:
        """Pages the run has answered. A resumed run queues their links again
        (cheaply: those it already queued are skipped): a kill between a page's
        answer and the claims of its links must not lose the links."""
        urls = [u for (u,) in self.db.execute(
            "SELECT url FROM pages WHERE done_run = ? AND links IS NOT NULL ORDER BY rowid", (run,)
        )]  # fmt: skip
        for u in urls:
            if (row := self.get(u)) is not None:
                yield row

    def pending(self, run: int) -> int:
        (n,) = self.db.execute(
            "SELECT count(*) FROM pages WHERE queued_run = ? AND done_run IS NOT ?", (run, run)
        ).fetchone()
        return n

    def unvisited_articles(self, site: str, run: int) -> list[Row]:
        """Articles of ``site`` this run has not reached through links or sitemaps:
        they are asked for again (cheaply, conditionally) to learn whether they
        are gone."""
        urls = [
            u
            for (u,) in self.db.execute(
                "SELECT url FROM pages WHERE site = ? AND kind = 'article' AND queued_run IS NOT ?",
                (site, run),
            )
        ]
        return [r for u in urls if (r := self.get(u))]

    # -- answers ---------------------------------------------------------------------

    def answered(
        self,
        url: str,
        run: int,
        *,
        kind: str | None,
        status: int | None,
        final_url: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        sitemap_lastmod: str | None = None,
        body_hash: str | None = None,
        links: list[str] | None = None,
        feeds: list[str] | None = None,
        sitemaps: list[str] | None = None,
        article: dict | None = None,
        doc_id: str | None = None,
        article_hash: str | None = None,
        error: str | None = None,
        keep_article: bool = False,
    ) -> None:
        """Record the answer for ``url`` in ``run``. ``kind=None`` keeps the kind
        (a 304, a lastmod skip); ``keep_article`` keeps the stored article."""
        sets = ["done_run = ?", "last_seen = ?", "last_error = ?"]
        args: list = [run, utc_now(), error]
        for column, value in (
            ("kind", kind),
            ("status", status),
            ("final_url", final_url),
            ("etag", etag),
            ("last_modified", last_modified),
            ("sitemap_lastmod", sitemap_lastmod),
            ("body_hash", body_hash),
        ):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(value)
        if links is not None:
            sets.append("links = ?")
            named = [f"feed {u}" for u in feeds or ()] + [f"sitemap {u}" for u in sitemaps or ()]
            args.append(json.dumps(links + named))
        if not keep_article and kind is not None and kind != "gone":
            sets += ["article = ?", "doc_id = ?", "article_hash = ?"]
            args += [
                json.dumps(article, ensure_ascii=False) if article else None,
                doc_id,
                article_hash,
            ]
        self.db.execute(f"UPDATE pages SET {', '.join(sets)} WHERE url = ?", (*args, url))
        self._changed()

    # -- reading (for the index) -------------------------------------------------------

    def articles(self) -> Iterator[tuple[int, str, dict]]:
        """(rowid, url, article JSON) of every page whose last answer was an article."""
        for rowid, url, article in self.db.execute(
            "SELECT rowid, url, article FROM pages WHERE kind = 'article' AND article IS NOT NULL"
            " ORDER BY rowid"
        ):
            yield rowid, url, json.loads(article)

    def gone(self) -> Iterator[tuple[int, str, str, str]]:
        """(rowid, url, doc id, site) of articles whose page now answers 404/410."""
        yield from self.db.execute(
            "SELECT rowid, url, doc_id, site FROM pages WHERE kind = 'gone'"
            " AND doc_id IS NOT NULL ORDER BY rowid"
        )

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT kind, count(*) FROM pages GROUP BY kind"))
