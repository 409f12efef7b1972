"""Oversized and abusive input, measured (issue 15, items 6, 7 and 8).

Part 1, the indexer: inputs past the bounds of indexer/sources/limits.py, made
in a temporary directory (streamed, never held whole, never committed), each
given to ``vnsearch index build --workers 1`` in a child process with the
default limits. Printed: the input's size on disk and unpacked, what the build
did with it, its time and the child's peak resident memory (``ru_maxrss`` from
``os.wait4``). Two inputs at the limits show what an accepted worst case costs.

Part 2, the API: gunicorn as ``vnsearch serve`` runs it (2 workers × 4 threads)
on the sample index, probed with normal queries (one at a time, 5 per second,
5 s timeout) alone, beside 16 clients sending a header line every 5 s, and
beside 200 idle sockets: straight at gunicorn, then through the shipped
deploy/nginx/vnsearch.conf (nginx's cache off, so every query reaches the API).

    python bench/limits.py                   # both parts (about 3 minutes)
    python bench/limits.py --part indexer    # or --part api
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))  # the slow clients and nginx harness of the tests

from perf_common import Server, free_port, loadavg, machine, machine_line, table  # noqa: E402

MIB = 1024 * 1024
GOOD = {"id": "good", "title": "Thông báo lịch tiếp công dân", "body": "Ủy ban nhân dân phường."}


def _good_line(i: int = 0) -> bytes:
    record = {**GOOD, "id": f"good-{i}"}
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def _text(chars: int) -> str:
    """Vietnamese prose of ``chars`` characters (a sentence repeated)."""
    sentence = "Ủy ban nhân dân quận tổ chức hội nghị triển khai công tác tuyên giáo năm 2017. "
    return (sentence * (chars // len(sentence) + 1))[:chars]


# -- the inputs (each writer streams to disk) -----------------------------------------------


def huge_line_gz(path: Path) -> int:
    """A .jsonl.gz holding one 1 GiB line between two good ones; returns its
    unpacked size."""
    with gzip.open(path, "wb", compresslevel=9) as gz:
        gz.write(_good_line(1))
        gz.write(b'{"id": "huge", "title": "x", "body": "')
        block = b"a" * MIB
        for _ in range(1024):
            gz.write(block)
        gz.write(b'"}\n')
        gz.write(_good_line(2))
    return 1024 * MIB + 100


def body_50mb(path: Path) -> int:
    with open(path, "wb") as f:
        f.write(_good_line(1))
        f.write('{"id": "big-body", "title": "Bài dài", "body": "'.encode())
        chunk = _text(MIB // 2).encode()
        written = 0
        while written < 50 * MIB:
            f.write(chunk)
            written += len(chunk)
        f.write(b'"}\n')
    return path.stat().st_size


def blank_lines_gz(path: Path) -> int:
    """One good line, then 1,000,000,000 empty lines, then another good one."""
    with gzip.open(path, "wb", compresslevel=9) as gz:
        gz.write(_good_line(1))
        block = b"\n" * (10 * MIB)
        for _ in range(95):  # 996 MiB
            gz.write(block)
        gz.write(b"\n" * (1_000_000_000 - 95 * 10 * MIB))
        gz.write(_good_line(2))
    return 1_000_000_000 + 2 * len(_good_line())


def html_page(path: Path, *, text_chars: int, filler_bytes: int) -> int:
    """An article page: ``filler_bytes`` of inline script (markup that is no text)
    and paragraphs holding ``text_chars`` characters."""
    with open(path, "w", encoding="utf-8") as f:
        f.write("<html><head><meta charset='utf-8'><title>Trang lớn</title>")
        f.write("<script>var x = '" + "0" * filler_bytes + "';</script></head>")
        f.write("<body><h1>Trang lớn</h1><article>")
        para = _text(2000)
        for _ in range(text_chars // len(para)):
            f.write("<p>" + para + "</p>\n")
        f.write("</article></body></html>")
    return path.stat().st_size


def deep_page(path: Path, depth: int = 5000) -> int:
    path.write_text(
        "<html><head><title>Trang lồng sâu</title></head><body><h1>Trang lồng sâu</h1>"
        + "<div>" * depth
        + "Nội dung nằm rất sâu."
        + "</div>" * depth
        + "</body></html>",
        "utf-8",
    )
    return path.stat().st_size


def at_limit_body(path: Path) -> int:
    with open(path, "wb") as f:
        f.write(_good_line(1))
        record = {"id": "limit-body", "title": "Bài dài", "body": _text(1_000_000)}
        f.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    return path.stat().st_size


CASES: list[tuple[str, str, Callable[[Path], int]]] = [
    ("1 GiB line in a small .jsonl.gz", "huge-line.jsonl.gz", huge_line_gz),
    ("50 MiB body (one JSON line)", "big-body.jsonl", body_50mb),
    ("1,000,000,000 empty lines, gzip", "blank.jsonl.gz", blank_lines_gz),
    (
        "20 MB HTML page",
        "big-page.html",
        lambda p: html_page(p, text_chars=14_000_000, filler_bytes=2_000_000),
    ),
    ("5,000 nested <div>", "deep.html", deep_page),
    ("body of 1,000,000 characters (at the limit)", "limit-body.jsonl", at_limit_body),
    (
        "8 MB HTML page, 900,000 characters of text (at the limits)",
        "limit-page.html",
        lambda p: html_page(p, text_chars=900_000, filler_bytes=6_500_000),
    ),
]


def _mb(n: float) -> str:
    return f"{n / MIB:,.1f} MiB" if n >= MIB else f"{n / 1024:,.1f} KiB"


def _spawn_and_measure(argv: list[str], env: dict) -> tuple[int, bytes, bytes, int, float]:
    """Run ``argv``; exit code, stdout, stderr, peak RSS (KiB, from wait4), seconds."""
    t0 = time.perf_counter()
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), usage.ru_maxrss, seconds


# -- part 2: slow and idle clients, with and without nginx ---------------------------------


def run_api(work: Path, slow_every: float, seconds: float) -> list[list]:
    from loopback_clients import IdleSockets, SlowHeaders, probe
    from nginx_support import NGINX, Nginx

    from indexer.build import build
    from indexer.home import IndexHome
    from indexer.sources import read_sources

    home = IndexHome(work / "sample-index")
    build(home, read_sources([ROOT / "data" / "sample" / "articles.jsonl"]), workers=1)
    words = ["tuyen+giao", "ubnd", "h%C3%B2a+b%C3%ACnh", "giao+thong", "kinh+te", "quan+5"]
    paths = [f"/v1/search?q={w}&per_page={n}" for n in range(1, 51) for w in words]
    server = Server(
        home.path, workers=2, threads=4, log_path=work / "api.log",
        extra_env={"VNSEARCH_CACHE_MAX_AGE": "0", "VNSEARCH_BEHIND_PROXY": "1"},
    ).start()  # fmt: skip
    rows = []
    nginx = None
    try:
        fronts = [("gunicorn directly", server.port)]
        if NGINX:
            nginx = Nginx(work / "nginx", free_port(), [f"127.0.0.1:{server.port}"])
            nginx.wait_ready()
            fronts.append(("shipped nginx → gunicorn", int(nginx.base.rsplit(":", 1)[1])))
        else:
            print("[limits] nginx is not installed: only the direct run", file=sys.stderr)
        offset = 0
        for front, port in fronts:
            for load, clients in (
                ("none", None),
                (f"16 slow clients (a header line every {slow_every:g} s)", "slow"),
                ("200 idle sockets", "idle"),
            ):
                mine = paths[offset:] + paths[:offset]
                if clients == "slow":
                    with SlowHeaders(port, 16, every=slow_every):
                        result = probe(port, mine, seconds)
                elif clients == "idle":
                    with IdleSockets(port, 200):
                        result = probe(port, mine, seconds)
                else:
                    result = probe(port, mine, seconds)
                offset += len(result.latencies)
                p50, p95 = result.percentile(50), result.percentile(95)
                rows.append(
                    [
                        front,
                        load,
                        len(result.latencies),
                        result.failures,
                        "timeout" if p50 == float("inf") else f"{p50 * 1000:.1f} ms",
                        "timeout" if p95 == float("inf") else f"{p95 * 1000:.1f} ms",
                    ]
                )
                print(f"[limits] {front}, {load}: {rows[-1][2:]}", file=sys.stderr)
                time.sleep(6)  # held threads come free (gunicorn waits 5 s for a first byte)
    finally:
        if nginx is not None:
            nginx.stop()
        server.stop()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--part", choices=["indexer", "api", "both"], default="both")
    ap.add_argument("--slow-every", type=float, default=5.0, help="seconds between header lines")
    ap.add_argument("--seconds", type=float, default=10.0, help="probe time per row (part 2)")
    args = ap.parse_args()
    failed = False
    m = machine()
    print(machine_line(m))
    with tempfile.TemporaryDirectory(prefix="vnsearch-limits-") as tmp:
        work = Path(tmp)
        if args.part in ("indexer", "both"):
            rows = [_case(work, label, name, make) for label, name, make in CASES]
            print("\nIndexer, default limits, one child process per input (`--workers 1`):\n")
            heads = ["input", "on disk", "unpacked", "outcome", "reason", "time", "peak RSS"]
            print(table(heads, rows))
            worst = max(float(row[-1].split()[0].replace(",", "")) for row in rows)
            print(
                f"\nlargest peak RSS: {worst:,.0f} MB ({'under' if worst < 1000 else 'OVER'} 1 GB)"
            )
            failed = worst >= 1000
        if args.part in ("api", "both"):
            rows = run_api(work, args.slow_every, args.seconds)
            print("\nNormal queries (5/s, one at a time, 5 s timeout) beside abusive clients:\n")
            heads = ["front", "other clients", "queries", "failed", "p50", "p95"]
            print(table(heads, rows))
    print(f"\nload average at the end: {loadavg()}")
    sys.exit(1 if failed else 0)


def _case(work: Path, label: str, name: str, make: Callable[[Path], int]) -> list:
    source = work / name
    t0 = time.perf_counter()
    unpacked = make(source)
    made = time.perf_counter() - t0
    index_dir = work / f"index-{name}"
    argv = [sys.executable, "-m", "search_api.cli", "index", "build", str(source),
            "--index-dir", str(index_dir), "--workers", "1", "-q"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    on_disk = source.stat().st_size
    code, out, err, peak_kb, seconds = _spawn_and_measure(argv, env)
    summary = out.decode().strip()
    added = next((p for p in summary.split(" · ") if p.startswith("added")), "added 0")
    reasons = [line.split(": ", 2)[-1] for line in err.decode().splitlines() if "rejected:" in line]
    print(f"[limits] {label} (made in {made:.1f} s): exit {code}; {summary}", file=sys.stderr)
    if code not in (0, 4):  # 4: nothing indexed (every record rejected)
        print(err.decode()[-2000:], file=sys.stderr)
    for reason in reasons:
        print(f"[limits]   rejected: {reason}", file=sys.stderr)
    source.unlink()
    shutil.rmtree(index_dir, ignore_errors=True)
    return [
        label,
        _mb(on_disk),
        _mb(unpacked),
        f"{added}, rejected {len(reasons)}",
        reasons[-1].split(" (--")[0] if reasons else "-",
        f"{seconds:.1f} s",
        f"{peak_kb / 1024:,.0f} MB",
    ]


if __name__ == "__main__":
    main()
