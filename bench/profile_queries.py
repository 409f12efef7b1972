"""Where the time of a search goes, per query class: py-spy samples of search (issue 7).

    python bench/profile_queries.py --index-dir "$FULL"
    python bench/profile_queries.py --index-dir DIR --per-class 120 --rate 250 --native

(Not ``profile.py``: that would shadow the standard library module ``cProfile`` imports.)

For each class (``--classes``; default: every query, 1 word, 2+ words unaccented,
2+ words accented, quoted phrases, filtered), ``--per-class`` queries of that
class are taken from the uncached pool of ``bench/queries.py`` (not the latency
mix), and a child process runs each once, as ``/v1/search`` does by default:
``SearchService(result_cache_size=0)``, top 10, highlights, default facets, the
snapshot warmed by other pool queries first. ``py-spy record`` (pip install
py-spy) attaches to the child only for that loop, at ``--rate`` samples a second;
``--native`` adds C frames (NumPy, pickle, zlib) under the Python ones.

Prints per class the median latency and, by share of samples, the functions that
hold the time: inclusive (the function or anything it calls) for the engine's
own functions, and self (the innermost frame). Raw stacks are kept in
``bench/out/profile/<class>.txt`` (collapsed stack format, for flame graphs).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import perf_common as pc
import queries as qmix
from perf_common import OUT, log, ms, summary, table

PDIR = OUT / "profile"
CLASSES = {
    "all": lambda r: True,
    "1 word": lambda r: r["words"] == 1 and not r["filter_kind"],
    "2+ words unaccented": lambda r: (
        r["words"] >= 2 and r["unaccented"] and not r["phrase"] and not r["filter_kind"]
    ),
    "2+ words accented": lambda r: (
        r["words"] >= 2 and not r["unaccented"] and not r["phrase"] and not r["filter_kind"]
    ),
    "quoted phrase": lambda r: r["phrase"],
    "with filter": lambda r: bool(r["filter_kind"]),
}
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]*)(?::(?P<line>\d+))?\)$")


def child(index_dir: str, recs_file: str, warm_file: str, times_file: str) -> None:
    """Run in the profiled process: warm, say ready, wait for go, run the queries."""
    from search_api.engine.service import SearchService

    recs = json.loads(Path(recs_file).read_text("utf-8"))
    warm = json.loads(Path(warm_file).read_text("utf-8"))
    service = SearchService(index_dir, result_cache_size=0, background=False)
    for rec in warm:
        search_or_timeout(service, rec)
    print("ready", flush=True)
    sys.stdin.readline()
    times = profiled_loop(service, recs)
    Path(times_file).write_text(json.dumps(times))
    service.close()


def profiled_loop(service, recs: list[dict]) -> list[float]:
    times = []
    for rec in recs:
        t = time.perf_counter()
        search_or_timeout(service, rec)
        times.append((time.perf_counter() - t) * 1000)
    return times


# The project root as py-spy prints it, so locations read "search_api/engine/plan.py".
ROOT_PREFIX = str(Path(__file__).resolve().parents[1]) + "/"


def search_or_timeout(service, rec: dict) -> None:
    """Run one query; one stopped at the service's time limit is timed all the same."""
    from search_api.engine.request import SearchTimeout

    with contextlib.suppress(SearchTimeout):
        service.search(qmix.request_of(rec))


