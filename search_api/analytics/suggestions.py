"""``vnsearch analytics suggestions``: the queries many visitors typed and found
something for, written to the index home for ``/v1/suggest`` (see
search_api/learned.py) and published with the index (indexer/replica/publishing.py).

Kept: queries searched (page 1) at least ``min_count`` times that found results
the last time they were searched, with at most :data:`MAX_WORDS`
words, and no masked personal number. Spellings that fold alike (``tuyen giao``,
``tuyên giáo``) count together and are shown in the most searched spelling with
diacritics (the unaccented one only when nobody typed diacritics).

The denylist (``SUGGESTIONS.deny`` in the index home by default, one word or
phrase a line, ``#`` comments) removes every suggestion that contains one of its
entries as whole words, with or without diacritics: ``chet`` removes ``chết
người``. It applies when the file is built: edit it, rebuild, publish.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from indexer.analysis import fold, normalize
from indexer.files import utc_now, write_atomic
from indexer.home import LEARNED_SUGGESTIONS
from search_api.analytics.queries import Events
from search_api.event_records import MASK
from search_api.learned import FORMAT, MAX_ENTRIES, MAX_TEXT_CHARS

DENYLIST = "SUGGESTIONS.deny"
MAX_WORDS = 8
DEFAULT_MIN_COUNT = 5
MAX_DENY_BYTES = 1024 * 1024


def read_denylist(path: Path) -> list[str]:
    """The folded entries of a denylist file (missing file: none)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_DENY_BYTES + 1)
    except FileNotFoundError:
        return []
    if len(data) > MAX_DENY_BYTES:
        raise ValueError(f"{path} is larger than {MAX_DENY_BYTES} bytes")
    entries = []
    for line in data.decode("utf-8", errors="replace").splitlines():
        text = " ".join(fold(normalize(line.partition("#")[0])).split())
        if text:
            entries.append(text)
    return sorted(set(entries))


def learned_rows(ev: Events, min_count: int, deny: list[str], limit: int = MAX_ENTRIES) -> list:
    """``[{"text", "count"}]``, most searched first."""
    ev.con.execute("CREATE OR REPLACE TEMP TABLE deny (term VARCHAR)")
    if deny:
        ev.con.executemany("INSERT INTO deny VALUES (?)", [[d] for d in deny])
    return ev.rows(
        """WITH s AS (
               SELECT q, folded, count(*) AS n, max(time) AS last_time,
                      arg_max(coalesce(hits, 0), time) AS last_hits
               FROM searches GROUP BY q, folded),
           f AS (
               SELECT folded, sum(n) AS count, arg_max(last_hits, last_time) AS last_hits,
                      arg_max(q, (CASE WHEN q <> folded THEN 1e12 ELSE 0 END) + n) AS text
               FROM s GROUP BY folded)
           SELECT text, CAST(count AS BIGINT) AS count FROM f
           WHERE count >= ? AND last_hits > 0
             AND len(string_split(folded, ' ')) <= ? AND length(text) <= ?
             AND NOT contains(text, ?)
             AND NOT EXISTS (SELECT 1 FROM deny
                             WHERE contains(' ' || f.folded || ' ', ' ' || deny.term || ' '))
           ORDER BY count DESC, text LIMIT ?""",
        [min_count, MAX_WORDS, MAX_TEXT_CHARS, MASK, limit],
    )


def build(
    ev: Events,
    home: str | os.PathLike,
    *,
    min_count: int = DEFAULT_MIN_COUNT,
    denylist: str | os.PathLike | None = None,
) -> tuple[Path, int]:
    """Write the learned suggestions file into ``home`` (atomically); returns
    its path and the number of suggestions."""
    home = Path(home)
    deny_path = Path(denylist) if denylist is not None else home / DENYLIST
    rows = learned_rows(ev, min_count, read_denylist(deny_path))
    doc = {
        "format": FORMAT,
        "built_at": utc_now(),
        "min_count": min_count,
        "suggestions": rows,
    }
    home.mkdir(parents=True, exist_ok=True)
    target = home / LEARNED_SUGGESTIONS
    write_atomic(target, orjson.dumps(doc, option=orjson.OPT_INDENT_2))
    return target, len(rows)
