"""Latency of the portal browse endpoints (issue 10): ``/v1/calendar``,
``/v1/documents/{id}/neighbors``, ``/v1/documents/{id}/related`` and
``sort=popular`` search, on an existing index (opened read-only).

    python bench/browse_latency.py --index-dir "$FULL"
    python bench/browse_latency.py --index-dir DIR --samples 300 --seed 10 --max-seconds 600

One process, one request at a time, no network:

- ``in-process``: ``SearchService(index_dir, result_cache_size=0, background=False)``
  called directly (``calendar``, ``neighbors``, ``related``, ``search``);
- ``http``: ``falcon.testing.TestClient`` on ``create_app`` with that service: the
  whole WSGI stack (routing, validation, ETag, JSON) without a socket.

Requests are seeded samples of the index itself, ``--samples`` documents per
endpoint and mode: for the calendar, the year and month of a dated document (so
busy months come up more often) and for ``q`` two adjacent words of a title; for
neighbors, dated documents (an undated one has none, answered at once); for
related and popular search with ``q``, any live document; for popular search with
an empty ``q``, the category of a categorized one (an empty query without a
filter is one cached answer). Each mode gets its own samples, so every measured call is
the first for its document or month (the postings of rare words are then read
from disk, as for a new visitor); the in-process call is then repeated once
(``repeat``: its postings cached). Each endpoint is first called on 10 other
samples to load what a snapshot builds once (not measured). An endpoint stops
early when it has used its share of ``--max-seconds``.

Prints a Markdown table of p50/p95/p99/max per endpoint and mode; endpoints whose
p95 misses ``--target-ms`` (and those named by ``--profile``) are profiled with
cProfile over 100 in-process calls on samples of their own (first calls again:
the measured samples' postings are cached by then) and their top functions
printed. Figures also go to ``bench/out/browse-latency-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import random
import re
import shlex
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import falcon.testing
import numpy as np
from perf_common import percentile

from search_api.app import create_app
from search_api.config import Config
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

OUT = Path(__file__).resolve().parent / "out"
N = 5  # neighbors/related per side, as the demo page asks


class Sample:
    """What one sampled document gives the requests."""

    def __init__(self, doc_id: str, stored: dict, rng: random.Random):
        self.id = doc_id
        pub = stored.get("published") or ""
        self.year_month = (int(pub[:4]), int(pub[5:7])) if re.match(r"\d{4}-\d\d", pub) else None
        words = re.findall(r"\w+", (stored.get("title") or "").lower())
        start = rng.randrange(max(1, len(words) - 1))
        self.q = " ".join(words[start : start + 2])
        self.category = stored.get("category")


def endpoints(service: SearchService) -> list[tuple[str, str, object, object]]:
    """(name, pool, in-process call, HTTP path) builders for one sample."""

    def calendar(s, q=""):
        y, m = s.year_month
        return service.calendar(SearchRequest(q=q), y, m)

    def calendar_path(s, q=""):
        y, m = s.year_month
        return "/v1/calendar?" + urlencode({"year": y, "month": m, **({"q": q} if q else {})})

    def popular(s, q="", category=None):
        cats = (category,) if category else ()
        return service.search(SearchRequest(q=q, sort="popular", categories=cats))

    def popular_path(s, q="", category=None):
        params = {"q": q, "sort": "popular", **({"category": category} if category else {})}
        return "/v1/search?" + urlencode(params)

    return [
        ("calendar", "dated", lambda s: calendar(s), lambda s: calendar_path(s)),
        (
            "calendar q=2 title words",
            "dated",
            lambda s: calendar(s, s.q),
            lambda s: calendar_path(s, s.q),
        ),
        (
            f"neighbors n={N}",
            "dated",
            lambda s: service.neighbors(s.id, N),
            lambda s: f"/v1/documents/{quote(s.id, safe='')}/neighbors?n={N}",
        ),
        (
            f"related n={N}",
            "any",
            lambda s: service.related(s.id, N),
            lambda s: f"/v1/documents/{quote(s.id, safe='')}/related?n={N}",
        ),
        (
            "search sort=popular q=2 title words",
            "any",
            lambda s: popular(s, s.q),
            lambda s: popular_path(s, s.q),
        ),
        (
            "search sort=popular q='' category",
            "category",
            lambda s: popular(s, category=s.category),
            lambda s: popular_path(s, category=s.category),
        ),
    ]


def applicable(name: str, s: Sample) -> bool:
    return "q=2" not in name or bool(s.q)


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t) * 1000


def get_ok(client: falcon.testing.TestClient, url: str) -> None:
    resp = client.simulate_get(url)
    assert resp.status_code == 200, (url, resp.status_code, resp.text[:200])


def stats(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
    }


def machine() -> str:
    cpu = ""
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = m[1].strip() if m else ""
    except OSError:
        pass
    load = os.getloadavg()
    return (
        f"{platform.machine()} {os.cpu_count()} CPUs ({cpu or 'unknown CPU'}), "
        f"Python {platform.python_version()}, load average {load[0]:.1f} at start"
    )


def profile(name: str, call, samples: list[Sample], top: int = 22) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for s in samples:
        call(s)
    prof.disable()
    out = io.StringIO()
    ps = pstats.Stats(prof, stream=out).strip_dirs()
    out.write(f"--- cProfile: {name}, {len(samples)} in-process calls, by cumulative time\n")
    ps.sort_stats("cumulative").print_stats(top)
    out.write(f"--- {name}: by own time\n")
    ps.sort_stats("tottime").print_stats(12)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", required=True, help="an index home of the corpus")
    ap.add_argument("--samples", type=int, default=300, help="sampled documents per mode")
    ap.add_argument("--seed", type=int, default=10)
    ap.add_argument("--target-ms", type=float, default=50.0, help="p95 target")
    ap.add_argument("--max-seconds", type=float, default=900.0, help="bound on the whole run")
    ap.add_argument("--no-profile", action="store_true", help="not even endpoints that miss")
    ap.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="PREFIX",
        help="also profile endpoints whose name starts with PREFIX (e.g. related)",
    )
    ap.add_argument("--json-out", type=Path)
    args = ap.parse_args()

    started = time.monotonic()
    when = datetime.now(UTC)
    host = machine()
    service = SearchService(args.index_dir, result_cache_size=0, background=False)
    t = time.perf_counter()
    snap = service.snapshot()
    open_s = time.perf_counter() - t
    try:
        generation, doc_count = snap.generation, snap.doc_count
        rng = random.Random(args.seed)
        docs = {  # code -1: no category
            "any": snap.live,
            "dated": snap.live & snap.dated,
            "category": snap.live & (snap.facet_codes["category"] >= 0),
        }
        pools = {}
        for name, mask in docs.items():
            ids = [int(d) for d in np.flatnonzero(mask)]
            # 10 warm-up, in-process, http, 100 to profile
            picked = rng.sample(ids, min(len(ids), 2 * args.samples + 110))
            pools[name] = [Sample(snap.stored(d)["id"], snap.stored(d), rng) for d in picked]
            print(f"{name}: {len(ids):,} documents, {len(picked)} sampled")
    finally:
        snap.release()
    print(
        f"index {args.index_dir}: {doc_count:,} documents, generation {generation} "
        f"(opened in {open_s:.1f} s); seed {args.seed}"
    )

    # Access logs off: one JSON line per request would swamp the output.
    logging.getLogger("vnsearch.access").setLevel(logging.WARNING)
    client = falcon.testing.TestClient(
        create_app(Config.from_env({"VNSEARCH_INDEX_DIR": args.index_dir}), service=service)
    )

    eps = endpoints(service)
    budget = args.max_seconds / len(eps)
    results: dict[str, dict] = {}
    for name, pool_name, call, path in eps:
        pool = pools[pool_name]
        k = 10 + args.samples
        warm, mine, http_samples = pool[:10], pool[10:k], pool[k : k + args.samples]
        one_off = []
        for s in warm:
            if applicable(name, s):
                one_off.append(timed(call, s))
        first, repeat, http, stopped = [], [], [], False
        t_end = time.monotonic() + budget
        for a, b in zip(mine, http_samples, strict=False):
            if time.monotonic() > t_end or time.monotonic() - started > args.max_seconds:
                stopped = True
                break
            if applicable(name, a):
                first.append(timed(call, a))
                repeat.append(timed(call, a))
            if applicable(name, b):
                http.append(timed(get_ok, client, path(b)))
        results[name] = {
            "warm-up (first calls of the snapshot)": one_off,
            "in-process": stats(first),
            "in-process repeat": stats(repeat),
            "http (TestClient)": stats(http),
            "stopped_early": stopped,
            "_raw": {"in-process": first, "http": http},
        }
        r = results[name]
        print(
            f"  {name}: in-process p95 {r['in-process'].get('p95', 0):.1f} ms, "
            f"http p95 {r['http (TestClient)'].get('p95', 0):.1f} ms"
            + (" (stopped early: time budget)" if stopped else ""),
            flush=True,
        )

    cmd = shlex.join(["python", "bench/browse_latency.py", *sys.argv[1:]])
    print()
    print(f"`{cmd}`, {when:%Y-%m-%d %H:%M} UTC, {host}")
    print(
        f"index: {doc_count:,} documents ({generation}); {args.samples} samples per endpoint "
        f"and mode, seed {args.seed}; result cache off; target p95 ≤ {args.target_ms:g} ms"
    )
    print()
    print("| endpoint | mode | n | p50 ms | p95 ms | p99 ms | max ms | p95 target |")
    print("|---|---|---|---|---|---|---|---|")
    missed = []
    for name, r in results.items():
        for mode in ("in-process", "in-process repeat", "http (TestClient)"):
            s = r[mode]
            if not s["n"]:
                continue
            ok = s["p95"] <= args.target_ms
            if not ok and mode != "in-process repeat" and name not in missed:
                missed.append(name)
            print(
                f"| {name} | {mode} | {s['n']} | {s['p50']:.1f} | {s['p95']:.1f} | "
                f"{s['p99']:.1f} | {s['max']:.1f} | {'met' if ok else 'NOT met'} |"
            )
    print()
    for name, r in results.items():
        w = r["warm-up (first calls of the snapshot)"]
        if w:
            print(f"one-off, first call of {name!r} on this snapshot: {w[0]:.0f} ms")

    profiles = {}
    wanted = [n for n, *_ in eps if n in missed or n.startswith(tuple(args.profile))]
    if wanted and not args.no_profile:
        for name, pool_name, call, _ in eps:
            if name not in wanted:
                continue
            rest = pools[pool_name][10 + 2 * args.samples :]
            chosen = [s for s in rest if applicable(name, s)][:100]
            profiles[name] = profile(name, call, chosen)
            print()
            print(profiles[name])

    OUT.mkdir(parents=True, exist_ok=True)
    out = args.json_out or OUT / f"browse-latency-{when:%Y%m%dT%H%M%SZ}.json"
    payload = {
        "command": cmd,
        "when": when.isoformat(),
        "machine": host,
        "index": {"dir": args.index_dir, "documents": doc_count, "generation": generation},
        "target_ms": args.target_ms,
        "results": results,
        "missed": missed,
        "profiles": profiles,
        "seconds": round(time.monotonic() - started, 1),
    }
    out.write_text(json.dumps(payload, ensure_ascii=False, indent=1))
    print(f"figures: {out} ({payload['seconds']} s)")
    service.close()


if __name__ == "__main__":
    main()
