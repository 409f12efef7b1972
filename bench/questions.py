"""Whole questions: vnsearch against peer engines on ``questions-dev`` (issue 14).

    python bench/questions.py                          # split dev, every engine
    python bench/questions.py --split both             # dev and test
    python bench/questions.py --engines vnsearch --limit 500    # a quick tuning loop
    python bench/questions.py --diff OLD.json NEW.json # what changed between two runs

What it does, deterministically for a given engine and set:

1. Reads ``../shared/eval/questions-dev/passages.jsonl.gz`` in place (5,109
   Wikipedia paragraphs; ``--eval-dir`` to point elsewhere; evaluation inside the
   project only, see its README) and the questions of ``--split`` from
   ``queries.jsonl`` in file order (``--limit N``: the first N of each split).
2. Indexes the passages, in file order, into every engine of ``--engines``:
   - ``vnsearch``: ``indexer.build.build``, cached under ``bench/out/vnsearch-index/``
     keyed by the passages and the contents of the ``indexer/analysis/`` package and
     ``indexer/schema.py`` (``bench/relevance.py``'s cache; ``--rebuild`` forces);
     queried as ``GET /v1/search?q=...`` is answered, in-process: the WSGI app of
     ``search_api.app.create_app`` with the default configuration, through Falcon's
     testing client. A query the API refuses (4xx, e.g. today's 400
     ``query_too_long`` beyond 32 words or 256 characters) is a refusal: it scores 0
     and is counted; a 5xx is counted as an error and scores 0 too;
   - ``sqlite-fts5`` (``unicode61 remove_diacritics 2``), ``whoosh-plain``,
     ``tantivy`` (default tokenizer), ``tantivy-fold`` (simple + ascii_fold; not in
     the default set) from ``bench/peers.py``, with an OR of the question's words
     ranked by their BM25 (``any_word=True``; ``--peer-match all`` for their AND);
   - ``bm25-syllables``: the README's reference, a plain BM25 over syllables
     (``peers.SyllableBm25``; no folding).
3. Runs every question as written (accented) and folded with
   ``indexer.analysis.fold`` (unaccented, lower case) on every engine, top 10,
   one at a time.
4. Prints markdown tables: MRR@10, Recall@10 and nDCG@10 per engine, split and
   form, the same per question-length bucket (syllables: ≤5, 6–15, 16–30, >30),
   latency per bucket (p50/p95, ms; vnsearch's includes the API's highlights and
   default facets, as over HTTP minus the socket), refusals, and the issue's
   targets. Writes every figure to ``bench/out/questions-<UTC time>.json`` and the
   ranked ids of every engine for every query to ``...queries.jsonl`` beside it
   (``questions-latest.json`` is a copy); ``--diff`` compares two such runs.

Metric definitions and buckets: ``bench/question_eval.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import peers
import perf_common as pc
import question_eval as qe
import relevance

from indexer.analysis import fold

OUT = pc.OUT
ALL_ENGINES = (
    "vnsearch",
    "sqlite-fts5",
    "whoosh-plain",
    "tantivy",
    "tantivy-fold",
    "bm25-syllables",
)
DEFAULT_ENGINES = ("vnsearch", "sqlite-fts5", "whoosh-plain", "tantivy", "bm25-syllables")
# Issue 14's acceptance on split dev (accented unless said).
TARGET_MRR, TARGET_RECALL, TARGET_UNACCENTED_RATIO = 0.80, 0.92, 0.97
TARGET_PEERS = ("tantivy", "bm25-syllables")


def log(msg: str) -> None:
    pc.log("questions", msg)


# -- vnsearch as the API answers ---------------------------------------------------------


class Refused(Exception):
    """The API answered 4xx: the visitor gets an error instead of results."""

    def __init__(self, status: int, code: str):
        super().__init__(f"{status} {code}")
        self.status, self.code = status, code


class ServerError(Exception):
    """The API answered 5xx (e.g. 503 search_timeout)."""


class VnsearchApi(peers.System):
    """``GET /v1/search?q=`` on the app ``create_app`` makes with the default
    configuration (``Config.from_env`` of nothing but the index directory),
    in-process through Falcon's testing client: the API's own limits, service
    settings, highlights and default facets, without a socket."""

    name = "vnsearch"

    def __init__(self, home: Path):
        from falcon import testing

        from search_api.app import create_app
        from search_api.config import Config

        self.config = Config.from_env({"VNSEARCH_INDEX_DIR": str(home)})
        self.client = testing.TestClient(create_app(self.config, warm=True))

    def search(self, q: str, k: int = qe.K) -> list[str]:
        params = {"q": q} if k == 10 else {"q": q, "per_page": str(k)}
        r = self.client.simulate_get("/v1/search", params=params)
        if 400 <= r.status_code < 500:
            raise Refused(r.status_code, (r.json or {}).get("code", "?"))
        if r.status_code != 200:
            raise ServerError(f"{r.status_code} {(r.json or {}).get('code', '?')}")
        return [hit["id"] for hit in r.json["hits"]]


# -- engines -----------------------------------------------------------------------------------


def build_engines(
    names: list[str], docs: list, workers: int, rebuild: bool, any_word: bool
) -> tuple[dict[str, peers.System], dict]:
    systems: dict[str, peers.System] = {}
    info: dict = {"build_seconds": {}}
    for name in names:
        t0 = time.perf_counter()
        if name == "vnsearch":
            vn, vn_info = relevance.vnsearch_system(docs, workers, rebuild)
            vn.close()
            systems[name] = VnsearchApi(vn.home)
            info["vnsearch_index"] = vn_info
            info["build_seconds"][name] = vn_info["build_seconds"]
            continue
        if name == "sqlite-fts5":
            system: peers.System = peers.Fts5Peer(any_word=any_word)
        elif name == "whoosh-plain":
            system = peers.WhooshPeer(any_word=any_word)  # one process: the same segments
        elif name in ("tantivy", "tantivy-fold"):
            system = peers.TantivyPeer(fold=name == "tantivy-fold", any_word=any_word, threads=1)
        elif name == "bm25-syllables":
            system = peers.SyllableBm25()
        else:
            raise AssertionError(name)
        log(f"{name}: indexing {len(docs)} passages")
        system.build(docs)
        info["build_seconds"][name] = round(time.perf_counter() - t0, 1)
        systems[name] = system
    return systems, info


def run_engine(system: peers.System, name: str, records: list[dict]) -> None:
    """Every record's query on ``system``: ranked ids, status and ms into ``rec[name]``."""
    started = time.perf_counter()
    for i, rec in enumerate(records, 1):
        status = "ok"
        t0 = time.perf_counter()
        try:
            ids = system.search(rec["q"], qe.K)
        except Refused as exc:
            ids, status = [], f"refused {exc.status} {exc.code}"
        except Exception as exc:  # a peer's syntax error or a 5xx: a miss, counted
            ids, status = [], f"error {type(exc).__name__}: {str(exc)[:120]}"
        ms = (time.perf_counter() - t0) * 1000.0
        rec["results"][name] = {"ids": ids[: qe.K], "status": status, "ms": round(ms, 3)}
        if i % 1000 == 0:
            log(f"{name}: {i}/{len(records)} queries ({time.perf_counter() - started:.0f} s)")


