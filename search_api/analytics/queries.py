"""The questions ``vnsearch analytics`` answers, as SQL over the event files.

DuckDB reads the JSON Lines files where they are (``read_ndjson`` with the
explicit schema :data:`search_api.event_records.COLUMNS`; a torn or foreign line is
skipped, never the run), so there is no import step and no copy. Every figure
is one SQL statement: no aggregation in Python.

Conventions, the same in every answer:

- a *search* is a ``/v1/search`` request for page 1 with a non-empty query
  (further pages of the same query are not new searches);
- queries are grouped by their normalised form (``q``: lowercase, NFC, one
  space; ``tuyen giao`` and ``tuyên giáo`` are different queries);
- days are Vietnam days (UTC+7, no daylight saving);
- ``since`` is a Vietnam date or a number of days back (``7d``), ``site`` keeps
  the searches filtered to that site (``site=`` parameter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from search_api.event_records import COLUMNS
from search_api.events import OPEN_SUFFIX

if TYPE_CHECKING:  # imported when events are read: the CLI starts faster
    import duckdb

# Vietnam time is UTC+7 all year.
UTC_OFFSET_HOURS = 7
PATTERNS = ("events-*.jsonl", "events-*.jsonl" + OPEN_SUFFIX, "events-*.jsonl.gz")


class AnalyticsError(Exception):
    """Bad input to the analytics (a bad --since, an unreadable directory)."""


def event_files(directory: str | Path) -> list[str]:
    """Every event file under ``directory`` (hosts may ship theirs into
    subdirectories), open ones included."""
    root = Path(directory)
    if not root.is_dir():
        raise AnalyticsError(f"{root} is not a directory of search events")
    files = {str(p) for pattern in PATTERNS for p in root.rglob(pattern) if p.is_file()}
    return sorted(files)


def parse_since(value: str | None, today: date | None = None) -> datetime | None:
    """``YYYY-MM-DD`` (a Vietnam day) or ``Nd`` (N days back, today included) as
    the UTC instant it starts at."""
    if not value:
        return None
    today = today or (datetime.now(UTC) + timedelta(hours=UTC_OFFSET_HOURS)).date()
    m = re.fullmatch(r"([0-9]{1,5})d", value.strip())
    try:
        day = today - timedelta(days=int(m[1]) - 1) if m else date.fromisoformat(value.strip())
    except ValueError:
        raise AnalyticsError(
            f"--since takes a date (YYYY-MM-DD) or a number of days (7d), got {value!r}"
        ) from None
    return datetime(day.year, day.month, day.day) - timedelta(hours=UTC_OFFSET_HOURS)


# Read from the files by every question (the filters and the views need them);
# the others only when a question asks for them: DuckDB converts only the
# columns it is given, which halves the time of a question on few columns.
BASE_COLUMNS = ("v", "type", "time", "q", "page", "hits", "sites")


def _columns_sql(names: list[str]) -> str:
    return "{" + ", ".join(f"'{n}': '{COLUMNS[n]}'" for n in names) + "}"


@dataclass
class Events:
    """A DuckDB connection with a view ``ev`` of the selected events and, on it,
    ``searches`` (see the module docstring) and ``clicks``."""

    con: duckdb.DuckDBPyConnection
    files: int

    def rows(self, sql: str, params: list | None = None) -> list[dict]:
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self.con.close()


def _lit(text: str) -> str:
    """A SQL string literal (views cannot take bound parameters)."""
    return "'" + text.replace("'", "''") + "'"


def open_events(
    directory: str | Path,
    *,
    since: str | None = None,
    site: str | None = None,
    materialize: bool = False,
    columns: tuple[str, ...] | None = None,
    threads: int | None = None,
) -> Events:
    """The events under ``directory``, restricted to ``since`` and ``site``.
    ``materialize``: read the files once into memory (several questions on the
    same events, e.g. the HTML report); else each question reads the columns it
    needs from the files. ``columns``: read only these besides
    :data:`BASE_COLUMNS` (the others are null); None: all."""
    import duckdb

    files = event_files(directory)
    start = parse_since(since)
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    wanted = list(COLUMNS) if columns is None else [*BASE_COLUMNS, *columns]
    read = [n for n in COLUMNS if n in wanted] if files else []
    nulls = ", ".join(f"CAST(NULL AS {k}) AS {n}" for n, k in COLUMNS.items() if n not in read)
    if files:
        listed = "[" + ", ".join(_lit(f) for f in files) + "]"
        source = (
            f"(SELECT *{', ' + nulls if nulls else ''} FROM read_ndjson({listed}, "
            f"columns = {_columns_sql(read)}, ignore_errors = true, "
            "maximum_object_size = 1048576))"
        )
    else:  # no file yet: the same columns, no rows
        source = f"(SELECT {nulls} WHERE false)"
    where = "v = 1"
    if start is not None:
        where += f" AND time >= TIMESTAMP {_lit(start.isoformat(sep=' '))}"
    kind = "TABLE" if materialize else "VIEW"
    con.execute(
        f"CREATE TEMP {kind} ev AS SELECT *, "
        f"CAST(time + INTERVAL {UTC_OFFSET_HOURS} HOUR AS DATE) AS day "
        f"FROM {source} WHERE {where}"
    )
    site_clause = f"AND list_contains(sites, {_lit(site)})" if site else ""
    con.execute(
        "CREATE TEMP VIEW searches AS SELECT * FROM ev WHERE type = 'search' "
        f"AND coalesce(page, 1) = 1 AND coalesce(q, '') <> '' {site_clause}"
    )
    con.execute("CREATE TEMP VIEW clicks AS SELECT * FROM ev WHERE type = 'click'")
    return Events(con, len(files))


# -- the reports ------------------------------------------------------------------------


def top(ev: Events, limit: int = 20) -> list[dict]:
    """The most searched queries, with how often they found nothing."""
    return ev.rows(
        """SELECT q AS query, count(*) AS count,
                  count(*) FILTER (WHERE coalesce(hits, 0) = 0) AS zero_hits,
                  round(avg(coalesce(hits, 0)), 1) AS avg_hits
           FROM searches GROUP BY q ORDER BY count DESC, query LIMIT ?""",
        [limit],
    )


def zero(ev: Events, limit: int = 20) -> list[dict]:
    """Queries that found nothing: content the portal may be missing."""
    return ev.rows(
        """SELECT q AS query, count(*) AS count, CAST(max(day) AS VARCHAR) AS last_day
           FROM searches WHERE coalesce(hits, 0) = 0
           GROUP BY q ORDER BY count DESC, query LIMIT ?""",
        [limit],
    )


def did_you_mean(ev: Events, limit: int = 20) -> list[dict]:
    """Queries answered with a did-you-mean reading (the most frequent one)."""
    return ev.rows(
        """SELECT q AS query, count(*) AS count, mode(did_you_mean) AS did_you_mean,
                  count(*) FILTER (WHERE coalesce(hits, 0) = 0) AS zero_hits
           FROM searches WHERE did_you_mean IS NOT NULL
           GROUP BY q ORDER BY count DESC, query LIMIT ?""",
        [limit],
    )


def relaxed(ev: Events, limit: int = 20) -> list[dict]:
    """Queries that found (almost) nothing with every word and were relaxed."""
    return ev.rows(
        """SELECT q AS query, count(*) AS count, round(avg(coalesce(hits, 0)), 1) AS avg_hits
           FROM searches WHERE coalesce(relaxed, false)
           GROUP BY q ORDER BY count DESC, query LIMIT ?""",
        [limit],
    )


_PER_QUERY = """
    WITH s AS (SELECT q, count(*) AS searches FROM searches
               WHERE coalesce(hits, 0) > 0 GROUP BY q),
         c AS (SELECT q, count(*) AS clicks, avg(position) AS mean_position FROM clicks
               WHERE q IN (SELECT q FROM s) GROUP BY q)
