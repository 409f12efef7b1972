"""Falcon middleware of the API: gzip, JSON access logs, static-file caching.

Falcon calls ``process_response`` in the reverse order of the middleware list, so
:func:`search_api.app.create_app` puts :class:`Gzip` first (it compresses what
every other component has finished) and :class:`AccessLog` right after it (it
sees the response before compression and times nearly the whole request).
"""

from __future__ import annotations

import gzip
import logging
import time
from datetime import UTC, datetime
from typing import Any

import falcon
import orjson

access_log = logging.getLogger("vnsearch.access")

# Bodies smaller than this are sent as they are: gzip would save next to nothing.
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6
_COMPRESSIBLE = ("application/json", "application/problem+json", "text/", "application/javascript")
# Longest request path written to the access log (ids are short; attacks are not).
MAX_LOGGED_PATH = 200


def _accepts_gzip(req: falcon.Request) -> bool:
    """``Accept-Encoding`` lists gzip with a non-zero weight."""
    for item in (req.get_header("Accept-Encoding") or "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().lower()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


class Gzip:
    """Compress bodies over :data:`GZIP_MIN_BYTES` for clients that accept gzip.

    Responses that could have been compressed carry ``Vary: Accept-Encoding``
    whether or not this client got gzip, so shared caches keep both forms apart.
    Files of the static route are compressed too, unless a byte range was asked.
    """

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if req.method == "HEAD" or resp.status_code in (204, 304) or resp.status_code < 200:
            if resp.status_code == 304:
                resp.append_header("Vary", "Accept-Encoding")
            return
        if resp.get_header("Content-Encoding") or resp.content_range:
            return
        # A file-like object or an iterable of bytes: Falcon takes both.
        source: Any = resp.stream
        stream = source is not None and hasattr(source, "read")
        # render_body() also sets the default content type of a media answer.
        body = None if stream else resp.render_body()
        if not (resp.content_type or "").startswith(_COMPRESSIBLE):
            return
        if stream:
            body = source.read()
            source.close()
            resp.stream = None
            resp.data = body
        if body is None or len(body) < GZIP_MIN_BYTES:
            return
        resp.append_header("Vary", "Accept-Encoding")
        if not _accepts_gzip(req):
            return
        resp.text = None
        resp.data = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        resp.content_length = len(resp.data)
        resp.set_header("Content-Encoding", "gzip")


class AccessLog:
    """One JSON line per request on the ``vnsearch.access`` logger.

    Fields: ``time``, ``method``, ``path`` (without the query string: what
    visitors search for stays out of the log), ``route``, ``status``,
    ``duration_ms``, ``query_length`` (characters of ``q``) and ``hits`` (set by
    the search and suggest responders through ``req.context.hits``). The
    visitor's IP address only with ``VNSEARCH_LOG_IPS=1``.
    """

    def __init__(self, log_ips: bool = False):
        self.log_ips = log_ips

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.started = time.perf_counter()

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if not access_log.isEnabledFor(logging.INFO):
            return
        started = req.context.get("started")
        if started is None:
            started = time.perf_counter()
        q = req.params.get("q", "")
        if isinstance(q, list):
            q = q[-1] if q else ""
        entry = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "method": req.method,
            "path": req.path[:MAX_LOGGED_PATH],
            "route": route_of(req),
            "status": resp.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "query_length": len(q),
            "hits": req.context.get("hits"),
        }
        if self.log_ips:
            entry["ip"] = req.remote_addr
        access_log.info(orjson.dumps(entry).decode())


def route_of(req: falcon.Request) -> str:
    """The route template that answered (``/v1/documents/{doc_id}``), a fixed
    name for static files, or ``unmatched``: never the raw path, so the set of
    values stays small (metrics labels)."""
    template = req.uri_template
    if template:
        return template
    if req.path.startswith("/static/"):
        return "/static/{file}"
    return "unmatched"


class StaticCaching:
    """``Cache-Control`` for the files of the static route (Falcon's static
    route already answers conditional requests with its own ETag)."""

    def __init__(self, max_age: int):
        self.value = f"public, max-age={max_age}" if max_age else "no-cache"

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        if req.path.startswith("/static/") and resp.status_code in (200, 206, 304):
            resp.set_header("Cache-Control", self.value)
