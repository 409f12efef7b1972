"""Shared helpers of the performance benches (issue 7): corpus document sets,
percentiles, machine facts, a gunicorn server on loopback, a plain HTTP client.

Imported by ``bench/queries.py``, ``latency.py``, ``http_bench.py``,
``suggest.py``, ``growth.py`` and ``profile_queries.py``; not a bench itself.

tantivy is optional: when it is not installed in the venv, a copy installed with
``pip install --target bench/out/pydeps tantivy`` is used (appended to
``sys.path`` before ``bench/peers.py`` is imported, so the venv always wins).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import math
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PYDEPS = OUT / "pydeps"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
CORPUS_FILES = ("baomoi-magizbox.jsonl.gz", "unc-dantri.jsonl.gz", "newsmds-vnexpress.jsonl.gz")

if PYDEPS.is_dir() and str(PYDEPS) not in sys.path:
    sys.path.append(str(PYDEPS))

import peers  # noqa: E402, F401  (after the optional tantivy path)

from indexer.sources import Article, Rejection, read_sources  # noqa: E402


def log(tag: str, msg: str) -> None:
    print(f"[{tag} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- corpus and document sets ---------------------------------------------------------


def corpus_paths(corpus: Path = DEFAULT_CORPUS) -> list[Path]:
    return [corpus / f for f in CORPUS_FILES]


def load_corpus(corpus: Path = DEFAULT_CORPUS) -> list[Article]:
    """Every article of the shared corpus, read in place, first copy of an id kept."""
    arts, seen = [], set()
    for item in read_sources(corpus_paths(corpus)):
        if isinstance(item, Rejection) or item.id in seen:
            continue
        seen.add(item.id)
        arts.append(item)
    return arts


def replicate(arts: list[Article], copy: int) -> list[Article]:
    """Copy ``copy`` (1, 2, ...) of the corpus: same text, new ids ``<id>~r<copy>``."""
    return [dataclasses.replace(a, id=f"{a.id}~r{copy}") for a in arts]


def docset(spec: str, arts: list[Article], seed: int = 7) -> list[Article]:
    """The documents of a benchmark index, in a seeded shuffled order.

    ``all``: the whole corpus. ``N`` (at most the corpus size): the first N of the
    seeded shuffle, so smaller sets are nested in larger ones. ``N`` above the
    corpus size: the corpus followed by as many replicated copies (new ids) as
    needed, shuffled, first N kept.
    """
    base = sorted(arts, key=lambda a: a.id)
    random.Random(seed).shuffle(base)
    if spec == "all":
        return base
    n = int(spec)
    if n <= len(base):
        return base[:n]
    pool = list(base)
    copy = 1
    while len(pool) < n:
        pool += replicate(base, copy)
        copy += 1
    pool.sort(key=lambda a: a.id)
    random.Random(f"{seed}:{n}").shuffle(pool)
    return pool[:n]


def docset_key(docs: list[Article]) -> str:
    h = hashlib.sha256()
    for a in docs:
        h.update(a.id.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


# -- statistics -----------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (the value below which p% of the values are)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summary(times: list[float]) -> dict:
    if not times:
        return {"n": 0}
    return {
        "n": len(times),
        "p50": percentile(times, 50),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "mean": sum(times) / len(times),
        "max": max(times),
    }


def ms(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.3f}"


def ratio(a: float, b: float) -> str:
    return "n/a" if not b else f"{a / b:.0f}×" if a / b >= 10 else f"{a / b:.1f}×"


def table(heads: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# -- machine and run facts --------------------------------------------------------------


def git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict:
    return {
        "date": subprocess.run(["date"], capture_output=True, text=True).stdout.strip(),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_start": loadavg(),
        "git_head": git("rev-parse", "--short", "HEAD"),
        "engine_changes": git("status", "--porcelain", "--", "indexer", "search_api").splitlines(),
    }


def machine_line(m: dict) -> str:
    dirty = f" + {len(m['engine_changes'])} uncommitted engine files" if m["engine_changes"] else ""
    return (
        f"Date: {m['date']}. Machine: nproc {m['nproc']}, Python {m['python']}, "
        f"load average at start {m['loadavg_start']}. Engine at {m['git_head']}{dirty}."
    )


def write_json(name: str, data: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = OUT / f"{name}-{stamp}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), "utf-8")
    return path


# -- index homes ------------------------------------------------------------------------


def index_info(index_dir: Path) -> dict:
    """Generation, document count and size of a built index home (read-only)."""
    current = index_dir / "CURRENT"
    if not current.is_file():
        raise SystemExit(
            f"{index_dir}: no CURRENT file (not a built index home, or still building)"
        )
    gen = current.read_text().strip()
    manifest_path = index_dir / gen / "MANIFEST.json"
    if not manifest_path.is_file():
        raise SystemExit(f"{manifest_path} is missing")
    manifest = json.loads(manifest_path.read_text())
    size = sum(p.stat().st_size for p in (index_dir / gen).iterdir() if p.is_file())
    return {
        "dir": str(index_dir),
        "generation": gen,
        "doc_count": manifest.get("doc_count"),
        "build_seconds": manifest.get("build_seconds"),
        "mb": round(size / 1e6, 1),
    }


def rss_mb(pid: int, field: str = "VmRSS") -> float | None:
    """Resident memory of ``pid`` in MB: ``VmRSS`` (all), ``RssAnon`` (private
    heap: what each worker adds) or ``RssFile`` (file pages, e.g. mmapped index
    files: shared between workers through the page cache)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """User + system CPU seconds of ``pid`` (plus its reaped children's with
    ``reaped_children``: a gunicorn master's recycled workers)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / _TICK


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


# -- a gunicorn server on loopback ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP/1.1 connection (http.client: little client overhead)."""

    def __init__(self, port: int, timeout: float = 30.0):
        self.port = port
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def get_once(port: int, path: str, timeout: float = 5.0) -> int | None:
    """One request on a fresh connection; the status, or None if it failed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        r.read()
        return r.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


@dataclass
class Server:
    """gunicorn as ``vnsearch serve`` runs it (our config), in its own session.

    ``startup_s``: from spawning gunicorn to the first ``/readyz`` 200 (the index
    opened and warmed by the worker that answered; every other worker opens it
    on its own first request, which cannot be addressed to it over HTTP)."""

    index_dir: Path
    workers: int | None = None
    threads: int | None = None
    log_path: Path = field(default_factory=lambda: OUT / "server.log")
    port: int = 0
    proc: subprocess.Popen | None = None
    startup_s: float | None = None
    config: dict = field(default_factory=dict)
    extra_env: dict = field(default_factory=dict)  # VNSEARCH_* settings for this run

    def start(self, timeout: float = 180.0) -> Server:
        from search_api.server import gunicorn_command

        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.pop("GUNICORN_CMD_ARGS", None)
        env.update(self.extra_env)
        argv, env, config = gunicorn_command(
            bind=f"127.0.0.1:{self.port}",
            workers=self.workers,
            threads=self.threads,
            index_dir=self.index_dir,
            log_level="warning",
            environ=env,
        )
        self.config = {"workers": config.workers, "threads": config.threads}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as out:
            t0 = time.perf_counter()
            self.proc = subprocess.Popen(
                argv, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = t0 + timeout
        while get_once(self.port, "/readyz") != 200:
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                self.stop()
                raise SystemExit(f"the server did not become ready; see {self.log_path}")
            time.sleep(0.02)
        self.startup_s = time.perf_counter() - t0
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def rss(self) -> dict:
        pids = self.worker_pids()
        return {
            "master_mb": round(rss_mb(self.proc.pid) or 0, 1),
            "workers_mb": [round(rss_mb(p) or 0, 1) for p in pids],
            "workers_anon_mb": [round(rss_mb(p, "RssAnon") or 0, 1) for p in pids],
            "workers_file_mb": [round(rss_mb(p, "RssFile") or 0, 1) for p in pids],
        }

    def cpu(self) -> float:
        """CPU seconds used so far by the master and all its workers, recycled ones included."""
        return cpu_seconds(self.proc.pid, reaped_children=True) + sum(
            cpu_seconds(p) for p in self.worker_pids()
        )

    def sample_rss(self, every: float = 0.5) -> None:
        """Record the largest VmRSS and RssAnon of every worker from now on (a
        background thread, until ``stop``); see ``peak_rss``."""
        import threading

        self._peaks: dict[int, list[float]] = {}
        self._sampling = True

        def run() -> None:
            while self._sampling:
                for pid in self.worker_pids():
                    vm, anon = rss_mb(pid) or 0.0, rss_mb(pid, "RssAnon") or 0.0
                    peak = self._peaks.setdefault(pid, [0.0, 0.0])
                    peak[0], peak[1] = max(peak[0], vm), max(peak[1], anon)
                time.sleep(every)

        self._sampler = threading.Thread(target=run, daemon=True)
        self._sampler.start()

    def peak_rss(self) -> dict:
        """Largest VmRSS / RssAnon seen per worker process (recycled ones included)."""
        peaks = dict(getattr(self, "_peaks", {}))
        return {
            "workers_seen": len(peaks),
            "max_vmrss_mb": round(max((p[0] for p in peaks.values()), default=0.0), 1),
            "max_anon_mb": round(max((p[1] for p in peaks.values()), default=0.0), 1),
        }

    def wait_idle(self, max_s: float = 60.0, busy_share: float = 0.05) -> float:
        """Wait until the server uses under ``busy_share`` of a core over 0.5 s
        (requests queued by a load generator that stopped have finished)."""
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < max_s:
            before = self.cpu()
            time.sleep(0.5)
            if self.cpu() - before < busy_share * 0.5:
                break
        return time.perf_counter() - t0

    def stop(self) -> int | None:
        """SIGTERM to the master (graceful); SIGKILL to the session this started if stuck."""
        if self.proc is None:
            return None
        self._sampling = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait()
