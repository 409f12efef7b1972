"""Nothing lost: every record of ../shared/corpus is either in the index or in the
rejection report with a reason.

The build runs as an operator runs it (``vnsearch index build … --report FILE``);
the check reads the source files again on its own (plain ``json``, line by line)
and the index through Whoosh's stored fields, so it shares no code with the
reader beyond ``normalize``. A record counts as indexed when the document with
its id came from its very line (the stored ``origin``) and holds its title and
body after ``normalize`` and the indexer's whitespace clean-up.

By default the first ``VNSEARCH_ACCOUNTING_RECORDS`` (1,500) lines of each file
are used (about a minute); ``VNSEARCH_ACCOUNTING_ALL=1`` takes every record
(~39k articles, 12-15 minutes on 2 cores). The counts are written to
``test-artifacts/accounting.json``.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.analysis import normalize

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _clean_title(text: str) -> str:
    return " ".join(normalize(text).split())


def _clean_body(text: str) -> str:
    lines = (" ".join(line.split()) for line in normalize(text).split("\n"))
    return "\n".join(line for line in lines if line)


def _sources(tmp_path: Path) -> list[Path]:
    files = sorted(CORPUS.glob("*.jsonl.gz"))
    if not files:
        pytest.skip(f"no corpus in {CORPUS}")
    if os.environ.get("VNSEARCH_ACCOUNTING_ALL") == "1":
        return files
    limit = int(os.environ.get("VNSEARCH_ACCOUNTING_RECORDS", "1500"))
    subset = []
    for f in files:
        out = tmp_path / f.name.removesuffix(".gz")
        with gzip.open(f, "rb") as src, open(out, "wb") as dst:
            for n, line in enumerate(src):
                if n >= limit:
                    break
                dst.write(line)
        subset.append(out)
    return subset


def _lines(path: Path):
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        for n, raw in enumerate(f, 1):
            if raw.strip():
                yield n, raw


_LINE = re.compile(r"^line (\d+)$")
_ORIGIN = re.compile(r"^(.*):(\d+)$")


def _rejected_lines(report: Path) -> dict[tuple[str, int], str]:
    """(absolute file, line) -> reason, from the --report file. Reader rejections
    say ``source=file, location="line N"``; the store's (duplicate id, nothing
    left after normalisation) say ``source=file:N, location="record"``."""
    out: dict[tuple[str, int], str] = {}
    for raw in report.read_text("utf-8").splitlines():
        row = json.loads(raw)
        assert row["reason"].strip(), row
        if m := _LINE.match(row["location"]):
            key = (os.path.abspath(row["source"]), int(m[1]))
        else:
            m = _ORIGIN.match(row["source"])
            assert m and row["location"] == "record", f"rejection without a line: {row}"
            key = (os.path.abspath(m[1]), int(m[2]))
        assert key not in out, f"rejected twice: {row}"
        out[key] = row["reason"]
    return out


def _index_documents(index_dir: Path) -> dict[str, dict]:
    from whoosh import index as whoosh_index

    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    ix = whoosh_index.open_dir(str(gen))
    try:
        with ix.reader() as reader:
            docs = {}
            for _, stored in reader.iter_docs():
                assert stored["id"] not in docs, f"id twice in the index: {stored['id']}"
                docs[stored["id"]] = stored
            return docs
    finally:
        ix.close()


def test_every_record_is_indexed_or_rejected_with_a_reason(tmp_path):
    sources = _sources(tmp_path)
    index_dir, report = tmp_path / "index", tmp_path / "rejected.jsonl"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "search_api.cli", "index", "build", *map(str, sources),
         "--index-dir", str(index_dir), "--report", str(report), "--workers", "2", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    build_seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    summary = re.search(r"read (\d+) · added (\d+) .* rejected (\d+)", proc.stdout)
    assert summary, proc.stdout

    rejected = _rejected_lines(report) if report.exists() else {}
    docs = _index_documents(index_dir)
    found: set[str] = set()
    records = in_index = in_report = 0
    reasons: dict[str, int] = {}
    lost: list[str] = []
    for source in sources:
        path = os.path.abspath(source)
        for n, raw in _lines(source):
            records += 1
            if (path, n) in rejected:
                in_report += 1
                reason = re.sub(r"'[^']*'|\d+", "…", rejected[(path, n)])
                reasons[reason] = reasons.get(reason, 0) + 1
                continue
            row = json.loads(raw)
            doc = docs.get(str(row["id"]).strip())
            if doc is None or doc.get("origin") != f"{path}:{n}":
                lost.append(f"{path}:{n} id={row.get('id')!r}")
                continue
            assert doc["title"] == _clean_title(row.get("title") or ""), (path, n)
            assert doc["body"] == _clean_body(row.get("body") or ""), (path, n)
            found.add(doc["id"])
            in_index += 1

    result = {
        "sources": [str(s) for s in sources],
        "records": records,
        "indexed": in_index,
        "rejected": in_report,
        "rejection_reasons": reasons,
        "lost": len(lost),
        "index_documents": len(docs),
        "build_seconds": round(build_seconds, 1),
        "summary": summary.group(0),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "accounting.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(json.dumps(result, ensure_ascii=False))

    assert not lost, f"{len(lost)} records neither indexed nor rejected, e.g. {lost[:5]}"
    assert records == in_index + in_report
    assert len(rejected) == in_report, "the report names lines that are not in the sources"
    assert set(docs) == found, "the index holds documents no source line accounts for"
    read, added, n_rejected = map(int, summary.groups())
    assert (added, n_rejected) == (in_index, in_report)
    assert read >= in_index
