"""Compare one engine's rankings query by query between two benchmark runs.

    python bench/compare_rankings.py OLD.queries.jsonl NEW.queries.jsonl
    python bench/compare_rankings.py OLD NEW --engine vnsearch --out diff.txt

Reads the per-query files that ``bench/relevance.py`` (``top10``, ``did_you_mean``)
and ``bench/questions.py`` (``results.<engine>.ids``, ``status``) write, pairs the
queries by their id (``qid`` or ``id`` plus ``form``) and prints every query whose
top-10 ids, in order, differ. A refactoring that must not change answers (issue
19) should print ``0 differ`` and exit 0; any difference exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _key(rec: dict) -> str:
    if "qid" in rec:
        return str(rec["qid"])
    return f"{rec['id']}|{rec.get('form', '')}"


def _answer(rec: dict, engine: str) -> dict:
    """What one engine answered for one query, in a comparable shape."""
    if "top10" in rec:
        return {"ids": rec["top10"].get(engine), "did_you_mean": rec.get("did_you_mean")}
    res = rec.get("results", {}).get(engine)
    if res is None:
        return {"ids": None}
    return {"ids": res.get("ids"), "status": res.get("status")}


def load(path: Path, engine: str) -> dict[str, tuple[str, dict]]:
    out: dict[str, tuple[str, dict]] = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out[_key(rec)] = (rec.get("q", ""), _answer(rec, engine))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--engine", default="vnsearch")
    ap.add_argument("--out", type=Path, help="also write the report to this file")
    ap.add_argument("--show", type=int, default=20, help="differing queries to print")
    args = ap.parse_args(argv)
    old, new = load(args.old, args.engine), load(args.new, args.engine)
    lines = [f"old: {args.old.name} ({len(old)} queries)", f"new: {args.new.name} ({len(new)})"]
    missing = sorted(set(old) ^ set(new))
    differ = [k for k in old if k in new and old[k][1] != new[k][1]]
    if any(a["ids"] is None for _, a in old.values()):
        lines.append(f"warning: {args.engine} has no answers recorded in the old file")
    for k in differ[: args.show]:
        q, a = old[k]
        lines.append(f"- {k} `{q}`\n    old {a}\n    new {new[k][1]}")
    lines.append(
        f"{args.engine}: {len(old) - len(missing)} queries compared, {len(differ)} differ, "
        f"{len(missing)} present in one file only"
    )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", "utf-8")
    return 1 if differ or missing else 0


if __name__ == "__main__":
    sys.exit(main())
