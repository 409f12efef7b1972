"""``vnsearch crawl``: fetch a portal into the crawl store, then bring the index
up to date from it (the same ``update`` as ``vnsearch index update``, under the
single writer lock), with the options of :mod:`indexer.cli.options`. Added to
``vnsearch`` by :mod:`search_api.cli`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from indexer.cli.options import (
    fail,
    index_dir_option,
    quiet_option,
    report_option,
    store_errors,
    wait_option,
)
from indexer.cli.output import print_rejections
from indexer.errors import IndexMissing

if TYPE_CHECKING:  # the crawl's modules load when it runs, not with every command
    from .config import SiteConfig

__all__ = ["crawl_command"]

STORE_NAME = "crawl.sqlite"


def _site(target: str) -> SiteConfig:
    from .config import load_site, site_from_url

    try:
        if target.startswith(("http://", "https://")):
            return site_from_url(target)
        if Path(target).is_file():
            return load_site(target)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="URL|SITE.toml") from None
    raise click.BadParameter(
        f"{target!r} is neither an http(s) URL nor a site file", param_hint="URL|SITE.toml"
    )


def _print_problems(rows: list[dict], report_file: Path | None, limit: int = 20) -> None:
    """Pages that failed (not the listings, which are simply not articles)."""
    problems = [r for r in rows if not r["reason"].startswith("not an article")]
    for row in problems[:limit]:
        click.secho(f"not indexed: {row['url']}: {row['reason']}", fg="yellow", err=True)
    if len(problems) > limit:
        where = f" (all in {report_file})" if report_file else " (use --report FILE for all)"
        click.secho(f"... and {len(problems) - limit} more{where}", fg="yellow", err=True)


def _write_report(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


@click.command("crawl")
@click.argument("target", metavar="URL|SITE.toml")
@index_dir_option(
    "Index home (env VNSEARCH_INDEX_DIR); the crawl store defaults to crawl.sqlite in it."
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Crawl store (SQLite) to use instead of INDEX_DIR/crawl.sqlite.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Fetch into the store; count what the index "
    "update would change, write nothing to the index.",
)
@click.option(
    "--no-index",
    is_flag=True,
    help="Only fetch into the store (index later with vnsearch index update STORE).",
)
@click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Delete even when more than 10% (and more than 20) of a site's documents are gone.",
)
@report_option("Write one JSON line per page that was not indexed, with the reason.")
@wait_option(help="Seconds to wait for another index writer (then exit 75).")
@quiet_option()
@store_errors
def crawl_command(
    target: str,
    index_dir: Path,
    store_path: Path | None,
    dry_run: bool,
    no_index: bool,
    allow_mass_delete: bool,
    report_file: Path | None,
    wait: float,
    quiet: bool,
) -> None:
    """Crawl a portal (one start URL, or a site file) and index its articles.

    Polite (robots.txt, a delay and a per-host limit), incremental (unchanged
    pages cost a 304 or a sitemap lastmod check), resumable (an interrupted
    crawl, even a killed one, continues where it stopped on the next run).
    Exit codes: 0 done · 1 error or interrupted (run again to resume) · 2 bad
    usage · 4 nothing indexed, or a mass delete refused (the index is
    unchanged) · 75 another writer holds the index.
    """
    from indexer.build import NothingIndexed, build
    from indexer.home import IndexHome
    from indexer.sources.crawlstore import read_crawl_store
    from indexer.update import NothingRead, update

    from .run import crawl

    config = _site(target)
    store = store_path or index_dir / STORE_NAME
    result = crawl(config, store, progress=not quiet and sys.stderr.isatty())
    if report_file:
        _write_report(report_file, result.report)
    _print_problems(result.report, report_file)
    resumed = f" (resumed run {result.run})" if result.resumed else ""
    click.echo(f"crawl{resumed}: {result.summary()} · {result.seconds:.1f} s")
    if no_index:
        click.echo(f"store: {store} (index it with: vnsearch index update {store})")
    else:
        home = IndexHome(index_dir)
        items = read_crawl_store(store)
        try:
            try:
                home.current_dir()
                exists = True
            except IndexMissing:
                exists = False
            if exists:
                report = update(
                    home, items, dry_run=dry_run, wait=wait, allow_mass_delete=allow_mass_delete
                )
            elif dry_run:
                n = sum(1 for _ in read_crawl_store(store))
                click.echo(
                    f"index: no index in {index_dir} yet; a real run would build it "
                    f"from {n} stored records"
                )
                report = None
            else:
                report = build(home, items, wait=wait, sources=[str(store)])
        except (NothingIndexed, NothingRead) as exc:
            print_rejections(exc.report, None)
            fail(f"{exc} (no article was found on {config.name})", exc.hint, exc.exit_code)
        if report is not None:
            print_rejections(report, None)
            click.echo(f"index: {report.summary()} · generation {report.generation}")
    if not result.complete:
        fail(
            f"the crawl stopped before the end ({result.reason}); what was fetched is kept",
            f"run the same command again to resume run {result.run}",
        )
