"""Postings arrays against Whoosh's blocks, side by side in one process (issue 7).

    python bench/postings_arrays.py --index-dir DIR [--write] [--pool 1100] [--lists 1500]

Opens the live generation of DIR twice: once as the API does (postings arrays
used where a segment has them) and once with them ignored (every list decoded
from Whoosh's W3 blocks), then

1. reads a seeded sample of the long lists held in the arrays (postings, and
   positions of the positional fields for 20 and 500 random candidate
   documents) through both and checks that they are equal;
2. runs the query mix of bench/queries.py (400 queries) through both services,
   interleaved (A B, then B A) so that the shared machine's noise hits both:
   first call (this query's lists not yet cached) and warm (again);
3. compares the full responses of the mix and ``--pool`` pool queries
   (everything but the processing time).

``--write`` first writes the arrays files the generation lacks (what the next
committing ``vnsearch index update`` would do); without it, an index without
them is reported and nothing is measured.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import perf_common as pc
import queries as qmix
from whoosh.index import TOC

import search_api.engine.snapshot as snapshot_mod
from indexer.home import IndexHome
from indexer.postings_arrays import POSITION_FIELDS, write_missing
from search_api.engine.service import SearchService
from search_api.engine.snapshot import Snapshot


def _snapshot(home: IndexHome, arrays: bool) -> Snapshot:
    ix, manifest = home.open(mmap=False)  # as the API opens it
    snap = Snapshot(ix, manifest, cache_bytes=0)
    if not arrays:
        snap._arrays = [None] * len(snap._arrays)
    return snap


def _service(index_dir: Path, arrays: bool) -> SearchService:
    real = snapshot_mod.open_for
    snapshot_mod.open_for = real if arrays else (lambda *a: None)
    try:
        svc = SearchService(str(index_dir), result_cache_size=0, background=False)
        svc.snapshot().release()
    finally:
        snapshot_mod.open_for = real
    return svc


def lists(home: IndexHome, n: int, seed: int) -> list[list]:
    fast, slow = _snapshot(home, True), _snapshot(home, False)
    try:
        held = sorted(
            {(f, t) for a in fast._arrays if a for f, table in a._fields.items() for t in table}
        )
        rng = random.Random(seed)
        sample = rng.sample(held, min(n, len(held)))
        nprng = np.random.default_rng(seed)
        t = {"postings": [0.0, 0.0, 0], "positions": [0.0, 0.0, 0]}
        for field, term in sample:
            if field in POSITION_FIELDS:
                for k in (20, 500):
                    targets = np.sort(nprng.choice(fast.size, k, replace=False)).astype(np.int64)
                    t0 = time.perf_counter()
                    a = fast.positions(field, term, targets)
                    t1 = time.perf_counter()
                    b = slow.positions(field, term, targets)
                    t2 = time.perf_counter()
                    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), term
                    row = t["positions"]
                    row[0], row[1], row[2] = row[0] + t1 - t0, row[1] + t2 - t1, row[2] + 1
            else:
                t0 = time.perf_counter()
                a = fast._read_postings(field, term)
                t1 = time.perf_counter()
                b = slow._read_postings(field, term)
                t2 = time.perf_counter()
                assert np.array_equal(a.ids, b.ids) and np.array_equal(a.tf, b.tf), term
                row = t["postings"]
                row[0], row[1], row[2] = row[0] + t1 - t0, row[1] + t2 - t1, row[2] + 1
        rows = []
        for kind, (arr, whoosh, count) in t.items():
            if count:
                rows.append(
                    [
                        kind,
                        count,
                        pc.ms(1000 * arr / count),
                        pc.ms(1000 * whoosh / count),
                        pc.ratio(whoosh, arr),
                    ]
                )
        print(f"{len(held)} long lists held in arrays; {len(sample)} read both ways, all equal\n")
        return rows
    finally:
        fast._close()
        slow._close()


def mix_latency(index_dir: Path, mix: list[dict], warm: list[dict]) -> list[list]:
    services = {"arrays": _service(index_dir, True), "whoosh blocks": _service(index_dir, False)}
    try:
        for svc in services.values():
            for rec in warm:
                svc.search(qmix.request_of(rec))
        times = {name: {"first": [], "warm": []} for name in services}
        for i, rec in enumerate(mix):
            order = list(services.items())
            for name, svc in order if i % 2 else order[::-1]:
                req = qmix.request_of(rec)
                for call in ("first", "warm"):
                    t0 = time.perf_counter()
                    svc.search(req)
                    times[name][call].append(1000 * (time.perf_counter() - t0))
        rows = []
        for call in ("first", "warm"):
            for name in services:
                v = times[name][call]
                rows.append(
                    [
                        f"{call} call, {name}",
                        len(v),
                        pc.ms(pc.percentile(v, 50)),
                        pc.ms(pc.percentile(v, 95)),
                        pc.ms(statistics.mean(v)),
                    ]
                )
        return rows
    finally:
        for svc in services.values():
            svc.close()


def identical(index_dir: Path, queries: list[dict]) -> tuple[int, int]:
    a, b = _service(index_dir, True), _service(index_dir, False)
    try:
        different = 0
        for rec in queries:
            ra, rb = a.search(qmix.request_of(rec)), b.search(qmix.request_of(rec))
            for r in (ra, rb):
                r.pop("processing_time_ms", None)
            different += ra != rb
        return len(queries), different
    finally:
        a.close()
        b.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--write", action="store_true", help="write missing arrays files first")
    ap.add_argument("--pool", type=int, default=1100, help="pool queries compared too")
    ap.add_argument("--lists", type=int, default=1500, help="long lists read both ways")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    home = IndexHome(args.index_dir)
    gen = home.current_dir()
    ix, _ = home.open()
    try:
        segments = TOC.read(ix.storage, "MAIN").segments
        missing = [s for s in segments if not (gen / f"{s.segment_id()}.vnp").exists()]
        if missing and args.write:
            t0 = time.perf_counter()
            write_missing(ix.storage, ix.schema, segments, gen)
            print(f"wrote {len(missing)} arrays files in {time.perf_counter() - t0:.1f} s")
        elif missing:
            sys.exit(f"{len(missing)} of {len(segments)} segments have no arrays file (--write)")
    finally:
        ix.close()
    size = sum(p.stat().st_size for p in gen.glob("*.vnp"))
    seg_size = sum(p.stat().st_size for p in gen.glob("*.seg"))
    print(
        f"# Postings arrays vs Whoosh blocks ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})"
    )
    print(
        f"\nIndex {args.index_dir} ({home.current_dir().name}), {len(segments)} segments: "
        f"{seg_size / 1e6:.0f} MB of segments, {size / 1e6:.0f} MB of arrays. "
        f"Load average at start {pc.loadavg()}.\n"
    )
    print(
        pc.table(
            ["lists read", "n", "arrays ms", "whoosh ms", "whoosh ÷ arrays"],
            lists(home, args.lists, args.seed),
        )
    )
    mix, pool = qmix.load(args.seed)
    rows = mix_latency(args.index_dir, mix, pool[:200])
    print("\nThe query mix, interleaved (highlights, default facets, no result cache), ms:\n")
    print(pc.table(["", "n", "p50", "p95", "mean"], rows))
    n, different = identical(args.index_dir, mix + pool[200 : 200 + args.pool])
    print(f"\nFull responses compared: {n} queries, {different} different.")
    print(f"Load average at end {pc.loadavg()}.")


if __name__ == "__main__":
    main()
