"""Metrics and access logs under a real gunicorn with several workers."""

from __future__ import annotations

import json
import os
import re
import sys

import httpx
import pytest
from e2e_support import Server, free_port

from search_api.server import APP, GUNICORN_CONFIG

_REQUESTS = re.compile(r"^vnsearch_http_requests_total\{(.*)\} (\S+)$", re.MULTILINE)


def _total(text: str, route: str) -> float:
    return sum(float(v) for labels, v in _REQUESTS.findall(text) if f'route="{route}"' in labels)


@pytest.mark.e2e
def test_metrics_add_up_every_worker_and_access_log_lines_are_json(sample_index, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VNSEARCH_", "PROMETHEUS_"))}
    env.pop("GUNICORN_CMD_ARGS", None)
    env.update(
        VNSEARCH_BIND=f"127.0.0.1:{port}",
        VNSEARCH_INDEX_DIR=str(sample_index),
        VNSEARCH_WORKERS="3",
        VNSEARCH_THREADS="2",
        TMPDIR=str(tmp_path),  # where gunicorn_conf makes the metrics directory
    )
    argv = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, APP]
    server = Server(argv, env, port, tmp_path / "log")
    try:
        server.wait_until("/readyz")
        (metrics_dir,) = tmp_path.glob("vnsearch-metrics-*")
        # New connections spread over the workers; every request must be counted
        # whichever worker answers the scrape.
        for i in range(30):
            with httpx.Client(base_url=server.base, timeout=5.0) as one:
                assert one.get("/v1/suggest", params={"q": f"quan {i}"}).status_code == 200
        with httpx.Client(base_url=server.base, timeout=5.0) as http:
            for _ in range(6):
                text = http.get("/metrics").text
                assert _total(text, "/v1/suggest") == 30
                assert re.search(r"^vnsearch_index_documents \d+", text, re.MULTILINE)
        writers = {p.name for p in metrics_dir.glob("counter_*.db")}
        assert len(writers) >= 2, writers  # several workers answered and were added up

        assert server.stop() == 0
        assert not metrics_dir.exists()  # removed with the server
        log = server.log()
        entries = [json.loads(x) for x in log.splitlines() if x.startswith('{"time"')]
        suggests = [e for e in entries if e["route"] == "/v1/suggest"]
        assert len(suggests) == 30
        assert all(e["status"] == 200 and e["hits"] >= 0 and "ip" not in e for e in suggests)
        assert "Traceback" not in log
    finally:
        server.kill()
