"""The Scrapy spider: what to ask for, and what to keep of each answer.

Scrapy does the fetching (robots.txt through Protego, AutoThrottle, retries,
redirects, ``DOWNLOAD_MAXSIZE``, ``DEPTH_LIMIT``, per-host concurrency and
delay); this spider decides which URLs to queue and records every answer in the
crawl store (``store.py``). Three things are its own, and why:

- **Conditional GET from the store**: a page fetched before is asked for with
  its stored ``ETag`` (``If-None-Match``) and ``Last-Modified``
  (``If-Modified-Since``); a 304 costs no download and no extraction, and the
  links stored for the page are followed again.
- **Sitemap ``lastmod``**: a URL whose sitemap ``lastmod`` is not newer than
  the one recorded when it was last fetched is not asked for at all.
- **Deduplication and the frontier in the store** (Scrapy's duplicate filter is
  off): a URL is queued once per run (``CrawlStore.claim``), which survives
  ``kill -9``; a redirect loop then ends at ``REDIRECT_MAX_TIMES`` and is
  reported, instead of being dropped silently as a duplicate.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import (
    DontCloseSpider,
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.linkextractors import IGNORED_EXTENSIONS
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from indexer.schema import article_hash
from indexer.sources.crawlstore import article_to_json

from .config import SiteConfig
from .decode import decode_page
from .extract import extract_page
from .legacy import convert_html
from .store import CrawlStore, Row
from .urls import canonical, doc_id

__all__ = ["PortalSpider"]

_SKIP_EXT = tuple("." + e for e in IGNORED_EXTENSIONS)
_HTML_TYPES = (b"text/html", b"application/xhtml+xml")
_CHARSET = re.compile(rb"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)

# Every outcome of a page, as counted in the summary line.
OUTCOMES = (
    "fetched",
    "not_modified",
    "skipped_lastmod",
    "new",
    "changed",
    "unchanged",
    "deleted",
    "rejected",
    "disallowed",
    "errors",
)


class PortalSpider(scrapy.Spider):
    name = "vnsearch"

    def __init__(
        self,
        *,
        config: SiteConfig,
        store: CrawlStore,
        run: int,
        resumed: bool,
        report: list[dict],
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.config = config
        self.store = store
        self.run = run
        self.resumed = resumed
        self.report = report
        self.counts: Counter[str] = Counter()
        self.allowed_domains = list(config.hosts)
        self._revisited = False

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        return spider

    # -- what to ask for ------------------------------------------------------------

    async def start(self):
        if self.resumed:
            for row in self.store.frontier(self.run):
                if (request := self._request(row, lastmod=None)) is not None:
                    yield request
            for row in self.store.answered_in(self.run):
                for request in self._follow_stored(row, row.depth):
                    yield request
        c = self.config
        seeds = [(u, "page") for u in c.start] + [(u, "sitemap") for u in c.sitemaps]
        seeds += [(u, "feed") for u in c.feeds]
        # robots.txt of each host, read for its Sitemap: lines (Scrapy's robots
        # middleware reads it too, for the rules).
        robots = dict.fromkeys(f"{urlsplit(u).scheme}://{urlsplit(u).netloc}/robots.txt"
                               for u, _ in seeds)  # fmt: skip
        seeds += [(u, "robots") for u in robots]
        for url, role in seeds:
            for request in self._enqueue(url, depth=0, role=role):
                yield request

    def _enqueue(self, url: str, *, depth: int, role: str = "page", lastmod: str | None = None):
        """Requests for ``url`` (none when it is not wanted or already queued in
        this run; the stored links of a page skipped by ``lastmod``)."""
        url = canonical(url, self.config.strip_params)
        if role == "page":
            path = url.split("?", 1)[0].lower()
            if path.endswith(_SKIP_EXT) or not self.config.may_follow(url):
                return
            if depth > self.config.max_depth:
                return
        elif not self.config.allowed_host(url):
            return
        row = self.store.claim(url, self.config.name, self.run, depth, role)
        if row is None:
            return
        if (
            lastmod
            and row.sitemap_lastmod
            and row.kind in ("article", "page")
            and lastmod <= row.sitemap_lastmod
        ):
            self.counts["skipped_lastmod"] += 1
            self.store.answered(url, self.run, kind=None, status=None)
            yield from self._follow_stored(row, depth)
            return
        request = self._request(row, lastmod)
        if request is not None:
            yield request

    def _follow_stored(self, row: Row, depth: int):
        """Requests for what a stored page links to (after a 304, a lastmod skip,
        or on resuming)."""
        for sitemap in row.sitemaps:
            yield from self._enqueue(sitemap, depth=depth, role="sitemap")
        for feed in row.feeds:
            yield from self._enqueue(feed, depth=depth, role="feed")
        for link in row.links:
            yield from self._enqueue(link, depth=depth + 1)

    def _request(self, row: Row, lastmod: str | None) -> scrapy.Request | None:
        headers = {}
        if row.role == "page" and row.kind in ("article", "page"):
            if row.etag:
                headers["If-None-Match"] = row.etag
            if row.last_modified:
                headers["If-Modified-Since"] = row.last_modified
        return scrapy.Request(
            row.url,
            callback=self.parse,
            errback=self.failed,
            headers=headers,
            meta={
                "vn_url": row.url,
                "vn_role": row.role,
                "depth": row.depth,
                "vn_lastmod": lastmod,
                "handle_httpstatus_list": [304, 404, 410],
            },
            priority=-row.depth,
        )

    def _idle(self) -> None:
        """Once everything reachable is done: ask again for the known articles
        this run did not reach, to learn which are gone."""
        if self._revisited:
            return
        self._revisited = True
        added = 0
        for row in self.store.unvisited_articles(self.config.name, self.run):
            if self.store.claim(row.url, row.site, self.run, row.depth, "page") is None:
                continue
            request = self._request(row, None)
            if request is not None:
                self.crawler.engine.crawl(request)
                added += 1
        if added:
            raise DontCloseSpider

    # -- answers ----------------------------------------------------------------------

    def parse(self, response):
        role = response.meta["vn_role"]
        if role == "robots":
            return self._parse_robots(response)
        if role == "sitemap":
            return self._parse_sitemap(response)
        if role == "feed":
            return self._parse_feed(response)
        return self._parse_page(response)

    def _done(self, response, kind: str | None, **values: Any) -> None:
        self.store.answered(
            response.meta["vn_url"], self.run, kind=kind, status=response.status, **values
        )

    def _not_indexed(self, url: str, reason: str, status: int | None = None, **extra) -> None:
        self.report.append({"url": url, "status": status, "reason": reason, **extra})

    def _parse_robots(self, response):
        sitemaps = list(sitemap_urls_from_robots(response.text, base_url=response.url))
        self._done(response, "page", links=[], sitemaps=sitemaps)
        for url in sitemaps:
            yield from self._enqueue(url, depth=response.meta["depth"], role="sitemap")

    def _xml_body(self, response) -> bytes:
        body = response.body
        if body[:2] == b"\x1f\x8b":  # a .xml.gz sitemap, bounded like a page
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
                body = f.read(self.config.max_bytes + 1)
            if len(body) > self.config.max_bytes:
                raise ValueError(f"unpacks to more than {self.config.max_bytes} bytes")
        return body

    def _parse_sitemap(self, response):
        depth = response.meta["depth"]
        try:
            sitemap = Sitemap(self._xml_body(response))
        except Exception as exc:  # lxml errors, gzip errors, the size bound
            self.counts["errors"] += 1
            self._done(response, "error", error=f"unreadable sitemap: {exc}")
            self._not_indexed(response.url, f"unreadable sitemap: {exc}", response.status)
            return
        entries = [(e["loc"], e.get("lastmod")) for e in sitemap if e.get("loc")]
        if sitemap.type == "sitemapindex":
            self._done(response, "page", links=[], sitemaps=[loc for loc, _ in entries])
            for loc, _ in entries:
                yield from self._enqueue(loc, depth=depth, role="sitemap")
            return
        self._done(response, "page", links=[loc for loc, _ in entries])
        for loc, lastmod in entries:
            yield from self._enqueue(loc, depth=depth + 1, lastmod=lastmod)

    def _parse_feed(self, response):
        depth = response.meta["depth"]
        try:
            selector = scrapy.Selector(
                text=self._xml_body(response).decode("utf-8", "replace"), type="xml"
            )
            selector.remove_namespaces()
            links = selector.xpath("//item/link/text() | //entry/link/@href").getall()
        except Exception as exc:
            self.counts["errors"] += 1
            self._done(response, "error", error=f"unreadable feed: {exc}")
            self._not_indexed(response.url, f"unreadable feed: {exc}", response.status)
            return
        links = [link.strip() for link in links]
        self._done(response, "page", links=links)
        for link in links:
            yield from self._enqueue(link, depth=depth + 1)

    def _parse_page(self, response):
        url = response.meta["vn_url"]
        depth = response.meta["depth"]
        row = self.store.get(url)
        if response.status == 304:
            self.counts["not_modified"] += 1
            self._done(response, None)
            links, feeds = (row.links, row.feeds) if row else ([], [])
        elif response.status in (404, 410):
            links, feeds = [], []
            if row and row.kind == "article":
                self.counts["deleted"] += 1
            self._done(response, "gone", error=f"HTTP {response.status}")
            self._not_indexed(url, f"gone: HTTP {response.status}", response.status)
        else:
            self.counts["fetched"] += 1
            links, feeds = self._fetched(response, url, row)
        for feed in feeds:
            yield from self._enqueue(feed, depth=depth, role="feed")
        for link in links:
            yield from self._enqueue(link, depth=depth + 1)

    def _fetched(self, response, url: str, row: Row | None) -> tuple[list[str], list[str]]:
        """Record a 200 answer; the page's links and the feeds it announces."""
        headers = response.headers
        validators = {
            "etag": (headers.get(b"ETag") or b"").decode("latin-1") or None,
            "last_modified": (headers.get(b"Last-Modified") or b"").decode("latin-1") or None,
            "sitemap_lastmod": response.meta.get("vn_lastmod"),
            "final_url": response.url,
        }
        body_hash = hashlib.blake2b(response.body, digest_size=16).hexdigest()
        if row and row.body_hash == body_hash and row.kind in ("article", "page"):
            # The same bytes as last time: nothing to extract again.
            self.counts["unchanged"] += 1
            self._done(response, None, body_hash=body_hash, **validators)
            return row.links, row.feeds
        content_type = (headers.get(b"Content-Type") or b"text/html").lower()
        if not content_type.startswith(_HTML_TYPES):
            reason = f"not HTML ({content_type.decode('latin-1')})"
            self.counts["rejected"] += 1
            self._done(response, "rejected", error=reason, body_hash=body_hash, **validators)
            self._not_indexed(url, reason, response.status)
            return [], []
        declared = _CHARSET.search(content_type)
        text, encoding = decode_page(
            response.body, declared.group(1).decode() if declared else None
        )
        text, legacy = convert_html(text, self.config.legacy)
        final = canonical(response.url, self.config.strip_params)
        page_id = doc_id(self.config.name, final)
        found = extract_page(
            text,
            url=final,
            doc_id=page_id,
            site=self.config.name,
            rules=self.config.rules,
            is_article=self.config.is_article(final),
            min_body_chars=self.config.min_body_chars,
        )
        links, feeds = found.links, found.feeds
        if found.article is None:
            self._done(response, "page", body_hash=body_hash, links=links, feeds=feeds,
                       **validators)  # fmt: skip
            self._not_indexed(url, found.reason, response.status, encoding=encoding)
            return links, feeds
        new_hash = article_hash(found.article)
        if not row or row.kind != "article" or not row.article_hash:
            self.counts["new"] += 1
        elif row.article_hash != new_hash:
            self.counts["changed"] += 1
        else:
            self.counts["unchanged"] += 1
        self._done(
            response,
            "article",
            body_hash=body_hash,
            links=links,
            feeds=feeds,
            article=article_to_json(found.article) | {"encoding": encoding, "legacy": legacy},
            doc_id=page_id,
            article_hash=new_hash,
            **validators,
        )
        return links, feeds

    # -- failures -----------------------------------------------------------------------

    def failed(self, failure) -> None:
        request = failure.request
        url = request.meta.get("vn_url", request.url)
        status = None
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self.counts["disallowed"] += 1
            reason, kind = "disallowed by robots.txt", "rejected"
        elif failure.check(IgnoreRequest) and "redirections" in str(failure.value):
            self.counts["errors"] += 1
            reason = f"redirect loop (more than {self.config.max_redirects} redirects)"
            kind = "error"
        elif failure.check(HttpError):
            status = failure.value.response.status
            self.counts["errors"] += 1
            reason, kind = f"HTTP {status}", "error"
        elif failure.check(DownloadTimeoutError) or "took longer than" in str(failure.value):
            self.counts["errors"] += 1
            reason, kind = f"timed out after {self.config.timeout:g} s", "error"
        elif failure.check(DownloadCancelledError) and "max size" in str(failure.value):
            self.counts["rejected"] += 1
            reason = f"larger than the size limit ({self.config.max_bytes} bytes)"
            kind = "rejected"
        elif failure.check(IgnoreRequest):
            self.counts["rejected"] += 1
            reason, kind = f"not requested: {failure.value}", "rejected"
        else:
            self.counts["errors"] += 1
            reason, kind = f"{type(failure.value).__name__}: {failure.value}", "error"
        row = self.store.get(url)
        # A page that fails this time keeps its stored article (an outage is not a deletion).
        self.store.answered(
            url,
            self.run,
            kind=None if row and row.kind == "article" else kind,
            status=status,
            error=reason,
        )
        self._not_indexed(url, reason, status)
