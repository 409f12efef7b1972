"""Run one crawl in this process: Scrapy's settings from the site
configuration, a progress bar, and the run's record in the crawl store.

Scrapy runs on Twisted, whose reactor can start only once per process: a crawl
is one ``vnsearch crawl`` process (``CrawlerProcess``), and tests and benches
run that command as a subprocess. The index update that follows runs in the
same process after the reactor has stopped (plain synchronous code).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import SiteConfig
from .spider import OUTCOMES, PortalSpider
from .store import CrawlStore

__all__ = ["CrawlResult", "crawl", "scrapy_settings"]


def scrapy_settings(config: SiteConfig) -> dict:
    """Scrapy settings for one site (which parts are used and why: docs/design.md)."""
    return {
        "BOT_NAME": "vnsearch",
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": config.obey_robots,
        "ROBOTSTXT_PARSER": "scrapy.robotstxt.ProtegoRobotParser",
        "ROBOTSTXT_USER_AGENT": config.user_agent,
        "CONCURRENT_REQUESTS": config.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": config.concurrency,
        "DOWNLOAD_DELAY": config.delay,
        "RANDOMIZE_DOWNLOAD_DELAY": False,  # the configured delay is a floor, not an average
        "AUTOTHROTTLE_ENABLED": config.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(config.delay, 0.1),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(config.concurrency),
        "AUTOTHROTTLE_MAX_DELAY": max(60.0, config.delay),
        "DOWNLOAD_TIMEOUT": config.timeout,
        "DOWNLOAD_MAXSIZE": config.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": config.retries > 0,
        "RETRY_TIMES": config.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "RETRY_GIVE_UP_LOG_LEVEL": "WARNING",  # reported per page instead (--report)
        "REDIRECT_MAX_TIMES": config.max_redirects,
        "DEPTH_LIMIT": config.max_depth + 1,  # sitemap entries sit one below their sitemap
        "DEPTH_PRIORITY": 1,  # breadth first: listings before the archive's depths
        "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",  # the store deduplicates
        "CLOSESPIDER_PAGECOUNT": config.max_pages,
        "CLOSESPIDER_TIMEOUT": config.max_seconds,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,  # conditional GET from the store instead (docs/design.md)
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "LOG_ENABLED": True,
    }


@dataclass
class CrawlResult:
    run: int
    resumed: bool
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    report: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return self.reason == "finished"

    def summary(self) -> str:
        c = self.counts
        return (
            f"fetched {c.get('fetched', 0)} · not modified {c.get('not_modified', 0)} · "
            f"skipped by lastmod {c.get('skipped_lastmod', 0)} · new {c.get('new', 0)} · "
            f"changed {c.get('changed', 0)} · unchanged {c.get('unchanged', 0)} · "
            f"deleted {c.get('deleted', 0)} · rejected {c.get('rejected', 0)} · "
            f"disallowed by robots {c.get('disallowed', 0)} · errors {c.get('errors', 0)}"
        )


def crawl(config: SiteConfig, store_path: Path, *, progress: bool = True) -> CrawlResult:
    """Crawl ``config``'s site into the store at ``store_path``; resumes the
    site's unfinished run if there is one."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from tqdm import tqdm

    store = CrawlStore(store_path)
    run, resumed = store.open_run(config.name)
    result = CrawlResult(run=run, resumed=resumed)
    start = time.monotonic()
    process = CrawlerProcess(scrapy_settings(config))
    logging.getLogger("scrapy").setLevel(logging.ERROR)
    crawler = process.create_crawler(PortalSpider)
    bar = tqdm(desc="crawling", unit=" pages", disable=not progress, dynamic_ncols=True)

    last = [0.0]

    def tick(spider, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - last[0] < 0.25:
            return
        last[0] = now
        done = sum(spider.counts[k] for k in OUTCOMES if k not in ("new", "changed", "deleted"))
        bar.n = done
        bar.set_postfix(queue=store.pending(run), refresh=False)
        bar.refresh()

    def closed(spider, reason: str) -> None:
        tick(spider, force=True)
        result.reason = reason
        result.counts = dict(spider.counts)
        store.finish_run(run, reason, result.counts, complete=reason == "finished")

    crawler.signals.connect(closed, signal=signals.spider_closed)
    crawler.signals.connect(
        lambda response, request, spider: tick(spider), signal=signals.response_received
    )
    try:
        process.crawl(
            crawler, config=config, store=store, run=run, resumed=resumed, report=result.report
        )
        process.start()
    finally:
        bar.close()
        store.close()
    result.seconds = time.monotonic() - start
    return result
