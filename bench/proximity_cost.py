"""What the proximity rescoring costs per query (issue 5's rule, issue 7's budget).

    python bench/proximity_cost.py --index-dir DIR [--queries 500] [--seed 7]

Runs the first ``--queries`` pool queries of bench/queries.py (uncached: each is
distinct) through ``SearchService`` as ``/v1/search`` does, timing only
``search_api.engine.service.score_adjacent_runs`` (the rescoring of the best
``proximity_depth`` candidates by runs of query syllables), and prints the
median and p95 per rescored query and per candidate. One-word queries are not
rescored and are not counted.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import perf_common as pc
import queries as qmix

import search_api.engine.service as service


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    _, pool = qmix.load(args.seed)
    real = service.score_adjacent_runs
    times: list[float] = []

    def timed(*a, **kw) -> None:
        t0 = time.perf_counter()
        real(*a, **kw)
        times.append(1000 * (time.perf_counter() - t0))

    svc = service.SearchService(str(args.index_dir), result_cache_size=0, background=False)
    svc.snapshot().release()
    service.score_adjacent_runs = timed
    try:
        for rec in pool[: args.queries]:
            before = len(times)
            svc.search(qmix.request_of(rec))
            if rec["words"] < 2:  # called, but returns at once
                del times[before:]
    finally:
        service.score_adjacent_runs = real
        svc.close()
    depth = svc.ranking.proximity_depth
    print(f"# Proximity rescoring cost ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})\n")
    print(f"Index {args.index_dir}; load average {pc.loadavg()}; depth {depth}.\n")
    p50, p95 = pc.percentile(times, 50), pc.percentile(times, 95)
    print(
        pc.table(
            ["rescored queries", "p50 ms", "p95 ms", "p50 per candidate ms"],
            [[len(times), pc.ms(p50), pc.ms(p95), pc.ms(p50 / depth)]],
        )
    )


if __name__ == "__main__":
    main()
