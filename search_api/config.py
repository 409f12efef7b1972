"""The API's settings: the one place that reads the environment.

Every setting is a ``VNSEARCH_*`` variable, cast and validated here; a bad value
fails loudly with the variable's name. Tests build a :class:`Config` from a dict
with ``Config.from_env({...})``; the CLI passes explicit values to
:func:`search_api.server.run`, which override the environment.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""

    def __init__(self, variable: str, message: str):
        super().__init__(message)
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Config:
    index_dir: str = "index"
    # Origins allowed to call the API from a browser; empty: no CORS headers.
    cors_origins: tuple[str, ...] = ()
    # Generous: people paste whole questions (issue 14); a query longer than the
    # engine evaluates keeps its most informative words (engine.ranking.MAX_QUERY_TERMS).
    max_query_chars: int = 2000
    max_query_words: int = 400
    max_per_page: int = 50
    # Deepest result reachable: page × per_page.
    max_page_depth: int = 1000
    # Values of one repeatable filter (category=a&category=b...).
    max_filter_values: int = 20
    # Longest request target (path + query string); longer: 414 uri_too_long.
    # gunicorn's ceiling (8190 bytes a request line): a 2,000-character question
    # of ordinary Vietnamese text is ~5,000 characters percent-encoded.
    max_url_length: int = 8000
    # Largest request body; the API is GET-only, so by default any body is a 413.
    max_body_bytes: int = 0
    # Milliseconds one query may run before it stops (503 search_timeout).
    search_timeout_ms: int = 2000
    # Seconds between checks for a new index generation or commit.
    refresh_interval: float = 1.0
    log_level: str = "info"
    # Seconds browsers and proxies may reuse a search/suggest/document/stats
    # answer (Cache-Control max-age); ETags change with every index change.
    cache_max_age: int = 60
    # Put the visitor's IP address in the access log (off: privacy by default).
    log_ips: bool = False
    # Serving (read by the gunicorn config and server.run()).
    bind: str = "127.0.0.1:8000"
    # A proxy (nginx) reads requests whole before they reach gunicorn; without one,
    # `vnsearch serve` warns when it binds an address other machines can reach.
    behind_proxy: bool = False
    workers: int = 2
    threads: int = 4
    # gunicorn: seconds of silence after which a worker is killed and replaced,
    # and requests after which a worker is recycled (0: never), plus a random
    # 0..jitter more so that workers do not restart together. Rarely: a new
    # worker starts with empty caches (at 10,000 the repeat-heavy rate fell
    # from ~4,900 to ~1,000 req/s), and every cache is bounded anyway.
    worker_timeout: int = 30
    max_requests: int = 1_000_000
    max_requests_jitter: int = 100_000
    # Search events (search_api/events.py): the directory of the JSON Lines
    # files, one per worker process; empty: no events are written.
    events_dir: str = ""
    # POST /v1/clicks, what the search box reports when a visitor opens a
    # result (needs events_dir), and the clicks one client may report a minute.
    clicks: bool = False
    click_rate: int = 60
    # A TSV file replacing the built-in abbreviation dictionary
    # (indexer/data/abbreviations.tsv); empty: the built-in one.
    abbreviations: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Config:
        """Read every ``VNSEARCH_*`` setting from ``environ``; unset or empty
        variables keep their defaults. Raises :class:`ConfigError`."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            var = env_name(f.name)
            raw = environ.get(var)
            if raw is None or not raw.strip():
                continue
            values[f.name] = _CASTS[f.name](var, raw.strip())
        return cls(**values)

    def __post_init__(self) -> None:
        # Also validates configs built directly (tests, server.run overrides).
        for f in fields(self):
            _CHECKS[f.name](env_name(f.name), getattr(self, f.name))
        if self.max_per_page > self.max_page_depth:
            raise ConfigError(
                "VNSEARCH_MAX_PER_PAGE",
                f"VNSEARCH_MAX_PER_PAGE ({self.max_per_page}) must not exceed "
                f"VNSEARCH_MAX_PAGE_DEPTH ({self.max_page_depth})",
            )
        if self.search_timeout_ms >= self.worker_timeout * 1000:
            raise ConfigError(
                "VNSEARCH_SEARCH_TIMEOUT_MS",
                f"VNSEARCH_SEARCH_TIMEOUT_MS ({self.search_timeout_ms}) must be below "
                f"VNSEARCH_WORKER_TIMEOUT ({self.worker_timeout} s): a slow query must end "
                "with a 503 before gunicorn kills the worker",
            )
        if self.clicks and not self.events_dir:
            raise ConfigError(
                "VNSEARCH_CLICKS",
                "VNSEARCH_CLICKS=1 needs VNSEARCH_EVENTS_DIR: clicks are written as events",
            )


