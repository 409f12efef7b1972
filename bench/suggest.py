"""`/v1/suggest` latency on titles typed character by character, in-process and over HTTP (issue 7).

    python bench/suggest.py --index-dir "$FULL"
    python bench/suggest.py --index-dir DIR --titles 150 --seed 7 --no-http

Typed texts: ``--titles`` titles sampled (seeded) from ``../shared/corpus``, read
in place; of each, 1-4 words (as in bench/queries.py), from the first word for
half of them and from a random word for the other half; half typed without
diacritics (``indexer.analysis.fold``). Every keystroke (``t``, ``th``, ``thu``,
...) is one call with ``limit=6`` (what the search box asks), as if the box did
not debounce: the worst case.

1. In-process: ``SearchService(index_dir, background=False)``; the one-off build of
   the snapshot's title index (the first suggest call of each worker pays it),
   then every keystroke through ``search_api.engine.suggest.suggest``.
2. Over HTTP (unless ``--no-http``): gunicorn as ``vnsearch serve`` runs it (2
   workers x 4 threads), each worker warmed by suggest calls (the first call per
   worker, which builds its title index, is timed separately), then one client
   sends every keystroke in order on one keep-alive connection.

Prints p50/p95/p99/max, the same by typed length, and worker RSS after suggest;
figures go to ``bench/out/suggest-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import perf_common as pc
import queries as qmix
from perf_common import OUT, log, ms, summary, table

from indexer.analysis import fold

LIMIT = 6


def typed_texts(arts, n: int, seed: int) -> list[str]:
    rng = random.Random(f"suggest:{seed}")
    pool = [(a, qmix.words_of(a.title or "")) for a in sorted(arts, key=lambda a: a.id)]
    pool = [(a, w) for a, w in pool if w]
    texts: list[str] = []
    for i, (_a, words) in enumerate(rng.sample(pool, n)):
        k = min(len(words), rng.randint(1, 4))
        start = 0 if i % 2 == 0 else rng.randrange(len(words) - k + 1)
        text = " ".join(words[start : start + k])
        texts.append(fold(text) if (i // 2) % 2 else text)
    return texts


def keystrokes(texts: list[str]) -> list[str]:
    return [t[:i] for t in texts for i in range(1, len(t) + 1) if not t[:i].endswith(" ")]


def length_class(q: str) -> str:
    n = len(q)
    return "1 char" if n == 1 else "2-3 chars" if n <= 3 else "4-9 chars" if n <= 9 else "10+ chars"


LENGTH_CLASSES = ("1 char", "2-3 chars", "4-9 chars", "10+ chars")


def by_length(calls: list[str], times: list[float]) -> dict[str, dict]:
    groups: dict[str, list[float]] = {k: [] for k in LENGTH_CLASSES}
    for q, t in zip(calls, times, strict=True):
        groups[length_class(q)].append(t)
    return {k: summary(v) for k, v in groups.items() if v}


def in_process(index_dir: Path, calls: list[str]) -> dict:
    from search_api.engine.service import SearchService
    from search_api.engine.suggest import suggest
    from search_api.engine.titles import MEMO_KEY, build_title_index

    service = SearchService(str(index_dir), background=False)
    snap = service.snapshot()
    try:
        t = time.perf_counter()
        ix = snap.memo(MEMO_KEY, build_title_index)
        build_s = time.perf_counter() - t
        log("suggest", f"title index built in {build_s:.1f} s ({len(ix.terms)} terms)")
        for q in calls[:50]:
            suggest(snap, q, LIMIT)
        times, empty = [], 0
        for q in calls:
            t = time.perf_counter()
            out = suggest(snap, q, LIMIT)
            times.append((time.perf_counter() - t) * 1000)
            empty += not out["suggestions"]
    finally:
        snap.release()
        service.close()
    return {
        "title_index_build_s": build_s,
        "terms": len(ix.terms),
        "all": summary(times),
        "by_length": by_length(calls, times),
        "empty": empty,
        "rss_mb": pc.rss_mb(__import__("os").getpid()),
        "slowest": sorted(zip(times, calls, strict=True), reverse=True)[:5],
    }


def over_http(index_dir: Path, calls: list[str]) -> dict:
    server = pc.Server(index_dir, log_path=OUT / "suggest-server.log").start()
    paths = ["/v1/suggest?" + urlencode({"q": q, "limit": LIMIT}, quote_via=quote) for q in calls]
    try:
        rss_ready = server.rss()
        # The first suggest call of each worker builds its title index: time it, on
        # fresh connections from concurrent clients so both workers get one.
        first: list[float] = []
        lock = threading.Lock()

        def one(path: str) -> None:
            t = time.perf_counter()
            pc.get_once(server.port, path, timeout=120)
            with lock:
                first.append((time.perf_counter() - t) * 1000)

        for _round in range(3):
            threads = [threading.Thread(target=one, args=(p,)) for p in paths[:8]]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        client = pc.Client(server.port)
        for p in paths[:50]:
            client.get(p)
        times, errors = [], 0
        for p in paths:
            t = time.perf_counter()
            status, _ = client.get(p)
            times.append((time.perf_counter() - t) * 1000)
            errors += status != 200
        client.close()
        rss_end = server.rss()
    finally:
        code = server.stop()
    return {
        "startup_s": server.startup_s,
        "first_calls_ms": sorted(first, reverse=True)[:4],
        "all": summary(times),
        "by_length": by_length(calls, times),
        "errors": errors,
        "rss_ready": rss_ready,
        "rss_end": rss_end,
        "exit_code": code,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, required=True, help="an index home (read-only)")
    ap.add_argument("--titles", type=int, default=150)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-http", action="store_true")
    args = ap.parse_args(argv)
    m = pc.machine()
    info = pc.index_info(args.index_dir)
    arts = pc.load_corpus()
    texts = typed_texts(arts, args.titles, args.seed)
    calls = keystrokes(texts)
    log("suggest", f"{len(calls)} keystrokes from {len(texts)} typed texts")
    result = {
        "command": "python bench/suggest.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": m,
        "index": info,
        "texts": len(texts),
        "calls": len(calls),
        "in_process": in_process(args.index_dir, calls),
    }
    if not args.no_http:
        result["http"] = over_http(args.index_dir, calls)
    result["loadavg_end"] = pc.loadavg()
    out = pc.write_json("suggest", result)

    print(f"## /v1/suggest latency ({m['date_utc'][:10]})\n")
    print(f"Command: `{result['command']}`  ")
    print(
        f"Index: {info['dir']} ({info['generation']}, {info['doc_count']} docs). "
        f"{len(calls)} keystrokes from {len(texts)} typed texts (limit={LIMIT}).  "
    )
    print(pc.machine_line(m) + f" Load average at end {result['loadavg_end']}.\n")
    ip = result["in_process"]
    rows = [["in-process, all", *_cells(ip["all"])]]
    rows += [[f"in-process, {k}", *_cells(v)] for k, v in ip["by_length"].items()]
    if "http" in result:
        h = result["http"]
        rows.append(["HTTP one client, all", *_cells(h["all"])])
        rows += [[f"HTTP, {k}", *_cells(v)] for k, v in h["by_length"].items()]
    print(table(["calls", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows))
    print(
        f"\nTitle index (built once per snapshot, by each worker's first suggest call): "
        f"{ip['title_index_build_s']:.2f} s in-process, {ip['terms']} terms; "
        f"{ip['empty']} keystrokes had no suggestion."
    )
    targets = [(ip["all"]["p95"] <= 30, f"in-process p95 {ms(ip['all']['p95'])} ms ≤ 30 ms")]
    if "http" in result:
        h = result["http"]
        print(
            f"HTTP: slowest first calls (a worker opening the index if it had not yet, then "
            f"building its title index) "
            f"{[round(x) for x in h['first_calls_ms']]} ms; worker RSS at ready "
            f"{h['rss_ready']['workers_mb']} MB, after the suggest calls "
            f"{h['rss_end']['workers_mb']} MB; errors {h['errors']}."
        )
        targets.insert(0, (h["all"]["p95"] <= 30, f"HTTP p95 {ms(h['all']['p95'])} ms ≤ 30 ms"))
    print("\nIssue 7 target (/v1/suggest p95 ≤ 30 ms):\n")
    for ok, text in targets:
        print(f"- [{'met' if ok else 'NOT met'}] {text}")
    print("\nSlowest in-process keystrokes: " + ", ".join(
        f"{q!r} {t:.1f} ms" for t, q in ip["slowest"]))  # fmt: skip
    print(f"\nFigures: {out}")
    return 0


def _cells(s: dict) -> list:
    return [s["n"], ms(s["p50"]), ms(s["p95"]), ms(s["p99"]), ms(s["max"])]


if __name__ == "__main__":
    sys.exit(main())