def make_records(questions: list[dict], forms: tuple[str, ...]) -> list[dict]:
    return [
        {
            "id": q["id"],
            "split": q["split"],
            "form": form,
            "q": q["query"] if form == "accented" else fold(q["query"]),
            "syllables": q["syllables"],
            "bucket": q["bucket"],
            "relevant": q["relevant"],
            "results": {},
        }
        for q in questions
        for form in forms
    ]


# -- figures ---------------------------------------------------------------------------------


def aggregate(records: list[dict], names: list[str]) -> dict:
    """metrics[split][form][engine][bucket|"all"] and latency[split][engine][bucket|"all"]
    (over the queries answered: a refusal's or an error's time is left out)."""
    groups: dict = defaultdict(list)
    for rec in records:
        for bucket in ("all", rec["bucket"]):
            groups[(rec["split"], rec["form"], bucket)].append(rec)
    metrics: dict = {}
    for (split, form, bucket), recs in sorted(groups.items()):
        for name in names:
            res = [r["results"][name] for r in recs]
            m = qe.mean_scores(
                [qe.scores(x["ids"], r["relevant"]) for x, r in zip(res, recs, strict=True)]
            )
            m["refused"] = sum(x["status"].startswith("refused") for x in res)
            m["errors"] = sum(x["status"].startswith("error") for x in res)
            metrics.setdefault(split, {}).setdefault(form, {}).setdefault(name, {})[bucket] = m
    latency: dict = {}
    for split in sorted({r["split"] for r in records}):
        for name in names:
            per: dict = {}
            for bucket in ("all", *qe.BUCKET_LABELS):
                times = [
                    r["results"][name]["ms"]
                    for r in records
                    if r["split"] == split
                    and bucket in ("all", r["bucket"])
                    and r["results"][name]["status"] == "ok"
                ]
                per[bucket] = pc.summary(times)
            latency.setdefault(split, {})[name] = per
    return {"metrics": metrics, "latency": latency}