def multiprocess_metrics_dir(environ: Mapping[str, str] = os.environ) -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR``: where prometheus_client keeps the metrics of
    several worker processes (set by the gunicorn config; see search_api.metrics).
    Not a ``VNSEARCH_*`` setting because prometheus_client reads it itself."""
    return environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def env_name(field_name: str) -> str:
    """The environment variable of a :class:`Config` field."""
    return "VNSEARCH_" + field_name.upper()


# -- casting (text -> value) ---------------------------------------------------------


def _int(var: str, raw: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", raw):
        raise ConfigError(var, f"{var} must be a whole number, got {raw!r}")
    return int(raw)


def _float(var: str, raw: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(var, f"{var} must be a number of seconds, got {raw!r}") from None


def _origins(var: str, raw: str) -> tuple[str, ...]:
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _bool(var: str, raw: str) -> bool:
    low = raw.lower()
    if low not in _TRUE + _FALSE:
        raise ConfigError(var, f"{var} must be 1/true/yes/on or 0/false/no/off, got {raw!r}")
    return low in _TRUE


def _text(var: str, raw: str) -> str:
    return raw


def _lower(var: str, raw: str) -> str:
    return raw.lower()


_CASTS: dict[str, Callable[[str, str], Any]] = {
    "index_dir": _text,
    "cors_origins": _origins,
    "max_query_chars": _int,
    "max_query_words": _int,
    "max_per_page": _int,
    "max_page_depth": _int,
    "max_filter_values": _int,
    "max_url_length": _int,
    "max_body_bytes": _int,
    "search_timeout_ms": _int,
    "refresh_interval": _float,
    "log_level": _lower,
    "cache_max_age": _int,
    "log_ips": _bool,
    "bind": _text,
    "behind_proxy": _bool,
    "workers": _int,
    "threads": _int,
    "worker_timeout": _int,
    "max_requests": _int,
    "max_requests_jitter": _int,
    "events_dir": _text,
    "clicks": _bool,
    "click_rate": _int,
    "abbreviations": _text,
}


# -- validation (value -> ok or ConfigError) --------------------------------------------


def _at_least(low: int, high: int = 1_000_000) -> Callable[[str, Any], None]:
    def check(var: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                var, f"{var} must be a whole number from {low} to {high}, got {value!r}"
            )

    return check


def _check_seconds(var: str, value: Any) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or not 0 <= value <= 3600:
        raise ConfigError(var, f"{var} must be a number of seconds from 0 to 3600, got {value!r}")


def _check_dir(var: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip() or "\0" in value:
        raise ConfigError(var, f"{var} must name a directory, got {value!r}")


def _check_events_dir(var: str, value: Any) -> None:
    if not isinstance(value, str) or "\0" in value:
        raise ConfigError(var, f"{var} must name a directory, got {value!r}")
    if value and os.path.exists(value) and not os.path.isdir(value):
        raise ConfigError(var, f"{var} names {value!r}, which is not a directory")


def _check_abbreviations(var: str, value: Any) -> None:
    if not isinstance(value, str) or "\0" in value:
        raise ConfigError(var, f"{var} must name a file, got {value!r}")
    if value and not os.path.isfile(value):
        raise ConfigError(var, f"{var} names {value!r}, which is not a file")


def _check_origins(var: str, value: Any) -> None:
    if not isinstance(value, tuple):
        raise ConfigError(var, f"{var} must be a tuple of origins, got {value!r}")
    for origin in value:
        if origin == "*":
            if len(value) > 1:
                raise ConfigError(var, f"{var}: '*' allows every origin and cannot be combined")
            continue
        scheme, sep, host = origin.partition("://")
        if scheme not in ("http", "https") or not sep or not host or "/" in host:
            raise ConfigError(
                var,
                f"{var} must be a comma-separated list of origins like "
                f"https://portal.example.gov.vn (scheme://host[:port], no path), "
                f"or '*'; got {origin!r}",
            )


def _check_bool(var: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(var, f"{var} must be true or false, got {value!r}")


def _check_level(var: str, value: Any) -> None:
    if value not in LOG_LEVELS:
        raise ConfigError(var, f"{var} must be one of {', '.join(LOG_LEVELS)}, got {value!r}")


def _check_bind(var: str, value: Any) -> None:
    if not isinstance(value, str):
        raise ConfigError(var, f"{var} must be HOST:PORT or unix:PATH, got {value!r}")
    if value.startswith("unix:") and len(value) > 5:
        return
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise ConfigError(
            var, f"{var} must be HOST:PORT (e.g. 127.0.0.1:8000) or unix:PATH, got {value!r}"
        )


_CHECKS: dict[str, Callable[[str, Any], None]] = {
    "index_dir": _check_dir,
    "cors_origins": _check_origins,
    "max_query_chars": _at_least(1, 100_000),
    "max_query_words": _at_least(1, 1_000),
    "max_per_page": _at_least(1, 1_000),
    "max_page_depth": _at_least(1, 1_000_000),
    "max_filter_values": _at_least(1, 1_000),
    # gunicorn refuses request lines over 8190 bytes whatever we say.
    "max_url_length": _at_least(256, 8_000),
    "max_body_bytes": _at_least(0, 10_000_000),
    "search_timeout_ms": _at_least(1, 3_600_000),
    "refresh_interval": _check_seconds,
    "log_level": _check_level,
    "cache_max_age": _at_least(0, 31_536_000),
    "log_ips": _check_bool,
    "bind": _check_bind,
    "behind_proxy": _check_bool,
    "workers": _at_least(1, 256),
    "threads": _at_least(1, 1_000),
    "worker_timeout": _at_least(1, 3_600),
    "max_requests": _at_least(0, 100_000_000),
    "max_requests_jitter": _at_least(0, 100_000_000),
    "events_dir": _check_events_dir,
    "clicks": _check_bool,
    "click_rate": _at_least(1, 100_000),
    "abbreviations": _check_abbreviations,
}
