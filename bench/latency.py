"""In-process query latency of vnsearch against tantivy and SQLite FTS5 (issue 7).

    python bench/latency.py --index-dir "$FULL"      # an existing full index, read-only
    python bench/latency.py                               # builds bench/out/full-index if missing
    python bench/latency.py --index-dir DIR --docs 10000  # an index of the first 10,000 docs

One process, one query at a time, on the fixed query mix of ``bench/queries.py``
(400 queries, seed 7). The peers (``bench/peers.py``) index the same articles in
this run (``--docs``: ``all``, or the first N of the seeded shuffle used by
``bench/growth.py``; it must be what the vnsearch index holds).

vnsearch runs through ``SearchService(index_dir, result_cache_size=0,
background=False)`` (no result cache) as three variants:

- ``full``: top 10 with highlights (title + snippet) and the default facets
  (year, month, category), what ``/v1/search`` does by default;
- ``no facets``: ``facets=()``;
- ``bare``: ``facets=()`` and highlighting replaced by a no-op in this process
  (``search_api.engine.response.highlight``/``snippet`` patched), so the difference is
  what highlights cost. Stored fields of the 10 hits are still read.

Each query is first run once as ``full`` ("first call": the snapshot is warm from
``--warm`` pool queries, but this query's rarer postings are not yet in the
postings cache, as for a new query on a server), then each variant once more in
a rotating order ("warm": its postings cached). The peers get the same text
(quoted parts as phrases, ``phrases=True``); they have no filters, facets or
highlights, so filtered queries run unfiltered there: compare them with ``bare``.

Prints per system the median (p50) and p95 of the first and the warm call and
the ratio of vnsearch to each peer; vnsearch by query class and by number of
matching documents; the cost of facets and highlights; the slowest queries.
Every figure goes to ``bench/out/latency-<UTC time>.json`` (or ``--json-out``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

import perf_common as pc
import queries as qmix
from perf_common import log, ms, ratio, summary, table

VARIANTS = ("full", "no facets", "bare")
PEERS = ("tantivy", "tantivy-fold", "sqlite-fts5")
HIT_BUCKETS = ((0, 0), (1, 99), (100, 999), (1000, 9999), (10000, 10**9))


def hits_bucket(n: int | None) -> str:
    if n is None:
        return "stopped at the time limit"
    for lo, hi in HIT_BUCKETS:
        if lo <= n <= hi:
            return f"{lo}" if lo == hi else (f"{lo}+" if hi == 10**9 else f"{lo}-{hi}")
    return "?"


@contextlib.contextmanager
def no_highlights():
    import search_api.engine.response as s

    saved = s.highlight, s.snippet
    s.highlight = lambda text, folded: ""
    s.snippet = lambda text, folded, *a, **k: ""
    try:
        yield
    finally:
        s.highlight, s.snippet = saved


def search_or_timeout(service, req) -> dict | None:
    """The answer, or None when the service stopped the query at its time limit
    (``SearchTimeout``, a 503 ``search_timeout`` over HTTP)."""
    from search_api.engine.request import SearchTimeout

    try:
        return service.search(req)
    except SearchTimeout:
        return None


def ensure_index(index_dir: Path | None, docs, workers: int) -> tuple[Path, dict, bool]:
    """The index to measure: ``index_dir`` as given (read-only), or the cached
    bench/out/full-index, built now if missing. Returns (dir, info, built_now)."""
    if index_dir is not None:
        return index_dir, pc.index_info(index_dir), False
    home = pc.OUT / "full-index"
    if (home / "CURRENT").is_file():
        return home, pc.index_info(home), False
    from indexer.build import build
    from indexer.home import IndexHome

    log(
        "latency", f"building {len(docs)} docs into {home} (about 15 min on a quiet 2-core machine)"
    )
    t0 = time.perf_counter()
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 2000 == 0:
            log("latency", f"indexed {done[0]}/{len(docs)} ({time.perf_counter() - t0:.0f} s)")

    build(IndexHome(home), docs, workers=workers, progress=progress)
    return home, pc.index_info(home), True


def run_vnsearch(index_dir: Path, mix: list[dict], warm: list[dict]) -> dict:
    from search_api.engine.service import SearchService

    rss_before = pc.rss_mb(_pid())
    t0 = time.perf_counter()
    service = SearchService(str(index_dir), result_cache_size=0, background=False)
    service.snapshot().release()  # opens the generation and warms the vocabulary
    open_s = time.perf_counter() - t0
    log("latency", f"vnsearch: index opened in {open_s:.1f} s; warming with {len(warm)} queries")
    for rec in warm:
        search_or_timeout(service, qmix.request_of(rec))
    facets = {"full": None, "no facets": (), "bare": ()}
    per_query = []
    started = time.perf_counter()
    for i, rec in enumerate(mix):
        row = {"qid": rec["qid"], "cls": rec["cls"]}
        t = time.perf_counter()
        out = search_or_timeout(service, qmix.request_of(rec))
        row["first"] = (time.perf_counter() - t) * 1000
        row["timeout"] = out is None
        row["total_hits"] = None if out is None else out["total_hits"]
        row["timed_out"] = bool(out and out.get("timed_out"))
        order = VARIANTS[i % 3 :] + VARIANTS[: i % 3]
        for v in order:
            req = qmix.request_of(rec, facets=facets[v])
            with no_highlights() if v == "bare" else contextlib.nullcontext():
                t = time.perf_counter()
                if search_or_timeout(service, req) is None:
                    row["timeout"] = True
                row[v] = (time.perf_counter() - t) * 1000
        per_query.append(row)
        if (i + 1) % 100 == 0:
            log("latency", f"vnsearch: {i + 1}/{len(mix)} ({time.perf_counter() - started:.0f} s)")
    service.close()
    return {
        "open_s": open_s,
        "rss_before_mb": rss_before,
        "rss_mb": pc.rss_mb(_pid()),
        "per_query": per_query,
    }


def _pid() -> int:
    import os

    return os.getpid()


def make_peer(name: str):
    import peers

    if name == "sqlite-fts5":
        return peers.Fts5Peer(phrases=True)
    if name == "whoosh-plain":
        return peers.WhooshPeer(pc.OUT / "peer-indexes" / "latency-whoosh-plain", procs=2)
    return peers.TantivyPeer(fold=name == "tantivy-fold", phrases=True)


def run_peer(name: str, docs, mix: list[dict]) -> dict:
    system = make_peer(name)
    log("latency", f"{name}: building {len(docs)} docs")
    t0 = time.perf_counter()
    system.build(docs)
    build_s = time.perf_counter() - t0
    log("latency", f"{name}: built in {build_s:.0f} s; running {len(mix)} queries")
    per_query = []
    errors = 0
    for rec in mix:
        row = {"qid": rec["qid"]}
        for call in ("first", "warm"):
            t = time.perf_counter()
            try:
                ids = system.search(rec["q"], 10)
            except Exception:  # a syntax error counts; it is timed like an answer
                ids = None
                errors += call == "first"
            row[call] = (time.perf_counter() - t) * 1000
            row["hits"] = len(ids) if ids is not None else None
        per_query.append(row)
    system.close()
    return {"build_s": build_s, "errors": errors, "per_query": per_query}


def by_class_rows(mix: list[dict], vn: list[dict]) -> list[list]:
    dims = [
        lambda r: f"{r['words']} word{'s' if r['words'] > 1 else ''}",
        lambda r: "unaccented" if r["unaccented"] else "accented",
        lambda r: "quoted phrase" if r["phrase"] else "no phrase",
        lambda r: "with filter" if r["filter_kind"] else "no filter",
    ]
    rows = []
    for fn in dims:
        groups: dict[str, list[dict]] = {}
        for rec, row in zip(mix, vn, strict=True):
            groups.setdefault(fn(rec), []).append(row)
        for label in sorted(groups):
            rows.append(_class_row(label, groups[label]))
    buckets: dict[str, list[dict]] = {}
    for row in vn:
        buckets.setdefault(hits_bucket(row["total_hits"]), []).append(row)
    order = [hits_bucket(lo) for lo, _ in HIT_BUCKETS] + [hits_bucket(None)]
    for label in order:
        if label in buckets:
            name = label if label == hits_bucket(None) else f"{label} matching docs"
            rows.append(_class_row(name, buckets[label]))
    return rows


def _class_row(label: str, rows: list[dict]) -> list:
    first = summary([r["first"] for r in rows])
    full = summary([r["full"] for r in rows])
    bare = summary([r["bare"] for r in rows])
    hits = sorted(r["total_hits"] for r in rows if r["total_hits"] is not None)
    return [
        label,
        len(rows),
        hits[len(hits) // 2] if hits else "-",
        ms(first["p50"]),
        ms(first["p95"]),
        ms(full["p50"]),
        ms(full["p95"]),
        ms(bare["p50"]),
        ms(bare["p95"]),
    ]


def median_diff(rows: list[dict], a: str, b: str) -> float:
    return summary([r[a] - r[b] for r in rows])["p50"]


def report(result: dict, mix: list[dict]) -> None:
    m, idx = result["machine"], result["index"]
    vs = result["vnsearch"]
    vn = vs["per_query"]
    print(f"## In-process latency: vnsearch vs peers ({m['date_utc'][:10]})\n")
    print(f"Command: `{result['command']}`  ")
    print(
        f"Index: {idx['dir']} ({idx['generation']}, {idx['doc_count']} docs, {idx['mb']} MB"
        f"{', built in this run' if result['built_now'] else ''}); peers indexed the same "
        f"{result['docs']} articles (`--docs {result['docs_spec']}`) in this run.  "
    )
    print(
        f"Queries: the mix of bench/queries.py (seed {result['seed']}, {len(mix)} queries; "
        f"{result['warm']} pool queries to warm up first).  "
    )
    print(pc.machine_line(m) + f" Load average at end {result['loadavg_end']}.\n")
    rows = []
    s_first = summary([r["first"] for r in vn])
    rows.append(["vnsearch full, first call", ms(s_first["p50"]), ms(s_first["p95"]), "", ""])
    for v in VARIANTS:
        s = summary([r[v] for r in vn])
        rows.append([f"vnsearch {v}, warm", "", "", ms(s["p50"]), ms(s["p95"])])
    for name, peer in result["peers"].items():
        f = summary([r["first"] for r in peer["per_query"]])
        w = summary([r["warm"] for r in peer["per_query"]])
        rows.append([name, ms(f["p50"]), ms(f["p95"]), ms(w["p50"]), ms(w["p95"])])
    print("Latency per query, ms (p50 = median):\n")
    print(table(["system", "first p50", "first p95", "warm p50", "warm p95"], rows))
    if result["peers"]:
        print(
            "\nvnsearch ÷ peer: vnsearch full (first call) ÷ the peer's first call, and "
            "vnsearch bare (warm) ÷ the peer's warm call:\n"
        )
        rows = []
        bare = summary([r["bare"] for r in vn])
        for name, peer in result["peers"].items():
            f = summary([r["first"] for r in peer["per_query"]])
            w = summary([r["warm"] for r in peer["per_query"]])
            rows.append(
                [
                    name,
                    f"{ms(f['p50'])} / {ms(f['p95'])}",
                    f"{ratio(s_first['p50'], f['p50'])} / {ratio(s_first['p95'], f['p95'])}",
                    f"{ratio(bare['p50'], w['p50'])} / {ratio(bare['p95'], w['p95'])}",
                    f"{peer['build_s']:.1f}",
                    peer["errors"],
                ]
            )
        print(
            table(
                [
                    "peer",
                    "peer first p50 / p95 ms",
                    "vnsearch full (first) ÷ peer, p50 / p95",
                    "vnsearch bare (warm) ÷ peer (warm), p50 / p95",
                    "peer build s",
                    "errors",
                ],
                rows,
            )
        )
    print(
        f"\nWhat facets and highlights cost (median over queries of the per-query "
        f"difference, warm): default facets {ms(median_diff(vn, 'full', 'no facets'))} ms; "
        f"highlights of 10 hits {ms(median_diff(vn, 'no facets', 'bare'))} ms. "
        f"vnsearch opened the index in {vs['open_s']:.1f} s (memory: bench/memory.py). "
        f"Queries stopped by the service's time limit (SearchTimeout, a 503 over HTTP; "
        f"timed as they ran): {sum(1 for r in vn if r.get('timeout'))}. "
        f"Queries with no match: "
        f"{sum(1 for r in vn if r['total_hits'] == 0)}; timed out (partial): "
        f"{sum(1 for r in vn if r['timed_out'])}.\n"
    )
    print("vnsearch by query class (ms; `hits` = median matching documents):\n")
    print(
        table(
            ["class", "n", "hits", "first p50", "first p95", "full p50", "full p95",
             "bare p50", "bare p95"],
            by_class_rows(mix, vn),
        )
    )  # fmt: skip
    print("\nSlowest 10 queries (first call):\n")
    slow = sorted(zip(vn, mix, strict=True), key=lambda x: -x[0]["first"])[:10]
    print(
        table(
            ["first ms", "full ms", "bare ms", "class", "matching docs", "request"],
            [
                [ms(r["first"]), ms(r["full"]), ms(r["bare"]), rec["cls"], r["total_hits"],
                 f"`{qmix.path_of(rec)[len('/v1/search?'):]}`"]
                for r, rec in slow
            ],
        )
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, help="an existing index home (opened read-only)")
    ap.add_argument(
        "--docs", default="all", help="doc set the index holds: all, or N (default all)"
    )
    ap.add_argument("--seed", type=int, default=7, help="query mix seed (bench/queries.py)")
    ap.add_argument("--warm", type=int, default=200, help="pool queries to warm vnsearch first")
    ap.add_argument(
        "--systems",
        default="vnsearch," + ",".join(PEERS),
        help="comma-separated (vnsearch, tantivy, tantivy-fold, sqlite-fts5, whoosh-plain)",
    )
    ap.add_argument("--limit", type=int, help="only the first N mix queries (smoke tests)")
    ap.add_argument("--workers", type=int, default=2, help="processes when building the index")
    ap.add_argument("--json-out", type=Path, help="where to write the figures")
    ap.add_argument("--quiet", action="store_true", help="no tables (with --json-out)")
    args = ap.parse_args(argv)
    import peers

    names = [x.strip() for x in args.systems.split(",") if x.strip()]
    if not peers.HAVE_TANTIVY:
        skipped = [n for n in names if n.startswith("tantivy")]
        if skipped:
            log("latency", f"tantivy not importable: {skipped} skipped (see perf_common.py)")
        names = [n for n in names if not n.startswith("tantivy")]
    m = pc.machine()
    log("latency", "reading the corpus")
    arts = pc.load_corpus()
    docs = pc.docset(args.docs, arts)
    mix, pool = qmix.load(args.seed, arts=arts)
    mix = mix[: args.limit] if args.limit else mix
    index_dir, info, built = ensure_index(args.index_dir, docs, args.workers)
    if info["doc_count"] != len(docs):
        log(
            "latency",
            f"warning: the index holds {info['doc_count']} docs, the doc set {len(docs)}: "
            "peers do not index the same articles",
        )
    result = {
        "command": "python bench/latency.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": m,
        "index": info,
        "built_now": built,
        "docs": len(docs),
        "docs_spec": args.docs,
        "seed": args.seed,
        "warm": args.warm,
        "peers": {},
    }
    warm = pool[-args.warm :] if args.warm else []  # the pool's tail: http_bench uses its head
    if "vnsearch" in names:
        result["vnsearch"] = run_vnsearch(index_dir, mix, warm)
    for name in names:
        if name != "vnsearch":
            result["peers"][name] = run_peer(name, docs, mix)
    result["loadavg_end"] = pc.loadavg()
    out = args.json_out or None
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    else:
        out = pc.write_json("latency", result)
    if not args.quiet and "vnsearch" in result:
        report(result, mix)
        print(f"\nFigures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
