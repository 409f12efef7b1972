"""What gunicorn loads: ``search_api.wsgi:app``, configured from the environment.

Logging goes to stderr at ``VNSEARCH_LOG_LEVEL`` (gunicorn captures it). The
access log (``vnsearch.access``, at info) is one bare JSON object per line, so
log shippers can parse it without a pattern. The index is opened and warmed at import, before
the worker serves (a second or two on a large index).
"""

from __future__ import annotations

import logging

from search_api.app import create_app
from search_api.config import Config

config = Config.from_env()
logging.basicConfig(
    level=config.log_level.upper(),
    format="%(asctime)s [%(process)d] [%(levelname)s] %(name)s: %(message)s",
)
_access = logging.getLogger("vnsearch.access")
if not _access.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _access.addHandler(_handler)
    _access.propagate = False
# Warm before gunicorn lets this worker accept requests: a fresh (or recycled)
# worker then answers its first search and suggest calls at full speed.
app = create_app(config, warm=True)
