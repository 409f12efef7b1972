"""What one API host sustains, and what a replica costs, on an existing index.

    python bench/serve_throughput.py INDEX_DIR [--seconds 20] [--clients 8]
        [--workers 2] [--threads 4] [--queries 3000] [--seed 9] [--replica]

Starts gunicorn on loopback exactly as ``vnsearch serve`` does (our gunicorn
config) on INDEX_DIR, opened read-only, and sends distinct ``/v1/search``
queries from ``--clients`` concurrent connections for ``--seconds``: 2-4
contiguous words of titles sampled from the index itself, half as written and
half folded (unaccented). Every query is sent once, so neither the service's
result cache nor an HTTP cache answers any of them: this is the uncached rate.
Prints requests/s, latency percentiles seen by the clients, errors, and the
resident memory of the master and each worker at the end.

With ``--replica``: copies the index home to a temporary directory, then times
``index publish`` (signed with a throwaway key, as in production) to a temporary
distribution directory and ``index pull`` (verifying the signature) into
an empty home (both on this machine's disk), and a second pull (already live).

Results also go to bench/out/serve-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from perf_common import children, free_port, percentile, rss_mb

from indexer.analysis import fold
from indexer.home import IndexHome
from indexer.replica.publishing import publish
from indexer.replica.pulling import pull
from indexer.signing import generate, load_signing_key, load_trusted
from search_api.server import gunicorn_command

OUT = Path(__file__).parent / "out"
_WORD = re.compile(r"\w", re.UNICODE)


def sample_queries(home: IndexHome, n: int, seed: int) -> list[str]:
    ix, _ = home.open()
    rng = random.Random(seed)
    queries: list[str] = []
    seen: set[str] = set()
    try:
        with ix.searcher() as s:
            total = s.doc_count_all()
            for _ in range(n * 4):
                if len(queries) >= n:
                    break
                stored = s.stored_fields(rng.randrange(total)) or {}
                words = [w for w in (stored.get("title") or "").split() if _WORD.search(w)]
                if len(words) < 2:
                    continue
                k = rng.randint(2, min(4, len(words)))
                start = rng.randrange(len(words) - k + 1)
                q = " ".join(words[start : start + k])
                q = fold(q) if len(queries) % 2 else q
                if q.lower() not in seen:
                    seen.add(q.lower())
                    queries.append(q)
    finally:
        ix.close()
    return queries


def load(base: str, queries: list[str], clients: int, seconds: float) -> dict:
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    pending = iter(queries)
    deadline = time.monotonic() + seconds

    def client() -> None:
        with httpx.Client(base_url=base, timeout=30.0) as http:
            while time.monotonic() < deadline:
                with lock:
                    q = next(pending, None)
                if q is None:
                    return
                t = time.perf_counter()
                try:
                    r = http.get("/v1/search", params={"q": q})
                    ok = r.status_code == 200
                    problem = f"{r.status_code} {r.text[:100]}"
                except httpx.HTTPError as exc:
                    ok, problem = False, repr(exc)
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    latencies.append(ms)
                    if not ok:
                        errors.append(problem)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "error_samples": errors[:5],
        "seconds": round(elapsed, 2),
        "requests_per_second": round(len(latencies) / elapsed, 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 1),
            "p95": round(percentile(latencies, 95), 1),
            "p99": round(percentile(latencies, 99), 1),
            "max": round(max(latencies), 1),
        },
        "ran_out_of_queries": len(latencies) >= len(queries),
    }


def serve_and_load(args: argparse.Namespace, queries: list[str], log: Path) -> dict:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    argv, env, config = gunicorn_command(
        bind=f"127.0.0.1:{port}",
        workers=args.workers,
        threads=args.threads,
        index_dir=args.index_dir,
        log_level="warning",
        environ=env,
    )
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"the server did not become ready; see {log}")
            time.sleep(0.2)
        # Warm every worker (snapshot, vocabulary) with queries not measured.
        warm = load(base, queries[: 20 * args.workers], args.workers * 2, 60)
        result = load(base, queries[20 * args.workers :], args.clients, args.seconds)
        result["warmup_requests"] = warm["requests"]
        result["rss_mb"] = {
            "master": round(rss_mb(proc.pid) or 0.0, 1),
            "workers": [round(rss_mb(p) or 0.0, 1) for p in children(proc.pid)],
        }
        result["config"] = {"workers": config.workers, "threads": config.threads}
        return result
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def replica_costs(index_dir: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="vnsearch-bench-") as tmp:
        origin = IndexHome(Path(tmp) / "origin")
        shutil.copytree(index_dir, origin.path, ignore=shutil.ignore_patterns("write.lock"))
        # Signed, as in production: the costs include signing and verifying.
        key, pub = generate(Path(tmp) / "keys", "bench")
        signer, trusted = load_signing_key(key), load_trusted([pub])
        t = time.perf_counter()
        published = publish(origin, Path(tmp) / "dist", signer=signer)
        publish_s = time.perf_counter() - t
        host = IndexHome(Path(tmp) / "host")
        first = pull(host, Path(tmp) / "dist", trusted=trusted)
        again = pull(host, Path(tmp) / "dist", trusted=trusted)
        return {
            "publication": published.publication,
            "files": published.files,
            "bytes": published.bytes,
            "publish_seconds": round(publish_s, 2),
            "pull_seconds": round(first.seconds, 2),
            "pull_again_seconds": round(again.seconds, 3),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--replica", action="store_true")
    args = parser.parse_args()

    home = IndexHome(args.index_dir)
    gen = home.current_dir()
    manifest = json.loads((gen / "MANIFEST.json").read_text())
    size = sum(p.stat().st_size for p in gen.iterdir() if p.is_file())
    queries = sample_queries(home, args.queries, args.seed)
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    result = {
        "index": {"dir": str(args.index_dir), "doc_count": manifest["doc_count"], "bytes": size},
        "machine": {"nproc": os.cpu_count(), "python": sys.version.split()[0]},
        "queries_sampled": len(queries),
        "clients": args.clients,
        "serve": serve_and_load(args, queries, OUT / f"serve-{stamp}.log"),
    }
    if args.replica:
        result["replica"] = replica_costs(args.index_dir)
    (OUT / f"serve-{stamp}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
