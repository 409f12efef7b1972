"""Two checkouts of vnsearch side by side on one index: same answers, same speed (issue 19).

    python bench/engine_ab.py --old ../main --index-dir DIR --queries FILE.queries.jsonl
    python bench/engine_ab.py --old ../main --new . --index-dir DIR --queries F --limit 2000

Runs every query of ``--queries`` (a ``.queries.jsonl`` of bench/relevance.py or
bench/questions.py: one JSON object with a ``q`` per line) through the
``SearchService`` of each checkout, in-process (a child process per checkout and
round, the checkout first on ``sys.path``), uncached and with no time limit, as
``/v1/search`` asks (default facets, highlights). Rounds alternate old, new, old,
new... so that the machine's load falls on both alike. Prints, per round and
checkout, a SHA-256 of every full response in order (``processing_time_ms``
left out) and the median and p95 time per query; the checkouts agree when every
hash is the same. Works with the engine before and after its move to
``search_api/engine/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import perf_common as pc

CHILD = r"""
import hashlib, json, sys, time
tree, index_dir, qfile, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, tree)
import search_api
assert search_api.__file__.startswith(tree), search_api.__file__
try:
    from search_api.engine.request import SearchRequest
    from search_api.engine.service import SearchService
except ImportError:  # the engine before issue 19
    from search_api.search import SearchRequest, SearchService
queries = []
with open(qfile, encoding="utf-8") as fh:
    for line in fh:
        queries.append(json.loads(line)["q"])
        if limit and len(queries) >= limit:
            break
svc = SearchService(index_dir, background=False, result_cache_size=0, time_limit=None)
for q in queries[:50]:  # warm: vocabulary, norms, the first lists
    svc.search(SearchRequest(q=q))
digest, times = hashlib.sha256(), []
for q in queries:
    t = time.perf_counter()
    r = svc.search(SearchRequest(q=q))
    times.append((time.perf_counter() - t) * 1000)
    r.pop("processing_time_ms")
    digest.update(json.dumps(r, ensure_ascii=False).encode())
svc.close()
print(json.dumps({"n": len(queries), "sha256": digest.hexdigest(), "times": times}))
"""


def run(tree: Path, index_dir: Path, queries: Path, limit: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(index_dir), str(queries), str(limit)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--old", type=Path, required=True, help="the checkout to compare against")
    ap.add_argument("--new", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--queries", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="first N queries only (0: all)")
    args = ap.parse_args(argv)
    old, new = args.old.resolve(), args.new.resolve()
    print(f"Load average {pc.loadavg()}; old {old}; new {new}.\n")
    print("| round | checkout | queries | responses sha256 | median ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    hashes, medians = set(), {"old": [], "new": []}
    for r in range(1, args.rounds + 1):
        for name, tree in (("old", old), ("new", new)):
            got = run(tree, args.index_dir.resolve(), args.queries, args.limit)
            med = statistics.median(got["times"])
            medians[name].append(med)
            hashes.add(got["sha256"])
            p95 = pc.percentile(got["times"], 95)
            print(f"| {r} | {name} | {got['n']} | {got['sha256'][:16]} | {med:.2f} | {p95:.2f} |")
    ratio = statistics.median(medians["new"]) / statistics.median(medians["old"])
    same = "yes" if len(hashes) == 1 else "NO"
    print(f"\nSame answers: {same}; new/old, median of the round medians: {ratio:.3f}.")
    print(f"Load average at the end {pc.loadavg()}.")
    return 0 if len(hashes) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
