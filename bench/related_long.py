"""``/v1/documents/{id}/related`` on a very long document (issue 15, item 10).

    python bench/related_long.py [--mb 20] [--calls 5] [--index-dir DIR]

Builds (once, into ``--index-dir``, default ``$TMPDIR/vnsearch-related-long``)
an index of one document of ``--mb`` megabytes of Vietnamese news text and 200
ordinary articles, then times ``browse.related`` on the long document with the
bound (``RELATED_TEXT_CHARS``) and, in the same run, without it (the bound set
past the document's length, as before), and the cached call the API makes.
Prints one table: median and max milliseconds per call.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from indexer.build import build
from indexer.errors import IndexMissing
from indexer.home import IndexHome
from indexer.sources import Article
from search_api.engine import browse
from search_api.engine.service import SearchService

TEXT = (
    "Ủy ban nhân dân quận tổ chức hội nghị triển khai công tác tuyên giáo năm mới, "
    "đẩy mạnh cải cách hành chính, phát triển kinh tế xã hội và bảo vệ môi trường; "
    "các phường báo cáo kết quả xây dựng đời sống văn hóa ở khu dân cư. "
)


def _articles(mb: int):
    yield Article(id="long", title="Báo cáo tổng hợp", body=TEXT * (mb * 2**20 // len(TEXT)))
    for i in range(200):
        words = TEXT.split()
        body = " ".join(words[(i * 7 + k) % len(words)] for k in range(120))
        yield Article(id=f"a{i}", title=f"Bản tin số {i} {words[i % len(words)]}", body=body)


def _time(fn, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        out.append(1000 * (time.perf_counter() - t0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--calls", type=int, default=5)
    default_dir = Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "vnsearch-related-long"
    ap.add_argument("--index-dir", type=Path, default=default_dir)
    args = ap.parse_args()

    home = IndexHome(args.index_dir)
    try:
        home.current_dir()
    except IndexMissing:
        t0 = time.perf_counter()
        build(home, _articles(args.mb), workers=1)
        print(f"built {args.index_dir} in {time.perf_counter() - t0:.0f} s")
    svc = SearchService(str(home.path), refresh_interval=0)
    snap = svc.snapshot()
    try:
        bound = browse.RELATED_TEXT_CHARS
        rows = [("bounded", _time(lambda: browse.related(snap, "long", 5), args.calls))]
        browse.RELATED_TEXT_CHARS = 2**40
        rows.append(("unbounded", _time(lambda: browse.related(snap, "long", 5), args.calls)))
        browse.RELATED_TEXT_CHARS = bound
        svc.related("long", 5)
        rows.append(("cached (API)", _time(lambda: svc.related("long", 5), args.calls)))
    finally:
        snap.release()
        svc.close()
    print(f"{'related, ' + str(args.mb) + ' MB document':<28} {'median ms':>10} {'max ms':>10}")
    for name, times in rows:
        print(f"{name:<28} {statistics.median(times):>10.1f} {max(times):>10.1f}")


if __name__ == "__main__":
    main()
