"""The OpenAPI 3.1 description of the API (``GET /openapi.json``).

Built from the config, so every documented limit is the one in force
(``VNSEARCH_MAX_PER_PAGE`` and friends), and from the constants the code uses
(sorts, facets, suggest limits, parameter limits and patterns from
:mod:`search_api.params`, problem codes). ``tests/test_openapi.py`` validates
real responses of every endpoint against it.

- :mod:`.common`: references, responses, the shared 304/500/503 answers;
- :mod:`.parameters`: query parameters; :mod:`.schemas`: response bodies;
- :mod:`.paths`: the operations.
"""

from __future__ import annotations

from search_api.config import Config
from search_api.openapi.paths import paths
from search_api.openapi.schemas import schemas

VERSION = "1.0.0"


def build(config: Config) -> dict:
    """The OpenAPI document for an app built with ``config``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vnsearch API",
            "version": VERSION,
            "summary": "Vietnamese search for government and news portals",
            "description": "Diacritic-insensitive search, search-as-you-type and document "
            "lookup over a Whoosh index. Errors are application/problem+json with a stable "
            "code. Keys are snake_case and are only ever added.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": paths(config),
        "components": {"schemas": schemas(config)},
    }
