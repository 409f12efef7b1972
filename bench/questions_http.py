"""Latency of whole questions over HTTP through a real gunicorn, per length bucket (issue 14).

    python bench/questions_http.py --index-dir DIR
    python bench/questions_http.py --index-dir DIR --forms accented --questions 100 --limit 200
    python bench/questions_http.py --index-dir DIR --env VNSEARCH_MAX_QUERY_WORDS=400

Serves ``--index-dir`` (read-only; e.g. an index of the whole ``../shared/corpus``)
with gunicorn as ``vnsearch serve`` does (``bench/perf_common.Server``: our
gunicorn config, 2 workers × 4 threads unless ``--workers``/``--threads``, no
``VNSEARCH_*`` variable inherited; ``--env`` sets one for the run), warms it with
``--warm`` pool queries of ``bench/queries.py`` (4 at a time, not measured), then
sends with one client, sequentially, on one keep-alive connection (the
one-client measurement of ``bench/http_bench.py``, whose helpers it reuses):

- ``short``: the fixed mix of ``bench/queries.py`` (seed 7: 400 queries of 1-4
  title words, some quoted, some filtered, half unaccented, default facets), the
  very requests of http_bench's one-client row, so the two can be compared;
- ``questions``: the questions of ``../shared/eval/questions-dev/queries.jsonl``
  (both splits; the questions only, none of its passages are needed) as a portal
  visitor pastes them (``GET /v1/search?q=``: highlights and default facets),
  in each ``--forms`` (as written, and folded by ``indexer.analysis.fold``):
  every question of 16-80 syllables (the issue's long-question load; ``--limit``
  for a seeded sample), the few of at most 5, and a seeded sample of
  ``--questions`` (default 400) of those of 6-15.

Requests are sent in one seeded shuffled order, short and long interleaved, so a
change of load on the shared machine touches every bucket alike. Every request
is distinct (no result-cache hit). Prints p50/p95/p99 per bucket (client-side
ms, and the ``processing_time_ms`` the service reports), the statuses that were
not 200 (a 400 ``query_too_long`` is a refused question: it is counted, and the
bucket's latency figures cover only the answered ones), and the issue's target:
questions of 16-80 syllables answered (200) with p95 ≤ 150 ms. Figures go to
``bench/out/questions-http-<UTC>.json``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlencode

import http_bench
import perf_common as pc
import queries as qmix
import question_eval as qe

from indexer.analysis import fold

LONG = (16, 80)  # syllables: the long-question load
TARGET_P95_MS = 150.0


def log(msg: str) -> None:
    pc.log("questions-http", msg)


def question_requests(
    eval_dir: Path, forms: tuple[str, ...], shorter: int, seed: int, limit: int | None = None
) -> list[dict]:
    """Every question of LONG syllables (a seeded sample of ``limit`` when given),
    every one of at most 5 and a seeded sample of ``shorter`` of 6-15, in each form."""
    qs = qe.load_questions(eval_dir, qe.SPLITS)
    long_ = [q for q in qs if LONG[0] <= q["syllables"] <= LONG[1]]
    tiny = [q for q in qs if q["syllables"] <= 5]
    middle = [q for q in qs if 5 < q["syllables"] < LONG[0]]
    rng = random.Random(f"questions:{seed}")
    if limit is not None:
        long_ = rng.sample(long_, min(limit, len(long_)))
    picked = long_ + tiny + rng.sample(middle, min(shorter, len(middle)))
    out = []
    for q in sorted(picked, key=lambda q: q["id"]):
        for form in forms:
            text = q["query"] if form == "accented" else fold(q["query"])
            out.append(
                {
                    "kind": "question",
                    "id": q["id"],
                    "form": form,
                    "q": text,
                    "syllables": q["syllables"],
                    "bucket": q["bucket"],
                    "long": LONG[0] <= q["syllables"] <= LONG[1],
                    "path": "/v1/search?" + urlencode({"q": text}, quote_via=quote),
                }
            )
    return out


def short_requests(seed: int) -> list[dict]:
    mix, _pool = qmix.load(seed)
    return [
        {
            "kind": "short",
            "id": f"mix-{r['qid']}",
            "form": "unaccented" if r["unaccented"] else "accented",
            "q": r["q"],
            "syllables": qe.syllable_count(r["q"]),
            "bucket": "short",
            "long": False,
            "path": qmix.path_of(r),
        }
        for r in mix
    ]


ROWS = (
    ("short", "short queries: the http_bench mix (1-4 title words)"),
    *((b, f"questions {b} syllables") for b in qe.BUCKET_LABELS),
    ("long", f"questions {LONG[0]}-{LONG[1]} syllables (the issue's load)"),
    ("questions", "all questions sent"),
)


def row_members(label: str, rec: dict) -> bool:
    if label == "short":
        return rec["kind"] == "short"
    if label == "long":
        return rec["long"]
    if label == "questions":
        return rec["kind"] == "question"
    return rec["kind"] == "question" and rec["bucket"] == label


def figures(sent: list[dict], forms: tuple[str, ...]) -> list[dict]:
    rows = []
    for label, text in ROWS:
        for form in (*forms, "both") if len(forms) > 1 else forms:
            recs = [r for r in sent if row_members(label, r) and form in ("both", r["form"])]
            if not recs:
                continue
            ok = [r for r in recs if r["status"] == 200]
            refused = Counter(f"{r['status']} {r['code']}" for r in recs if r["status"] != 200)
            rows.append(
                {
                    "row": label,
                    "text": text,
                    "form": form,
                    "sent": len(recs),
                    "answered": len(ok),
                    "not_200": dict(sorted(refused.items())),
                    "client_ms": pc.summary([r["ms"] for r in ok]),
                    "server_ms": pc.summary([r["server_ms"] for r in ok]),
                }
            )
    return rows


def report(result: dict) -> None:
    m, idx = result["machine"], result["index"]
    settings = (
        "; settings: " + ", ".join(f"{k}={v}" for k, v in result["env"].items())
        if result["env"]
        else ""
    )
    print(f"## Questions over HTTP: latency per length ({m['date_utc'][:10]})\n")
    print(f"Command: `{result['command']}`  ")
    print(
        f"Index: {idx['dir']} ({idx['generation']}, {idx['doc_count']} docs, {idx['mb']} MB). "
        f"gunicorn {result['config']['workers']} workers × {result['config']['threads']} "
        f"threads, loopback, one client, sequential, keep-alive{settings}.  "
    )
    print(pc.machine_line(m) + f" Load average at end {result['loadavg_end']}.\n")
    rows = []
    for r in result["rows"]:
        c, s = r["client_ms"], r["server_ms"]
        not_ok = ", ".join(f"{k}: {v}" for k, v in r["not_200"].items()) or "0"
        rows.append(
            [r["text"], r["form"], r["sent"], r["answered"], not_ok]
            + [pc.ms(c.get(p)) for p in ("p50", "p95", "p99", "max")]
            + [pc.ms(s.get(p)) for p in ("p50", "p95")]
        )
    heads = ["requests", "form", "sent", "200", "not 200", "p50 ms", "p95 ms", "p99 ms", "max ms"]
    print(pc.table([*heads, "server p50", "server p95"], rows))
    print(
        "\n(ms: client-side, request to last byte, over the answered (200) requests; "
        "server: the processing_time_ms the service reports.)\n"
    )
    t = result["target"]
    print("Issue 14 target:\n")
    print(f"- [{'met' if t['met'] else 'NOT met'}] {t['text']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, required=True, help="an index home (read-only)")
    ap.add_argument("--eval-dir", type=Path, default=qe.DEFAULT_EVAL_DIR)
    ap.add_argument("--forms", default="accented,unaccented", help="question forms to send")
    ap.add_argument("--questions", type=int, default=400, help="questions of 6-15 syllables to add")
    ap.add_argument(
        "--limit", type=int, help="only a seeded sample of N long questions (a quick run)"
    )
    ap.add_argument("--workers", type=int, help="gunicorn workers (default: the project's, 2)")
    ap.add_argument("--threads", type=int, help="threads per worker (default: the project's, 4)")
    ap.add_argument("--seed", type=int, default=7, help="short mix seed (bench/queries.py)")
    ap.add_argument("--warm", type=int, default=300, help="pool queries to warm up with")
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="VNSEARCH_X=V",
        help="a server setting for this run (repeatable), e.g. VNSEARCH_MAX_QUERY_WORDS=400",
    )
    args = ap.parse_args(argv)
    forms = tuple(f for f in qe.FORMS if f in {x.strip() for x in args.forms.split(",")})
    if not forms:
        ap.error("--forms takes accented, unaccented or both")
    extra = dict(kv.split("=", 1) for kv in args.env)
    if any(not k.startswith("VNSEARCH_") for k in extra):
        ap.error("--env takes VNSEARCH_* settings only")
    m = pc.machine()
    info = pc.index_info(args.index_dir)
    _mix, pool = qmix.load(args.seed)
    sent = short_requests(args.seed) + question_requests(
        args.eval_dir, forms, args.questions, args.seed, args.limit
    )
    random.Random(f"order:{args.seed}").shuffle(sent)
    pc.OUT.mkdir(parents=True, exist_ok=True)
    server = pc.Server(
        args.index_dir,
        args.workers,
        args.threads,
        log_path=pc.OUT / "questions-http-server.log",
        extra_env=extra,
    )
    log(f"starting gunicorn on {args.index_dir}")
    server.start()
    result: dict = {
        "command": "python bench/questions_http.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": m,
        "index": info,
        "config": server.config,
        "env": extra,
        "startup_s": server.startup_s,
    }
    try:
        http_bench.parallel(server.port, [qmix.path_of(r) for r in pool[: args.warm]], 4)
        server.wait_idle()
        log(f"one client: {len(sent)} requests")
        t0 = time.perf_counter()
        times, statuses, bodies = http_bench.sequential(server.port, [r["path"] for r in sent])
        result["seconds"] = round(time.perf_counter() - t0, 1)
    finally:
        result["exit_code"] = server.stop()
    for rec, ms, status, body in zip(sent, times, statuses, bodies, strict=True):
        rec.update(
            ms=round(ms, 3),
            status=status,
            code=body.get("code", "") if status != 200 else "",
            server_ms=body.get("processing_time_ms") or 0.0,
            total_hits=body.get("total_hits"),
        )
    result["loadavg_end"] = pc.loadavg()
    result["rows"] = figures(sent, forms)
    pooled = "both" if len(forms) > 1 else forms[0]
    long_rows = [r for r in result["rows"] if r["row"] == "long" and r["form"] == pooled]
    if long_rows:
        lr = long_rows[0]
        p95 = lr["client_ms"].get("p95", float("nan"))
        refused = lr["sent"] - lr["answered"]
        result["target"] = {
            "met": refused == 0 and p95 <= TARGET_P95_MS,
            "text": f"questions of {LONG[0]}-{LONG[1]} syllables ({lr['sent']}, forms: "
            f"{', '.join(forms)}): {lr['answered']} answered, {refused} not; "
            f"p95 {pc.ms(p95)} ms ≤ {TARGET_P95_MS:.0f} ms with none refused",
        }
    else:
        result["target"] = {"met": False, "text": "no question of 16-80 syllables was sent"}
    result["requests"] = [{k: v for k, v in r.items() if k != "path"} for r in sent]
    out = pc.write_json("questions-http", result)
    report(result)
    print(f"\nFigures: {out.relative_to(pc.ROOT)}; server log: {server.log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
