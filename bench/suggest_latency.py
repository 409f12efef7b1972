"""In-process latency of search-as-you-type (``search_api.engine.suggest``) on an index.

    python bench/suggest_latency.py [INDEX_DIR] [--titles 200] [--seed 6]

Replays typing: for fixed queries and for the first words of titles sampled
from the index itself, every keystroke (``t``, ``tu``, ``tuy``, …) is one
suggest call, as the search box sends them (it debounces, so this is the worst
case). Prints the one-off build of the per-snapshot title index, then p50/p95/
p99/max over all calls. Opens the index read-only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import numpy as np
from perf_common import percentile

from search_api.engine.service import SearchService
from search_api.engine.suggest import suggest
from search_api.engine.titles import title_index

FIXED = [
    "ubnd q",
    "tuyen giao",
    "tuyên giáo",
    "hoa binh",
    "sot xuat huyet",
    "thanh pho ho chi minh",
    "giao thong",
    "bong da viet nam",
    "covid",
    "gia vang hom nay",
    "hoc sinh",
    "ha noi",
]


def keystrokes(text: str) -> list[str]:
    return [text[:i] for i in range(1, len(text) + 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("index_dir", nargs="?", default="index")
    ap.add_argument("--titles", type=int, default=200, help="titles to sample for typing")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--limit", type=int, default=6, help="suggestions per call (the box asks 6)")
    args = ap.parse_args()

    service = SearchService(args.index_dir, background=False)
    snap = service.snapshot()
    try:
        print(f"index {args.index_dir}: {snap.doc_count} documents, generation {snap.generation}")
        t = time.perf_counter()
        ix = title_index(snap)
        print(
            f"title index build (once per snapshot): {time.perf_counter() - t:.2f} s, "
            f"{len(ix.terms)} terms, {len(ix.docs)} postings"
        )
        rng = random.Random(args.seed)
        live = [int(d) for d in np.flatnonzero(snap.live)]
        texts = list(FIXED)
        for d in rng.sample(live, min(args.titles, len(live))):
            # Read directly: ix.title() would cache it and flatter the timings.
            words = (snap.stored(d).get("title") or "").split()
            if not words:
                continue
            texts.append(" ".join(words[: rng.randint(1, 4)]))
        calls = [k for text in texts for k in keystrokes(text)]
        for q in calls[:50]:  # warm the caches a real server would have warm
            suggest(snap, q, args.limit)
        times, empty = [], 0
        for q in calls:
            t = time.perf_counter()
            out = suggest(snap, q, args.limit)
            times.append((time.perf_counter() - t) * 1000)
            empty += not out["suggestions"]
        slowest = sorted(zip(times, calls, strict=True), reverse=True)[:5]
    finally:
        snap.release()
        service.close()
    print(f"{len(calls)} keystrokes from {len(texts)} typed texts ({empty} with no suggestion)")
    print(
        f"p50 {statistics.median(times):.2f} ms · p95 {percentile(times, 95):.2f} ms · "
        f"p99 {percentile(times, 99):.2f} ms · max {max(times):.2f} ms"
    )
    print("slowest:", ", ".join(f"{q!r} {ms:.1f} ms" for ms, q in slowest))


if __name__ == "__main__":
    main()
