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
import shutil
import tempfile
from pathlib import Path
from typing import Any

from search_api.config import Config, multiprocess_metrics_dir

_config = Config.from_env()

# Prometheus metrics of all workers together (search_api/metrics.py): each
# worker writes its counters to files in one directory, and a scrape of any
# worker adds them up. on_starting sets it up in the master, before any worker
# imports prometheus_client (importing this module has no side effect).
_metrics: dict[str, Any] = {"dir": None, "own": False}

wsgi_app = "search_api.wsgi:app"
bind = [_config.bind]
workers = _config.workers
threads = _config.threads
worker_class = "gthread"

# What gunicorn allows, and why (docs/operations.md, "Slow and idle clients").
# gthread reads a request's headers in a pool thread with no deadline, and holds a
# thread up to 5 s for a new connection's first byte (fixed in gunicorn): 16 clients
# sending a header line every 5 s, or 200 idle sockets, take all 2 × 4 threads, and
# no setting below changes that. So gunicorn listens on loopback or a private
# address behind nginx (deploy/nginx/vnsearch.conf), which reads every request
# whole before it passes it on; `vnsearch serve` warns when it binds elsewhere.
#
# A search takes milliseconds (and stops at VNSEARCH_SEARCH_TIMEOUT_MS); a worker
# silent for VNSEARCH_WORKER_TIMEOUT seconds is stuck: the master kills and replaces it.
# (A thread held by a slow client does not make the worker silent: the timeout
# guards against a stuck worker, not against slow clients.)
timeout = _config.worker_timeout
# On SIGTERM, in-flight requests get this long to finish.
graceful_timeout = 10
# Idle kept-alive connections are closed after 5 s. nginx's upstream pool lets its
# own go after 4 s (keepalive_timeout in deploy/nginx/vnsearch.conf), so nginx never
# sends a request on a connection gunicorn is closing. A kept-alive connection
# waits in the worker's poller, not in a thread.
keepalive = 5
# Connections one worker holds at once (gunicorn's default is 1000). nginx keeps at
# most 32 idle connections per nginx worker to each host, plus one per request in
# flight; 256 leaves room for that with several nginx workers, and keeps a worker
# under a flood of connections below the usual 1024 open files, with room for the
# index's own files (a generation is opened again when it changes).
worker_connections = 256
# Recycle workers now and then (bounds slow leaks); the jitter keeps them from
# restarting together (VNSEARCH_MAX_REQUESTS, VNSEARCH_MAX_REQUESTS_JITTER).
# A new worker opens and warms the index before it accepts requests
# (search_api.wsgi), but its result and postings caches start empty.
max_requests = _config.max_requests
max_requests_jitter = _config.max_requests_jitter
# The longest request line gunicorn reads: its own maximum. Every URL up to
# VNSEARCH_MAX_URL_LENGTH (at most 8,000) reaches the app, and so does one a few
# thousand characters longer, which gets the app's 414 problem+json; gunicorn's own
# refusal (past 8,190 bytes) is an HTML page. Behind nginx, request lines past its
# 8 KB header buffer get nginx's 414, which deploy/nginx/vnsearch.conf also sends
# as problem+json (docs/api.md, "Limits").
limit_request_line = 8190

accesslog = None  # server.run(access_log=True) or --access-logfile - turns it on
errorlog = "-"
loglevel = _config.log_level
proc_name = "vnsearch"

# Worker heartbeats in RAM rather than on a possibly slow disk (containers).
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"


def on_starting(server) -> None:
    """PROMETHEUS_MULTIPROC_DIR for the workers: the operator's (emptied of an
    earlier run's files), else a fresh temporary directory removed on exit."""
    path = multiprocess_metrics_dir()
    if path is None:
        path = tempfile.mkdtemp(prefix="vnsearch-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        _metrics["own"] = True
    else:
        for stale in Path(path).glob("*.db"):
            stale.unlink(missing_ok=True)
    _metrics["dir"] = path


def child_exit(server, worker) -> None:
    """A worker is gone: prometheus_client drops its live gauges."""
    if _metrics["dir"]:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, _metrics["dir"])


def on_exit(server) -> None:
    if _metrics["own"] and _metrics["dir"]:
        shutil.rmtree(_metrics["dir"], ignore_errors=True)
