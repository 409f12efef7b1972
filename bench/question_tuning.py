"""In-process evaluator for tuning vnsearch on people's questions (issue 14).

    python bench/question_tuning.py                        # dev split, accented + unaccented
    python bench/question_tuning.py --split test           # report the untuned test split
    python bench/question_tuning.py --sweep long_msm=0.2,0.3,0.4

Builds a vnsearch index of ``../shared/eval/questions-dev/passages.jsonl.gz``
once (cached under ``bench/out/questions-index/``, keyed by the passages file and
the analysis/schema sources; ``--rebuild`` forces), then runs every query of the
chosen split through ``search_api.engine.service.SearchService`` in this process, as
written (accented) and folded with ``indexer.analysis.fold`` (unaccented), and
prints MRR@10 and Recall@10 per length bucket (syllables: <=5, 6-15, 16-30,
>30) with the median and p95 time per query.

``--set NAME=VALUE`` and ``--sweep NAME=V1,V2,...`` override fields of
``search_api.engine.ranking.RankingSettings`` for the run (a tuning aid; the
shipped values are its defaults), handed to the service as its settings. The
peer comparison (FTS5, Whoosh, tantivy) is ``bench/questions.py``; this script
only measures vnsearch, fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import hashlib
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import indexer.analysis  # noqa: E402
import indexer.schema  # noqa: E402
from indexer.analysis import fold, syllables  # noqa: E402
from indexer.build import build  # noqa: E402
from indexer.home import IndexHome  # noqa: E402
from indexer.sources.article import Article  # noqa: E402
from search_api.engine.ranking import RankingSettings  # noqa: E402
from search_api.engine.request import SearchRequest  # noqa: E402
from search_api.engine.service import SearchService  # noqa: E402

DEFAULT_SET = ROOT.parent / "shared" / "eval" / "questions-dev"
OUT = HERE / "out" / "questions-index"
K = 10
BUCKETS = ((0, 5, "<=5"), (6, 15, "6-15"), (16, 30, "16-30"), (31, 10**9, ">30"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def index_home(data: Path, rebuild: bool) -> Path:
    passages = data / "passages.jsonl.gz"
    key = hashlib.sha256(
        "|".join(
            [
                sha(passages),
                *(sha(p) for p in sorted(Path(indexer.analysis.__file__).parent.glob("*.py"))),
                sha(Path(indexer.schema.__file__)),
            ]
        ).encode()
    ).hexdigest()[:16]
    home = OUT / key
    marker = home / "built.json"
    if marker.exists() and not rebuild:
        return home
    docs = []
    with gzip.open(passages, "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            docs.append(Article(id=rec["id"], title=rec["title"], body=rec["body"]))
    print(f"building {len(docs)} passages into {home}", file=sys.stderr)
    started = time.perf_counter()
    report = build(IndexHome(home), docs, workers=1)
    marker.write_text(
        json.dumps({"docs": report.indexed, "seconds": round(time.perf_counter() - started, 1)})
    )
    return home


def bucket(q: str) -> str:
    n = len(syllables(q))
    return next(name for lo, hi, name in BUCKETS if lo <= n <= hi)


def evaluate(service: SearchService, queries: list[dict], form: str) -> dict:
    rr: dict[str, list[float]] = {}
    hit: dict[str, list[int]] = {}
    times = []
    for rec in queries:
        q = rec["query"] if form == "accented" else fold(rec["query"])
        service._results.clear()
        t0 = time.perf_counter()
        out = service.search(SearchRequest(q=q, per_page=K, facets=()))
        times.append((time.perf_counter() - t0) * 1000)
        ids = [h["id"] for h in out["hits"]]
        rank = next((i + 1 for i, d in enumerate(ids) if d in rec["relevant"]), None)
        for b in ("all", bucket(rec["query"])):
            rr.setdefault(b, []).append(1.0 / rank if rank else 0.0)
            hit.setdefault(b, []).append(1 if rank else 0)
    times.sort()
    return {
        b: {
            "n": len(rr[b]),
            "mrr": statistics.fmean(rr[b]),
            "recall": statistics.fmean(hit[b]),
        }
        for b in rr
    } | {
        "_time": {
            "median_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))],
        }
    }


def parse_value(text: str):
    for cast in (int, float, json.loads):
        try:
            return cast(text)
        except ValueError:  # json.JSONDecodeError is one
            pass
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_SET, help="questions-dev folder")
    ap.add_argument("--split", default="dev", choices=("dev", "test"))
    ap.add_argument("--forms", default="accented,unaccented")
    ap.add_argument("--limit", type=int, default=0, help="first N queries only (0: all)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--sweep", action="append", default=[], metavar="NAME=V1,V2")
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args(argv)

    home = index_home(args.data, args.rebuild)
    lines = (args.data / "queries.jsonl").read_text("utf-8").splitlines()
    queries = [json.loads(line) for line in lines if line.strip()]
    queries = [q for q in queries if q["split"] == args.split]
    if args.limit:
        queries = queries[: args.limit]
    base = RankingSettings()
    for item in args.set:
        name, value = item.split("=", 1)
        base = dataclasses.replace(base, **{name: parse_value(value)})
    sweeps = [(s.split("=", 1)[0], s.split("=", 1)[1].split(",")) for s in args.sweep]
    service = SearchService(str(home), background=False, ranking=base)
    forms = args.forms.split(",")
    header = f"| setting | form | {' | '.join(b for *_, b in BUCKETS)} | all | p50 ms | p95 ms |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    names = [n for n, _ in sweeps]
    for combo in itertools.product(*[vals for _, vals in sweeps]) if sweeps else [()]:
        changes = {name: parse_value(value) for name, value in zip(names, combo, strict=True)}
        service.ranking = dataclasses.replace(base, **changes)
        label = " ".join(f"{n}={v}" for n, v in zip(names, combo, strict=True)) or "default"
        for form in forms:
            r = evaluate(service, queries, form)
            cells = [
                f"{r[b]['mrr']:.4f}/{r[b]['recall']:.4f}" if b in r else "-"
                for b in [b for *_, b in BUCKETS] + ["all"]
            ]
            t = r["_time"]
            print(
                f"| {label} | {form} | {' | '.join(cells)} | {t['median_ms']:.1f} "
                f"| {t['p95_ms']:.1f} |",
                flush=True,
            )
    service.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
