"""Memory and open time of one search process, and what Whoosh's buffer copies cost (issue 7).

    python bench/memory.py --index-dir "$FULL"

Whoosh opens a compound segment (``*.seg``) with ``mmap`` when the storage
allows it and hands out each sub-file as a ``BufferFile``, whose
``BytesIO(memoryview)`` copies the whole sub-file (postings, term index, ...)
into the process's private heap: every gunicorn worker then held its own copy of
most of the index. Since commit cf326d1 the API opens its readers without mmap
(``IndexHome.open(mmap=False)``), so the copy is gone there and the experiment
below only changes mmapped readers.

This bench opens ``SearchService(index_dir, result_cache_size=0)`` in a fresh
process per variant and prints the open time (snapshot + vocabulary, what a
worker's first request pays) and ``VmRSS`` / ``RssAnon`` (private) / ``RssFile``
(mmapped file pages, shared between processes through the page cache) after
opening and after the 400 mix queries of ``bench/queries.py``, with their
latency:

- ``as shipped``: the engine as it is;
- ``mmap + Whoosh's copies``: readers opened with mmap (``IndexHome.open`` patched
  in the bench process), so Whoosh copies every sub-file (the engine before
  cf326d1);
- ``mmap + no-copy buffers`` (an experiment in the bench process only, not a
  change to the engine): mmap, and ``whoosh.filedb.structfile.BufferFile`` reads
  through a small file object over the memoryview instead of copying it.

It also checks that every variant gives the answers of the first one on the mix
(every field but ``processing_time_ms``; answers cut short by the time limit are
counted apart).
Figures: ``bench/out/memory-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import perf_common as pc
import queries as qmix
from perf_common import OUT, ms, summary, table

VARIANTS = ("as shipped", "mmap + Whoosh's copies", "mmap + no-copy buffers")


class MemoryViewFile(io.RawIOBase):
    """A read-only, seekable file over a memoryview, without copying it."""

    def __init__(self, buf):
        self.mv = memoryview(buf).cast("B")
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        end = len(self.mv) if n is None or n < 0 else min(len(self.mv), self.pos + n)
        out = bytes(self.mv[self.pos : end])
        self.pos = end
        return out

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: len(self.mv)}[whence]
        self.pos = base + pos
        return self.pos

    def tell(self) -> int:
        return self.pos


def no_copy_buffers() -> None:
    from whoosh.filedb import structfile

    def init(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = MemoryViewFile(buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    structfile.BufferFile.__init__ = init


def mem() -> dict:
    pid = os.getpid()
    return {f: round(pc.rss_mb(pid, f) or 0, 1) for f in ("VmRSS", "RssAnon", "RssFile")}


def force_mmap() -> None:
    """Open API readers with mmap, as the engine did before commit cf326d1."""
    import inspect

    from indexer.home import IndexHome

    original = IndexHome.open
    if "mmap" not in inspect.signature(original).parameters:
        return  # an engine from before cf326d1 always opens with mmap

    def open_with_mmap(self, *, mmap: bool = True):
        return original(self, mmap=True)

    IndexHome.open = open_with_mmap


def child(variant: str, index_dir: str, answers: str, seed: int) -> None:
    if variant.startswith("mmap"):
        force_mmap()
    if variant == "mmap + no-copy buffers":
        no_copy_buffers()
    from search_api.engine.request import SearchTimeout
    from search_api.engine.service import SearchService

    mix, _pool = qmix.load(seed)
    base = mem()
    t = time.perf_counter()
    service = SearchService(index_dir, result_cache_size=0, background=False)
    service.snapshot().release()
    open_s = time.perf_counter() - t
    opened = mem()
    times, out = [], []
    for rec in mix:
        t = time.perf_counter()
        try:
            r = service.search(qmix.request_of(rec))
        except SearchTimeout:
            r = {"timed_out": True, "stopped": True}
        times.append((time.perf_counter() - t) * 1000)
        r.pop("processing_time_ms", None)
        out.append(r)
    after = mem()
    Path(answers).write_text(json.dumps(out, ensure_ascii=False, sort_keys=True))
    print(json.dumps({"open_s": open_s, "base": base, "opened": opened, "after": after,
                      "latency": summary(times)}))  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated")
    ap.add_argument("--json-out", type=Path, help="where to write the figures")
    ap.add_argument("--quiet", action="store_true", help="no tables (with --json-out)")
    ap.add_argument("--_child", dest="child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], args.child[2], args.seed)
        return 0
    if args.index_dir is None:
        ap.error("--index-dir is required")
    m = pc.machine()
    info = pc.index_info(args.index_dir)
    qmix.load(args.seed)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if any(v not in VARIANTS for v in variants):
        ap.error(f"--variants takes {', '.join(VARIANTS)}")
    res = {}
    for i, v in enumerate(variants):
        answers = OUT / f"memory-answers-{i}.json"
        proc = subprocess.run(
            [sys.executable, __file__, "--seed", str(args.seed), "--_child", v,
             str(args.index_dir), str(answers)],
            capture_output=True, text=True, cwd=pc.ROOT,
        )  # fmt: skip
        if proc.returncode != 0:
            raise SystemExit(f"{v}: failed\n{proc.stderr[-2000:]}")
        res[v] = json.loads(proc.stdout.strip().splitlines()[-1])
        res[v]["answers"] = json.loads(answers.read_text())
    answers = [res[v].pop("answers") for v in variants]
    a = answers[0]
    timed_out = differ = 0
    for b in answers[1:]:
        for x, y in zip(a, b, strict=True):
            if x.get("timed_out") or y.get("timed_out"):
                timed_out += 1
            elif x != y:
                differ += 1
    cmd = "python bench/memory.py " + " ".join(sys.argv[1:] if argv is None else argv)
    figures = {"command": cmd, "machine": m, "index": info, "variants": res, "differ": differ,
               "timed_out": timed_out}  # fmt: skip
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, ensure_ascii=False, indent=2))
        out = args.json_out
    else:
        out = pc.write_json("memory", figures)
    if args.quiet:
        return 0
    print(f"## Memory of one search process ({m['date_utc'][:10]})\n")
    print(f"Command: `{cmd}`  ")
    print(
        f"Index: {info['dir']} ({info['generation']}, {info['doc_count']} docs, {info['mb']} MB).  "
    )
    print(pc.machine_line(m) + f" Load average at end {pc.loadavg()}.\n")
    rows = []
    for v, r in res.items():
        rows.append(
            [
                v,
                f"{r['open_s']:.2f}",
                r["opened"]["VmRSS"],
                r["opened"]["RssAnon"],
                r["opened"]["RssFile"],
                r["after"]["VmRSS"],
                r["after"]["RssAnon"],
                r["after"]["RssFile"],
                ms(r["latency"]["p50"]),
                ms(r["latency"]["p95"]),
            ]
        )
    print(
        table(
            ["variant", "open s", "opened: VmRSS MB", "RssAnon", "RssFile",
             "after the mix: VmRSS MB", "RssAnon", "RssFile", "mix p50 ms", "mix p95 ms"],
            rows,
        )
    )  # fmt: skip
    print(
        f"\n(Before opening, the process held {res[variants[0]]['base']['VmRSS']} MB. RssFile "
        "pages are shared by every worker through the page cache; RssAnon is each "
        "worker's own.)\n"
    )
    if len(variants) > 1:
        pairs = len(a) * (len(variants) - 1)
        print(
            f"Answers on the {len(a)} mix queries, each other variant against the first: "
            f"{pairs - differ - timed_out} of {pairs} identical, {differ} different, "
            f"{timed_out} cut short by the time limit in either run."
        )
    print(f"\nFigures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
