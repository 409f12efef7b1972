"""Request limits, checked before any routing: the size of the URL and of the
body, and the methods of the static files.

The API only answers ``GET`` requests, so it never reads a body: one larger than
``VNSEARCH_MAX_BODY_BYTES`` (default 0, i.e. any body) is refused with 413
``body_too_large``, as is a chunked body, whose size is not known up front.
A path plus query string longer than ``VNSEARCH_MAX_URL_LENGTH`` is refused with
414 ``uri_too_long``. Under gunicorn, request lines longer than its own
``limit_request_line`` (set a little above ours by the gunicorn config) never
reach the app; see docs/reliability.md.
"""

from __future__ import annotations

import falcon

from search_api.errors import APIError


class RequestLimits:
    """Falcon middleware: 414 for long URLs, 413 for request bodies."""

    def __init__(self, max_url_length: int, max_body_bytes: int, own_body_limit: tuple = ()):
        self.max_url_length = max_url_length
        self.max_body_bytes = max_body_bytes
        # Paths whose responder bounds its own body (POST /v1/clicks).
        self.own_body_limit = frozenset(own_body_limit)

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if url_length(req) > self.max_url_length:
            raise APIError(
                falcon.HTTP_414,
                "uri_too_long",
                f"The address is longer than {self.max_url_length} characters.",
            )
        if req.path in self.own_body_limit:
            return
        length = req.content_length
        chunked = "chunked" in (req.get_header("Transfer-Encoding") or "").lower()
        if chunked or (length is not None and length > self.max_body_bytes):
            detail = (
                "This API takes no request body."
                if self.max_body_bytes == 0
                else f"The request body is larger than {self.max_body_bytes} bytes "
                "(or of unknown length)."
            )
            raise APIError(falcon.HTTP_413, "body_too_large", detail)


def url_length(req: falcon.Request) -> int:
    """Characters of the request target as received: the path still
    percent-encoded when the server gives it (gunicorn's ``RAW_URI``), plus the
    query string."""
    path = (req.env.get("RAW_URI") or req.path).partition("?")[0]
    qs = req.query_string
    return len(path) + (len(qs) + 1 if qs else 0)


class StaticMethods:
    """Falcon middleware: the files under ``prefix`` answer GET, HEAD and OPTIONS
    only. (Falcon's static route serves a file to any method, POST and DELETE
    included; every other route already answers 405 to methods it lacks.)"""

    ALLOWED = ("GET", "HEAD", "OPTIONS")

    def __init__(self, prefix: str):
        self.prefix = prefix.rstrip("/") + "/"

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if req.path.startswith(self.prefix) and req.method not in self.ALLOWED:
            raise falcon.HTTPMethodNotAllowed(list(self.ALLOWED))
