"""What ``vnsearch index check`` finds in a damaged segment file, with and without --deep.

    python bench/corruption.py [SOURCE...] [--offsets 20]

Builds an index of SOURCE (default: data/sample), then, one at a time on a fresh
copy, damages its segment file (truncations, runs of flipped bytes at evenly
spaced offsets, single flipped bytes, a zeroed 4 KB block) and runs the check
on it as a non-live generation would be checked, plain and ``deep``. Prints
how many of the trials of each kind were found. Nothing is served or sent.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from indexer.build import build  # noqa: E402
from indexer.home import IndexHome  # noqa: E402
from indexer.inspection import check  # noqa: E402
from indexer.sources import read_sources  # noqa: E402


def _damage(path: Path, kind: str, frac: float) -> None:
    size = path.stat().st_size
    at = min(size - 1, int(size * frac))
    with open(path, "r+b") as f:
        if kind == "truncate":
            f.truncate(at)
            return
        n = {"flip 64 bytes": 64, "flip 1 byte": 1, "zero 4 KB": 4096}[kind]
        f.seek(at)
        data = f.read(n)
        f.seek(at)
        f.write(bytes(0 if kind == "zero 4 KB" else b ^ 0xFF for b in data))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sources", nargs="*", type=Path, default=[ROOT / "data" / "sample"])
    ap.add_argument("--offsets", type=int, default=20, help="trials per kind")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="vnsearch-corrupt-") as tmp:
        clean = IndexHome(Path(tmp) / "clean")
        report = build(clean, read_sources(args.sources), workers=1)
        gen = clean.current_name()
        (segment,) = (clean.path / gen).glob("*.seg")
        print(f"{report.indexed} documents, segment {segment.stat().st_size} bytes")
        fracs = [(i + 0.5) / args.offsets for i in range(args.offsets)]
        rows = []
        for kind in ("truncate", "flip 64 bytes", "flip 1 byte", "zero 4 KB"):
            found = {"plain": 0, "deep": 0}
            seconds = {"plain": 0.0, "deep": 0.0}
            for frac in fracs:
                copy = Path(tmp) / "copy"
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(clean.path, copy)
                _damage(copy / gen / segment.name, kind, frac)
                for mode in ("plain", "deep"):
                    t = time.perf_counter()
                    result = check(IndexHome(copy), generation=gen, deep=mode == "deep")
                    seconds[mode] += time.perf_counter() - t
                    found[mode] += not result["ok"]
            rows.append((kind, len(fracs), found, seconds))
        clean_t = time.perf_counter()
        assert check(clean, deep=True)["ok"]
        print(f"undamaged: ok, deep check {time.perf_counter() - clean_t:.2f} s")
    print("| damage | trials | found by check | found by check --deep |")
    print("|---|---|---|---|")
    for kind, n, found, _ in rows:
        print(f"| {kind} | {n} | {found['plain']} | {found['deep']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
