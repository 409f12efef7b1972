"""One fetched page to an article, with the extraction the file sources use.

The page's text is decoded (``decode.py``), legacy TCVN3/VNI runs converted
(``legacy.py``), then read by the HTML source's extraction
(:func:`indexer.sources.html.parse_html_page`, with the site's selectors) and,
when that finds no date, by the portal text-layout parser
(:func:`indexer.sources.portal.parse_portal_page`) on the page's text lines:
``Tin tức sự kiện 07 Tháng Ba 2017 7:25:00 SA`` and ``Số lượt người xem: 864``
are read the same way from a live page as from a scraped ``.txt`` one.

Which pages are articles: the site's ``articles`` patterns when it has them;
otherwise a page is an article when it has a title, a date and enough body
text, and most of its text is not link text (listing pages such as "TIN ĐÃ
ĐƯA" or "Xem theo ngày" are mostly links).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser

from indexer.sources.article import Article
from indexer.sources.html import _lines, parse_html_page
from indexer.sources.html_rules import SiteRules
from indexer.sources.portal import parse_portal_page

__all__ = ["Extracted", "extract_page", "page_links"]

# Above this share of link text a page is navigation, not an article.
MAX_LINK_DENSITY = 0.5


@dataclass(frozen=True)
class Extracted:
    article: Article | None
    reason: str  # why there is no article ("" when there is one)
    links: list[str]
    feeds: list[str]


def page_links(tree: LexborHTMLParser, base: str) -> tuple[list[str], list[str]]:
    """Absolute http(s) links of a page, and the RSS/Atom feeds it announces."""
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        base = urljoin(base, base_node.attributes.get("href") or "")
    links: list[str] = []
    for node in tree.css("a[href], area[href]"):
        href = (node.attributes.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "tel:", "#")):
            continue
        url = urljoin(base, href)
        if url.startswith(("http://", "https://")):
            links.append(url)
    feeds = [
        urljoin(base, n.attributes.get("href") or "")
        for n in tree.css("link[rel='alternate'][href]")
        if (n.attributes.get("type") or "").lower()
        in ("application/rss+xml", "application/atom+xml")
    ]
    return links, feeds


def _link_density(tree: LexborHTMLParser) -> float:
    body = tree.body
    if body is None:
        return 1.0
    total = len("".join(body.text(separator=" ").split()))
    linked = sum(len("".join(a.text(separator=" ").split())) for a in body.css("a"))
    return linked / total if total else 1.0


def extract_page(
    html: str,
    *,
    url: str,
    doc_id: str,
    site: str,
    rules: SiteRules,
    is_article: bool | None,
    min_body_chars: int,
) -> Extracted:
    """Links, feeds and (when the page is one) the article of a decoded page."""
    tree = LexborHTMLParser(html)
    links, feeds = page_links(tree, url)
    if is_article is False:
        return Extracted(None, "not an article (the site's 'articles' patterns)", links, feeds)
    if is_article is None and (density := _link_density(tree)) > MAX_LINK_DENSITY:
        return Extracted(None, f"not an article: {density:.0%} of its text is links", links, feeds)
    try:
        text_lines = _lines(tree.body) if tree.body is not None else []
    except ValueError as exc:  # nested deeper than the HTML depth limit
        return Extracted(None, f"not an article: {exc}", links, feeds)
    title = body = category = None
    published: datetime | date | None = None
    views: int | None = None
    reason = ""
    try:
        page = parse_html_page(tree, rules=rules)
        title, body, category = page.title, page.body, page.category
        published, views = page.published, page.views
    except ValueError as exc:
        reason = str(exc)
    if published is None:
        # The seed's layout: "<category> 07 Tháng Ba 2017 7:25:00 SA", title, body.
        try:
            portal = parse_portal_page("\n".join(text_lines), doc_id=doc_id)
        except ValueError as exc:
            reason = reason or f"no date: {exc}"
        else:
            title, body = portal.title, portal.body
            category, published = portal.category, portal.published
            views = portal.views if portal.views is not None else views
    if not title or not body:
        return Extracted(None, f"not an article: {reason or 'no title or body'}", links, feeds)
    if is_article is None and published is None:
        return Extracted(None, "not an article: no publication date", links, feeds)
    if is_article is None and len(body) < min_body_chars:
        return Extracted(
            None,
            f"not an article: {len(body)} characters of text (< {min_body_chars})",
            links,
            feeds,
        )
    article = Article(
        id=doc_id,
        title=title,
        body=body,
        url=url,
        site=site,
        category=category,
        published=published,
        views=views,
    )
    return Extracted(article, "", links, feeds)