def targets(metrics: dict, names: list[str]) -> list[dict]:
    """Issue 14's relevance acceptance on split dev, when the run has it."""
    dev = metrics.get("dev", {})
    acc = dev.get("accented", {}).get("vnsearch", {}).get("all")
    if not acc:
        return []
    out = [
        {
            "id": "dev_mrr",
            "met": acc["mrr"] >= TARGET_MRR,
            "text": f"dev accented MRR@10 {acc['mrr']:.3f} ≥ {TARGET_MRR}",
        },
        {
            "id": "dev_recall",
            "met": acc["recall"] >= TARGET_RECALL,
            "text": f"dev accented Recall@10 {acc['recall']:.3f} ≥ {TARGET_RECALL}",
        },
    ]
    for peer in TARGET_PEERS:
        theirs = dev["accented"].get(peer, {}).get("all")
        if theirs:
            ok = acc["mrr"] > theirs["mrr"] and acc["recall"] > theirs["recall"]
            out.append(
                {
                    "id": f"dev_above_{peer}",
                    "met": ok,
                    "text": f"dev accented above {peer}: MRR@10 {acc['mrr']:.3f} vs "
                    f"{theirs['mrr']:.3f}, Recall@10 {acc['recall']:.3f} vs {theirs['recall']:.3f}",
                }
            )
    un = dev.get("unaccented", {}).get("vnsearch", {}).get("all")
    if un and acc["mrr"]:
        ratio = un["mrr"] / acc["mrr"]
        out.append(
            {
                "id": "dev_unaccented_ratio",
                "met": ratio >= TARGET_UNACCENTED_RATIO,
                "text": f"dev unaccented/accented MRR@10 {un['mrr']:.3f}/{acc['mrr']:.3f} = "
                f"{ratio:.3f} ≥ {TARGET_UNACCENTED_RATIO}",
            }
        )
    return out


# -- output ------------------------------------------------------------------------------------


