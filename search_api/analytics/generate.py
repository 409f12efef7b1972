"""A synthetic, seeded search event log in the writer's format, for the tests and
``bench/analytics.py``: Zipf-distributed queries (a few very common, a long
tail), some that never find anything, did-you-mean and relaxed answers,
further pages, suggestion requests and clicks, spread over days, sites and
worker files (one of them still open, ``.part``)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from indexer.analysis import fold
from search_api.event_records import FORMAT
from search_api.events import OPEN_SUFFIX

SYLLABLES = (
    "tuyên giáo công tác quận ủy ban nhân dân phường học sinh giáo dục y tế "
    "giao thông xây dựng đất đai thuế hộ khẩu căn cước đăng ký kinh doanh "
    "môi trường văn hóa thể thao du lịch lao động việc làm bảo hiểm xã hội"
).split()
SITES = ("quan5", "quan1", "phuong2")


def _queries(rng: random.Random, n: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        words = rng.sample(SYLLABLES, rng.choice((1, 2, 2, 3, 3, 4)))
        text = " ".join(words)
        out.add(fold(text) if rng.random() < 0.25 else text)
    return sorted(out)


def generate(
    directory: str | Path,
    events: int,
    *,
    seed: int = 18,
    queries: int = 2_000,
    files: int = 4,
    days: int = 30,
    start: datetime = datetime(2026, 11, 1),
) -> list[Path]:
    """Write about ``events`` events into ``files`` files under ``directory``."""
    rng = random.Random(seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab = _queries(rng, queries)
    weights = [1 / (i + 1) for i in range(len(vocab))]
    # Every query has a fixed behaviour, as a real index would give it.
    behaviour = {
        q: (
            0 if rng.random() < 0.15 else rng.randint(1, 500),  # total hits
            rng.random() < 0.1,  # did you mean
            rng.random() < 0.05,  # relaxed
        )
        for q in vocab
    }
    paths = [directory / f"events-{start:%Y%m%d}-gen-{1000 + i}-1.jsonl" for i in range(files)]
    paths[-1] = paths[-1].with_name(paths[-1].name + OPEN_SUFFIX)
    outs = [open(p, "wb") for p in paths]  # noqa: SIM115 (closed below)
    span = days * 86_400
    try:
        picks = rng.choices(vocab, weights, k=events)
        for i, q in enumerate(picks):
            t = start + timedelta(seconds=rng.random() * span)
            hits, dym, relaxed = behaviour[q]
            r = rng.random()
            ev: dict[str, Any]
            if r < 0.2:
                ev = {"type": "suggest", "q": q[: rng.randint(1, len(q))], "hits": 5}
            elif r < 0.27 and hits:
                ev = {"type": "click", "q": q, "doc_id": f"d{rng.randint(1, 999)}"}
                ev["position"] = min(hits, 1 + int(rng.expovariate(0.4)))
                ev["page"] = 1 + (ev["position"] - 1) // 10
            else:
                ev = {"type": "search", "q": q, "sort": "relevance", "per_page": 10}
                ev["page"] = 1 if rng.random() < 0.9 else rng.randint(2, 5)
                ev["hits"] = hits
                if rng.random() < 0.3:
                    ev["sites"] = [rng.choice(SITES)]
                if dym:
                    ev["did_you_mean"] = q + " x"
                if relaxed:
                    ev["relaxed"] = True
                ev["latency_ms"] = round(rng.random() * 20, 2)
                ev["generation"] = "g000001.1"
            ev = {"v": FORMAT, "time": t.isoformat(timespec="milliseconds"), **ev}
            ev["folded"] = fold(ev["q"])
            outs[i % files].write(orjson.dumps(ev) + b"\n")
    finally:
        for f in outs:
            f.close()
    return paths
