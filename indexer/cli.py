"""The ``vnsearch`` command: a thin click layer over the library.

Exit codes (part of the contract, documented in README):
  0 success · 1 error · 2 bad usage · 3 no index · 4 nothing indexed · 75 writer busy
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import click

from indexer.store import IndexHome, IndexMissing, NothingIndexed, Report, StoreError

EXIT_ERROR, EXIT_NO_INDEX = 1, 3

index_dir_option = click.option(
    "--index-dir",
    envvar="VNSEARCH_INDEX_DIR",
    default="index",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Index home (env VNSEARCH_INDEX_DIR).",
)


def _fail(message: str, hint: str = "", code: int = EXIT_ERROR) -> None:
    click.secho(f"error: {message}", fg="red", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


def _store_errors(func):
    """Turn library errors into one-line messages with a hint and an exit code."""

    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except IndexMissing as exc:
            _fail(str(exc), exc.hint, EXIT_NO_INDEX)
        except StoreError as exc:
            _fail(str(exc), exc.hint, exc.exit_code)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vnsearch")
def main() -> None:
    """vnsearch: Vietnamese search for portals. Build an index, search it, serve it."""


@main.group()
def index() -> None:
    """Build and manage the index."""


def _print_rejections(report: Report, report_file: Path | None, limit: int = 20) -> None:
    if report_file:
        with open(report_file, "w", encoding="utf-8") as f:
            for r in report.rejected:
                row = {"source": r.source, "location": r.location, "reason": r.reason}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    for r in report.rejected[:limit]:
        click.secho(f"rejected: {r}", fg="yellow", err=True)
    if len(report.rejected) > limit:
        more = len(report.rejected) - limit
        where = f" (all in {report_file})" if report_file else " (use --report FILE for all)"
        click.secho(f"... and {more} more rejected{where}", fg="yellow", err=True)


@index.command("build")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="all cores",
    help="Indexing processes (pyvi segmentation is the bottleneck).",
)
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="Seconds to wait for another writer to finish.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every rejected input (JSON Lines) to this file.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_store_errors
def index_build(
    sources: tuple[Path, ...],
    index_dir: Path,
    workers: int,
    wait: float,
    report_file: Path | None,
    quiet: bool,
) -> None:
    """Build a new index generation from SOURCES and make it live.

    SOURCES are JSON Lines files (.jsonl, .jsonl.gz), scraped portal pages
    (.txt) or directories of them (walked recursively). The live index keeps
    serving until the new one is complete.
    """
    from tqdm import tqdm

    from indexer.sources import read_sources
    from indexer.store import build

    home = IndexHome(index_dir)
    try:
        with tqdm(desc="indexing", unit=" docs", disable=quiet, file=sys.stderr) as bar:
            report = build(
                home,
                read_sources(sources),
                workers=workers,
                wait=wait,
                progress=bar.update,
                sources=[str(s) for s in sources],
            )
    except NothingIndexed as exc:
        _print_rejections(exc.report, report_file)
        raise
    _print_rejections(report, report_file)
    click.echo(
        f"read {report.read} · indexed {report.indexed} · rejected {len(report.rejected)} · "
        f"{report.seconds:.1f} s · {report.docs_per_second:.1f} docs/s · "
        f"generation {report.generation} in {home.path}"
    )


@index.command("rollback")
@index_dir_option
@click.option("--wait", type=click.FloatRange(0), default=5.0, show_default=True)
@_store_errors
def index_rollback(index_dir: Path, wait: float) -> None:
    """Make the previous generation live again."""
    home = IndexHome(index_dir)
    with home.lock(wait=wait):
        name = home.rollback()
    click.echo(f"live generation is now {name}")


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _terminal(text: str) -> str:
    import html

    return html.unescape(_MARK.sub(lambda m: click.style(m.group(1), fg="yellow", bold=True), text))


@main.command()
@click.argument("query", default="")
@index_dir_option
@click.option("--limit", "-n", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "newest", "oldest"]), default="relevance")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
@_store_errors
def search(query: str, index_dir: Path, limit: int, page: int, sort: str, as_json: bool) -> None:
    """Search the index from the terminal (the same engine as the API)."""
    from search_api.search import IndexUnavailable, SearchRequest, SearchService

    home = IndexHome(index_dir)
    home.current_dir()  # a clear "no index" error before anything else
    service = SearchService(str(index_dir))
    try:
        result = service.search(SearchRequest(q=query, per_page=limit, page=page, sort=sort))
    except IndexUnavailable as exc:
        _fail(f"cannot open the index: {exc}", code=EXIT_NO_INDEX)
    finally:
        service.close()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    total = result["total_hits"]
    click.echo(f"{total} result{'s' if total != 1 else ''} · {result['processing_time_ms']} ms")
    if result.get("did_you_mean"):
        click.echo("did you mean: " + click.style(result["did_you_mean"], bold=True))
    start = (page - 1) * limit
    for i, hit in enumerate(result["hits"], start + 1):
        meta = " · ".join(str(x) for x in (hit["published"], hit["category"], hit["site"]) if x)
        click.echo(f"\n{i}. {_terminal(hit['highlight']['title'])}  [{hit['score']}]")
        click.secho(f"   {hit['id']}  {meta}", dim=True)
        click.echo(f"   {_terminal(hit['highlight']['snippet'])}")
