"""The browser harness: Debian's headless Chromium (driven by Playwright in the
``browser`` and ``page`` fixtures of conftest.py), static portal pages on other
loopback origins, and the API under gunicorn configured the way a portal would.

Never ``playwright install``: it downloads a browser build, which cannot work here.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from e2e_support import ROOT, Server

from search_api.server import APP, GUNICORN_CONFIG

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
NO_CHROMIUM = "needs Debian's chromium (/usr/bin/chromium)"


def phone_context(browser: Any) -> Any:
    """A browser context the size of a phone (390 × 844, touch), with the test timeout."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(TIMEOUT_MS)
    return context


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """``root`` served on a free loopback port (another origin); yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextlib.contextmanager
def api_server(port: int, index_dir: Path, log: Path, **settings: str) -> Iterator[Server]:
    """The API under gunicorn on ``port`` (one worker, four threads) with these
    ``VNSEARCH_*`` settings; on exit it must stop cleanly, without a traceback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VNSEARCH_", "PROMETHEUS_"))}
    env.update(
        VNSEARCH_BIND=f"127.0.0.1:{port}",
        VNSEARCH_INDEX_DIR=str(index_dir),
        VNSEARCH_WORKERS="1",
        VNSEARCH_THREADS="4",
        VNSEARCH_LOG_LEVEL="warning",
        **settings,
    )
    argv = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, APP]
    server = Server(argv, env, port, log)
    try:
        server.wait_until("/readyz")
        yield server
        assert server.stop() == 0
        assert "Traceback" not in server.log()
    finally:
        server.kill()
