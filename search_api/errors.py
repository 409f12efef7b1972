"""The one error shape of the API: ``application/problem+json`` (RFC 9457).

Every error body has ``type``, ``title``, ``status``, ``detail`` and a stable
snake_case ``code`` that clients branch on; parameter errors add ``param``.
Details never echo what the visitor sent, and never carry a traceback: an
unexpected exception is logged here with its traceback and answered with a
generic 500.
"""

from __future__ import annotations

import http
import logging
import re
from typing import Any

import falcon

from search_api.engine.request import IndexUnavailable, SearchTimeout

log = logging.getLogger("vnsearch.api")

PROBLEM_JSON = "application/problem+json"
# Problem types are URNs, one per code: stable identifiers, not web pages.
TYPE_PREFIX = "urn:vnsearch:problem:"
# Seconds a client should wait before retrying while the index is unavailable.
RETRY_AFTER = 5

TITLES = {
    "invalid_param": "Invalid parameter",
    "missing_param": "Missing parameter",
    "query_too_long": "Query too long",
    "page_too_deep": "Page too deep",
    "too_many_values": "Too many values",
    "not_found": "Not found",
    "method_not_allowed": "Method not allowed",
    "body_too_large": "Request body too large",
    "uri_too_long": "Address too long",
    "index_unavailable": "Index unavailable",
    "search_timeout": "Search timed out",
    "internal_error": "Internal server error",
    "invalid_click": "Invalid click report",
    "unsupported_media_type": "Unsupported media type",
    "too_many_clicks": "Too many click reports",
}


class APIError(falcon.HTTPError):
    """An HTTP error with a stable ``code`` and, for parameter errors, the ``param``."""

    def __init__(
        self,
        status: str | int,
        code: str,
        detail: str,
        *,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(status, title=TITLES.get(code), description=detail, headers=headers)
        self.problem_code = code
        self.param = param


def param_error(param: str, detail: str, code: str = "invalid_param") -> APIError:
    """A 400 for one query parameter."""
    return APIError(falcon.HTTP_400, code, detail, param=param)


# Falcon's own parameter errors carry the name only inside their description.
_FALCON_PARAM = re.compile(r'^The "(?P<name>[^"]*)" parameter')


def problem(error: falcon.HTTPError) -> dict[str, Any]:
    """The problem+json body of any Falcon HTTP error."""
    status = int(error.status_code)
    param = None
    if isinstance(error, APIError):
        code, param = error.problem_code, error.param
        detail = error.description
    elif isinstance(error, falcon.HTTPInvalidParam | falcon.HTTPMissingParam):
        code = "invalid_param" if isinstance(error, falcon.HTTPInvalidParam) else "missing_param"
        m = _FALCON_PARAM.match(error.description or "")
        param = m["name"] if m else None
        detail = error.description
    elif status == 404:
        code, detail = "not_found", "There is nothing at this address."
    elif status == 405:
        code, detail = "method_not_allowed", "This address does not support that method."
    elif status == 500:
        code, detail = "internal_error", _GENERIC_500
    else:
        code = _snake(_phrase(status))
        detail = error.description
    title = TITLES.get(code) or _phrase(status)
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + code,
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    if param is not None:
        body["param"] = param
    return body


def serialize_problem(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Falcon error serializer: every HTTPError becomes problem+json."""
    resp.content_type = PROBLEM_JSON
    resp.media = problem(error)
    resp.set_header("Cache-Control", "no-store")


def _respond(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    resp.status = error.status
    if error.headers:
        resp.set_headers(error.headers)
    serialize_problem(req, resp, error)


def handle_index_unavailable(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict
) -> None:
    log.warning("index unavailable: %s", ex)
    _respond(
        req,
        resp,
        APIError(
            falcon.HTTP_503,
            "index_unavailable",
            "The search index is not available yet; try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER)},
        ),
    )


def handle_search_timeout(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict
) -> None:
    """A query ran past ``VNSEARCH_SEARCH_TIMEOUT_MS``: 503, try again later."""
    log.warning("search timed out on %s", req.path)
    _respond(
        req,
        resp,
        APIError(
            falcon.HTTP_503,
            "search_timeout",
            "The search took too long and was stopped; try again shortly or narrow the query.",
            headers={"Retry-After": str(RETRY_AFTER)},
        ),
    )


_GENERIC_500 = "The server could not complete the request. It has been logged."


def handle_unexpected(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: dict
) -> None:
    """Any exception that is not an HTTP error: traceback to the log, generic 500 out."""
    log.error("unexpected error on %s %s", req.method, req.path, exc_info=ex)
    _respond(req, resp, APIError(falcon.HTTP_500, "internal_error", _GENERIC_500))


def install(app: falcon.App) -> None:
    """Give ``app`` the problem+json serializer and the error handlers."""
    app.set_error_serializer(serialize_problem)
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(IndexUnavailable, handle_index_unavailable)
    app.add_error_handler(SearchTimeout, handle_search_timeout)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "error"
