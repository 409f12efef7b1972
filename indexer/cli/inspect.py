"""``vnsearch index stats`` and ``index check``: read the index, write nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from indexer.cli.options import index_dir_option, store_errors, wait_option
from indexer.errors import ExitCode
from indexer.files import human_size
from indexer.home import IndexHome


@click.command("stats")
@index_dir_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@store_errors
def index_stats(index_dir: Path, as_json: bool) -> None:
    """Documents, generations, size, date range and counts per site and category."""
    from indexer.inspection import stats

    info = stats(IndexHome(index_dir))
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    dr = info["date_range"]
    click.echo(f"index        {info['index_dir']} (generation {info['generation']})")
    click.echo(
        f"documents    {info['documents']} in {info['segments']} segment(s)"
        + (
            f", {info['deleted_not_merged']} deleted not yet merged"
            if info["deleted_not_merged"]
            else ""
        )
    )
    click.echo(
        f"size         {human_size(info['size_bytes'])} live, "
        f"{human_size(info['home_size_bytes'])} in all"
    )
    click.echo(
        f"dates        {dr['first'] or '-'} .. {dr['last'] or '-'} "
        f"({dr['dated']} dated, {dr['undated']} undated)"
    )
    build = info["last_build"]
    sources = ", ".join(build["sources"]) or "-"
    click.echo(f"last build   {build['at']} in {build['seconds']} s from {sources}")
    if info["last_change"]:
        ch = info["last_change"]
        click.echo(
            f"last change  {ch['at']} ({ch['command']}: added {ch['added']}, "
            f"replaced {ch['replaced']}, deleted {ch['deleted']})"
        )
    click.echo(
        "generations  "
        + ", ".join(
            f"{g['name']}{' (live)' if g['live'] else ''} "
            f"{g.get('doc_count', '?')} docs {human_size(g['size_bytes'])}"
            for g in info["generations"]
        )
    )
    for title, key, count in (
        ("sites", "sites", "site_count"),
        ("categories", "categories", "category_count"),
    ):
        click.echo(f"{title} ({info[count]}):")
        for name, n in info[key].items():
            click.echo(f"  {n:>8}  {name}")


@click.command("check")
@index_dir_option()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@wait_option(0.0, "Seconds to wait for a running writer (the check reads under the lock).")
@click.option(
    "--generation",
    metavar="NAME",
    help="Check this generation (e.g. the one rollback returns to) instead of the live one.",
)
@click.option("--deep", is_flag=True, help="Also read every posting list (slower).")
def index_check(
    index_dir: Path, as_json: bool, wait: float, generation: str | None, deep: bool
) -> None:
    """Open every segment, read every stored document, compare with the manifest.

    Exits 0 when the index is healthy, 65 when a problem was found, 3 when
    there is no index.
    """
    from indexer.inspection import check

    result = check(IndexHome(index_dir), wait=wait, generation=generation, deep=deep)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        for w in result["warnings"]:
            click.secho(f"warning: {w}", fg="yellow", err=True)
        for p in result["problems"]:
            click.secho(f"problem: {p}", fg="red", err=True)
        if result["ok"]:
            click.echo(
                f"ok: {result['documents']} documents in {result['segments']} segment(s), "
                f"generation {result['generation']}"
            )
    if result.get("missing"):
        sys.exit(ExitCode.NO_INDEX)
    if not result["ok"]:
        sys.exit(ExitCode.CORRUPT)
