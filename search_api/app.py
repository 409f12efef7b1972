"""The Falcon application: routes, media, CORS, security headers, errors.

``create_app(config)`` only wires things together; the search work happens in
:class:`~search_api.search.SearchService` (passed in, or made from the config).
"""

from __future__ import annotations

import falcon
import falcon.media
import orjson

from search_api import errors
from search_api.config import Config
from search_api.resources import DocumentResource, HealthResource, ReadyResource, SearchResource
from search_api.search import SearchService


class SecurityHeaders:
    """Headers every response carries, errors and preflights included."""

    def __init__(self, vary_origin: bool = False):
        self.vary_origin = vary_origin

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "no-referrer")
        if self.vary_origin:
            # Answers differ by Origin when only some origins get CORS headers.
            resp.append_header("Vary", "Origin")


def create_app(config: Config, *, service: SearchService | None = None) -> falcon.App:
    """The WSGI app for ``config``; ``service`` defaults to one on ``config.index_dir``."""
    if service is None:
        service = SearchService(
            config.index_dir,
            refresh_interval=config.refresh_interval,
            max_query_syllables=config.max_query_words,
        )

    cors = config.cors_origins
    middleware: list[object] = []
    if cors:
        middleware.append(falcon.CORSMiddleware(allow_origins="*" if cors == ("*",) else cors))
    middleware.append(SecurityHeaders(vary_origin=bool(cors) and cors != ("*",)))

    app = falcon.App(middleware=middleware)
    # HTML forms send empty fields (?from=&category=): treat them as absent.
    app.req_options.keep_blank_qs_values = False
    app.resp_options.default_media_type = falcon.MEDIA_JSON

    json = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)
    handlers = {falcon.MEDIA_JSON: json, errors.PROBLEM_JSON: json}
    app.req_options.media_handlers.update(handlers)
    app.resp_options.media_handlers.update(handlers)

    errors.install(app)

    app.add_route("/v1/search", SearchResource(service, config))
    app.add_route("/v1/documents/{doc_id}", DocumentResource(service))
    app.add_route("/healthz", HealthResource())
    app.add_route("/readyz", ReadyResource(service))
    return app
