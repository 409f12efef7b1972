"""The question set and its scoring, shared by ``bench/questions.py`` (relevance)
and ``bench/questions_http.py`` (latency over HTTP); not a bench itself.

The set is ``../shared/eval/questions-dev/`` (UIT-ViQuAD 1.0 questions written
by people, each with the Wikipedia paragraph that answers it; see its README).
Its licence allows evaluation inside the project only: it is read in place and
nothing of it is copied into the repository (per-query results go to the
git-ignored ``bench/out/``).

Metrics follow the set's README, at a cut-off ``k`` (10):

- MRR@k: 1/rank of the first relevant id in the top k, 0 if none;
- Recall@k: the share of the query's relevant ids found in the top k;
- nDCG@k: binary gains, DCG = sum of 1/log2(rank + 1) over the relevant ids in
  the top k, divided by the DCG of an ideal ranking (all relevant ids first).

A refused query (the API answers 4xx) or a peer's error scores 0 on all three:
its ranking is empty. Length buckets count the syllables of the question as
written (``indexer.analysis.syllables``: runs of letters and digits).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from indexer.analysis import syllables

HERE = Path(__file__).resolve().parent
DEFAULT_EVAL_DIR = HERE.parent.parent / "shared" / "eval" / "questions-dev"
PASSAGES = "passages.jsonl.gz"
QUERIES = "queries.jsonl"
SPLITS = ("dev", "test")
FORMS = ("accented", "unaccented")
K = 10
# (label, lowest, highest) syllables; the buckets.
BUCKETS = (("≤5", 0, 5), ("6–15", 6, 15), ("16–30", 16, 30), (">30", 31, None))
BUCKET_LABELS = tuple(b[0] for b in BUCKETS)
METRICS = ("mrr", "recall", "ndcg")


# -- metrics of one ranking ------------------------------------------------------------


def _first_rank(ranked: Sequence[str], relevant: Iterable[str], k: int) -> int | None:
    rel = set(relevant)
    for i, doc in enumerate(ranked[:k], 1):
        if doc in rel:
            return i
    return None


def mrr_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """1/rank of the first relevant id among the first ``k``; 0 if none."""
    rank = _first_rank(ranked, relevant, k)
    return 1.0 / rank if rank else 0.0


def recall_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """Share of the relevant ids among the first ``k`` (each counted once)."""
    rel = set(relevant)
    if not rel:
        raise ValueError("a query without relevant ids cannot be scored")
    return len(rel & set(ranked[:k])) / len(rel)


def ndcg_at(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    """Binary-gain nDCG of the first ``k``; a relevant id repeated gains once."""
    rel = set(relevant)
    if not rel:
        raise ValueError("a query without relevant ids cannot be scored")
    seen: set[str] = set()
    dcg = 0.0
    for i, doc in enumerate(ranked[:k], 1):
        if doc in rel and doc not in seen:
            seen.add(doc)
            dcg += 1.0 / math.log2(i + 1)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(rel), k) + 1))
    return dcg / ideal


def scores(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> dict[str, float]:
    rel = list(relevant)
    return {
        "mrr": mrr_at(ranked, rel, k),
        "recall": recall_at(ranked, rel, k),
        "ndcg": ndcg_at(ranked, rel, k),
    }


def mean_scores(per_query: Sequence[dict[str, float]]) -> dict:
    """Means of ``scores`` over queries, with their count ``n`` (None when empty)."""
    n = len(per_query)
    out: dict = {"n": n}
    for m in METRICS:
        out[m] = sum(s[m] for s in per_query) / n if n else None
    return out


# -- length buckets ---------------------------------------------------------------------


def syllable_count(q: str) -> int:
    return len(syllables(q))


def bucket_of(n_syllables: int) -> str:
    """The issue's length bucket of a query of ``n_syllables`` syllables."""
    if n_syllables < 0:
        raise ValueError("a negative syllable count")
    for label, low, high in BUCKETS:
        if n_syllables >= low and (high is None or n_syllables <= high):
            return label
    raise AssertionError("unreachable: the buckets cover every count")


# -- the set ---------------------------------------------------------------------------


def load_questions(
    eval_dir: Path = DEFAULT_EVAL_DIR, splits: Sequence[str] = SPLITS, limit: int | None = None
) -> list[dict]:
    """The queries of ``splits`` in file order (the first ``limit`` of each split
    when given), each with ``syllables`` and ``bucket`` of its text as written."""
    path = eval_dir / QUERIES
    if not path.is_file():
        raise SystemExit(f"{path} is missing (see ../shared/eval/questions-dev/README.md)")
    taken = dict.fromkeys(splits, 0)
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            split = rec["split"]
            if split not in taken or (limit is not None and taken[split] >= limit):
                continue
            taken[split] += 1
            n = syllable_count(rec["query"])
            out.append(
                {
                    "id": rec["id"],
                    "split": split,
                    "query": rec["query"],
                    "relevant": list(rec["relevant"]),
                    "syllables": n,
                    "bucket": bucket_of(n),
                }
            )
    return out


def passages_path(eval_dir: Path = DEFAULT_EVAL_DIR) -> Path:
    path = eval_dir / PASSAGES
    if not path.is_file():
        raise SystemExit(f"{path} is missing (see ../shared/eval/questions-dev/README.md)")
    return path
