"""The ``vnsearch`` command, assembled from the top: ``index …`` (indexer/cli/),
``crawl`` (indexer/crawl/cli.py), ``analytics`` (search_api/analytics/cli.py),
and the two commands over the search engine, ``search`` and ``serve``.

Exit codes (:class:`indexer.errors.ExitCode`, documented in docs/operations.md):
  0 success · 1 error · 2 bad usage · 3 no index · 4 nothing indexed/read ·
  65 index check found a problem · 75 writer busy
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from indexer.cli.group import index
from indexer.cli.options import fail, index_dir_option, store_errors
from indexer.crawl.cli import crawl_command
from indexer.errors import ExitCode
from indexer.home import IndexHome
from search_api.analytics.cli import analytics
from search_api.engine.request import SORTS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vnsearch")
def main() -> None:
    """vnsearch: Vietnamese search for portals. Build an index, search it, serve it."""


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _terminal(text: str) -> str:
    import html

    return html.unescape(_MARK.sub(lambda m: click.style(m.group(1), fg="yellow", bold=True), text))


@main.command()
@click.argument("query", default="")
@index_dir_option()
@click.option("--limit", "-n", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--sort", type=click.Choice(SORTS), default="relevance")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
@store_errors
def search(query: str, index_dir: Path, limit: int, page: int, sort: str, as_json: bool) -> None:
    """Search the index from the terminal (the same engine as the API)."""
    from search_api.config import Config, ConfigError
    from search_api.engine.expansion import load_abbreviations
    from search_api.engine.request import IndexUnavailable, SearchRequest
    from search_api.engine.service import SearchService

    home = IndexHome(index_dir)
    home.current_dir()  # a clear "no index" error before anything else
    try:  # VNSEARCH_ABBREVIATIONS, as the API reads it
        abbreviations = load_abbreviations(Config.from_env().abbreviations or None)
    except ConfigError as exc:
        fail(str(exc), code=ExitCode.USAGE)
    service = SearchService(str(index_dir), abbreviations=abbreviations)
    try:
        result = service.search(SearchRequest(q=query, per_page=limit, page=page, sort=sort))
    except IndexUnavailable as exc:
        fail(f"cannot open the index: {exc}", code=ExitCode.NO_INDEX)
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


@main.command()
@index_dir_option()
@click.option("--bind", envvar="VNSEARCH_BIND", default=None, help="HOST:PORT or unix:PATH.")
@click.option("--workers", type=int, default=None, help="gunicorn worker processes.")
@click.option("--threads", type=int, default=None, help="Threads per worker (gthread).")
@click.option("--log-level", default=None, help="debug, info, warning or error.")
@click.option("--access-log", is_flag=True, help="Log every request to stderr.")
def serve(
    index_dir: Path,
    bind: str | None,
    workers: int | None,
    threads: int | None,
    log_level: str | None,
    access_log: bool,
) -> None:
    """Serve the search API with gunicorn (flags override VNSEARCH_* variables)."""
    from search_api.config import ConfigError
    from search_api.server import run

    try:
        run(
            bind=bind,
            workers=workers,
            threads=threads,
            index_dir=str(index_dir),
            log_level=log_level,
            access_log=access_log,
        )
    except ConfigError as exc:
        fail(str(exc), code=ExitCode.USAGE)


main.add_command(index)
main.add_command(crawl_command)
main.add_command(analytics)

if __name__ == "__main__":
    main()
