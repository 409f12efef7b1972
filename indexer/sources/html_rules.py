"""Which CSS selectors read which page: the built-in defaults and the per-site
rules of an ``--html-config`` file (see :mod:`indexer.sources.html` for what each
field takes from a page).

Selectors can be set per site in a small TOML file (``--html-config FILE``)::

    [default]                      # overrides the built-in defaults for every page
    remove = [".banner", "#ctl00_Footer"]

    [[site]]
    name = "quan5"                 # stored as the documents' site
    match = ["*quan5*"]            # globs on the file path or the page URL
    body = ["#ctl00_PlaceHolderMain_RichHtmlField"]
    published = ["#ctl00_PlaceHolderMain_lblDate"]

Keys: ``title``, ``published``, ``category``, ``body``, ``url``, ``remove`` (lists
of selectors; a string is a list of one) and, in ``[[site]]``, ``name`` and
``match``. The first matching site wins; its keys replace the default lists.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from selectolax.lexbor import LexborHTMLParser

__all__ = ["HtmlConfig", "SiteRules", "load_html_config", "site_rules"]

_SELECTOR_KEYS = ("title", "published", "category", "body", "url", "remove")


@dataclass(frozen=True)
class SiteRules:
    """Selectors for one kind of page (see the module docstring)."""

    title: tuple[str, ...] = (
        "meta[property='og:title']",
        "meta[name='twitter:title']",
        "h1",
        "title",
    )
    published: tuple[str, ...] = (
        "meta[property='article:published_time']",
        "meta[itemprop='datePublished']",
        "meta[name='pubdate']",
        "meta[name='publishdate']",
        "time[datetime]",
        "[itemprop='datePublished']",
        # Not [id*='date']: it matches SharePoint's ubiquitous "UpdatePanel".
        "[id*='Date']",
        "[class*='date']",
        "[class*='time']",
    )
    category: tuple[str, ...] = (
        "meta[property='article:section']",
        "[class*='breadcrumb'] a",
        "[class*='breadcrumb'] li",
        ".ms-sitemapdirectional a",
        ".ms-sitemapdirectional",
    )
    body: tuple[str, ...] = (
        "[itemprop='articleBody']",
        "article .content",
        "article .detail-content",
        ".article-content",
        ".detail-content",
        ".fck_detail",
        ".ms-rtestate-field",
        "[id*='RichHtmlField']",
        "article",
    )
    url: tuple[str, ...] = ("meta[property='og:url']", "link[rel='canonical']")
    remove: tuple[str, ...] = (
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        # Not "form": ASP.NET/SharePoint pages wrap the whole page in one <form>.
        "nav",
        "button",
        "select",
        "input",
        "figure figcaption",
        "[class*='author']",
        "[class*='byline']",
        "[class*='share']",
        "[class*='social']",
        "[class*='related']",
        "[class*='comment']",
    )
    name: str | None = None
    match: tuple[str, ...] = ()


@dataclass(frozen=True)
class HtmlConfig:
    default: SiteRules = field(default_factory=SiteRules)
    sites: tuple[SiteRules, ...] = ()

    def rules_for(self, path: str, url: str | None) -> SiteRules:
        for site in self.sites:
            for pattern in site.match:
                if fnmatch.fnmatch(path, pattern) or (url and fnmatch.fnmatch(url, pattern)):
                    return site
        return self.default


def _selectors(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: expected a selector or a list of selectors")
    for selector in value:
        try:
            LexborHTMLParser("<p></p>").css(selector)
        except Exception as exc:
            raise ValueError(f"{where}: invalid CSS selector {selector!r}: {exc}") from None
    return tuple(value)


def site_rules(table: dict, base: SiteRules, where: str, *, site: bool) -> SiteRules:
    allowed = set(_SELECTOR_KEYS) | ({"name", "match"} if site else set())
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r}; expected one of {sorted(allowed)}")
    changes: dict[str, Any] = {
        k: _selectors(v, f"{where}.{k}") for k, v in table.items() if k in _SELECTOR_KEYS
    }
    if site:
        if not isinstance(table.get("name"), str) or not table["name"].strip():
            raise ValueError(f"{where}: 'name' (a non-empty string) is required")
        changes["name"] = table["name"].strip()
        if not table.get("match"):
            raise ValueError(f"{where}: 'match' (globs on the file path or URL) is required")
        match = table["match"]
        changes["match"] = (match,) if isinstance(match, str) else tuple(match)
    return replace(base, **changes)


def load_html_config(path: str | Path) -> HtmlConfig:
    """Read a TOML selector file; ``ValueError`` names the bad key."""
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"default", "site"})
    if unknown:
        raise ValueError(f"{path}: unknown table {unknown[0]!r}; expected [default] or [[site]]")
    default = site_rules(data.get("default", {}), SiteRules(), f"{path}: [default]", site=False)
    sites = data.get("site", [])
    if not isinstance(sites, list):
        raise ValueError(f"{path}: write sites as [[site]] tables")
    return HtmlConfig(
        default=default,
        sites=tuple(
            site_rules(t, default, f"{path}: [[site]] #{i}", site=True)
            for i, t in enumerate(sites, 1)
        ),
    )
