"""What to crawl and how: a site file (TOML), or just a start URL.

``vnsearch crawl https://portal.example/`` is the same as a site file naming
that page as its only start and its host as the only one allowed; every other
key keeps its default. Every key is documented with an example in
docs/operations.md ("Crawling a portal"); ``load_site`` names a bad key or value
and where it is.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from indexer.sources.html_rules import SiteRules, site_rules

from .urls import DEFAULT_STRIP_PARAMS, canonical, host_of

__all__ = ["SiteConfig", "load_site", "site_from_url"]


@dataclass(frozen=True)
class SiteConfig:
    name: str
    start: tuple[str, ...]
    sitemaps: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()  # regexes: links to follow (empty: every link on the hosts)
    deny: tuple[str, ...] = ()  # regexes: never requested
    articles: tuple[str, ...] = ()  # regexes: pages that are articles (empty: decided by content)
    strip_params: tuple[str, ...] = DEFAULT_STRIP_PARAMS
    legacy: str = "auto"  # auto | tcvn3 | vni | none
    min_body_chars: int = 200
    # [limits]
    max_pages: int = 10000
    max_depth: int = 8
    max_bytes: int = 5_000_000
    timeout: float = 30.0
    max_seconds: float = 0.0
    retries: int = 2
    max_redirects: int = 5
    # [politeness]
    delay: float = 1.0
    concurrency: int = 2
    autothrottle: bool = True
    user_agent: str = "vnsearch-crawler/0.1 (+https://github.com/vnsearch; set user_agent)"
    obey_robots: bool = True
    # [extract]
    rules: SiteRules = field(default_factory=SiteRules)

    def allowed_host(self, url: str) -> bool:
        return host_of(url) in self.hosts

    def _any(self, patterns: tuple[str, ...], url: str) -> bool:
        return any(re.search(p, url) for p in patterns)

    def may_follow(self, url: str) -> bool:
        if not self.allowed_host(url) or self._any(self.deny, url):
            return False
        return not self.follow or self._any(self.follow, url) or self.is_article(url) is True

    def is_article(self, url: str) -> bool | None:
        """True/False when ``articles`` patterns are set, None (decide by content) otherwise."""
        if not self.articles:
            return None
        return self._any(self.articles, url)


_TOP = {
    "name",
    "start",
    "sitemaps",
    "feeds",
    "hosts",
    "follow",
    "deny",
    "articles",
    "strip_params",
    "legacy",
    "min_body_chars",
}
_LIMITS = {
    "max_pages",
    "max_depth",
    "max_bytes",
    "timeout",
    "max_seconds",
    "retries",
    "max_redirects",
}
_POLITENESS = {"delay", "concurrency", "autothrottle", "user_agent", "obey_robots"}
_TYPES = {f.name: f.type for f in fields(SiteConfig)}
_RANGES = {
    "max_pages": (1, 10_000_000),
    "max_depth": (0, 100),
    "max_bytes": (1024, 1 << 30),
    "timeout": (0.1, 600),
    "max_seconds": (0, 30 * 86400),
    "retries": (0, 10),
    "max_redirects": (0, 30),
    "delay": (0, 3600),
    "concurrency": (1, 32),
    "min_body_chars": (0, 100_000),
}


def site_from_url(url: str, **overrides) -> SiteConfig:
    """The configuration for ``vnsearch crawl URL``: that page, that host."""
    start = canonical(url)
    host = host_of(start)
    if not host or not start.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    name = host.removeprefix("www.")
    return replace(SiteConfig(name=name, start=(start,), hosts=(host,)), **overrides)


def _list(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: expected a string or a list of strings")
    return tuple(v.strip() for v in value)


def _value(key: str, value, where: str):
    kind = _TYPES[key]
    if kind == "tuple[str, ...]":
        out = _list(value, where)
        if key in ("follow", "deny", "articles"):
            for pattern in out:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(
                        f"{where}: invalid regular expression {pattern!r}: {exc}"
                    ) from None
        if key in ("start", "sitemaps", "feeds"):
            for url in out:
                if not url.startswith(("http://", "https://")):
                    raise ValueError(f"{where}: not an http(s) URL: {url!r}")
            out = tuple(canonical(u) for u in out)
        return out
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{where}: expected true or false")
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: expected a number")
        if kind == "int" and not isinstance(value, int):
            raise ValueError(f"{where}: expected a whole number")
        low, high = _RANGES[key]
        if not low <= value <= high:
            raise ValueError(f"{where}: {value} is out of range ({low} to {high})")
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: expected a non-empty string")
    if key == "legacy" and value not in ("auto", "tcvn3", "vni", "none"):
        raise ValueError(f"{where}: expected auto, tcvn3, vni or none")
    return value.strip()


def load_site(path: str | Path) -> SiteConfig:
    """Read a site file; ``ValueError`` names the bad key."""
    try:
        data = tomllib.loads(Path(path).read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    sections = {"limits": _LIMITS, "politeness": _POLITENESS, "extract": None}
    values: dict = {}
    for key, value in data.items():
        if key in sections:
            if not isinstance(value, dict):
                raise ValueError(f"{path}: [{key}] must be a table")
            continue
        if key not in _TOP:
            allowed = sorted(_TOP | {f"[{s}]" for s in sections})
            raise ValueError(f"{path}: unknown key {key!r}; expected one of {allowed}")
        values[key] = _value(key, value, f"{path}: {key}")
    for section, keys in sections.items():
        table = data.get(section, {})
        if keys is None:
            values["rules"] = site_rules(table, SiteRules(), f"{path}: [{section}]", site=False)
            continue
        for key, value in table.items():
            if key not in keys:
                raise ValueError(
                    f"{path}: [{section}] unknown key {key!r}; expected one of {sorted(keys)}"
                )
            values[key] = _value(key, value, f"{path}: [{section}] {key}")
    if not values.get("start") and not values.get("sitemaps") and not values.get("feeds"):
        raise ValueError(f"{path}: name at least one of 'start', 'sitemaps' or 'feeds'")
    seeds = values.get("start", ()) + values.get("sitemaps", ()) + values.get("feeds", ())
    values.setdefault("hosts", tuple(dict.fromkeys(host_of(u) for u in seeds)))
    values["hosts"] = tuple(h.lower() for h in values["hosts"])
    values.setdefault("name", values["hosts"][0].removeprefix("www."))
    values.setdefault("start", ())
    return SiteConfig(**values)
