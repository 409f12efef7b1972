"""``POST /v1/clicks``: which result a visitor opened, reported by the search box
with ``navigator.sendBeacon`` (off unless ``VNSEARCH_CLICKS=1``).

The body is one small JSON object and nothing else::

    {"q": "tuyen giao", "id": "q5-2018-002", "position": 3, "page": 1}

``q`` the query as searched (at most ``VNSEARCH_MAX_QUERY_CHARS``), ``id`` the
document id (1-200 characters), ``position`` its rank in the whole result list
(1 = first, at most ``VNSEARCH_MAX_PAGE_DEPTH``), ``page`` optional. Sent as
``text/plain`` (what sendBeacon sends for a string: no CORS preflight) or
``application/json``. Anything else is refused: 415 for another media type,
413 beyond :data:`MAX_BYTES` (or without a length), 400 ``invalid_click`` for
any other shape, 429 ``too_many_clicks`` beyond ``VNSEARCH_CLICK_RATE`` reports
a minute from one client (counted in memory, per worker; the client's address
is never written anywhere). Accepted: 204, and a ``click`` event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import falcon
import orjson

from search_api.config import Config
from search_api.errors import APIError

MAX_BYTES = 1024
MAX_ID_CHARS = 200
# Distinct clients tracked in one minute; beyond, the window starts afresh
# (memory stays bounded whatever the traffic).
MAX_CLIENTS = 100_000
WINDOW_SECONDS = 60
_MEDIA = ("text/plain", "application/json")
_FIELDS = {"q", "id", "position", "page"}
_LOOPBACK = ("127.", "::1", "")


class RateLimiter:
    """At most ``rate`` events per client per fixed one-minute window."""

    def __init__(self, rate: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def allow(self, client: str) -> bool:
        window = int(self.clock() // WINDOW_SECONDS)
        with self._lock:
            if window != self._window or len(self._counts) >= MAX_CLIENTS:
                self._window = window
                self._counts.clear()
            n = self._counts.get(client, 0)
            if n >= self.rate:
                return False
            self._counts[client] = n + 1
            return True

    def retry_after(self) -> int:
        return max(1, int(WINDOW_SECONDS - self.clock() % WINDOW_SECONDS))


def client_of(req: falcon.Request) -> str:
    """Who is clicking, for the rate limit only: the peer address, or behind a
    proxy on this host (nginx, see deploy/) the address it appended last to
    ``X-Forwarded-For``."""
    peer = req.remote_addr or ""
    if peer.startswith(_LOOPBACK):
        forwarded = req.get_header("X-Forwarded-For") or ""
        last = forwarded.rpartition(",")[2].strip()
        if last:
            return last[:64]
    return peer


def _invalid(detail: str) -> APIError:
    return APIError(falcon.HTTP_400, "invalid_click", detail)


def parse_click(body: bytes, config: Config) -> dict:
    """The click in ``body``, checked field by field (APIError if anything is off)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _invalid("The body is not a JSON object.") from None
    if not isinstance(data, dict):
        raise _invalid("The body is not a JSON object.")
    extra = set(data) - _FIELDS
    if extra:
        raise _invalid("Only q, id, position and page may be sent.")
    q, doc_id, position = data.get("q"), data.get("id"), data.get("position")
    if not isinstance(q, str) or len(q) > config.max_query_chars:
        raise _invalid(f"q must be a string of at most {config.max_query_chars} characters.")
    if not isinstance(doc_id, str) or not 1 <= len(doc_id) <= MAX_ID_CHARS:
        raise _invalid(f"id must be a string of 1 to {MAX_ID_CHARS} characters.")
    if type(position) is not int or not 1 <= position <= config.max_page_depth:
        raise _invalid(f"position must be a whole number from 1 to {config.max_page_depth}.")
    page = data.get("page")
    if page is not None and (type(page) is not int or not 1 <= page <= config.max_page_depth):
        raise _invalid(f"page must be a whole number from 1 to {config.max_page_depth}.")
    return {"q": q, "id": doc_id, "position": position, "page": page}


class ClickResource:
    """``POST /v1/clicks``"""

    def __init__(self, config: Config, events, limiter: RateLimiter | None = None):
        self.config = config
        self.events = events
        self.limiter = limiter or RateLimiter(config.click_rate)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        media = (req.content_type or "").partition(";")[0].strip().lower()
        if media not in _MEDIA:
            raise APIError(
                falcon.HTTP_415,
                "unsupported_media_type",
                "Send the click as text/plain or application/json.",
            )
        length = req.content_length
        chunked = "chunked" in (req.get_header("Transfer-Encoding") or "").lower()
        if chunked or length is None or length > MAX_BYTES:
            raise APIError(
                falcon.HTTP_413,
                "body_too_large",
                f"A click report is at most {MAX_BYTES} bytes, with a Content-Length.",
            )
        if not self.limiter.allow(client_of(req)):
            raise APIError(
                falcon.HTTP_429,
                "too_many_clicks",
                f"At most {self.limiter.rate} click reports a minute are accepted.",
                headers={"Retry-After": str(self.limiter.retry_after())},
            )
        body = req.bounded_stream.read(MAX_BYTES + 1)
        if len(body) > MAX_BYTES:
            raise APIError(falcon.HTTP_413, "body_too_large", "The body is too large.")
        click = parse_click(body, self.config)
        self.events.record("click", click)
        resp.status = falcon.HTTP_204
        resp.set_header("Cache-Control", "no-store")
