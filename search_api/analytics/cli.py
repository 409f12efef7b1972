"""``vnsearch analytics``: a thin click layer over search_api.analytics (added to
``vnsearch`` by search_api/cli.py). DuckDB is imported only when a command runs."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click

from indexer.cli.options import fail, index_dir_option
from search_api.analytics import queries as Q

events_dir_option = click.option(
    "--events-dir",
    envvar="VNSEARCH_EVENTS_DIR",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the search event files, searched recursively (env VNSEARCH_EVENTS_DIR).",
)
since_option = click.option(
    "--since", help="Only events from this Vietnam day on: YYYY-MM-DD, or 7d for the last 7 days."
)
site_option = click.option("--site", help="Only searches filtered to this site (site=…).")


def _open(events_dir: Path, since: str | None, site: str | None, **kw) -> Q.Events:
    try:
        return Q.open_events(events_dir, since=since, site=site, **kw)
    except Q.AnalyticsError as exc:
        fail(str(exc))


def _print(rows: list[dict], as_json: bool, as_csv: bool) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("(no events)" if not as_csv else "", err=not as_csv)
        return
    names = list(rows[0])
    if as_csv:
        out = csv.DictWriter(sys.stdout, fieldnames=names, lineterminator="\n")
        out.writeheader()
        out.writerows(rows)
        return
    widths = {n: max(len(n), *(len(_cell(r[n])) for r in rows)) for n in names}
    click.echo("  ".join(n.ljust(widths[n]) for n in names))
    for r in rows:
        click.echo(
            "  ".join(
                _cell(r[n]).rjust(widths[n])
                if isinstance(r[n], int | float)
                else _cell(r[n]).ljust(widths[n])
                for n in names
            ).rstrip()
        )


def _cell(value: object) -> str:
    return "" if value is None else str(value)


@click.group()
def analytics() -> None:
    """What people search for, from the API's search events (VNSEARCH_EVENTS_DIR).

    \b
    top         most searched queries
    zero        queries that found nothing
    didyoumean  queries answered with a did-you-mean reading
    relaxed     queries answered by the relaxed fallback
    noclick     queries that found results nobody opened (needs VNSEARCH_CLICKS=1)
    clicks      click-through rate and mean click position per query
    daily       searches, zero-result searches, suggestion requests, clicks per day
    report      all of it as one HTML file with charts
    suggestions learned suggestions for /v1/suggest, written to the index home
    """


def _report_command(name: str, doc: str) -> click.Command:
    @analytics.command(name, help=doc)
    @events_dir_option
    @since_option
    @site_option
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100_000))
    @click.option("--json", "as_json", is_flag=True, help="A JSON list of objects.")
    @click.option("--csv", "as_csv", is_flag=True, help="CSV with a header line.")
    def command(
        events_dir: Path,
        since: str | None,
        site: str | None,
        limit: int,
        as_json: bool,
        as_csv: bool,
    ) -> None:
        if as_json and as_csv:
            raise click.UsageError("--json and --csv exclude each other")
        ev = _open(events_dir, since, site, columns=Q.NEEDS[name])
        try:
            rows = Q.REPORTS[name](ev, limit)
        finally:
            ev.close()
        _print(rows, as_json, as_csv)

    return command


for _name, _func in Q.REPORTS.items():
    _report_command(_name, (_func.__doc__ or "").strip())


@analytics.command("report")
@events_dir_option
@since_option
@site_option
@click.option("--html", "html_file", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def report_command(
    events_dir: Path, since: str | None, site: str | None, html_file: Path, limit: int
) -> None:
    """Write a one-file HTML report with charts (opens offline in any browser)."""
    from search_api.analytics.report import render

    ev = _open(events_dir, since, site, materialize=True)
    try:
        period = (f" · since {since}" if since else "") + (f" · site {site}" if site else "")
        html_file.write_text(render(ev, limit=limit, period=period), "utf-8")
    finally:
        ev.close()
    click.echo(f"wrote {html_file}")


@analytics.command("suggestions")
@events_dir_option
@since_option
@index_dir_option("Index home the file is written to (env VNSEARCH_INDEX_DIR).")
@click.option(
    "--min-count",
    default=5,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="Searches a query needs to become a suggestion.",
)
@click.option(
    "--denylist",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Words and phrases never suggested (default: SUGGESTIONS.deny in the index home).",
)
def suggestions_command(
    events_dir: Path, since: str | None, index_dir: Path, min_count: int, denylist: Path | None
) -> None:
    """Learn search-as-you-type suggestions from what visitors searched and found.

    Writes SUGGESTIONS.json into the index home; the API blends it into
    /v1/suggest within a second, and `vnsearch index publish` carries it to the
    other API hosts.
    """
    from search_api.analytics.suggestions import build

    ev = _open(events_dir, since, None, columns=("folded",))
    try:
        path, n = build(ev, index_dir, min_count=min_count, denylist=denylist)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    finally:
        ev.close()
    click.echo(f"wrote {n} learned suggestions to {path}")