def f3(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def triple(m: dict | None) -> str:
    if not m or not m["n"]:
        return "–"
    return f"{f3(m['mrr'])} / {f3(m['recall'])} / {f3(m['ndcg'])}"


def print_report(result: dict, records: list[dict], samples: int) -> None:
    p, names = result["params"], result["engines"]
    metrics, latency = result["metrics"], result["latency"]
    print(f"## Questions: questions-dev ({p['date_utc'][:10]})\n")
    print(f"Command: `{p['command']}`  ")
    print(
        f"{p['passages']} passages; questions: "
        + ", ".join(f"{s} {n}" for s, n in p["questions"].items())
        + f"; forms: {', '.join(p['forms'])}; peers match {p['peer_match']} words. "
        f"{pc.machine_line(p['machine'])} Load average at end {p['loadavg_end']}; "
        f"run took {result['wall_seconds']:.0f} s.\n"
    )
    for split in metrics:
        print(f"### Split {split}: MRR@10 / Recall@10 / nDCG@10\n")
        rows = []
        for name in names:
            row = [name]
            for form in p["forms"]:
                m = metrics[split][form][name]["all"]
                row += [f3(m["mrr"]), f3(m["recall"]), f3(m["ndcg"])]
            refused = sum(metrics[split][f][name]["all"]["refused"] for f in p["forms"])
            errors = sum(metrics[split][f][name]["all"]["errors"] for f in p["forms"])
            rows.append([*row, refused, errors])
        heads = ["engine"]
        for form in p["forms"]:
            short = form[:5] + "."
            heads += [f"MRR {short}", f"R@10 {short}", f"nDCG {short}"]
        print(pc.table([*heads, "refused", "errors"], rows))
        counts = {
            b: sum(1 for r in records if r["split"] == split and r["bucket"] == b)
            // len(p["forms"])
            for b in qe.BUCKET_LABELS
        }
        print(f"\nBy question length (syllables; cells MRR@10 / Recall@10 / nDCG@10), {split}:\n")
        rows = []
        for name in names:
            for form in p["forms"]:
                per = metrics[split][form][name]
                cells = [triple(per.get(b)) for b in qe.BUCKET_LABELS]
                refused = [str(per[b]["refused"]) for b in qe.BUCKET_LABELS if b in per]
                rows.append([name, form, *cells, "/".join(refused)])
        heads = [f"{b} (n={counts[b]})" for b in qe.BUCKET_LABELS]
        print(pc.table(["engine", "form", *heads, "refused per bucket"], rows))
        print(
            f"\nLatency per question length, ms p50 / p95 (both forms, answered queries), "
            f"{split}:\n"
        )
        rows = []
        for name in names:
            lat = latency[split][name]
            cells = [
                f"{pc.ms(lat[b]['p50'])} / {pc.ms(lat[b]['p95'])}" if lat[b]["n"] else "–"
                for b in ("all", *qe.BUCKET_LABELS)
            ]
            rows.append([name, *cells])
        print(pc.table(["engine", "all", *qe.BUCKET_LABELS], rows))
        print()
    if result["targets"]:
        print("Issue 14 targets (split dev):\n")
        for t in result["targets"]:
            print(f"- [{'met' if t['met'] else 'NOT met'}] {t['text']}")
        print()
    print_samples(records, names, samples)


def print_samples(records: list[dict], names: list[str], samples: int) -> None:
    """A seeded sample of dev questions a reference finds in the top 10 and vnsearch misses."""
    refs = [n for n in TARGET_PEERS if n in names]
    if "vnsearch" not in names or not refs or not samples:
        return
    lost = []
    for r in records:
        if r["split"] != "dev" or r["form"] != "accented":
            continue
        rel = set(r["relevant"])
        if rel & set(r["results"]["vnsearch"]["ids"]):
            continue
        if any(rel & set(r["results"][n]["ids"]) for n in refs):
            lost.append(r)
    if not lost:
        return
    picked = sorted(random.Random(7).sample(lost, min(samples, len(lost))), key=lambda r: r["id"])
    print(
        f"{len(picked)} of the {len(lost)} dev accented questions that {' or '.join(refs)} "
        "find in the top 10 and vnsearch does not:\n"
    )
    rows = []
    for r in picked:
        vn = r["results"]["vnsearch"]
        found = ", ".join(
            f"{n} #{r['results'][n]['ids'].index(x) + 1}"
            for n in refs
            for x in r["relevant"]
            if x in r["results"][n]["ids"]
        )
        rows.append([r["id"], r["syllables"], f"`{r['q']}`", vn["status"], found])
    print(pc.table(["query id", "syll.", "question", "vnsearch", "found by"], rows))
    print()


# -- diff of two runs ---------------------------------------------------------------------------


def queries_file(json_path: Path) -> Path:
    return json_path.with_name(json_path.name.removesuffix(".json") + ".queries.jsonl")


def read_records(json_path: Path) -> dict[tuple[str, str], dict]:
    with open(queries_file(json_path), encoding="utf-8") as fh:
        return {(r["id"], r["form"]): r for r in map(json.loads, fh) if r}


def diff(old_path: Path, new_path: Path, samples: int) -> int:
    old, new = read_records(old_path), read_records(new_path)
    common = sorted(set(old) & set(new))
    if not common:
        raise SystemExit("the two runs have no query in common")
    engines = [
        e for e in new[common[0]]["results"] if all(e in old[k]["results"] for k in common[:1])
    ]
    print(f"## Diff: {old_path.name} → {new_path.name} ({len(common)} queries in common)\n")
    rows, changed = [], []
    for e in engines:
        groups: dict = defaultdict(lambda: [[], []])
        better = worse = 0
        for k in common:
            a, b = old[k], new[k]
            sa = qe.scores(a["results"][e]["ids"], a["relevant"])
            sb = qe.scores(b["results"][e]["ids"], b["relevant"])
            for g in ((b["split"], b["form"], "all"), (b["split"], b["form"], b["bucket"])):
                groups[g][0].append(sa)
                groups[g][1].append(sb)
            better += sb["mrr"] > sa["mrr"]
            worse += sb["mrr"] < sa["mrr"]
            if e == "vnsearch" and sa["mrr"] != sb["mrr"]:
                changed.append((sb["mrr"] - sa["mrr"], k, a, b))
        order = ("all", *qe.BUCKET_LABELS)
        for (split, form, bucket), (sa, sb) in sorted(
            groups.items(), key=lambda g: (g[0][0], g[0][1], order.index(g[0][2]))
        ):
            ma, mb = qe.mean_scores(sa), qe.mean_scores(sb)
            rows.append(
                [e, split, form, bucket, ma["n"]]
                + [f"{f3(ma[m])} → {f3(mb[m])} ({mb[m] - ma[m]:+.3f})" for m in qe.METRICS]
            )
        print(f"- {e}: MRR@10 better on {better} queries, worse on {worse}")
    print()
    heads = ["engine", "split", "form", "bucket", "n", "MRR@10", "Recall@10", "nDCG@10"]
    print(pc.table(heads, rows))
    if changed and samples:
        changed.sort(key=lambda c: (c[0], c[1]))
        print(f"\nvnsearch: the {min(samples, len(changed))} largest losses (MRR@10 change):\n")
        print(
            pc.table(
                ["query", "form", "change", "old status", "new status", "question"],
                [
                    [k[0], k[1], f"{d:+.3f}", a["results"]["vnsearch"]["status"],
                     b["results"]["vnsearch"]["status"], f"`{b['q']}`"]
                    for d, k, a, b in changed[:samples] if d < 0
                ],
            )
        )  # fmt: skip
    return 0


# -- main ------------------------------------------------------------------------------------


def parse_engines(text: str, ap: argparse.ArgumentParser) -> list[str]:
    names = list(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
    unknown = [x for x in names if x not in ALL_ENGINES]
    if unknown or not names:
        ap.error(f"unknown engines {unknown}; choose from {', '.join(ALL_ENGINES)}")
    if any(x.startswith("tantivy") for x in names) and not peers.HAVE_TANTIVY:
        ap.error("tantivy is not importable (pip install -e '.[dev]')")
    return names


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=("dev", "test", "both"), default="dev")
    ap.add_argument(
        "--engines",
        default=",".join(DEFAULT_ENGINES),
        help=f"comma-separated, from {', '.join(ALL_ENGINES)} (default: all but tantivy-fold)",
    )
    ap.add_argument("--limit", type=int, help="only the first N questions of each split")
    ap.add_argument(
        "--forms",
        default="accented,unaccented",
        help="accented, unaccented or both (default both)",
    )
    ap.add_argument(
        "--peer-match",
        choices=("any", "all"),
        default="any",
        help="peers' queries: an OR of the words (default) or an AND",
    )
    ap.add_argument("--eval-dir", type=Path, default=qe.DEFAULT_EVAL_DIR)
    ap.add_argument("--workers", type=int, default=1, help="vnsearch indexing processes")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached vnsearch index")
    ap.add_argument("--samples", type=int, default=10, help="missed questions to print")
    ap.add_argument("--diff", nargs=2, type=Path, metavar=("OLD.json", "NEW.json"))
    args = ap.parse_args(argv)
    if args.diff:
        return diff(*args.diff, args.samples)
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be at least 1")
    names = parse_engines(args.engines, ap)
    forms = tuple(f for f in qe.FORMS if f in {x.strip() for x in args.forms.split(",")})
    if not forms:
        ap.error("--forms takes accented, unaccented or both")
    splits = qe.SPLITS if args.split == "both" else (args.split,)

    wall = time.perf_counter()
    m = pc.machine()
    path = qe.passages_path(args.eval_dir)
    docs, rejected, dups = relevance.load_articles([path])
    log(f"{len(docs)} passages ({rejected} rejected, {dups} duplicate ids)")
    questions = qe.load_questions(args.eval_dir, splits, args.limit)
    records = make_records(questions, forms)
    any_word = args.peer_match == "any"
    systems, build = build_engines(names, docs, args.workers, args.rebuild, any_word)
    try:
        for name in names:
            log(f"{name}: {len(records)} queries")
            run_engine(systems[name], name, records)
    finally:
        for system in systems.values():
            system.close()

    figures = aggregate(records, names)
    params = {
        "command": " ".join(
            ["python bench/questions.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "eval_dir": str(args.eval_dir),
        "passages": len(docs),
        "questions": {s: sum(q["split"] == s for q in questions) for s in splits},
        "limit": args.limit,
        "forms": list(forms),
        "peer_match": args.peer_match,
        "k": qe.K,
        "buckets": list(qe.BUCKET_LABELS),
        "machine": m,
        "loadavg_end": pc.loadavg(),
        "platform": platform.platform(),
        "nproc": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "tantivy": getattr(peers.tantivy, "__version__", None) if peers.HAVE_TANTIVY else None,
        "git": relevance.git_state(),
        **build,
    }
    result = {
        "params": params,
        "engines": names,
        **figures,
        "targets": targets(figures["metrics"], names),
        "wall_seconds": round(time.perf_counter() - wall, 1),
    }
    print_report(result, records, args.samples)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = OUT / f"questions-{stamp}.json"
    OUT.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    with open(queries_file(out), "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    shutil.copyfile(out, OUT / "questions-latest.json")
    shutil.copyfile(queries_file(out), OUT / "questions-latest.queries.jsonl")
    print(f"Figures: {out.relative_to(pc.ROOT)} (per query: {queries_file(out).name}).")
    log(f"done in {result['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
