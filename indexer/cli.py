"""The ``vnsearch`` command: a thin click layer over the library.

Exit codes (part of the contract, documented in docs/operations.md):
  0 success · 1 error · 2 bad usage · 3 no index · 4 nothing indexed/read ·
  65 index check found a problem · 75 writer busy
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import click

from indexer.build import NothingIndexed
from indexer.errors import ExitCode, StoreError
from indexer.files import human_size
from indexer.home import IndexHome
from indexer.report import Report
from indexer.sources.limits import OPTIONS as LIMIT_OPTIONS
from indexer.sources.limits import ReadLimits

index_dir_option = click.option(
    "--index-dir",
    envvar="VNSEARCH_INDEX_DIR",
    default="index",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Index home (env VNSEARCH_INDEX_DIR).",
)


def _fail(message: str, hint: str = "", code: int = ExitCode.ERROR) -> None:
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


def _with_progress(
    desc: str, quiet: bool, report_file: Path | None, run: Callable[[Callable], Report]
) -> Report:
    """Run a writing command (``run(progress)``) under a progress bar on stderr,
    then list its rejected inputs, also when it read nothing usable."""
    from tqdm import tqdm

    from indexer.update import NothingRead

    try:
        with tqdm(desc=desc, unit=" docs", disable=quiet, file=sys.stderr) as bar:
            report = run(bar.update)
    except (NothingIndexed, NothingRead) as exc:
        _print_rejections(exc.report, report_file)
        raise
    _print_rejections(report, report_file)
    return report


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
        where = f" (in {report_file})" if report_file else " (use --report FILE for them)"
        click.secho(f"... and {more} more rejected{where}", fg="yellow", err=True)
    if report.rejected_untold:
        click.secho(
            f"... and {report.rejected_untold} more rejected, counted but not listed "
            f"(only the first {len(report.rejected)} reasons are kept)",
            fg="yellow",
            err=True,
        )


wait_option = click.option(
    "--wait",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="Seconds to wait for another writer to finish (then exit 75).",
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=lambda: os.cpu_count() or 1,
    show_default="all cores",
    help="Indexing processes (pyvi segmentation is the bottleneck).",
)
report_option = click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write every rejected input (JSON Lines) to this file.",
)
html_config_option = click.option(
    "--html-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file of CSS selectors per site for .html/.htm pages (see docs/operations.md).",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
limitmb_option = click.option(
    "--limitmb",
    type=click.IntRange(32, 65536),
    default=512,
    show_default=True,
    help="Memory (MB) each writer process gives its postings before spilling to disk.",
)


def limit_options(func):
    """The bounds on one input (indexer/sources/limits.py) as options, each also
    read from its VNSEARCH_* variable; the command gets them as ``limits``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        limits = ReadLimits(**{name: kwargs.pop(name) for name in LIMIT_OPTIONS})
        return func(*args, limits=limits, **kwargs)

    defaults = ReadLimits()
    for name, (flag, variable, text) in reversed(LIMIT_OPTIONS.items()):
        wrapper = click.option(
            flag,
            name,
            type=click.IntRange(1),
            default=getattr(defaults, name),
            envvar=variable,
            show_default=True,
            show_envvar=True,
            help=text,
        )(wrapper)
    return wrapper


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


@index.command("build")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option
@workers_option
@limitmb_option
@wait_option
@html_config_option
@limit_options
@report_option
@quiet_option
@_store_errors
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
    report = _with_progress(
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


@index.command("update")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option
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
@workers_option
@limitmb_option
@wait_option
@html_config_option
@limit_options
@report_option
@quiet_option
@_store_errors
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
    report = _with_progress(
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


@index.command("delete")
@click.argument("ids", nargs=-1, required=True)
@index_dir_option
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; write nothing.")
@wait_option
@_store_errors
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


@index.command("rollback")
@index_dir_option
@wait_option
@_store_errors
def index_rollback(index_dir: Path, wait: float) -> None:
    """Make the previous generation live again."""
    from indexer.generations import rollback
    from indexer.lock import writer_lock

    home = IndexHome(index_dir)
    with writer_lock(home, wait=wait):
        name = rollback(home)
    click.echo(f"live generation is now {name}")


@index.command("stats")
@index_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_store_errors
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


@index.command("check")
@index_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for a running writer (the check reads under the lock).",
)
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


_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _terminal(text: str) -> str:
    import html

    return html.unescape(_MARK.sub(lambda m: click.style(m.group(1), fg="yellow", bold=True), text))


@main.command()
@click.argument("query", default="")
@index_dir_option
@click.option("--limit", "-n", type=click.IntRange(1, 50), default=10, show_default=True)
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option(
    "--sort", type=click.Choice(["relevance", "newest", "oldest", "popular"]), default="relevance"
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON response.")
@_store_errors
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
        _fail(str(exc), code=2)
    service = SearchService(str(index_dir), abbreviations=abbreviations)
    try:
        result = service.search(SearchRequest(q=query, per_page=limit, page=page, sort=sort))
    except IndexUnavailable as exc:
        _fail(f"cannot open the index: {exc}", code=ExitCode.NO_INDEX)
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
@index_dir_option
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
        _fail(str(exc), code=ExitCode.USAGE)


# index keygen / publish / pull (indexer/cli_replica.py; it does not import this module)
from indexer.cli_replica import index_keygen, index_publish, index_pull  # noqa: E402

index.add_command(index_keygen)
index.add_command(index_publish)
index.add_command(index_pull)

# vnsearch crawl (indexer/crawl/cli.py)
from indexer.crawl.cli import crawl_command  # noqa: E402

main.add_command(crawl_command)


if __name__ == "__main__":
    main()

# vnsearch analytics (search_api/analytics/cli.py: it reads the API's search events,
# not the index)
from search_api.analytics.cli import analytics  # noqa: E402

main.add_command(analytics)