"""


def no_click(ev: Events, limit: int = 20) -> list[dict]:
    """Queries that found results but whose results were never opened (needs
    click reporting, VNSEARCH_CLICKS=1)."""
    return ev.rows(
        _PER_QUERY
        + """SELECT s.q AS query, s.searches AS count FROM s LEFT JOIN c USING (q)
             WHERE c.clicks IS NULL ORDER BY count DESC, query LIMIT ?""",
        [limit],
    )


def clicks(ev: Events, limit: int = 20) -> list[dict]:
    """Click-through rate (clicks per search) and mean click position per query."""
    return ev.rows(
        _PER_QUERY
        + """SELECT s.q AS query, s.searches AS count, coalesce(c.clicks, 0) AS clicks,
                    round(coalesce(c.clicks, 0) / s.searches, 3) AS ctr,
                    round(c.mean_position, 2) AS mean_position
             FROM s LEFT JOIN c USING (q) ORDER BY count DESC, query LIMIT ?""",
        [limit],
    )


def daily(ev: Events, limit: int = 3660) -> list[dict]:
    """Searches, zero-result searches, suggestion requests and clicks per day."""
    return ev.rows(
        """WITH days AS (SELECT DISTINCT day FROM ev),
                s AS (SELECT day, count(*) AS searches,
                             count(*) FILTER (WHERE coalesce(hits, 0) = 0) AS zero_hits
                      FROM searches GROUP BY day),
                o AS (SELECT day, count(*) FILTER (WHERE type = 'suggest') AS suggests,
                             count(*) FILTER (WHERE type = 'click') AS clicks
                      FROM ev GROUP BY day)
           SELECT CAST(day AS VARCHAR) AS day, coalesce(s.searches, 0) AS searches,
                  coalesce(s.zero_hits, 0) AS zero_hits, coalesce(o.suggests, 0) AS suggests,
                  coalesce(o.clicks, 0) AS clicks
           FROM days LEFT JOIN s USING (day) LEFT JOIN o USING (day)
           ORDER BY day DESC LIMIT ?""",
        [limit],
    )


def totals(ev: Events) -> dict:
    """Event counts for a report's header."""
    return ev.rows(
        """SELECT (SELECT count(*) FROM searches) AS searches,
                  (SELECT count(*) FROM searches WHERE coalesce(hits, 0) = 0) AS zero_hits,
                  (SELECT count(*) FROM ev WHERE type = 'suggest') AS suggests,
                  (SELECT count(*) FROM ev WHERE type = 'click') AS clicks,
                  (SELECT CAST(min(day) AS VARCHAR) FROM ev) AS first_day,
                  (SELECT CAST(max(day) AS VARCHAR) FROM ev) AS last_day"""
    )[0]


# The columns each question needs besides BASE_COLUMNS.
NEEDS: dict[str, tuple[str, ...]] = {
    "top": (),
    "zero": (),
    "didyoumean": ("did_you_mean",),
    "relaxed": ("relaxed",),
    "noclick": ("position",),
    "clicks": ("position",),
    "daily": (),
}

REPORTS = {
    "top": top,
    "zero": zero,
    "didyoumean": did_you_mean,
    "relaxed": relaxed,
    "noclick": no_click,
    "clicks": clicks,
    "daily": daily,
}
