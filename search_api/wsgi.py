"""What gunicorn loads: ``search_api.wsgi:app``, configured from the environment.

Logging goes to stderr at ``VNSEARCH_LOG_LEVEL`` (gunicorn captures it).
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
app = create_app(config)
