"""The fixed, seeded query mix of the performance benches (issue 7), and a Zipf sampler.

    python bench/queries.py                 # seed 7: 400 mix queries, 12,000 pool queries
    python bench/queries.py --seed 11 --mix 600 --pool 20000

Queries are 1-4 contiguous words of real titles of ``../shared/corpus`` (read in
place; words are whitespace tokens stripped of edge punctuation, with a letter,
as in ``bench/relevance.py``), in fixed proportions:

- length: 20% one word, 35% two, 25% three, 20% four (shorter when the title is);
- ~10% quoted phrases (2-4 words; for 4 words, a quoted pair plus plain words);
- ~15% with a filter taken from the source article, so it can match: ``year``,
  ``category``, both, or a one-month ``from``/``to`` range (only the dated,
  categorised minority of the corpus can give filters; no article has a site);
- half of every class unaccented (``indexer.analysis.fold``: no marks, ``đ`` to
  ``d``, lower case), half as written.

Two disjoint sets, every request distinct (q compared in lower case, with its
filters), so that no request is answered from the service's result cache:

- ``mix`` (default 400): the fixed latency mix, reused by every bench;
- ``pool`` (default 12,000): more of the same classes, for uncached throughput
  (each request sent once) and for warming servers up.

The Zipf sampler draws requests from the mix with P(rank r) proportional to
1/r^s (the mix in a seeded order gives the ranks): the repeat-heavy traffic of
a portal, most of it answered from caches.

Files written to ``bench/out/queries/`` (git-ignored) and read by the others:
``mix-s<seed>.jsonl``, ``pool-s<seed>.jsonl`` (one request per line: ``q``,
``filters``, class fields), and the same as URL paths (``.paths``) for wrk.
Other benches call :func:`load`, which reuses the files when their parameters
match and makes them otherwise.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from perf_common import OUT, log, table

from indexer.analysis import fold

QDIR = OUT / "queries"
LENGTHS = (1, 2, 3, 4)
LENGTH_WEIGHTS = (0.20, 0.35, 0.25, 0.20)
PHRASE_SHARE = 0.10
FILTER_SHARE = 0.15
FILTER_KINDS = ("year", "category", "year+category", "month range")
VERSION = 1  # bump when generation changes

_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_LETTER = re.compile(r"[^\W\d_]")


def words_of(text: str) -> list[str]:
    """Query words of a title: tokens stripped of edge punctuation, with a letter."""
    out = []
    for tok in text.replace('"', " ").replace("\u201c", " ").replace("\u201d", " ").split():
        w = _EDGE.sub("", tok)
        if w and _LETTER.search(w) and not w.startswith("-"):
            out.append(w)
    return out


def _published_date(a) -> date | None:
    p = a.published
    if isinstance(p, datetime):
        return p.date()
    return p if isinstance(p, date) else None


def _filters(a, kind: str) -> dict[str, str] | None:
    d = _published_date(a)
    if kind == "year":
        return {"year": str(d.year)} if d else None
    if kind == "category":
        return {"category": a.category} if a.category else None
    if kind == "year+category":
        return {"year": str(d.year), "category": a.category} if d and a.category else None
    if d is None:  # month range
        return None
    first = d.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return {"from": first.isoformat(), "to": last.isoformat()}


def _plan(n: int, rng: random.Random) -> list[dict]:
    """Class of each query: exact shares of lengths, phrases, filters, accents."""
    n_phrase = round(PHRASE_SHARE * n)
    n_filter = round(FILTER_SHARE * n)
    lengths = []
    for length, w in zip(LENGTHS, LENGTH_WEIGHTS, strict=True):
        lengths += [length] * round(w * n)
    lengths = (lengths + [2] * n)[:n]
    rng.shuffle(lengths)
    slots = [{"words": k, "phrase": False, "filter": None} for k in lengths]
    multi = [s for s in slots if s["words"] >= 2]
    for s in rng.sample(multi, min(n_phrase, len(multi))):
        s["phrase"] = True
    for i, s in enumerate(rng.sample(slots, n_filter)):
        s["filter"] = FILTER_KINDS[i % len(FILTER_KINDS)]
    # Half of each class unaccented.
    by_class: dict[tuple, list[dict]] = {}
    for s in slots:
        by_class.setdefault((s["words"], s["phrase"], s["filter"]), []).append(s)
    flip = 0
    for group in by_class.values():
        for s in group:
            s["unaccented"] = bool(flip % 2)
            flip += 1
    return slots


def _text(words: list[str], phrase: bool) -> str:
    if not phrase:
        return " ".join(words)
    if len(words) <= 3:
        return '"' + " ".join(words) + '"'
    return '"' + " ".join(words[:2]) + '" ' + " ".join(words[2:])


def cls_of(rec: dict) -> str:
    parts = [f"{rec['words']}w", "unacc" if rec["unaccented"] else "acc"]
    if rec["phrase"]:
        parts.append("phrase")
    if rec["filter_kind"]:
        parts.append("filter")
    return " ".join(parts)


def make(arts: list, n_mix: int, n_pool: int, seed: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    titled = [(a, words_of(a.title or "")) for a in sorted(arts, key=lambda a: a.id)]
    titled = [(a, w) for a, w in titled if w]
    by_len = {k: [(a, w) for a, w in titled if len(w) >= k] for k in LENGTHS}
    with_meta = {kind: [(a, w) for a, w in titled if _filters(a, kind)] for kind in FILTER_KINDS}
    seen: set[tuple] = set()
    sets = []
    for n in (n_mix, n_pool):
        out: list[dict] = []
        for slot in _plan(n, rng):
            for _attempt in range(200):
                k = slot["words"]
                source = with_meta[slot["filter"]] if slot["filter"] else by_len[k]
                a, words = rng.choice(source)
                k = min(k, len(words))
                if slot["phrase"] and k < 2:
                    continue
                start = rng.randrange(len(words) - k + 1)
                span = words[start : start + k]
                q = _text(span, slot["phrase"])
                if slot["unaccented"]:
                    q = fold(q)
                filters = _filters(a, slot["filter"]) if slot["filter"] else {}
                dedupe = (q.lower(), tuple(sorted(filters.items())))
                if dedupe in seen:
                    continue
                seen.add(dedupe)
                rec = {
                    "q": q,
                    "filters": filters,
                    "words": k,
                    "phrase": slot["phrase"],
                    "unaccented": slot["unaccented"],
                    "filter_kind": slot["filter"],
                    "source_id": a.id,
                }
                rec["cls"] = cls_of(rec)
                out.append(rec)
                break
            else:
                raise SystemExit(f"could not make a distinct query for {slot}")
        for i, rec in enumerate(out):
            rec["qid"] = i
        sets.append(out)
    return sets[0], sets[1]


# -- using the mix ----------------------------------------------------------------------


def search_params(rec: dict, facets: bool = True) -> dict[str, str]:
    """HTTP query parameters of a mix record (default facets unless ``facets`` is False)."""
    params = {"q": rec["q"], **rec["filters"]}
    if not facets:
        params["facets"] = ""
    return params


def path_of(rec: dict, facets: bool = True) -> str:
    return "/v1/search?" + urlencode(search_params(rec, facets), quote_via=quote)


def request_of(rec: dict, facets: tuple[str, ...] | None = None, per_page: int = 10):
    """A ``SearchRequest`` for a mix record (default facets unless given)."""
    from search_api.engine.request import DEFAULT_FACETS, SearchRequest

    f = rec["filters"]
    return SearchRequest(
        q=rec["q"],
        per_page=per_page,
        years=(f["year"],) if "year" in f else (),
        categories=(f["category"],) if "category" in f else (),
        date_from=date.fromisoformat(f["from"]) if "from" in f else None,
        date_to=date.fromisoformat(f["to"]) if "to" in f else None,
        facets=DEFAULT_FACETS if facets is None else facets,
    )


def zipf_sequence(n_items: int, length: int, s: float, seed: int) -> list[int]:
    """``length`` indices into a list of ``n_items``, Zipf-distributed over a
    seeded ranking of the items (P(rank r) ~ 1/r^s)."""
    rng = random.Random(f"zipf:{seed}")
    ranking = list(range(n_items))
    rng.shuffle(ranking)
    weights = [1.0 / (r**s) for r in range(1, n_items + 1)]
    return rng.choices(ranking, weights=weights, k=length)


def zipf_stats(seq: list[int]) -> dict:
    counts = Counter(seq)
    top = counts.most_common(10)
    return {
        "requests": len(seq),
        "distinct": len(counts),
        "top1_share": top[0][1] / len(seq),
        "top10_share": sum(c for _, c in top) / len(seq),
    }


def _paths(kind: str, seed: int) -> tuple[Path, Path, Path]:
    return (
        QDIR / f"{kind}-s{seed}.jsonl",
        QDIR / f"{kind}-s{seed}.paths",
        QDIR / f"params-s{seed}.json",
    )


def _params(seed: int, n_mix: int, n_pool: int) -> dict:
    return {"version": VERSION, "seed": seed, "mix": n_mix, "pool": n_pool}


def write(mix: list[dict], pool: list[dict], seed: int, n_mix: int, n_pool: int) -> None:
    QDIR.mkdir(parents=True, exist_ok=True)
    for kind, recs in (("mix", mix), ("pool", pool)):
        jl, paths, _ = _paths(kind, seed)
        with open(jl, "w", encoding="utf-8") as fh:
            for rec in recs:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        paths.write_text("".join(path_of(r) + "\n" for r in recs), "utf-8")
    _paths("mix", seed)[2].write_text(json.dumps(_params(seed, n_mix, n_pool)), "utf-8")


def read(kind: str, seed: int) -> list[dict]:
    jl = _paths(kind, seed)[0]
    return [json.loads(line) for line in jl.read_text("utf-8").splitlines() if line]


def load(seed: int = 7, n_mix: int = 400, n_pool: int = 12000, arts=None):
    """(mix, pool) for ``seed``: from ``bench/out/queries/`` when made with the
    same parameters, else made now (reads the corpus) and written."""
    params_file = _paths("mix", seed)[2]
    if params_file.exists() and json.loads(params_file.read_text()) == _params(seed, n_mix, n_pool):
        return read("mix", seed), read("pool", seed)
    if arts is None:
        from perf_common import load_corpus

        log("queries", "reading the corpus to make the query mix")
        arts = load_corpus()
    mix, pool = make(arts, n_mix, n_pool, seed)
    write(mix, pool, seed, n_mix, n_pool)
    return mix, pool


def class_table(recs_by_set: dict[str, list[dict]]) -> str:
    dims = [
        ("words", lambda r: f"{r['words']} word{'s' if r['words'] > 1 else ''}"),
        ("form", lambda r: "unaccented" if r["unaccented"] else "accented"),
        ("phrase", lambda r: "quoted phrase" if r["phrase"] else None),
        ("filter", lambda r: f"filter: {r['filter_kind']}" if r["filter_kind"] else None),
        ("any filter", lambda r: "any filter" if r["filter_kind"] else None),
    ]
    rows = []
    for _dim, fn in dims:
        labels: dict[str, dict[str, int]] = {}
        for name, recs in recs_by_set.items():
            for r in recs:
                label = fn(r)
                if label:
                    labels.setdefault(label, Counter())[name] += 1
        for label in sorted(labels):
            row = [label]
            for name, recs in recs_by_set.items():
                c = labels[label][name]
                row.append(f"{c} ({100 * c / len(recs):.1f}%)")
            rows.append(row)
    rows.append(["all", *(str(len(recs)) for recs in recs_by_set.values())])
    return table(["class", *recs_by_set], rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--mix", type=int, default=400, help="latency mix size (at least 300)")
    ap.add_argument("--pool", type=int, default=12000, help="distinct pool for throughput")
    ap.add_argument("--zipf-s", type=float, default=1.1, help="Zipf exponent (default 1.1)")
    args = ap.parse_args(argv)
    if args.mix < 300:
        ap.error("--mix must be at least 300")
    from perf_common import load_corpus

    log("queries", "reading the corpus")
    arts = load_corpus()
    mix, pool = make(arts, args.mix, args.pool, args.seed)
    write(mix, pool, args.seed, args.mix, args.pool)
    print(f"## Query mix (seed {args.seed})\n")
    print(
        f"From the titles of {len(arts)} articles of ../shared/corpus. Written to "
        f"{_paths('mix', args.seed)[0].relative_to(OUT.parent.parent)} and "
        f"{_paths('pool', args.seed)[0].name} (+ .paths for wrk).\n"
    )
    print(class_table({"mix": mix, "pool": pool}))
    seq = zipf_sequence(len(mix), 100_000, args.zipf_s, args.seed)
    z = zipf_stats(seq)
    print(
        f"\nZipf sampler over the mix (s = {args.zipf_s}): {z['requests']} requests, "
        f"{z['distinct']} distinct; the most frequent query is {100 * z['top1_share']:.1f}% "
        f"of requests, the top 10 are {100 * z['top10_share']:.1f}%."
    )
    print("\nFirst mix queries (class: request):\n")
    for rec in mix[:8]:
        print(f"- {rec['cls']}: {path_of(rec)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
