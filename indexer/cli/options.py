"""The options every command shares, and the one way a command fails.

Each option is a function returning the click decorator, so a command can word
its help for its own case while the flag, its variable, type and default are
declared once. Every exit goes through :class:`indexer.errors.ExitCode`
(documented in docs/operations.md).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from indexer.errors import ExitCode, StoreError
from indexer.sources.limits import OPTIONS as LIMIT_OPTIONS
from indexer.sources.limits import ReadLimits

P = ParamSpec("P")
R = TypeVar("R")
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def index_dir_option(help: str = "Index home (env VNSEARCH_INDEX_DIR).") -> Decorator:
    return click.option(
        "--index-dir",
        envvar="VNSEARCH_INDEX_DIR",
        default="index",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help=help,
    )


def wait_option(
    default: float = 5.0,
    help: str = "Seconds to wait for another writer to finish (then exit 75).",
) -> Decorator:
    return click.option(
        "--wait", type=click.FloatRange(0), default=default, show_default=True, help=help
    )


def report_option(
    help: str = "Write every rejected input (JSON Lines) to this file.",
) -> Decorator:
    return click.option(
        "--report",
        "report_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help=help,
    )


def quiet_option() -> Decorator:
    return click.option("--quiet", "-q", is_flag=True, help="No progress bar.")


def limit_options(func: Callable[..., R]) -> Callable[..., R]:
    """The bounds on one input (indexer/sources/limits.py) as options, each also
    read from its VNSEARCH_* variable; the command gets them as ``limits``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        limits = ReadLimits(**{name: kwargs.pop(name) for name in LIMIT_OPTIONS})
        return func(*args, limits=limits, **kwargs)

    command: Callable[..., R] = wrapper
    defaults = ReadLimits()
    for name, (flag, variable, text) in reversed(LIMIT_OPTIONS.items()):
        command = click.option(
            flag,
            name,
            type=click.IntRange(1),
            default=getattr(defaults, name),
            envvar=variable,
            show_default=True,
            show_envvar=True,
            help=text,
        )(command)
    return command


def fail(message: str, hint: str = "", code: ExitCode = ExitCode.ERROR) -> NoReturn:
    """Print ``error: message`` (and ``hint: …``) on stderr and exit with ``code``."""
    click.secho(f"error: {message}", fg="red", err=True)
    if hint:
        click.echo(f"hint: {hint}", err=True)
    sys.exit(code)


def store_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn library errors into one-line messages with a hint and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except StoreError as exc:
            fail(str(exc), exc.hint, exc.exit_code)

    return wrapper
