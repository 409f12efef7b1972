"""A short soak (bench/soak.py) through a real gunicorn: steady mixed traffic,
no failed request, workers neither replaced nor growing much. The 60 s and
10-minute runs are in docs/reliability.md."""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import soak

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_fifteen_seconds_of_steady_mixed_traffic(sample_index, tmp_path):
    report = soak.soak(
        sample_index, seconds=15, rate=30, warmup=3, log_path=tmp_path / "gunicorn.log"
    )
    assert report["errors"] == 0, report["error_examples"]
    assert report["requests"] >= 15 * 30 * 0.95
    assert {"search", "suggest", "document"} <= set(report["by_kind"])
    assert report["p99_ms"] < 2000
    assert report["worker_pids_unchanged"] and len(report["worker_rss_mb_end"]) == 2
    assert report["rss_growth_mb"] < 100
    assert report["server_exit_code"] == 0 and report["tracebacks_in_log"] == 0


def test_recycling_workers_under_load_loses_no_request(sample_index, tmp_path):
    """max-requests (with jitter) replaces workers while traffic flows."""
    report = soak.soak(
        sample_index,
        seconds=12,
        rate=40,
        warmup=0,
        max_requests=100,
        log_path=tmp_path / "gunicorn.log",
    )
    assert report["errors"] == 0, report["error_examples"]
    assert not report["worker_pids_unchanged"]  # they were recycled