def parse_frame(frame: str) -> tuple[str, str]:
    """(function, short location) of one py-spy frame."""
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip(), ""
    path = m.group("file") or ""
    for marker in ("/site-packages/", f"{ROOT_PREFIX}", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return m.group("func"), path


def analyse(raw: Path) -> dict:
    """Self and inclusive sample counts per function over the profiled loop's stacks."""
    self_c: Counter = Counter()
    incl_c: Counter = Counter()
    total = 0
    for line in raw.read_text("utf-8", "replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if not any("profiled_loop" in f for f in frames):
            continue
        n = int(count)
        total += n
        keys = [parse_frame(f) for f in frames]
        # Frames below profiled_loop only.
        start = next(i for i, f in enumerate(frames) if "profiled_loop" in f) + 1
        keys = keys[start:] or [("profiled_loop", "")]
        self_c[keys[-1]] += n
        for k in set(keys):
            incl_c[k] += n
    return {"total": total, "self": self_c, "incl": incl_c}


def is_engine(loc: str) -> bool:
    return loc.startswith(("search_api/", "indexer/"))


def profile_class(name: str, recs: list[dict], warm: list[dict], args) -> dict:
    PDIR.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    recs_file, warm_file = PDIR / f"{slug}.queries.json", PDIR / f"{slug}.warm.json"
    times_file, raw = PDIR / f"{slug}.times.json", PDIR / f"{slug}.txt"
    recs_file.write_text(json.dumps(recs, ensure_ascii=False))
    warm_file.write_text(json.dumps(warm, ensure_ascii=False))
    argv = [sys.executable, __file__, "--_child", str(args.index_dir), str(recs_file),
            str(warm_file), str(times_file)]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=pc.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"profiling child for {name!r} failed")
        spy = ["py-spy", "record", "--pid", str(proc.pid), "--rate", str(args.rate),
               "--format", "raw", "--output", str(raw)]  # fmt: skip
        if args.native:
            spy.append("--native")
        spy_proc = subprocess.Popen(
            spy, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        time.sleep(1.5)  # let py-spy attach
        proc.stdin.write("go\n")
        proc.stdin.flush()
        proc.wait(timeout=args.timeout)
        _, err = spy_proc.communicate(timeout=60)
        if spy_proc.returncode != 0 or not raw.exists():
            raise SystemExit(f"py-spy failed: {err[-500:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
    times = json.loads(times_file.read_text())
    return {"n": len(recs), "latency": summary(times), "profile": analyse(raw), "raw": str(raw)}


def print_class(name: str, res: dict, top: int) -> None:
    p, lat = res["profile"], res["latency"]
    total = p["total"] or 1
    print(
        f"\n### {name}: {res['n']} queries, p50 {ms(lat['p50'])} ms, p95 {ms(lat['p95'])} ms, "
        f"{p['total']} samples\n"
    )
    rows = [
        [f"`{f}`", loc, f"{100 * c / total:.1f}%", f"{100 * p['self'][(f, loc)] / total:.1f}%"]
        for (f, loc), c in p["incl"].most_common()
        if is_engine(loc)
    ][:top]
    print("Engine functions, inclusive share (self share beside it):\n")
    print(table(["function", "file", "inclusive", "self"], rows))
    rows = [
        [f"`{f}`", loc or "(native)", f"{100 * c / total:.1f}%"]
        for (f, loc), c in p["self"].most_common(top)
    ]
    print("\nInnermost frames (self share, any module):\n")
    print(table(["function", "file", "self"], rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path)
    ap.add_argument("--classes", default=",".join(CLASSES), help=f"of: {', '.join(CLASSES)}")
    ap.add_argument("--per-class", type=int, default=150)
    ap.add_argument("--warm", type=int, default=200)
    ap.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    ap.add_argument("--native", action="store_true", help="py-spy --native (C frames)")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per class")
    ap.add_argument("--_child", dest="child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    if args.index_dir is None:
        ap.error("--index-dir is required")
    if shutil.which("py-spy") is None:
        raise SystemExit("py-spy is not installed (pip install py-spy)")
    m = pc.machine()
    info = pc.index_info(args.index_dir)
    _mix, pool = qmix.load(args.seed)
    warm = pool[-args.warm :]
    candidates = pool[: -args.warm]
    names = [c.strip() for c in args.classes.split(",") if c.strip()]
    results = {}
    for name in names:
        recs = [r for r in candidates if CLASSES[name](r)][: args.per_class]
        log("profile", f"{name}: {len(recs)} queries under py-spy")
        results[name] = profile_class(name, recs, warm, args)
    print(f"## Profile: where the time of /v1/search goes ({m['date_utc'][:10]})\n")
    cmd = "python bench/profile_queries.py " + " ".join(sys.argv[1:] if argv is None else argv)
    print(f"Command: `{cmd}`  ")
    print(
        f"Index: {info['dir']} ({info['generation']}, {info['doc_count']} docs). Each query "
        f"once (uncached pool queries, highlights + default facets), py-spy at {args.rate} Hz"
        f"{' with native frames' if args.native else ''}.  "
    )
    print(pc.machine_line(m) + f" Load average at end {pc.loadavg()}.")
    summary_rows = []
    for name, res in results.items():
        print_class(name, res, args.top)
        p = res["profile"]
        total = p["total"] or 1
        top_engine = [
            f"`{f}` {100 * c / total:.0f}%"
            for (f, loc), c in p["incl"].most_common()
            if is_engine(loc) and f.split(".")[-1] not in ("search", "_search")
        ][:4]
        summary_rows.append(
            [
                name,
                res["n"],
                ms(res["latency"]["p50"]),
                ms(res["latency"]["p95"]),
                ", ".join(top_engine),
            ]
        )
    print("\n### Summary\n")
    print(
        table(
            ["class", "n", "p50 ms", "p95 ms", "largest engine functions (inclusive)"], summary_rows
        )
    )
    out = pc.write_json(
        "profile",
        {
            "command": cmd,
            "machine": m,
            "index": info,
            "classes": {
                name: {
                    "n": r["n"],
                    "latency": r["latency"],
                    "samples": r["profile"]["total"],
                    "incl": [[f, loc, c] for (f, loc), c in r["profile"]["incl"].most_common(60)],
                    "self": [[f, loc, c] for (f, loc), c in r["profile"]["self"].most_common(60)],
                    "raw": r["raw"],
                }
                for name, r in results.items()
            },
        },
    )
    print(f"\nFigures: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
