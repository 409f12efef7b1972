"""Latency of questions and short queries over HTTP, two code versions side by side (issue 14).

    python bench/question_latency.py --index-dir "$FULL"
    python bench/question_latency.py --index-dir "$FULL" \\
        --side main=/path/to/main/.venv/bin/python:/path/to/main-export --rounds 2

Starts gunicorn (the project's config, 2 workers x 4 threads) on the index,
opened read-only, for each ``--side`` in turn (``NAME=PYTHON:SRC``: the
interpreter and the source tree gunicorn runs from; this tree with this
interpreter is always side ``branch``), ``--rounds`` times alternating, so both
sides see the same machine load. Each run: warm-up, then one client on one
keep-alive connection sends

- ``short``: the query mix of ``bench/queries.py`` (seed 7, 400 queries with
  filters and default facets, as ``bench/http_bench.py`` step 3);
- ``question``: questions of 16-80 syllables from
  ``../shared/eval/questions-dev/queries.jsonl`` (both splits, as written), and
  the same folded (``question-unaccented``).

Every request is distinct in a run (no result-cache hit). Prints p50/p95/p99
per side and class, the median over rounds, and the branch/side ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import perf_common as pc
import queries as qmix
from http_bench import parallel, sequential
from perf_common import ROOT, free_port, get_once, log

from indexer.analysis import fold, syllables

QUESTIONS = ROOT.parent / "shared" / "eval" / "questions-dev" / "queries.jsonl"


def question_paths(path: Path, lo: int, hi: int, limit: int) -> dict[str, list[str]]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    qs = [r["query"] for r in rows if lo <= len(syllables(r["query"])) <= hi][:limit]
    mk = lambda q: "/v1/search?" + urlencode({"q": q}, quote_via=quote)  # noqa: E731
    return {"question": [mk(q) for q in qs], "question-unaccented": [mk(fold(q)) for q in qs]}


def serve(python: str, src: Path, index_dir: Path) -> tuple[subprocess.Popen, int]:
    from search_api.server import gunicorn_command

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("GUNICORN_CMD_ARGS", None)
    argv, env, _ = gunicorn_command(
        bind=f"127.0.0.1:{port}", index_dir=index_dir, log_level="warning", environ=env
    )
    # The side's own interpreter, gunicorn config and app, from its source tree.
    argv = [python, "-m", "gunicorn", "--config", str(src / "search_api" / "gunicorn_conf.py")]
    argv.append("search_api.wsgi:app")
    proc = subprocess.Popen(
        argv,
        env=env,
        cwd=src,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while get_once(port, "/readyz") != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise SystemExit(f"gunicorn from {src} did not become ready")
        time.sleep(0.05)
    return proc, port


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--side", action="append", default=[], metavar="NAME=PYTHON:SRC")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--questions", type=int, default=400, help="questions per run")
    ap.add_argument("--min-syllables", type=int, default=16)
    ap.add_argument("--max-syllables", type=int, default=80)
    ap.add_argument("--warm", type=int, default=200)
    args = ap.parse_args(argv)

    sides = {"branch": (sys.executable, ROOT)}
    for s in args.side:
        name, rest = s.split("=", 1)
        python, src = rest.split(":", 1)
        sides[name] = (python, Path(src))
    mix, pool = qmix.load(7)
    classes = {"short": [qmix.path_of(r) for r in mix]}
    classes |= question_paths(QUESTIONS, args.min_syllables, args.max_syllables, args.questions)
    warm = [qmix.path_of(r) for r in pool[: args.warm]]
    m = pc.machine()
    counts = ", ".join(f"{k}: {len(v)}" for k, v in classes.items())
    log("qlat", f"load {os.getloadavg()}; {counts}")
    runs: dict[tuple[str, str], list[dict]] = {}
    for rnd in range(args.rounds):
        for name, (python, src) in sides.items():
            proc, port = serve(python, src, args.index_dir)
            try:
                parallel(port, warm, 4)
                for cls, paths in classes.items():
                    times, statuses, _ = sequential(port, paths)
                    bad = sum(s != 200 for s in statuses)
                    figures = {p: pct(times, q) for p, q in (("p50", 0.5), ("p95", 0.95))}
                    figures |= {"p99": pct(times, 0.99), "errors": bad}
                    runs.setdefault((name, cls), []).append(figures)
                    log("qlat", f"round {rnd + 1} {name} {cls}: p50 {pct(times, 0.5):.1f} ms "
                        f"p95 {pct(times, 0.95):.1f} ms, {bad} not 200")  # fmt: skip
            finally:
                stop(proc)
    print(f"\nLoad average at the end: {os.getloadavg()}; cpu: {m.get('cpu', '?')}\n")
    print("| side | class | p50 ms | p95 ms | p99 ms | non-200 | rounds |")
    print("|---|---|---|---|---|---|---|")
    med = {}
    for (name, cls), rs in runs.items():
        med[(name, cls)] = {k: statistics.median(r[k] for r in rs) for k in ("p50", "p95", "p99")}
        v = med[(name, cls)]
        errors = sum(r["errors"] for r in rs)
        print(f"| {name} | {cls} | {v['p50']:.1f} | {v['p95']:.1f} | {v['p99']:.1f} "
              f"| {errors} | {len(rs)} |")  # fmt: skip
    for name in sides:
        if name == "branch":
            continue
        for cls in classes:
            a, b = med[("branch", cls)], med[(name, cls)]
            print(f"\nbranch/{name} {cls}: p50 ×{a['p50'] / b['p50']:.2f}, "
                  f"p95 ×{a['p95'] / b['p95']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
