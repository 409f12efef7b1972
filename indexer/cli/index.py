"""``vnsearch index build``, ``update``, ``delete`` and ``rollback``: the commands
that write the index (one writer at a time, under the index home's lock)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import click

from indexer.cli.options import (
    index_dir_option,
    limit_options,
    quiet_option,
    report_option,
    store_errors,
    wait_option,
)
from indexer.cli.output import with_progress
from indexer.home import IndexHome
from indexer.sources.limits import ReadLimits

workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="all cores",
    help="Indexing processes (pyvi segmentation is the bottleneck).",
)
html_config_option = click.option(
    "--html-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file of CSS selectors per site for .html/.htm pages (see docs/operations.md).",
)
limitmb_option = click.option(
    "--limitmb",
    type=click.IntRange(32, 65536),
    default=512,
    show_default=True,
    help="Memory (MB) each writer process gives its postings before spilling to disk.",
)


def writing_options(func: Callable[..., None]) -> Callable[..., None]:
    """The options build and update share, after their own, in the order --help lists them."""
    for option in reversed(
        (
            workers_option,
            limitmb_option,
            wait_option(),
            html_config_option,
            limit_options,
            report_option(),
            quiet_option(),
            store_errors,
        )
    ):
        func = option(func)
    return func


def _read(sources: tuple[Path, ...], html_config: Path | None, limits: ReadLimits):
    from indexer.sources import make_readers, read_sources
    from indexer.sources.html_rules import load_html_config

    config = None
    if html_config:
        try:
            config = load_html_config(html_config)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--html-config") from None
    return read_sources(sources, readers=make_readers(limits, config))


@click.command("build")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option()
@writing_options
def index_build(
    sources: tuple[Path, ...],
    index_dir: Path,
    workers: int,
    limitmb: int,
    wait: float,
    html_config: Path | None,
    limits: ReadLimits,
    report_file: Path | None,
    quiet: bool,
) -> None:
    """Build a new index generation from SOURCES and make it live.

    SOURCES are JSON Lines files (.jsonl, .jsonl.gz), scraped portal pages
    (.txt), saved HTML pages (.html, .htm) or directories of them (walked
    recursively). The live index keeps serving until the new one is complete.
    An input past a --max-* limit is rejected with its reason; the run goes on.
    """
    from indexer.build import build

    home = IndexHome(index_dir)
    items = _read(sources, html_config, limits)
    report = with_progress(
        "indexing",
        quiet,
        report_file,
        lambda progress: build(
            home,
            items,
            workers=workers,
            wait=wait,
            progress=progress,
            sources=[str(s) for s in sources],
            limitmb=limitmb,
        ),
    )
    click.echo(
        f"{report.summary()} · {report.seconds:.1f} s · {report.docs_per_second:.1f} docs/s · "
        f"generation {report.generation} in {home.path}"
    )


@click.command("update")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option()
@click.option(
    "--delete-missing",
    is_flag=True,
    help="Delete documents of the files read in this run whose ids were not found in them.",
)
@click.option("--dry-run", is_flag=True, help="Count what would change; write nothing.")
@click.option(
    "--allow-mass-delete",
    is_flag=True,
    help="Apply the deletions of a crawl store even above 10% (and 20) of a site's documents.",
)
@writing_options
def index_update(
    sources: tuple[Path, ...],
    index_dir: Path,
    delete_missing: bool,
    dry_run: bool,
    allow_mass_delete: bool,
    workers: int,
    limitmb: int,
    wait: float,
    html_config: Path | None,
    limits: ReadLimits,
    report_file: Path | None,
    quiet: bool,
) -> None:
    """Add new and replace changed documents from SOURCES in the live index.

    Unchanged documents (same content hash and view count) cost nothing; a
    new view count alone re-adds the document without segmenting it again. With
    --delete-missing, a document is deleted when the file it was indexed from
    was read completely in this run and no longer holds its id. One commit at
    the end: searchers see all of the changes or none.
    """
    from indexer.update import update

    home = IndexHome(index_dir)
    items = _read(sources, html_config, limits)
    report = with_progress(
        "reading",
        quiet,
        report_file,
        lambda progress: update(
            home,
            items,
            delete_missing=delete_missing,
            dry_run=dry_run,
            workers=workers,
            wait=wait,
            progress=progress,
            limitmb=limitmb,
            allow_mass_delete=allow_mass_delete,
        ),
    )
    if report.repaired:
        click.secho(f"repaired: {report.repaired}", fg="yellow", err=True)
    click.echo(f"{report.summary()} · {report.seconds:.1f} s · generation {report.generation}")


@click.command("delete")
@click.argument("ids", nargs=-1, required=True)
@index_dir_option()
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; write nothing.")
@wait_option()
@store_errors
def index_delete(ids: tuple[str, ...], index_dir: Path, dry_run: bool, wait: float) -> None:
    """Delete documents by ID from the live index (one commit).

    An ID that is not in the index is reported and skipped; it is not an error.
    """
    from indexer.update import delete

    report = delete(IndexHome(index_dir), ids, dry_run=dry_run, wait=wait)
    if report.repaired:
        click.secho(f"repaired: {report.repaired}", fg="yellow", err=True)
    for doc_id in report.missing:
        click.secho(f"not in the index: {doc_id}", fg="yellow", err=True)
    click.echo(f"{report.summary()} · not found {len(report.missing)}")


@click.command("rollback")
@index_dir_option()
@wait_option()
@store_errors
def index_rollback(index_dir: Path, wait: float) -> None:
    """Make the previous generation live again."""
    from indexer.generations import rollback
    from indexer.lock import writer_lock

    home = IndexHome(index_dir)
    with writer_lock(home, wait=wait):
        name = rollback(home)
    click.echo(f"live generation is now {name}")
