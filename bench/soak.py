"""Soak: a steady, mixed request rate through a real gunicorn on loopback, for a
bounded time; errors, latency percentiles and worker memory at start and end.

    python bench/soak.py                                  # 10 minutes on the sample index
    python bench/soak.py --seconds 60                     # the CI-sized run
    python bench/soak.py --index-dir DIR --rate 40        # an existing index (read only)
    python bench/soak.py --build ../shared/corpus/unc-dantri.jsonl.gz   # build one first

The server is started as ``vnsearch serve`` starts it (our gunicorn config,
``--workers`` × ``--threads``), bound to 127.0.0.1 on a free port; nothing else
is ever contacted. Requests are sent open-loop: request i is due at
``start + i / rate`` whatever happened to the ones before, and its latency is
measured from that due time (so a stall shows up as latency, not as a lower
rate). The mix, from a fixed seed: 55% search (title words of the index itself,
half folded, some quoted, with filters, sorts, facets and pages 1-5), 20%
suggest (prefixes as typed), 10% document, 5% related/neighbours, 5% calendar,
5% stats/readyz.

Worker memory (VmRSS) is read after a warm-up (``--warmup`` seconds of the
same traffic), every ``--sample-every`` seconds and at the end; workers are not
recycled during the run (``--max-requests 0``) unless asked, so growth is
visible (the caches are bounded by entries: posting lists and results, 4096
each per worker, so memory rises until they are full). With a
``--max-requests`` limit the run also shows that recycling under load loses no
request. Exit code 1 when any request failed. Results go to
bench/out/soak-<UTC time>.json as well.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from serve_throughput import children, free_port, percentile, rss_mb, sample_queries  # noqa: E402

from indexer.analysis import fold  # noqa: E402
from indexer.build import build  # noqa: E402
from indexer.home import IndexHome  # noqa: E402
from indexer.sources import read_sources  # noqa: E402
from search_api.server import gunicorn_command  # noqa: E402

OUT = ROOT / "bench" / "out"
SAMPLE = [ROOT / "data" / "sample", ROOT.parent / "shared" / "samples"]


@dataclass
class Mix:
    """Deterministic request paths for one index."""

    queries: list[str]
    ids: list[str]
    years: list[str]
    rng: random.Random = field(default_factory=lambda: random.Random(8))

    def next(self) -> tuple[str, str]:
        """(kind, path with query string)."""
        r, rng = self.rng.random(), self.rng
        q = rng.choice(self.queries)
        if r < 0.55:
            params = {"q": f'"{q}"' if rng.random() < 0.1 else q}
            extra = rng.random()
            if extra < 0.15 and self.years:
                params["year"] = rng.choice(self.years)
            elif extra < 0.25:
                params["sort"] = rng.choice(["newest", "oldest", "popular"])
            elif extra < 0.35:
                params["facets"] = "year,month,day,category,site"
            if rng.random() < 0.3:
                params["page"] = str(rng.randint(2, 5))
            return "search", "/v1/search?" + urlencode(params)
        if r < 0.75:
            typed = q[: rng.randint(1, len(q))]
            return "suggest", "/v1/suggest?" + urlencode({"q": typed})
        doc = quote(rng.choice(self.ids) if self.ids else "nope", safe="")
        if r < 0.85:
            return "document", f"/v1/documents/{doc}"
        if r < 0.90:
            what = rng.choice(["related", "neighbors"])
            return what, f"/v1/documents/{doc}/{what}"
        if r < 0.95:
            year = rng.choice(self.years) if self.years else "2017"
            return "calendar", f"/v1/calendar?year={year}&month={rng.randint(1, 12)}"
        return "stats", rng.choice(["/v1/stats", "/readyz"])


def _mix(index_dir: Path, seed: int) -> Mix:
    home = IndexHome(index_dir)
    queries = sample_queries(home, 400, seed)
    queries += [fold(q) for q in queries[:50]]
    ix, _ = home.open()
    try:
        with ix.searcher() as s:
            stored = [s.stored_fields(n) or {} for n in range(min(s.doc_count_all(), 2000))]
    finally:
        ix.close()
    ids = [d["id"] for d in stored if d.get("id")]
    years = sorted({str(d["published"])[:4] for d in stored if d.get("published")})
    return Mix(queries, ids, years, random.Random(seed))


def _start(index_dir: Path, args: argparse.Namespace, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    env.pop("GUNICORN_CMD_ARGS", None)
    env.update(
        VNSEARCH_MAX_REQUESTS=str(args.max_requests),
        VNSEARCH_MAX_REQUESTS_JITTER=str(args.max_requests // 10),
        VNSEARCH_LOG_LEVEL="warning",
    )
    argv, env, _ = gunicorn_command(
        bind=f"127.0.0.1:{port}",
        workers=args.workers,
        threads=args.threads,
        index_dir=index_dir,
        environ=env,
    )
    proc = subprocess.Popen(
        argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    with httpx.Client(base_url=base, timeout=2.0) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited before it was ready")
            try:
                if http.get("/readyz").status_code == 200:
                    return proc, base
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    raise RuntimeError("gunicorn not ready after 60 s")


def _stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


def _workers(master: int) -> dict[int, float]:
    return {pid: round(rss_mb(pid), 1) for pid in children(master)}


def _sample(master: int, every: float, timeline: list, done: threading.Event) -> None:
    start = time.monotonic()
    while True:
        timeline.append([round(time.monotonic() - start), round(sum(_workers(master).values()), 1)])
        if done.wait(every):
            return


def _second_half_growth(timeline: list) -> float | None:
    if len(timeline) < 3:
        return None
    middle = timeline[len(timeline) // 2][1]
    return round(timeline[-1][1] - middle, 1)


def drive(base: str, mix: Mix, rate: float, seconds: float, concurrency: int) -> dict:
    """Send ``rate`` requests a second for ``seconds``; returns latencies and errors."""
    due: queue.Queue = queue.Queue(maxsize=concurrency * 4)
    lock = threading.Lock()
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    late = [0.0]

    def worker() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(base_url=base, timeout=30.0, limits=limits) as http:
            while (item := due.get()) is not None:
                at, kind, path = item
                try:
                    resp = http.get(path)
                    problem = None if resp.status_code == 200 else f"{resp.status_code} {path}"
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__} {path}"
                ms = (time.monotonic() - at) * 1000
                with lock:
                    latencies.setdefault(kind, []).append(ms)
                    if problem:
                        errors.append(problem)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    start = time.monotonic()
    n = 0
    while (at := start + n / rate) < start + seconds:
        now = time.monotonic()
        if at > now:
            time.sleep(at - now)
        else:
            late[0] = max(late[0], now - at)
        kind, path = mix.next()
        due.put((at, kind, path))
        n += 1
    for _ in threads:
        due.put(None)
    for t in threads:
        t.join(60)
    elapsed = time.monotonic() - start
    everything = [ms for values in latencies.values() for ms in values]
    summary = {
        "requests": len(everything),
        "seconds": round(elapsed, 1),
        "rate": round(len(everything) / elapsed, 1),
        "errors": len(errors),
        "error_examples": errors[:10],
        "max_dispatch_lag_ms": round(late[0] * 1000, 1),
    }
    summary.update(_percentiles(everything))
    summary["by_kind"] = {
        k: {"requests": len(v), **_percentiles(v)} for k, v in sorted(latencies.items())
    }
    return summary


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    return {f"p{p}_ms": round(percentile(values, p), 1) for p in (50, 95, 99)} | {
        "max_ms": round(max(values), 1)
    }


def soak(
    index_dir: Path,
    *,
    seconds: float,
    rate: float = 40,
    warmup: float = 10,
    workers: int = 2,
    threads: int = 4,
    concurrency: int = 16,
    max_requests: int = 0,
    seed: int = 8,
    sample_every: float = 30,
    log_path: Path | None = None,
) -> dict:
    """Run the soak on ``index_dir`` and return the report (see the module doc)."""
    args = argparse.Namespace(workers=workers, threads=threads, max_requests=max_requests)
    mix = _mix(index_dir, seed)
    log_path = log_path or Path(tempfile.mkstemp(prefix="vnsearch-soak-", suffix=".log")[1])
    with open(log_path, "wb") as log:
        proc, base = _start(index_dir, args, log)
        try:
            warm = drive(base, mix, rate, warmup, concurrency) if warmup else {}
            time.sleep(0.5)
            rss_start = _workers(proc.pid)
            started = datetime.now(UTC).isoformat(timespec="seconds")
            timeline, done = [], threading.Event()
            sampler = threading.Thread(
                target=_sample, args=(proc.pid, sample_every, timeline, done), daemon=True
            )
            sampler.start()
            report = drive(base, mix, rate, seconds, concurrency)
            done.set()
            sampler.join(5)
            rss_end = _workers(proc.pid)
        finally:
            code = _stop(proc)
    text = log_path.read_text("utf-8", "replace")
    report.update(
        started_at=started,
        index_dir=str(index_dir),
        target_rate=rate,
        workers=workers,
        threads=threads,
        concurrency=concurrency,
        max_requests=max_requests,
        warmup={k: warm.get(k, 0) for k in ("requests", "errors")} | {"seconds": warmup},
        worker_rss_mb_start=rss_start,
        worker_rss_mb_end=rss_end,
        rss_growth_mb=round(sum(rss_end.values()) - sum(rss_start.values()), 1),
        # [seconds into the run, total RSS of the workers in MB]
        rss_timeline_mb=timeline,
        rss_growth_second_half_mb=_second_half_growth(timeline),
        worker_pids_unchanged=set(rss_start) == set(rss_end),
        server_exit_code=code,
        tracebacks_in_log=text.count("Traceback"),
        log=str(log_path),
    )
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=600, help="length of the soak (600)")
    ap.add_argument("--rate", type=float, default=40, help="requests per second (40)")
    ap.add_argument("--warmup", type=float, default=10, help="seconds before memory is read")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=16, help="client connections")
    ap.add_argument("--max-requests", type=int, default=0, help="recycle workers (0: never)")
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--sample-every", type=float, default=30, help="seconds between RSS reads")
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--index-dir", type=Path, help="serve this index (read only)")
    where.add_argument("--build", nargs="+", type=Path, help="build these sources first")
    args = ap.parse_args()

    OUT.mkdir(exist_ok=True)
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
    with tempfile.TemporaryDirectory(prefix="vnsearch-soak-") as tmp:
        index_dir = args.index_dir
        if index_dir is None:
            index_dir = Path(tmp) / "index"
            sources = args.build or [p for p in SAMPLE if p.exists()]
            t = time.monotonic()
            built = build(IndexHome(index_dir), read_sources(sources), workers=2)
            print(f"built {built.indexed} documents in {time.monotonic() - t:.0f} s", flush=True)
        report = soak(
            index_dir,
            seconds=args.seconds,
            rate=args.rate,
            warmup=args.warmup,
            workers=args.workers,
            threads=args.threads,
            concurrency=args.concurrency,
            max_requests=args.max_requests,
            seed=args.seed,
            sample_every=args.sample_every,
            log_path=OUT / f"soak-{stamp}.log",
        )
        report["command"] = " ".join(["python", "bench/soak.py", *sys.argv[1:]])
        out = OUT / f"soak-{stamp}.json"
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    shown = {k: v for k, v in report.items() if k not in ("by_kind", "rss_timeline_mb")}
    print(json.dumps(shown, indent=2))
    print("worker RSS (s, MB): " + " ".join(f"{t}:{mb:.0f}" for t, mb in report["rss_timeline_mb"]))
    for kind, s in report["by_kind"].items():
        print(f"  {kind:9} {s['requests']:>7}  p50 {s['p50_ms']:>7} ms  p95 {s['p95_ms']:>7} ms"
              f"  p99 {s['p99_ms']:>7} ms  max {s['max_ms']:>7} ms")  # fmt: skip
    print(f"results: {out}")
    return 1 if report["errors"] or report["warmup"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
