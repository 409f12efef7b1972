"""Query latency as the index grows: ~10k, ~20k, ~39k and ~150k documents (issue 7).

    python bench/growth.py                                   # builds what is missing (long)
    python bench/growth.py --full-index "$FULL"         # reuse a full build for "all"
    python bench/growth.py --skip-build                      # only measure cached indexes
    python bench/growth.py --sizes 10000,20000 --build-timeout 1800
    python bench/growth.py --reuse --skip-build    # one table from the last measurements

Document sets (``perf_common.docset``, seed 7): ``N`` is the first N articles of a
seeded shuffle of ``../shared/corpus`` (read in place), so smaller sets are nested
in larger ones; ``all`` is every article (38,830); ``150000`` is the corpus plus
replicated copies with new ids (``<id>~r1``, ``~r2``, ...), shuffled, first
150,000 kept. Indexes are cached in ``bench/out/growth/<size>-<key>/`` (key: the
document ids and SCHEMA_VERSION; an index built with another ``indexer/analysis/`` package
is still used and flagged "analysis changed since").

A missing index is built (``indexer.build.build``, ``--workers`` processes, at
``nice`` ``--nice``) in a child process killed after ``--build-timeout`` seconds;
a size whose build is skipped or times out is reported as such. ``--full-index``
uses an existing full build for ``all`` (read-only) when its document count matches.

Each size is then measured by ``bench/latency.py`` in a fresh process (same
query mix, same method: vnsearch full / bare, tantivy and SQLite FTS5 indexed from
the same documents in that run), bounded by ``--measure-timeout``. One table.
Figures: ``bench/out/growth-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import perf_common as pc
from perf_common import OUT, log, ms, summary, table

GDIR = OUT / "growth"
HERE = Path(__file__).resolve().parent


def analysis_sha() -> str:
    import hashlib

    import indexer.analysis

    h = hashlib.sha256()
    for path in sorted(Path(indexer.analysis.__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def home_for(spec: str, docs) -> Path:
    from indexer.schema import SCHEMA_VERSION

    return GDIR / f"{spec}-{pc.docset_key(docs)}-v{SCHEMA_VERSION}"


def build_one(spec: str, home: Path, workers: int) -> None:
    """Child process: build the index of ``spec`` into ``home`` and write a marker."""
    from indexer.build import build
    from indexer.home import IndexHome

    arts = pc.load_corpus()
    docs = pc.docset(spec, arts)
    t0 = time.perf_counter()
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 5000 == 0:
            log(
                "growth",
                f"{spec}: indexed {done[0]}/{len(docs)} ({time.perf_counter() - t0:.0f} s)",
            )

    report = build(IndexHome(home), docs, workers=workers, progress=progress)
    marker = {
        "spec": spec,
        "docs": report.indexed,
        "build_s": round(time.perf_counter() - t0, 1),
        "workers": workers,
        "analysis_sha": analysis_sha(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_end": pc.loadavg(),
    }
    (home / "bench-growth.json").write_text(json.dumps(marker, indent=2))


def run_bounded(argv: list[str], timeout: float, nice: int = 0, log_file: Path | None = None):
    """Run ``argv`` in its own session; on timeout SIGTERM then SIGKILL that session.
    Returns (exit code or None on timeout, seconds)."""
    t0 = time.perf_counter()
    out = open(log_file, "ab") if log_file else None  # noqa: SIM115 - closed below
    try:
        proc = subprocess.Popen(
            argv, cwd=pc.ROOT, start_new_session=True, stdout=out, stderr=out,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,
        )  # fmt: skip
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            code = None
    finally:
        if out:
            out.close()
    return code, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,20000,all,150000", help="comma-separated doc sets")
    ap.add_argument("--skip-build", action="store_true", help="measure cached indexes only")
    ap.add_argument("--full-index", type=Path, help="an existing full build to use for 'all'")
    ap.add_argument("--workers", type=int, default=2, help="processes per build")
    ap.add_argument("--nice", type=int, default=5, help="niceness of builds (shared machine)")
    ap.add_argument("--build-timeout", type=float, default=3 * 3600, help="seconds per build")
    ap.add_argument("--measure-timeout", type=float, default=1800, help="seconds per size")
    ap.add_argument("--build-only", action="store_true", help="build what is missing, no measuring")
    ap.add_argument("--no-peers", action="store_true", help="vnsearch only")
    ap.add_argument(
        "--reuse", action="store_true", help="reuse a size's last measurement of the same index"
    )
    ap.add_argument("--_build-one", dest="build_one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.build_one:
        build_one(args.build_one[0], Path(args.build_one[1]), args.workers)
        return 0

    m = pc.machine()
    GDIR.mkdir(parents=True, exist_ok=True)
    log("growth", "reading the corpus")
    arts = pc.load_corpus()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    rows: list[dict] = []
    for spec in sizes:
        docs = pc.docset(spec, arts)
        row: dict = {"spec": spec, "docs": len(docs), "notes": []}
        rows.append(row)
        home = home_for(spec, docs)
        row["home"] = str(home)
        if spec == "all" and args.full_index and (args.full_index / "CURRENT").is_file():
            info = pc.index_info(args.full_index)
            if info["doc_count"] == len(docs):
                home = args.full_index
                row["home"] = str(home)
                row["build"] = f"{info['build_seconds']:.0f} (given, MANIFEST)"
            else:
                row["notes"].append(f"--full-index holds {info['doc_count']} docs: not used")
        if not (home / "CURRENT").is_file():
            if args.skip_build:
                row["skipped"] = "no cached index (--skip-build)"
                continue
            log("growth", f"{spec}: building {len(docs)} docs into {home} "
                f"(timeout {args.build_timeout:.0f} s, nice {args.nice})")  # fmt: skip
            code, secs = run_bounded(
                [sys.executable, str(HERE / "growth.py"), "--workers", str(args.workers),
                 "--_build-one", spec, str(home)],
                args.build_timeout, args.nice, GDIR / f"build-{spec}.log",
            )  # fmt: skip
            if code != 0:
                why = "timed out" if code is None else f"failed (exit {code})"
                row["skipped"] = f"build {why} after {secs:.0f} s; see {GDIR}/build-{spec}.log"
                log("growth", f"{spec}: {row['skipped']}")
                continue
            row["build"] = f"{secs:.0f} (this run)"
        marker = home / "bench-growth.json"
        if marker.is_file():
            mk = json.loads(marker.read_text())
            row.setdefault("build", f"{mk['build_s']:.0f} (cached, {mk['built_at'][:16]})")
            if mk.get("analysis_sha") != analysis_sha():
                row["notes"].append("analysis changed since build")
        row["index"] = pc.index_info(home)
        if args.build_only:
            continue
        out = GDIR / f"latency-{spec}.json"
        if args.reuse and out.is_file():
            old = json.loads(out.read_text())
            if (
                old["index"]["dir"] == str(home)
                and old["index"]["generation"] == row["index"]["generation"]
            ):
                row["latency"] = old
                row["notes"].append(f"measured {old['machine']['date_utc'][:16]} (--reuse)")
                mem_out = GDIR / f"memory-{spec}.json"
                if mem_out.is_file():
                    row["memory"] = json.loads(mem_out.read_text())["variants"]["as shipped"]
                continue
        systems = "vnsearch" if args.no_peers else "vnsearch,tantivy,sqlite-fts5"
        log("growth", f"{spec}: measuring with bench/latency.py")
        code, secs = run_bounded(
            [sys.executable, str(HERE / "latency.py"), "--index-dir", str(home), "--docs", spec,
             "--systems", systems, "--json-out", str(out), "--quiet"],
            args.measure_timeout, 0, GDIR / f"measure-{spec}.log",
        )  # fmt: skip
        if code != 0:
            why = "timed out" if code is None else f"failed (exit {code})"
            row["skipped"] = f"measurement {why} after {secs:.0f} s; see {GDIR}/measure-{spec}.log"
            continue
        row["latency"] = json.loads(out.read_text())
        mem_out = GDIR / f"memory-{spec}.json"
        log("growth", f"{spec}: memory of a fresh process with bench/memory.py")
        code, secs = run_bounded(
            [sys.executable, str(HERE / "memory.py"), "--index-dir", str(home),
             "--variants", "as shipped", "--json-out", str(mem_out), "--quiet"],
            args.measure_timeout, 0, GDIR / f"memory-{spec}.log",
        )  # fmt: skip
        if code == 0:
            row["memory"] = json.loads(mem_out.read_text())["variants"]["as shipped"]
        else:
            row["notes"].append(f"memory measurement failed; see {GDIR}/memory-{spec}.log")
    result = {
        "command": "python bench/growth.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": m,
        "rows": rows,
        "loadavg_end": pc.loadavg(),
    }
    path = pc.write_json("growth", result)
    report(result)
    print(f"\nFigures: {path}")
    return 0


def stopped(per_query: list[dict]) -> list[str]:
    n = sum(1 for r in per_query if r.get("timeout"))
    return [f"{n} of {len(per_query)} queries stopped at the service's time limit"] if n else []


def mem_cells(mem: dict | None) -> list[str]:
    """Open time and VmRSS (RssAnon) of a fresh process (bench/memory.py), or blanks."""
    if not mem:
        return ["", "", ""]
    o, a = mem["opened"], mem["after"]
    return [
        f"{mem['open_s']:.1f}",
        f"{o['VmRSS']:.0f} ({o['RssAnon']:.0f})",
        f"{a['VmRSS']:.0f} ({a['RssAnon']:.0f})",
    ]


def report(result: dict) -> None:
    m = result["machine"]
    print(f"## Latency as the index grows ({m['date_utc'][:10]})\n")
    print(f"Command: `{result['command']}`  ")
    print(
        "In-process, one query at a time, the 400-query mix of bench/queries.py (seed 7); "
        "vnsearch `full` = highlights + default facets, first call (this query's postings "
        "not cached); `bare` = no facets, no highlights, warm; peers' first call, built from "
        "the same documents in the same run. `open s` and RSS: a fresh process opening the "
        "index (bench/memory.py), VmRSS with the private part (RssAnon) in brackets.  "
    )
    print(pc.machine_line(m) + f" Load average at end {result['loadavg_end']}.\n")
    heads = [
        "docs", "index MB", "build s", "open s", "RSS after open MB", "RSS after mix MB",
        "vnsearch full p50", "full p95",
        "bare p50", "bare p95", "tantivy p50", "tantivy p95", "fts5 p50", "fts5 p95",
        "p50 ÷ tantivy", "p50 ÷ fts5", "notes",
    ]  # fmt: skip
    rows = []
    for row in result["rows"]:
        if "latency" not in row:
            rows.append([row["docs"], *[""] * 15, row.get("skipped", "not measured")])
            continue
        lat, idx = row["latency"], row["index"]
        vn = lat["vnsearch"]["per_query"]
        first = summary([r["first"] for r in vn])
        bare = summary([r["bare"] for r in vn])
        peer = {}
        for name in ("tantivy", "sqlite-fts5"):
            if name in lat["peers"]:
                peer[name] = summary([r["first"] for r in lat["peers"][name]["per_query"]])
        cells = []
        for name in ("tantivy", "sqlite-fts5"):
            s = peer.get(name)
            cells += [ms(s["p50"]), ms(s["p95"])] if s else ["", ""]
        ratios = [pc.ratio(first["p50"], peer[n]["p50"]) if n in peer else "" for n in
                  ("tantivy", "sqlite-fts5")]  # fmt: skip
        rows.append(
            [
                idx["doc_count"], idx["mb"], row.get("build", ""),
                *mem_cells(row.get("memory")),
                ms(first["p50"]), ms(first["p95"]), ms(bare["p50"]), ms(bare["p95"]),
                *cells, *ratios, "; ".join(row["notes"] + stopped(vn)),
            ]
        )  # fmt: skip
    print(table(heads, rows))


if __name__ == "__main__":
    sys.exit(main())
