"""``vnsearch index publish`` and ``vnsearch index pull``: the CLI of
:mod:`indexer.replica`, registered on the ``index`` group at the end of
:mod:`indexer.cli`.

This module does not import :mod:`indexer.cli` (which imports it), so it
declares its own ``--index-dir`` and ``--wait`` options, the same as there.

Exit codes: 0 success (also: already live) · 1 error (e.g. an incompatible
schema version) · 3 no index to publish / nothing published · 65 a published
file failed its size or checksum · 75 writer busy.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from indexer.store import IndexHome, IndexMissing, StoreError

EXIT_NO_INDEX = 3

_index_dir_option = click.option(
    "--index-dir",
    envvar="VNSEARCH_INDEX_DIR",
    default="index",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Index home (env VNSEARCH_INDEX_DIR).",
)
_wait_option = click.option(
    "--wait",
    type=click.FloatRange(0),
    default=5.0,
    show_default=True,
    help="Seconds to wait for another writer to finish (then exit 75).",
)
_dist_type = click.Path(file_okay=False, path_type=Path)


def _fail(exc: StoreError) -> None:
    click.secho(f"error: {exc}", fg="red", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
    sys.exit(EXIT_NO_INDEX if isinstance(exc, IndexMissing) else exc.exit_code)


@click.command("publish")
@click.option(
    "--to",
    "dist",
    required=True,
    type=_dist_type,
    help="Distribution directory (shared or rsync'd).",
)
@_index_dir_option
@click.option(
    "--keep",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Publications kept in the distribution directory (LATEST always among them).",
)
@_wait_option
def index_publish(dist: Path, index_dir: Path, keep: int, wait: float) -> None:
    """Copy the live generation to DIST for API hosts to pull.

    Writes DIST/<generation>.<commit>/ (the index files the current commit
    needs and PUBLISHED.json: sizes, SHA-256, document count, schema version),
    then points DIST/LATEST at it. Files unchanged since the previous
    publication are hard-linked, not copied. Publishing an existing
    publication again only moves LATEST: after `vnsearch index rollback`, this
    rolls the fleet back.
    """
    from indexer.replica import publish

    try:
        report = publish(IndexHome(index_dir), dist, wait=wait, keep=keep)
    except StoreError as exc:
        _fail(exc)
    click.echo(report.summary())
    if report.removed:
        click.echo(f"removed older publications: {', '.join(report.removed)}")


@click.command("pull")
@click.option(
    "--from", "dist", required=True, type=_dist_type, help="Distribution directory to pull from."
)
@_index_dir_option
@click.option(
    "--loop",
    "interval",
    type=click.FloatRange(0.1, 86400),
    default=None,
    metavar="SECONDS",
    help="Keep polling every SECONDS for new publications until SIGTERM.",
)
@_wait_option
def index_pull(dist: Path, index_dir: Path, interval: float | None, wait: float) -> None:
    """Make the publication DIST/LATEST names live in the local index home.

    Fetches only the files no local generation already has (same name, size
    and SHA-256), checks every file, stages the generation beside the live
    one and switches CURRENT atomically; API workers follow within a second.
    A missing, truncated or corrupt file, or an incompatible schema version,
    leaves the live index as it was. With --loop, a failed pull is reported
    and retried at the next poll, and SIGTERM or SIGINT stops cleanly.
    """
    from indexer.replica import pull, pull_loop

    home = IndexHome(index_dir)
    if interval is None:
        try:
            report = pull(home, dist, wait=wait)
        except StoreError as exc:
            _fail(exc)
        click.echo(report.summary())
        return

    stop = threading.Event()

    def _stop(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    click.echo(f"pulling from {dist} into {home.path} every {interval:g} s")

    def echo(line: str) -> None:
        click.echo(line, err=line.startswith("error:"))
        sys.stdout.flush()

    pull_loop(home, dist, interval, stop=stop, wait=wait, echo=echo)
    click.echo("stopped")
