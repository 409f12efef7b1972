"""Read articles from saved HTML pages (``.html``, ``.htm``): a crawl of a portal
or a news site, one article a file.

What is taken from a page, each by the first CSS selector (in order) that gives a
non-empty value; ``<meta>`` gives its ``content``, ``<link>`` its ``href``,
``<time>`` its ``datetime``, anything else its text:

- ``title``: ``og:title``, then ``<h1>``, then ``<title>``;
- ``published``: ``article:published_time`` and similar metadata, then elements
  whose text holds a Vietnamese date (``07 Tháng Ba 2017 7:25:00 SA``,
  ``Thứ tư, 7/2/2024, 23:41``), read with :func:`indexer.sources.dates.parse_date`;
- ``category``: ``article:section``, then the last breadcrumb item that is not the
  home page, then the text before the date on a portal's "category date" line;
- ``body``: the main content block (``articleBody``, ``<article>``, SharePoint's
  rich-text field, ...), or else the element holding most paragraph text; block
  elements become paragraphs, scripts, forms and navigation are dropped;
- ``url``: ``og:url``, then ``<link rel=canonical>``; ``site``: the configured
  name, else the URL's host.

The id is the file name without its extension, as for portal text pages.

Per-site selectors are in :mod:`indexer.sources.html_rules`.

The parser is selectolax (Lexbor): a complete HTML5 parser with CSS selectors
built in, one small wheel with no dependencies, and fast (a page parses in
about a millisecond). lxml would need cssselect on top for the same selectors;
trafilatura's generic extraction is good on news sites but knows nothing of
SharePoint-era portal layouts and pulls in a dozen dependencies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .article import Article, Rejection
from .dates import parse_date
from .html_rules import HtmlConfig, SiteRules
from .limits import PageTooLarge, ReadLimits, limit_name, oversized_field, read_page
from .portal import _is_stop

__all__ = ["HtmlReader", "parse_html_page", "read_html_page"]

# -- extraction ------------------------------------------------------------------

_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "ol", "p", "pre", "section", "table", "tbody", "td",
        "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_HOME = frozenset({"trang chủ", "trang chu", "home", "trang nhất"})
_DATE_START = re.compile(r"(?:thứ|chủ nhật|ngày\s+)?\d", re.IGNORECASE)
_VIEWS = re.compile(r"số\s+lượt\s+(?:người\s+)?xem\s*:?\s*(?P<n>\d[\d.,]*)", re.IGNORECASE)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)


def _value(node: LexborNode) -> str:
    attrs = node.attributes
    if node.tag == "meta":
        raw = attrs.get("content")
    elif node.tag == "link":
        raw = attrs.get("href")
    elif node.tag == "time" and attrs.get("datetime"):
        raw = attrs.get("datetime")
    else:
        raw = node.text(separator=" ")
    return " ".join((raw or "").split())


def _first(tree: LexborHTMLParser, selectors: tuple[str, ...]) -> str:
    for selector in selectors:
        for node in tree.css(selector):
            if text := _value(node):
                return text
    return ""


def _find_date(text: str) -> tuple[datetime | date, str] | None:
    """The first date inside ``text`` (the longest reading at the earliest place)
    and the text before it."""
    text = text[:200]
    for start in _DATE_START.finditer(text):
        rest = text[start.start() :]
        ends = [m.start() for m in re.finditer(r"\s|$|[|;]", rest)]
        for end in reversed(ends):
            try:
                return parse_date(rest[:end]), text[: start.start()]
            except ValueError:
                continue
    return None


def _published(tree: LexborHTMLParser, selectors: tuple[str, ...]):
    for selector in selectors:
        for node in tree.css(selector):
            text = _value(node)
            if text and (found := _find_date(text)):
                return found
    return None


def _category(tree: LexborHTMLParser, selectors: tuple[str, ...]) -> str:
    for selector in selectors:
        items = [_value(n) for n in tree.css(selector)]
        items = [t for t in items if t and t.lower() not in _HOME]
        if items:
            return items[-1].strip(" >»/|›")
    return ""


def _lines(node: LexborNode, max_depth: int = ReadLimits.html_depth) -> list[str]:
    """The text under ``node``, one line per block element. A loop with its own
    stack, not recursion: a page of 5,000 nested <div> once ended the whole run
    with a RecursionError. Deeper than ``max_depth`` raises ``ValueError``."""
    parts: list[str] = []
    # Entries: a node to walk at a depth, or a string to emit once its children are done.
    stack: list[tuple[LexborNode, int] | str] = [(node, 0)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        n, depth = item
        if depth > max_depth:
            raise ValueError(
                f"elements nested deeper than {max_depth} ({limit_name('html_depth')})"
            )
        children = list(n.iter(include_text=True))
        for child in reversed(children):
            if child.is_text_node:
                stack.append(child.text_content or "")
            elif child.tag in _BLOCK:
                stack += ["\n", (child, depth + 1), "\n"]
            else:
                stack.append((child, depth + 1))
    return [" ".join(line.split()) for line in "".join(parts).split("\n")]


# Start and end tags, with comments and raw-text elements (whose content holds no
# tags) matched whole. "[^<>]" keeps every match from scanning past the next tag,
# so the scan stays linear on any input.
_TAG = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|textarea|title|xmp|noembed|noframes)\b[^<>]*>.*?(?:</\1\s*>|\Z)"
    r"|<(/?)([A-Za-z][^\s/<>]*)[^<>]*?(/?)>",
    re.IGNORECASE | re.DOTALL,
)
# Elements that never hold others, and those whose end tag the parser implies
# (a new <p> or <li> closes the open one): neither makes a page deeper.
_FLAT = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr", "basefont", "bgsound", "frame", "keygen", "image",
        "p", "li", "dt", "dd", "option", "optgroup", "tr", "td", "th", "thead", "tbody",
        "tfoot", "colgroup", "caption", "rb", "rt", "rp", "rtc", "html", "head", "body",
    }
)  # fmt: skip
_FOREIGN = frozenset({"svg", "math"})


def nesting_depth(html: str, stop_above: int | None = None) -> int:
    """How deep the elements of ``html`` nest, estimated from its tags in one linear
    scan (at most ~0.5 µs a byte), before parsing: Lexbor takes time quadratic in
    the depth (100,000 nested <div> in a 1.3 MB page: 32 s), so a page too deep
    is refused unparsed. Never counts what cannot nest, so it errs low (nested
    tables count one level each, not four); the walk over the parsed content
    checks the real depth. Returns early once past ``stop_above``."""
    depth = deepest = foreign = 0
    for m in _TAG.finditer(html):
        closing, name, self_closing = m.group(2, 3, 4)
        if name is None:
            continue
        name = name.lower()
        if name in _FLAT:
            continue
        if closing:
            depth = max(0, depth - 1)
            if name in _FOREIGN:
                foreign = max(0, foreign - 1)
        elif not (self_closing and foreign):  # <div/> opens a div; <path/> in SVG does not
            depth += 1
            deepest = max(deepest, depth)
            if stop_above is not None and deepest > stop_above:
                break
            if name in _FOREIGN:
                foreign += 1
    return deepest


def _densest_block(tree: LexborHTMLParser) -> LexborNode | None:
    """The element whose own <p> children hold the most text."""
    weight: dict[int, tuple[int, LexborNode]] = {}
    for p in tree.css("p"):
        parent = p.parent
        if parent is None:
            continue
        length = len(p.text(strip=True))
        total, _ = weight.get(parent.mem_id, (0, parent))
        weight[parent.mem_id] = (total + length, parent)
    if not weight:
        return None
    return max(weight.values(), key=lambda pair: pair[0])[1]


@dataclass(frozen=True)
class _Page:
    title: str
    body: str
    url: str | None
    category: str | None
    published: datetime | date | None
    views: int | None


def parse_html_page(
    html: str | LexborHTMLParser,
    *,
    rules: SiteRules | None = None,
    max_depth: int = ReadLimits.html_depth,
) -> _Page:
    """Extract an article from one page (its text, or its parsed tree, which is
    changed); ``ValueError`` when it has none, or when its content is nested
    deeper than ``max_depth``."""
    rules = rules or SiteRules()
    tree = LexborHTMLParser(html) if isinstance(html, str) else html
    title = _first(tree, rules.title)
    url = _first(tree, rules.url) or None
    dated = _published(tree, rules.published)
    category = _category(tree, rules.category)
    if not category and dated:
        # A portal's "Tin tức sự kiện 07 Tháng Ba 2017 7:25:00 SA" line.
        before = dated[1].strip(" -–—|:·•")
        if len(before) <= 60 and not any(c.isdigit() for c in before):
            category = before
    views = None
    if tree.body is not None and (found := _VIEWS.search(tree.body.text(separator=" "))):
        digits = re.sub(r"\D", "", found["n"])  # "1.234" uses a thousands dot
        views = int(digits) if len(digits) <= 18 else None
    for selector in rules.remove:
        for node in tree.css(selector):
            node.decompose()
    content = next((n for s in rules.body for n in tree.css(s)), None) or _densest_block(tree)
    if content is None:
        content = tree.body
    lines = _lines(content, max_depth) if content is not None else []
    # Portal chrome that sits inside the content block ("Số lượt người xem",
    # "TIN MỚI HƠN", ...) is dropped line by line, as in the .txt page reader.
    body = [line for line in lines if line and not _is_stop(line)]
    if body and title and body[0] == title:
        body = body[1:]
    if not title:
        raise ValueError("no title (og:title, h1 or <title>)")
    if not body:
        raise ValueError("no main text")
    return _Page(
        title=title,
        body="\n".join(body),
        url=url,
        category=category or None,
        published=dated[0] if dated else None,
        views=views,
    )


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        declared = _CHARSET.search(raw[:4096])
        if declared is None:
            raise
        return raw.decode(declared.group(1).decode("ascii"))


class HtmlReader:
    """A reader for the ``READERS`` table, with its selector configuration and
    the limits on one page (bytes, nesting depth, characters per field)."""

    def __init__(self, config: HtmlConfig | None = None, limits: ReadLimits | None = None):
        self.config = config or HtmlConfig()
        self.limits = limits or ReadLimits()

    def __call__(self, path: Path) -> Iterator[Article | Rejection]:
        path = Path(path)
        limits = self.limits
        try:
            text = _decode(read_page(path, limits))
        except PageTooLarge as exc:
            yield Rejection(str(path), "file", str(exc))
            return
        except (UnicodeDecodeError, LookupError) as exc:
            yield Rejection(str(path), "file", f"cannot decode the page: {exc}")
            return
        except OSError as exc:
            yield Rejection(str(path), "file", f"cannot read file: {exc.strerror or exc}")
            return
        if nesting_depth(text, stop_above=limits.html_depth) > limits.html_depth:
            reason = f"elements nested deeper than {limits.html_depth} ({limit_name('html_depth')})"
            yield Rejection(str(path), "file", reason)
            return
        tree = LexborHTMLParser(text)
        rules = self.config.default
        if self.config.sites:
            # Which site's rules apply can depend on the page's URL.
            url = _first(tree, SiteRules().url) or None
            rules = self.config.rules_for(str(path), url)
        try:
            page = parse_html_page(tree, rules=rules, max_depth=limits.html_depth)
        except ValueError as exc:
            yield Rejection(str(path), "file", f"HTML page not recognised: {exc}")
            return
        site = rules.name or (urlsplit(page.url).hostname if page.url else None)
        article = Article(
            id=path.stem,
            title=page.title,
            body=page.body,
            url=page.url,
            site=site,
            category=page.category,
            published=page.published,
            views=page.views,
            origin=str(path),
        )
        if problem := oversized_field(article, limits):
            yield Rejection(str(path), "file", problem)
        else:
            yield article


read_html_page = HtmlReader()
