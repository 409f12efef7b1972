"""What replica trust costs: a signed ``index pull`` against copying and
checksumming the same files with nothing checked (the floor), in one run.

    python bench/replica_pull.py [INDEX_DIR] [--docs 2000] [--repeat 5]

Without INDEX_DIR, builds (once, cached in bench/out/replica-index-<docs>/) an
index of the first ``--docs`` articles of ../shared/corpus. Then, ``--repeat``
times, alternating so machine noise hits all alike:

- ``publish (signed)``: ``index publish --sign-key`` to a fresh distribution dir;
- ``pull (signed)``: ``index pull --verify-key`` into an empty index home:
  signature check, bounded no-follow copies hashed while copied, Whoosh open;
- ``plain copy + sha256``: the peer: each published file copied with plain
  ``open``/``read`` and hashed in the same pass, fsynced (how a pull copied
  before issue 16: no size bound, links followed), nothing else;
- ``verify signature``: the Ed25519 check of PUBLISHED.json alone;
- ``refuse /dev/zero``: a pull whose largest segment is a symlink to /dev/zero,
  until it is refused.

Prints a table of medians and the pull/peer ratio (the pull also opens the
staged index and switches CURRENT, which the peer does not); writes bench/out/replica-pull-*.json.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import perf_common as pc  # noqa: E402

from indexer.build import build  # noqa: E402
from indexer.home import IndexHome  # noqa: E402
from indexer.replica.publication import PUBLISHED, SIGNATURE, CorruptPublication  # noqa: E402
from indexer.replica.publishing import publish  # noqa: E402
from indexer.replica.pulling import pull  # noqa: E402
from indexer.signing import generate, load_signing_key, load_trusted  # noqa: E402

PEER = "plain copy + sha256"


def _plain_copy(src: Path, dst: Path) -> str:
    h = hashlib.sha256()
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        while chunk := fin.read(1 << 20):
            h.update(chunk)
            fout.write(chunk)
        fout.flush()
        os.fsync(fout.fileno())
    return h.hexdigest()


def ensure_index(docs: int) -> Path:
    path = pc.OUT / f"replica-index-{docs}"
    home = IndexHome(path)
    if home.current_name() is None:
        pc.log("build", f"building {docs} articles into {path} (once)")
        build(home, pc.load_corpus()[:docs], workers=1)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("index_dir", type=Path, nargs="?")
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    m = pc.machine()
    index_dir = args.index_dir or ensure_index(args.docs)
    steps = ["publish (signed)", "pull (signed)", PEER, "verify signature"]
    times: dict[str, list[float]] = {k: [] for k in [*steps, "refuse /dev/zero"]}
    with tempfile.TemporaryDirectory(prefix="vnsearch-bench-") as tmp:
        tmp = Path(tmp)
        origin = IndexHome(tmp / "origin")
        shutil.copytree(index_dir, origin.path, ignore=shutil.ignore_patterns("write.lock"))
        key, pub = generate(tmp / "keys", "bench")
        signer, trusted = load_signing_key(key), load_trusted([pub])
        published = None
        for i in range(args.repeat):
            dist = tmp / f"dist{i}"
            t = time.perf_counter()
            published = publish(origin, dist, signer=signer)
            times["publish (signed)"].append(time.perf_counter() - t)
            pub_dir = dist / published.publication

            t = time.perf_counter()
            pull(IndexHome(tmp / f"host{i}"), dist, trusted=trusted)
            times["pull (signed)"].append(time.perf_counter() - t)

            peer = tmp / f"peer{i}"
            peer.mkdir()
            t = time.perf_counter()
            for f in sorted(pub_dir.iterdir()):
                _plain_copy(f, peer / f.name)
            times[PEER].append(time.perf_counter() - t)

            raw, sig = (pub_dir / PUBLISHED).read_bytes(), (pub_dir / SIGNATURE).read_bytes()
            t = time.perf_counter()
            assert trusted.verify(raw, sig)
            times["verify signature"].append(time.perf_counter() - t)

            seg = max(pub_dir.glob("*.seg"), key=lambda p: p.stat().st_size)
            seg.unlink()
            seg.symlink_to("/dev/zero")
            t = time.perf_counter()
            try:
                pull(IndexHome(tmp / f"victim{i}"), dist, trusted=trusted)
                raise AssertionError("a /dev/zero segment was not refused")
            except CorruptPublication:
                times["refuse /dev/zero"].append(time.perf_counter() - t)
            for p in (dist, peer, tmp / f"host{i}", tmp / f"victim{i}"):
                shutil.rmtree(p, ignore_errors=True)

    assert published is not None
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [[k, pc.ms(med[k] * 1000), pc.ms(max(v) * 1000)] for k, v in times.items()]
    print(pc.machine_line(m))
    print(
        f"Index: {index_dir} — {published.files} files, {published.bytes / 2**20:.1f} MB; "
        f"{args.repeat} repeats; load average at end {pc.loadavg()}."
    )
    print(pc.table(["step", "median ms", "max ms"], rows))
    print(f"pull (signed) / {PEER}: {pc.ratio(med['pull (signed)'], med[PEER])}")
    out = pc.write_json(
        "replica-pull",
        {
            "machine": m,
            "index": str(index_dir),
            "files": published.files,
            "bytes": published.bytes,
            "seconds": times,
            "median_seconds": med,
        },
    )
    print(f"written {out}")


if __name__ == "__main__":
    main()
