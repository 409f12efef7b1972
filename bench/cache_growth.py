"""Where a worker's memory goes under the soak's traffic: the process's RSS
beside the fill of the bounded caches, request after request, in-process.

    python bench/cache_growth.py INDEX_DIR [--requests 60000] [--every 5000]

Sends bench/soak.py's request mix (same seed) to the Falcon app through its
test client, as fast as it answers, in this one process (one worker's share of
the traffic, without HTTP), and prints every ``--every`` requests: RSS, the
service's result cache and the snapshot's posting cache (entries; both are
bounded at 4096). Memory that keeps rising after both caches are full would be
a leak; memory that stops with them is the caches' size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import falcon.testing

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from serve_throughput import rss_mb  # noqa: E402
from soak import _mix  # noqa: E402

from search_api.app import create_app  # noqa: E402
from search_api.config import Config  # noqa: E402
from search_api.engine.service import SearchService  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index_dir", type=Path)
    ap.add_argument("--requests", type=int, default=60_000)
    ap.add_argument("--every", type=int, default=5_000)
    ap.add_argument("--seed", type=int, default=8)
    args = ap.parse_args()
    import os

    mix = _mix(args.index_dir, args.seed)
    service = SearchService(str(args.index_dir))
    client = falcon.testing.TestClient(create_app(Config(), service=service, metrics_dir=None))
    print("requests  rss_mb  results_cached  postings_cached  errors")
    errors = 0
    for n in range(1, args.requests + 1):
        _, path = mix.next()
        route, _, qs = path.partition("?")
        if client.simulate_get(route, query_string=qs).status_code != 200:
            errors += 1
        if n % args.every == 0:
            snap = service.snapshot()
            try:
                postings = len(snap._cache)
            finally:
                snap.release()
            rss = rss_mb(os.getpid())
            print(f"{n:>8}  {rss:6.0f}  {len(service._results):>14}  {postings:>15}  {errors:>6}")
    service.close()
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
