"""Gunicorn settings for the search API.

Load with ``gunicorn -c python:search_api.gunicorn_conf search_api.wsgi:app``
(what :func:`search_api.server.run` does). Bind address, workers, threads and log
level come from the ``VNSEARCH_*`` environment via :class:`Config`; gunicorn
command-line flags still override them.

Threaded workers (gthread): a search spends much of its time in NumPy, which
releases the GIL, and threads of one worker share its open index snapshot.
Measured on the development machine, 2 workers × 4 threads gave the best
throughput.
"""

from __future__ import annotations

import os

from search_api.config import Config

_config = Config.from_env()

wsgi_app = "search_api.wsgi:app"
bind = [_config.bind]
workers = _config.workers
threads = _config.threads
worker_class = "gthread"

# A search takes milliseconds; a worker silent for this long is stuck.
timeout = 30
# On SIGTERM, in-flight requests get this long to finish.
graceful_timeout = 10
keepalive = 5
# Recycle workers now and then (bounds slow leaks); the jitter keeps them from
# restarting together.
max_requests = 10_000
max_requests_jitter = 1_000

accesslog = None  # server.run(access_log=True) or --access-logfile - turns it on
errorlog = "-"
loglevel = _config.log_level
proc_name = "vnsearch"

# Worker heartbeats in RAM rather than on a possibly slow disk (containers).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
