"""How fast `vnsearch crawl` goes, and which stage bounds it.

One command: serves N fixture article pages (tests/crawl_portal.py, the seed's
layout; default 2,000) plus their listings and sitemap on 127.0.0.1, then

- ``urllib``: a plain sequential GET of every article (the peer: what fetching
  alone costs on this machine, no politeness, no parsing);
- ``crawl``: ``vnsearch crawl SITE --no-index`` in a subprocess (Scrapy, the
  store, decoding and extraction), no delay, N concurrent requests;
- ``recrawl``: the same command again (every page a 304 or a lastmod skip);
- ``extract``: decoding + extraction alone, in this process, on the same pages;
- ``index``: ``index build`` from the crawl store (pyvi + Whoosh), and pyvi alone.

Prints a table: wall seconds, pages/s and CPU ms per page for each run, then
CPU ms per page by stage (fetch, extraction, pyvi, index) and the one that
bounds the throughput. Wall times on a loaded machine are a poor guide (the
crawl waits for a CPU); CPU per page is the figure to compare. With a polite
``delay`` the delay bounds everything (1 s a page by default).

    .venv/bin/python bench/crawl.py [--pages 2000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from crawl_portal import Portal, PortalServer, article_html, make_article  # noqa: E402

from indexer import analysis  # noqa: E402
from indexer.build import build  # noqa: E402
from indexer.crawl.decode import decode_page  # noqa: E402
from indexer.crawl.extract import extract_page  # noqa: E402
from indexer.crawl.legacy import convert_html  # noqa: E402
from indexer.home import IndexHome  # noqa: E402
from indexer.sources.crawlstore import read_crawl_store  # noqa: E402
from indexer.sources.html_rules import SiteRules  # noqa: E402


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def crawl(site: Path, index_dir: Path) -> tuple[float, float, str]:
    cpu, wall = children_cpu(), time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "search_api.cli",
            "crawl",
            str(site),
            "--index-dir",
            str(index_dir),
            "--no-index",
            "-q",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return time.perf_counter() - wall, children_cpu() - cpu, out.stdout.splitlines()[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    n = args.pages
    articles = [make_article(i) for i in range(n)]
    portal = Portal(articles={a.slug: a for a in articles}, specials=False, per_page=50)
    rows: list[tuple[str, float, float, int]] = []  # stage, wall s, cpu s, pages
    with tempfile.TemporaryDirectory() as tmp, PortalServer(portal) as server:
        tmp = Path(tmp)
        site = tmp / "site.toml"
        site.write_text(
            f'name = "bench"\nstart = ["{server.base}/"]\n'
            f"[limits]\nmax_pages = {n * 2 + 100}\nmax_depth = 100\n"
            f"[politeness]\ndelay = 0\nconcurrency = {args.concurrency}\nautothrottle = false\n",
            "utf-8",
        )
        # The peer: fetching alone.
        cpu, wall = time.process_time(), time.perf_counter()
        for a in articles:
            with urllib.request.urlopen(server.base + a.path) as r:
                r.read()
        rows.append(
            (
                "urllib GET (peer, sequential)",
                time.perf_counter() - wall,
                time.process_time() - cpu,
                n,
            )
        )
        index_dir = tmp / "index"
        server_cpu = time.process_time()
        wall, cpu, line = crawl(site, index_dir)
        rows.append(("crawl (Scrapy + store + extraction)", wall, cpu, n))
        server_cpu = time.process_time() - server_cpu
        print(f"# first crawl: {line}", file=sys.stderr)
        wall, cpu, line = crawl(site, index_dir)
        rows.append(("recrawl (304 / lastmod)", wall, cpu, n))
        print(f"# recrawl: {line}", file=sys.stderr)

        pages = [article_html(a, []).encode() for a in articles]
        cpu, wall = time.process_time(), time.perf_counter()
        for i, raw in enumerate(pages):
            text, _ = decode_page(raw, "utf-8")
            text, _ = convert_html(text)
            extract_page(
                text,
                url=f"{server.base}/{i}",
                doc_id=str(i),
                site="bench",
                rules=SiteRules(),
                is_article=None,
                min_body_chars=200,
            )
        rows.append(
            (
                "decode + extract (in process)",
                time.perf_counter() - wall,
                time.process_time() - cpu,
                n,
            )
        )

        records = list(read_crawl_store(index_dir / "crawl.sqlite"))
        texts = [t for r in records for t in (r.title, r.body)]
        analysis.word_spans("khởi động pyvi")  # its import is not a per-page cost
        cpu, wall = time.process_time(), time.perf_counter()
        for t in texts:
            analysis.word_spans(t)
        rows.append(
            ("pyvi alone", time.perf_counter() - wall, time.process_time() - cpu, len(records))
        )
        cpu, wall = time.process_time(), time.perf_counter()
        report = build(IndexHome(tmp / "built"), records, workers=1)
        rows.append(
            (
                "index build from the store (pyvi + Whoosh)",
                time.perf_counter() - wall,
                time.process_time() - cpu,
                report.indexed,
            )
        )

    load = os.getloadavg()
    print(
        f"pages {n} · concurrency {args.concurrency} · load {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} · portal server CPU during the crawl {server_cpu:.1f} s"
    )
    print(f"{'stage':<44} {'wall s':>8} {'pages/s':>9} {'CPU ms/page':>12}")
    for stage, wall, cpu, count in rows:
        print(f"{stage:<44} {wall:>8.2f} {count / wall:>9.1f} {cpu / count * 1000:>12.2f}")
    # CPU per page by stage: the crawl's own machinery is the crawl's CPU less
    # extraction's, Whoosh is the build's less pyvi's.
    cpu = {stage: c / count * 1000 for stage, _, c, count in rows}
    crawl_cpu = cpu["crawl (Scrapy + store + extraction)"]
    extract_cpu = cpu["decode + extract (in process)"]
    pyvi_cpu = cpu["pyvi alone"]
    stages = {
        "fetch (Scrapy, store, HTTP)": crawl_cpu - extract_cpu,
        "extraction (decode, TCVN3/VNI, parse)": extract_cpu,
        "pyvi": pyvi_cpu,
        "index (Whoosh, without pyvi)": cpu["index build from the store (pyvi + Whoosh)"]
        - pyvi_cpu,
    }
    print(f"\n{'stage':<44} {'CPU ms/page':>12}")
    for stage, ms in stages.items():
        print(f"{stage:<44} {ms:>12.2f}")
    print(f"bound by (CPU): {max(stages, key=stages.get)}")


if __name__ == "__main__":
    main()
