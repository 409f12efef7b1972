"""What a writing command prints besides its summary: a progress bar and the
inputs it rejected (also when it read nothing usable)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click

from indexer.build import NothingIndexed
from indexer.report import Report
from indexer.update import NothingRead


def with_progress(
    desc: str,
    quiet: bool,
    report_file: Path | None,
    run: Callable[[Callable[[int], None]], Report],
) -> Report:
    """Run a writing command (``run(progress)``) under a progress bar on stderr,
    then list its rejected inputs, also when it read nothing usable."""
    from tqdm import tqdm

    try:
        with tqdm(desc=desc, unit=" docs", disable=quiet, file=sys.stderr) as bar:
            report = run(bar.update)
    except (NothingIndexed, NothingRead) as exc:
        print_rejections(exc.report, report_file)
        raise
    print_rejections(report, report_file)
    return report


def print_rejections(report: Report, report_file: Path | None, limit: int = 20) -> None:
    """The first ``limit`` rejected inputs on stderr; all of them in
    ``report_file`` (JSON Lines) when one is given."""
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
