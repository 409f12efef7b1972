"""Indexing throughput against pure pyvi segmentation of the same text.

    python bench/index_throughput.py [--docs 2000] [--workers N] [--corpus both]

Reads the first articles of ../shared/corpus/unc-dantri.jsonl.gz and
baomoi-magizbox.jsonl.gz in place (streamed, never copied), then in the same
run measures:

  segment  pyvi alone, as the indexer calls it (``indexer.analysis.segment.word_spans`` on the
           title and on the body), 1 process and N processes (multiprocessing.Pool);
  tokenize ``ViTokenizer.tokenize`` on the same texts, 1 process (for reference);
  build    ``indexer.build.build()`` into a temporary index home, 1 worker and
           N workers (the articles are in memory, as for the segment rows).

With ``--updates``, ``indexer.update.update()`` (1 worker) on a fresh build of the
same articles: every view count changed (the documents are re-added from their
stored segmentation, no pyvi), every body changed (re-segmented), nothing changed.

The ratio column is end-to-end build throughput over pure segmentation with the
same number of processes; the project's target is >= 0.75. The cpu columns
count the CPU seconds of this process and its finished children during each
measurement: on a machine shared with other work, wall-clock rates with several
processes mostly measure the contention, while CPU seconds per character do not.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import shutil
import sys
import tempfile
import time
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.analysis import normalize, word_spans  # noqa: E402
from indexer.build import build  # noqa: E402
from indexer.home import IndexHome  # noqa: E402
from indexer.sources.jsonl import read_jsonl  # noqa: E402
from indexer.update import update  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
FILES = {"dantri": "unc-dantri.jsonl.gz", "baomoi": "baomoi-magizbox.jsonl.gz"}


def load(corpus: str, n: int) -> list:
    names = list(FILES) if corpus == "both" else [corpus]
    per = [n // len(names) + (1 if i < n % len(names) else 0) for i in range(len(names))]
    out = []
    for name, count in zip(names, per, strict=True):
        path = CORPUS / FILES[name]
        if not path.exists():
            sys.exit(f"missing {path}")
        articles = (a for a in read_jsonl(path) if hasattr(a, "body"))
        out.extend(itertools.islice(articles, count))
    return out


def texts_of(articles: list) -> list[str]:
    # What the indexer segments: the normalised title and body, separately.
    return [t for a in articles for t in (normalize(a.title), normalize(a.body)) if t]


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Measure:
    """Wall and CPU seconds of a block (CPU includes children reaped inside it)."""

    def __enter__(self) -> Measure:
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = _cpu() - self.cpu


def _segment(text: str) -> int:
    word_spans(text)
    return len(text)


def _warm(_: int) -> int:
    word_spans("Quận ủy Quận 5 triển khai công tác tuyên giáo")
    return 0


def pure(texts: list[str], procs: int) -> Measure:
    if procs == 1:
        _warm(0)
        with Measure() as m:
            for t in texts:
                _segment(t)
        return m
    pool = get_context("fork").Pool(procs)
    pool.map(_warm, range(procs * 4))  # pyvi loaded in every worker first
    with Measure() as m:
        for _ in pool.imap_unordered(_segment, texts, chunksize=16):
            pass
        pool.close()
        pool.join()  # reaped here, so their CPU time is counted
    return m


def tokenize(texts: list[str]) -> Measure:
    from pyvi import ViTokenizer

    ViTokenizer.tokenize("Quận ủy")
    with Measure() as m:
        for t in texts:
            ViTokenizer.tokenize(t)
    return m


def end_to_end(articles: list, workers: int) -> tuple[Measure, int]:
    tmp = Path(tempfile.mkdtemp(prefix="vnsearch-bench-"))
    try:
        with Measure() as m:
            report = build(IndexHome(tmp / "index"), articles, workers=workers)
        return m, report.chars
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def updates(articles: list) -> list[tuple[str, Measure, int]]:
    """(what, measure, documents re-added) for three kinds of ``index update``."""
    tmp = Path(tempfile.mkdtemp(prefix="vnsearch-bench-"))
    try:
        home = IndexHome(tmp / "index")
        build(home, articles, workers=1)
        views = [dataclasses.replace(a, views=(a.views or 0) + 1) for a in articles]
        edited = [dataclasses.replace(a, body=a.body + "\nCập nhật.") for a in articles]
        out = []
        for name, batch in (
            ("update (views only)", views),
            ("update (bodies edited)", edited),
            ("update (unchanged)", edited),
        ):
            with Measure() as m:
                report = update(home, batch, workers=1)
            out.append((name, m, report.indexed))
        return out
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def breakdown(articles: list) -> dict[str, float]:
    """Where one single-worker build spends its CPU time (this thread's CPU
    seconds, so other load on the machine does not count; no profiler): pyvi
    inside the analyzers, Whoosh's commit (sorting and writing postings), and
    the rest of add_document (syllables, filters, posting bookkeeping)."""
    from whoosh.writing import SegmentWriter

    from indexer.analysis import segment

    spent = {"pyvi": 0.0, "commit": 0.0}
    real_spans, real_commit = segment.word_spans, SegmentWriter.commit

    def timed_spans(text):
        t0 = time.thread_time()
        try:
            return real_spans(text)
        finally:
            spent["pyvi"] += time.thread_time() - t0

    def timed_commit(self, *a, **kw):
        t0 = time.thread_time()
        try:
            return real_commit(self, *a, **kw)
        finally:
            spent["commit"] += time.thread_time() - t0

    segment.word_spans, SegmentWriter.commit = timed_spans, timed_commit
    try:
        t0 = time.thread_time()
        end_to_end(articles, 1)
        seconds = time.thread_time() - t0
    finally:
        segment.word_spans, SegmentWriter.commit = real_spans, real_commit
    spent["rest of add_document"] = seconds - spent["pyvi"] - spent["commit"]
    spent["total"] = seconds
    return spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--corpus", choices=["both", *FILES], default="both")
    ap.add_argument("--skip-tokenize", action="store_true")
    ap.add_argument(
        "--breakdown", action="store_true", help="Also time the phases of a 1-worker build (CPU)."
    )
    ap.add_argument(
        "--updates", action="store_true", help="Also time views-only, edited and no-op updates."
    )
    args = ap.parse_args()

    articles = load(args.corpus, args.docs)
    texts = texts_of(articles)
    chars = sum(map(len, texts))
    n = len(articles)
    print(f"{n} articles ({args.corpus}), {chars:,} characters; {args.workers} workers")

    rows: list[tuple[str, int, Measure, int]] = []
    rows.append(("segment (word_spans)", 1, pure(texts, 1), chars))
    if not args.skip_tokenize:
        rows.append(("tokenize (ViTokenizer)", 1, tokenize(texts), chars))
    if args.workers > 1:
        rows.append(("segment (word_spans)", args.workers, pure(texts, args.workers), chars))
    for w in sorted({1, args.workers}):
        m, indexed_chars = end_to_end(articles, w)
        rows.append(("build()", w, m, indexed_chars))

    pure_rows = {p: (c / m.wall, c / m.cpu) for name, p, m, c in rows if name.startswith("segment")}
    print(
        f"\n{'what':<24}{'procs':>6}{'seconds':>9}{'chars/s':>10}{'docs/s':>8}"
        f"{'e2e/pure':>9}{'cpu s':>8}{'chars/cpu s':>12}{'e2e/pure cpu':>13}"
    )
    for name, p, m, c in rows:
        ratio = ratio_cpu = ""
        if name == "build()" and p in pure_rows:
            ratio = f"{(c / m.wall) / pure_rows[p][0]:.2f}"
            ratio_cpu = f"{(c / m.cpu) / pure_rows[p][1]:.2f}"
        print(
            f"{name:<24}{p:>6}{m.wall:>9.2f}{c / m.wall:>10,.0f}{n / m.wall:>8.1f}"
            f"{ratio:>9}{m.cpu:>8.1f}{c / m.cpu:>12,.0f}{ratio_cpu:>13}"
        )
    if args.updates:
        print(f"\n{'update, 1 worker':<24}{'seconds':>9}{'re-added':>9}{'docs/s':>8}{'cpu s':>8}")
        for name, m, readded in updates(articles):
            print(f"{name:<24}{m.wall:>9.2f}{readded:>9}{n / m.wall:>8.1f}{m.cpu:>8.1f}")
    if args.breakdown:
        parts = breakdown(articles)
        print("\nbuild() with 1 worker, CPU seconds by phase:")
        for name, secs in parts.items():
            print(f"  {name:<22}{secs:>8.2f} s {100 * secs / parts['total']:>5.0f}%")


if __name__ == "__main__":
    main()
