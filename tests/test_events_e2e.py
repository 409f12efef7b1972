"""Search events under a real gunicorn with several workers: concurrent searches,
suggestions and clicks end up as whole lines, none lost, none twice, one file
per worker process, all closed (``.jsonl``) once the server has stopped; and
``vnsearch analytics`` reads them."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner
from e2e_support import Server, clean_env, free_port

from search_api.cli import main
from search_api.server import APP, GUNICORN_CONFIG

pytestmark = pytest.mark.e2e

WORKERS = 3
ROUND = 120
MAX_ROUNDS = 10


def _lines(directory: Path) -> list[bytes]:
    return [x for p in sorted(directory.glob("events-*")) for x in p.read_bytes().splitlines()]


def _pids(directory: Path) -> set[str]:
    return {p.name.split("-")[3] for p in directory.glob("events-*")}


def test_several_workers_write_every_event_once(sample_index, tmp_path):
    events = tmp_path / "events"
    port = free_port()
    env = clean_env(
        VNSEARCH_BIND=f"127.0.0.1:{port}",
        VNSEARCH_INDEX_DIR=str(sample_index),
        VNSEARCH_WORKERS=str(WORKERS),
        VNSEARCH_THREADS="2",
        VNSEARCH_EVENTS_DIR=str(events),
        VNSEARCH_CLICKS="1",
        VNSEARCH_CLICK_RATE="100000",
        VNSEARCH_LOG_LEVEL="warning",
    )
    argv = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, APP]
    server = Server(argv, env, port, tmp_path / "log")
    sent: list[str] = []
    try:
        server.wait_until("/readyz")

        def one(i: int) -> None:
            # A fresh connection each time: any worker may take it.
            with httpx.Client(base_url=server.base, timeout=10.0) as http:
                q = f"tuyen giao e2e{i}"
                assert http.get("/v1/search", params={"q": q}).status_code == 200
                assert http.get("/v1/suggest", params={"q": f"tuyen e2e{i}"}).status_code == 200
                r = http.post(
                    "/v1/clicks",
                    content=orjson.dumps({"q": q, "id": "fx-tuyen-giao", "position": 1}),
                    headers={"Content-Type": "text/plain"},
                )
                assert r.status_code == 204

        # Rounds of concurrent requests until at least two workers have answered
        # (workers boot one after the other; the first may take the first round).
        with ThreadPoolExecutor(12) as pool:
            for r in range(MAX_ROUNDS):
                ids = range(r * ROUND, (r + 1) * ROUND)
                list(pool.map(one, ids))
                sent += [f"tuyen giao e2e{i}" for i in ids]
                deadline = time.monotonic() + 10
                while len(_lines(events)) < 3 * len(sent) and time.monotonic() < deadline:
                    time.sleep(0.05)
                if len(_pids(events)) >= 2:
                    break
        assert server.stop() == 0
    finally:
        server.kill()
    assert "Traceback" not in server.log()

    files = sorted(events.iterdir())
    assert files and all(p.name.endswith(".jsonl") for p in files), files  # all closed
    assert len(_pids(events)) >= 2, "events came from several worker processes"
    parsed = [orjson.loads(line) for line in _lines(events)]  # every line whole
    searches = sorted(e["q"] for e in parsed if e["type"] == "search")
    assert searches == sorted(sent)  # none lost, none twice
    assert sorted(e["q"] for e in parsed if e["type"] == "click") == sorted(sent)
    assert len([e for e in parsed if e["type"] == "suggest"]) == len(sent)

    out = CliRunner().invoke(
        main, ["analytics", "top", "--events-dir", str(events), "--json", "--limit", "100000"]
    )
    assert out.exit_code == 0, out.output
    top = json.loads(out.output)
    assert sorted(r["query"] for r in top) == sorted(sent)
    assert all(r["count"] == 1 for r in top)
