"""Synthetic articles and the index seen from outside: small articles, a JSONL
feed of them, the ids a search finds, the index CLI as a subprocess, and the
child processes of a process (for tests that kill builds and workers)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from indexer.schema import VN_TZ
from indexer.sources import Article
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

ROOT = Path(__file__).resolve().parents[1]

TEXT = (
    "công tác tuyên giáo quận ủy hội nghị triển khai nhân dân phường thành phố "
    "giáo dục văn hóa xã hội kinh tế đầu tư xây dựng giao thông môi trường y tế"
)
SYLLABLES = TEXT.split(" ")


def article(i: int, *, words: int = 60, tag: str = "", **kw) -> Article:
    """A small synthetic article; ``tag`` is a word found only in this version."""
    body = " ".join(SYLLABLES[(i * 7 + k) % len(SYLLABLES)] for k in range(words))
    kw.setdefault("published", datetime(2017, 3, 1 + i % 28, 8, 0, tzinfo=VN_TZ))
    kw.setdefault("site", "quan5")
    kw.setdefault("category", "Tin tức sự kiện")
    return Article(
        id=f"a{i}",
        title=f"Bản tin số {i} {tag}".strip(),
        body=f"{body}. {tag}".strip(),
        **kw,
    )


def write_jsonl(path: Path, articles: list[Article]) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for a in articles:
            row = {"id": a.id, "title": a.title, "body": a.body, "site": a.site}
            if a.category:
                row["category"] = a.category
            if a.published:
                row["published"] = a.published.isoformat()
            if a.views is not None:
                row["views"] = a.views
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def ids(svc: SearchService, q: str = "") -> set[str]:
    res = svc.search(SearchRequest(q=q, per_page=50))
    return {h["id"] for h in res["hits"]}


def eventually(svc: SearchService, q: str, expected: set[str], timeout: float = 5.0) -> set[str]:
    """What the service answers once it has caught up with the index (it may swap
    snapshots in the background), or what it still answers at the timeout."""
    deadline = time.monotonic() + timeout
    while (got := ids(svc, q)) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return got


def cli(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search_api.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        **kw,
    )


def child_pids(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found
