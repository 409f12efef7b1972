"""Known-item relevance of vnsearch against peer engines (issue 5).

    python bench/relevance.py                      # 8,000 docs, 1,000 targets, seed 7
    python bench/relevance.py --docs all           # all ~39k articles (vnsearch ~15 min to index)
    python bench/relevance.py --targets 2000 --seed 11 --docs 12000 --rebuild

What it does, deterministically for a given seed and corpus:

1. Reads ``../shared/corpus/*.jsonl.gz`` in place with ``indexer.sources.read_sources``.
2. Picks ``--targets`` target articles among those with a unique title (compared
   folded) and at least two query words in both the title and the first sentence
   of the body. The indexed set is the targets plus a seeded sample of the other
   articles, ``--docs`` in all (or every article with ``--docs all``), indexed by
   every system in the same seeded shuffled order.
3. For each target, two known-item queries of 2-5 contiguous words: one from the
   title, one from the first sentence of the body. Words are whitespace-separated
   tokens stripped of surrounding punctuation; tokens without a letter (numbers,
   dashes) are skipped before windows are taken. Each query is run as written
   (accented) and folded with ``indexer.analysis.fold`` (unaccented, lower case).
   Query generation depends only on the seed, the corpus and ``fold``, never on
   the engine's tuning.
4. Indexes the same articles into vnsearch (``indexer.build.build``; the index is
   cached under ``bench/out/vnsearch-index/`` keyed by the doc set, SCHEMA_VERSION
   and the contents of the ``indexer/analysis/`` package and ``indexer/schema.py``; pass
   ``--rebuild`` to force), SQLite FTS5, plain Whoosh and, when installed, tantivy
   (see ``bench/peers.py``), then runs every query on every system (top 10).
5. Prints markdown tables (MRR@10, Recall@10, latency, did-you-mean accuracy, the
   issue's targets, where vnsearch loses) and writes every figure and the run
   parameters to ``bench/out/relevance-<UTC time>.json`` (per-query results, with
   every system's top 10 ids, in a ``.queries.jsonl`` beside it;
   ``relevance-latest.json`` is a copy). ``bench/compare_rankings.py`` diffs two
   such files query by query.

Did-you-mean accuracy: over the unaccented title queries, vnsearch's
``did_you_mean`` is right when its syllables, each mapped through
``indexer.analysis.key``, equal those of the original accented query (case and
tone placement do not matter). No ``did_you_mean`` is right only when folding did
not change the query.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import peers
import perf_common

import indexer.analysis
import indexer.schema
from indexer.analysis import fold, key, syllables
from indexer.schema import SCHEMA_VERSION
from indexer.sources import Article, Rejection, read_sources

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
OUT = HERE / "out"
CORPUS_FILES = ("baomoi-magizbox.jsonl.gz", "unc-dantri.jsonl.gz", "newsmds-vnexpress.jsonl.gz")
K = 10
SOURCES = ("title", "first")  # where the query words come from
FORMS = ("accented", "unaccented")
ISSUE_PEERS = ("sqlite-fts5", "whoosh-plain")  # the issue's "both peers"
KEEP_CACHED_INDEXES = 3


def log(msg: str) -> None:
    print(f"[relevance {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- corpus and queries -----------------------------------------------------------------

_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_LETTER = re.compile(r"[^\W\d_]")
_SENT_END = re.compile(r"[.!?…]+")


def words_of(text: str) -> list[str]:
    """Query words of a text: tokens stripped of edge punctuation, letters required."""
    out = []
    for tok in peers.query_words(text):
        w = _EDGE.sub("", tok)
        if w and _LETTER.search(w):
            out.append(w)
    return out


def sentences(paragraph: str) -> list[str]:
    """Split at . ! ? … followed by a space, the end, or (lost spaces from HTML
    extraction, "bếp.Lực") a capital right after a lower-case letter."""
    out, start = [], 0
    for m in _SENT_END.finditer(paragraph):
        end = m.end()
        nxt = paragraph[end : end + 1]
        before = paragraph[m.start() - 1 : m.start()]
        if not nxt or nxt.isspace() or (nxt.isupper() and before.islower()):
            out.append(paragraph[start:end])
            start = end
    out.append(paragraph[start:])
    return [s for s in (s.strip() for s in out) if s]


def first_sentence_words(body: str) -> list[str]:
    """Words of the first sentence of the body that has at least two words."""
    for para in body.split("\n"):
        for sent in sentences(para):
            words = words_of(sent)
            if len(words) >= 2:
                return words
    return []


def window(words: list[str], rng: random.Random) -> str:
    n = rng.randint(2, min(5, len(words)))
    start = rng.randrange(len(words) - n + 1)
    return " ".join(words[start : start + n])


def corpus_of(doc_id: str) -> str:
    return doc_id.split("-", 1)[0]


def load_articles(paths: list[Path]) -> tuple[list[Article], int, int]:
    arts, seen, rejected, dup = [], set(), 0, 0
    for item in read_sources(paths):
        if isinstance(item, Rejection):
            rejected += 1
            continue
        if item.id in seen:
            dup += 1
            continue
        seen.add(item.id)
        arts.append(item)
    return arts, rejected, dup


def make_queries(targets: list[Article], seed: int) -> list[dict]:
    queries = []
    for a in targets:
        rng = random.Random(f"{seed}:{a.id}")  # independent of the target order
        for source, words in (
            ("title", words_of(a.title)),
            ("first", first_sentence_words(a.body)),
        ):
            text = window(words, rng)
            for form in FORMS:
                q = text if form == "accented" else fold(text)
                queries.append(
                    {
                        "qid": len(queries),
                        "target": a.id,
                        "source": source,
                        "form": form,
                        "q": q,
                        "accented_q": text,
                        "nwords": len(text.split()),
                    }
                )
    return queries


# -- the vnsearch index cache --------------------------------------------------------------


def file_sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def package_sha(package_init: str | Path) -> str:
    """One digest of every module of a package (name and contents, in name order)."""
    h = hashlib.sha256()
    for path in sorted(Path(package_init).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(docs: list[Article]) -> tuple[str, dict]:
    h = hashlib.sha256()
    for a in docs:
        for part in (a.id, a.title or "", a.body or ""):
            h.update(part.encode("utf-8"))
            h.update(b"\0")
    parts = {
        "docset_sha256": h.hexdigest(),
        "schema_version": SCHEMA_VERSION,
        "analysis_sha256": package_sha(indexer.analysis.__file__),
        "schema_py_sha256": file_sha(indexer.schema.__file__),
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return digest[:16], parts


def vnsearch_system(docs: list[Article], workers: int, rebuild: bool) -> tuple:
    ckey, parts = cache_key(docs)
    root = OUT / "vnsearch-index"
    home = root / ckey
    marker = home / "bench-key.json"
    system = peers.Vnsearch(home, workers=workers)
    if marker.exists() and not rebuild:
        info = json.loads(marker.read_text("utf-8"))
        system.open()
        log(f"vnsearch: cached index {home} ({info['docs']} docs, built {info['built_at']})")
        return system, {"cache_key": ckey, **parts, "cached": True, **info}
    shutil.rmtree(home, ignore_errors=True)
    done = [0]
    started = time.perf_counter()

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 1000 == 0:
            rate = done[0] / (time.perf_counter() - started)
            log(f"vnsearch: indexed {done[0]}/{len(docs)} ({rate:.0f} docs/s)")

    system.progress = progress
    log(f"vnsearch: building {len(docs)} docs with workers={workers} into {home}")
    system.build(docs)
    seconds = time.perf_counter() - started
    info = {
        "docs": system.report.indexed,
        "rejected": len(system.report.rejected),
        "build_seconds": round(seconds, 1),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "workers": workers,
    }
    marker.write_text(json.dumps({**info, **parts}, indent=2), "utf-8")
    log(f"vnsearch: built in {seconds:.0f} s")
    # Keep the few most recent cached indexes.
    homes = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in homes[:-KEEP_CACHED_INDEXES]:
        if old != home:
            shutil.rmtree(old, ignore_errors=True)
    return system, {"cache_key": ckey, **parts, "cached": False, **info}


# -- running and scoring ----------------------------------------------------------------


def run_queries(system: peers.System, queries: list[dict], dym: bool) -> dict:
    name = system.name
    times, errors = [], []
    started = time.perf_counter()
    for i, rec in enumerate(queries, 1):
        t0 = time.perf_counter()
        try:
            ids = system.search(rec["q"], K)
        except Exception as exc:  # a peer's syntax error counts as a miss
            ids = []
            errors.append({"qid": rec["qid"], "q": rec["q"], "error": repr(exc)[:200]})
        times.append((time.perf_counter() - t0) * 1000.0)
        rec.setdefault("rank", {})[name] = (
            ids.index(rec["target"]) + 1 if rec["target"] in ids else None
        )
        rec.setdefault("top1", {})[name] = ids[0] if ids else None
        rec.setdefault("top10", {})[name] = list(ids)
        if dym and rec["form"] == "unaccented":
            rec["did_you_mean"] = system.last.get("did_you_mean")
        if i % 1000 == 0:
            log(f"{name}: {i}/{len(queries)} queries ({time.perf_counter() - started:.0f} s)")
    times.sort()
    return {
        "queries": len(times),
        "median_ms": statistics.median(times),
        "p95_ms": times[min(len(times) - 1, int(0.95 * len(times)))],
        "mean_ms": statistics.fmean(times),
        "errors": len(errors),
        "error_samples": errors[:10],
    }


def score(records: list[dict], name: str) -> dict:
    n = len(records)
    if n == 0:
        return {"n": 0, "mrr10": None, "recall10": None}
    ranks = [r["rank"].get(name) for r in records]
    mrr = sum(1.0 / x for x in ranks if x) / n
    recall = sum(1 for x in ranks if x) / n
    return {"n": n, "mrr10": mrr, "recall10": recall}


def classes(rec: dict) -> dict[str, str]:
    acc = rec["accented_q"]
    return {
        "source": rec["source"],
        "form": rec["form"],
        "source_form": f"{rec['source']}/{rec['form']}",
        "corpus": corpus_of(rec["target"]),
        "nwords": str(rec["nwords"]),
        "has_dd": "with đ" if ("đ" in acc or "Đ" in acc) else "without đ",
        "diacritics": "has diacritics" if fold(acc) != acc.lower() else "no diacritics",
    }


def breakdowns(queries: list[dict], names: list[str]) -> dict:
    groups: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for rec in queries:
        for dim, value in classes(rec).items():
            groups[dim][value].append(rec)
        groups["all"][rec["form"]].append(rec)
    return {
        dim: {
            value: {name: score(recs, name) for name in names}
            for value, recs in sorted(vals.items())
        }
        for dim, vals in groups.items()
    }


def did_you_mean_accuracy(queries: list[dict]) -> dict:
    right = total = absent = unchanged = 0
    failures = []
    for rec in queries:
        if rec["source"] != "title" or rec["form"] != "unaccented":
            continue
        total += 1
        expected = [key(s) for s in syllables(rec["accented_q"])]
        folded_same = fold(rec["accented_q"]) == rec["accented_q"].lower()
        unchanged += folded_same
        got = rec.get("did_you_mean")
        if got is None:
            absent += 1
            ok = folded_same
        else:
            ok = [key(s) for s in syllables(got)] == expected
        right += ok
        if not ok:
            failures.append(rec)
    return {
        "queries": total,
        "right": right,
        "accuracy": right / total if total else None,
        "no_suggestion": absent,
        "unchanged_by_folding": unchanged,
        "failures": failures,
    }


def losses(queries: list[dict], peer_names: list[str]) -> dict:
    """Per peer and query class: queries where the peer ranks the target better
    than vnsearch (or finds it when vnsearch does not), and the reverse."""
    out = {}
    for p in peer_names:
        by = defaultdict(lambda: {"peer_better": 0, "vnsearch_better": 0})
        for rec in queries:
            v, r = rec["rank"].get("vnsearch"), rec["rank"].get(p)
            cls = f"{rec['source']}/{rec['form']}"
            if r and (not v or r < v):
                by[cls]["peer_better"] += 1
            elif v and (not r or v < r):
                by[cls]["vnsearch_better"] += 1
        out[p] = dict(sorted(by.items()))
    return out


# -- output ---------------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def ms(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def short(text: str, n: int = 70) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def metric_table(bd: dict, names: list[str], metric: str) -> list[str]:
    cols = [("source_form", f"{s}/{f}") for s in SOURCES for f in FORMS]
    cols += [("all", f) for f in FORMS]
    heads = [f"{s} {f[:5]}." for s in ("title", "first sent.") for f in FORMS]
    heads += ["all accented", "all unaccented"]
    lines = ["| system | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for name in names:
        cells = [fmt(bd[dim][val][name][metric]) for dim, val in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def print_report(result: dict, queries: list[dict], titles: dict[str, str], samples: int) -> None:
    p = result["params"]
    names = result["systems"]
    bd = result["metrics"]
    print(f"## Relevance: known-item queries ({p['date_utc'][:10]})\n")
    print(f"Command: `{p['command']}`  ")
    print(
        f"Corpus: {p['docs_indexed']} of {p['articles_read']} articles indexed "
        f"({', '.join(f'{k} {v}' for k, v in p['docs_by_corpus'].items())}); "
        f"{p['targets']} targets, seed {p['seed']}; {len(queries)} queries per system "
        f"({p['targets']} targets × title/first sentence × accented/unaccented).  "
    )
    print(
        f"Machine: {p['nproc']} cores, Python {p['python']}, SQLite {p['sqlite']}; "
        f"vnsearch index {'cached' if p['vnsearch_index']['cached'] else 'built this run'} "
        f"(key {p['vnsearch_index']['cache_key']}); run took {result['wall_seconds']:.0f} s.\n"
    )
    print("MRR@10 (title = words from the title, first sent. = from the body's first sentence):\n")
    print("\n".join(metric_table(bd, names, "mrr10")))
    print("\nRecall@10:\n")
    print("\n".join(metric_table(bd, names, "recall10")))
    print("\nQuery latency (each system in-process, one query at a time, top 10):\n")
    print("| system | index build s | median ms | p95 ms | errors |")
    print("|---|---|---|---|---|")
    for name in names:
        lat, b = result["latency"][name], result["build_seconds"][name]
        build = f"{b:.1f}" + (
            " (cached)" if name == "vnsearch" and p["vnsearch_index"]["cached"] else ""
        )
        print(
            f"| {name} | {build} | {ms(lat['median_ms'])} | {ms(lat['p95_ms'])} | {lat['errors']} |"
        )
    d = result["did_you_mean"]
    print(
        f"\ndid_you_mean on unaccented title queries: {d['right']}/{d['queries']} right "
        f"({fmt(100 * d['accuracy'], 1)}%); no suggestion for {d['no_suggestion']}; "
        f"{d['unchanged_by_folding']} queries unchanged by folding."
    )
    print("\nIssue 5 targets:\n")
    for t in result["targets"]:
        print(f"- [{'met' if t['met'] else 'NOT met'}] {t['text']}")
    for t in result["targets_informational"]:
        print(f"- (informational) [{'met' if t['met'] else 'not met'}] {t['text']}")

    print("\nWhere vnsearch loses (queries where a peer ranks the target better / worse):\n")
    print("| peer | " + " | ".join(f"{s}/{f}" for s in SOURCES for f in FORMS) + " |")
    print("|---" * 5 + "|")
    for peer, by in result["losses"].items():
        cells = []
        for s in SOURCES:
            for f in FORMS:
                c = by.get(f"{s}/{f}", {"peer_better": 0, "vnsearch_better": 0})
                cells.append(f"{c['peer_better']} / {c['vnsearch_better']}")
        print(f"| {peer} | " + " | ".join(cells) + " |")
    print("\nMRR@10 by query class (both forms; classes: query length, đ, corpus):\n")
    dims = [("nwords", "words"), ("has_dd", ""), ("diacritics", ""), ("corpus", "")]
    print("| class | n | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 2) + "|")
    for dim, suffix in dims:
        for value, per in bd[dim].items():
            n = per[names[0]]["n"]
            label = f"{value} {suffix}".strip()
            print(f"| {label} | {n} | " + " | ".join(fmt(per[x]["mrr10"]) for x in names) + " |")

    rng = random.Random(result["params"]["seed"])
    peer_names = [x for x in names if x != "vnsearch"]
    lost = [
        r
        for r in queries
        if r["rank"].get("vnsearch") != 1 and any(r["rank"].get(x) == 1 for x in peer_names)
    ]
    if lost and samples:
        print(
            f"\nSample of {min(samples, len(lost))} of {len(lost)} queries where a peer ranks "
            "the target first and vnsearch does not:\n"
        )
        print("| class | query | expected (title) | vnsearch rank | vnsearch first | peers first |")
        print("|---|---|---|---|---|---|")
        for r in sorted(rng.sample(lost, min(samples, len(lost))), key=lambda r: r["qid"]):
            first = r["top1"].get("vnsearch")
            firsts = ", ".join(x for x in peer_names if r["rank"].get(x) == 1)
            vr = r["rank"].get("vnsearch") or "-"
            expected = f"{r['target']} ({short(titles[r['target']], 50)})"
            got = f"{first} ({short(titles.get(first, ''), 50)})" if first else "(no hit)"
            print(
                f"| {r['source']}/{r['form']} | `{r['q']}` | {expected} | {vr} | {got} | {firsts} |"
            )
    fails = d["failures"]
    if fails and samples:
        print(f"\nSample of {min(samples, len(fails))} of {len(fails)} wrong did_you_mean:\n")
        print("| query | expected | did_you_mean |")
        print("|---|---|---|")
        for r in sorted(rng.sample(fails, min(samples, len(fails))), key=lambda r: r["qid"]):
            print(f"| `{r['q']}` | {r['accented_q']} | {r.get('did_you_mean') or '(none)'} |")


def git_state() -> dict:
    run = perf_common.git
    return {
        "head": run("rev-parse", "HEAD"),
        "engine_changes": run("status", "--porcelain", "--", "indexer", "search_api").splitlines(),
        # The query engine's sources (search_api/engine/, indexer/whoosh_internals/).
        "engine_sha256": hashlib.sha256(
            "".join(
                file_sha(p)
                for d in ("search_api/engine", "indexer/whoosh_internals")
                for p in sorted((ROOT / d).glob("*.py"))
            ).encode()
        ).hexdigest(),
    }


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--targets", type=int, default=1000, help="target articles (default 1000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--docs",
        default="8000",
        help="articles to index, targets included (default 8000), or 'all' (~39k)",
    )
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument(
        "--files", nargs="+", default=list(CORPUS_FILES), help="corpus files to read (default all)"
    )
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="indexing processes")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached vnsearch index")
    ap.add_argument(
        "--systems",
        default="vnsearch," + ",".join(peers.available_peers()),
        help="comma-separated; default: vnsearch and every available peer",
    )
    ap.add_argument("--samples", type=int, default=10, help="failure samples to print")
    args = ap.parse_args(argv)
    wall = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    names = [x.strip() for x in args.systems.split(",") if x.strip()]
    if "vnsearch" not in names:
        ap.error("--systems must include vnsearch")
    unknown = set(names) - {"vnsearch", *peers.available_peers()}
    if unknown:
        ap.error(
            f"unknown or unavailable systems: {sorted(unknown)} (tantivy: pip install tantivy)"
        )
    if not peers.HAVE_TANTIVY:
        log("tantivy is not importable: tantivy peers skipped (pip install tantivy)")

    paths = [args.corpus / f for f in args.files]
    log(f"reading {', '.join(str(p) for p in paths)}")
    arts, rejected, dup_ids = load_articles(paths)
    log(f"read {len(arts)} articles ({rejected} rejected, {dup_ids} duplicate ids dropped)")

    title_count = Counter(" ".join(fold(a.title or "").split()) for a in arts)
    eligible = [
        a
        for a in arts
        if title_count[" ".join(fold(a.title or "").split())] == 1
        and len(words_of(a.title or "")) >= 2
        and len(first_sentence_words(a.body or "")) >= 2
    ]
    if len(eligible) < args.targets:
        ap.error(f"only {len(eligible)} eligible targets")
    rng = random.Random(args.seed)
    targets = rng.sample(eligible, args.targets)
    target_ids = {a.id for a in targets}
    if args.docs == "all":
        docs = list(arts)
    else:
        n = int(args.docs)
        if n < args.targets:
            ap.error("--docs must be at least --targets")
        others = [a for a in arts if a.id not in target_ids]
        docs = targets + rng.sample(others, min(n, len(arts)) - len(targets))
    # Index in a seeded shuffled order, the same for every system: a multi-process
    # build splits the stream into segments, and with the files' order (all of
    # baomoi first) whole segments would hold no dated or categorised article.
    docs.sort(key=lambda a: a.id)
    rng.shuffle(docs)
    by_corpus = dict(sorted(Counter(corpus_of(a.id) for a in docs).items()))
    log(
        f"indexing {len(docs)} docs ({by_corpus}); "
        f"{len(targets)} targets of {len(eligible)} eligible"
    )
    queries = make_queries(targets, args.seed)

    systems: dict[str, peers.System] = {}
    build_seconds: dict[str, float] = {}
    vn, vn_info = vnsearch_system(docs, args.workers, args.rebuild)
    systems["vnsearch"] = vn
    build_seconds["vnsearch"] = vn_info["build_seconds"]
    peer_dir = OUT / "peer-indexes"
    for name in names:
        if name == "vnsearch":
            continue
        if name == "sqlite-fts5":
            system = peers.Fts5Peer()
        elif name == "whoosh-plain":
            system = peers.WhooshPeer(peer_dir / "whoosh-plain", procs=args.workers)
        else:
            system = peers.TantivyPeer(fold=name == "tantivy-fold")
        log(f"{name}: building {len(docs)} docs")
        t0 = time.perf_counter()
        system.build(docs)
        build_seconds[name] = round(time.perf_counter() - t0, 1)
        log(f"{name}: built in {build_seconds[name]:.0f} s")
        systems[name] = system

    latency = {}
    for name in names:
        log(f"{name}: running {len(queries)} queries")
        latency[name] = run_queries(systems[name], queries, dym=name == "vnsearch")

    bd = breakdowns(queries, names)
    dym = did_you_mean_accuracy(queries)
    vn_acc = bd["all"]["accented"]["vnsearch"]["mrr10"]
    vn_unacc = bd["all"]["unaccented"]["vnsearch"]["mrr10"]
    targets_out, info_out = [], []
    for form in FORMS:
        ours = bd["all"][form]["vnsearch"]["mrr10"]
        issue = [x for x in ISSUE_PEERS if x in names]
        theirs = {x: bd["all"][form][x]["mrr10"] for x in issue}
        targets_out.append(
            {
                "id": f"mrr_above_peers_{form}",
                "met": bool(issue) and all(ours > v for v in theirs.values()),
                "text": f"vnsearch {form} MRR@10 {fmt(ours)} above "
                + ", ".join(f"{x} {fmt(v)}" for x, v in theirs.items()),
            }
        )
        for x in names:
            if x not in ISSUE_PEERS and x != "vnsearch":
                v = bd["all"][form][x]["mrr10"]
                info_out.append(
                    {
                        "id": f"mrr_above_{x}_{form}",
                        "met": ours > v,
                        "text": f"vnsearch {form} MRR@10 {fmt(ours)} above {x} {fmt(v)}",
                    }
                )
    ratio = vn_unacc / vn_acc if vn_acc else 0.0
    targets_out.append(
        {
            "id": "unaccented_ratio",
            "met": ratio >= 0.97,
            "text": f"vnsearch unaccented/accented MRR@10 = {fmt(vn_unacc)}/{fmt(vn_acc)} "
            f"= {fmt(ratio)} (target ≥ 0.97)",
            "value": ratio,
        }
    )
    targets_out.append(
        {
            "id": "did_you_mean",
            "met": (dym["accuracy"] or 0) >= 0.90,
            "text": f"did_you_mean right for {fmt(100 * dym['accuracy'], 1)}% of unaccented "
            "title queries (target ≥ 90%)",
            "value": dym["accuracy"],
        }
    )

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        import whoosh

        whoosh_version = ".".join(map(str, whoosh.versioninfo))
    except Exception:
        whoosh_version = "?"
    params = {
        "command": " ".join(
            ["python bench/relevance.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": args.seed,
        "targets": args.targets,
        "docs_requested": args.docs,
        "docs_indexed": len(docs),
        "docs_by_corpus": by_corpus,
        "articles_read": len(arts),
        "articles_rejected": rejected,
        "duplicate_ids_dropped": dup_ids,
        "eligible_targets": len(eligible),
        "corpus_files": [str(p) for p in paths],
        "k": K,
        "workers": args.workers,
        "systems": names,
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "whoosh": whoosh_version,
        "tantivy": getattr(peers.tantivy, "__version__", None) if peers.HAVE_TANTIVY else None,
        "vnsearch_index": vn_info,
        "git": git_state(),
    }
    result = {
        "params": params,
        "systems": names,
        "build_seconds": build_seconds,
        "latency": latency,
        "metrics": bd,
        "did_you_mean": {k: v for k, v in dym.items() if k != "failures"},
        "targets": targets_out,
        "targets_informational": info_out,
        "losses": losses(queries, [x for x in names if x != "vnsearch"]),
        "wall_seconds": None,
    }
    titles = {a.id: a.title for a in docs}
    result["wall_seconds"] = round(time.perf_counter() - wall, 1)
    print_report(result | {"did_you_mean": dym}, queries, titles, args.samples)
    result["did_you_mean"]["failure_qids"] = [r["qid"] for r in dym["failures"]]
    out = OUT / f"relevance-{stamp}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2), "utf-8")
    shutil.copyfile(out, OUT / "relevance-latest.json")
    with open(out.with_suffix(".queries.jsonl"), "w", encoding="utf-8") as fh:
        for rec in queries:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(
        f"\nFigures: {out.relative_to(ROOT)} (per query: {out.with_suffix('.queries.jsonl').name})."
    )
    log(f"done in {result['wall_seconds']:.0f} s")
    for system in systems.values():
        system.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
