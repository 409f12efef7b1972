"""Start the API under gunicorn with our settings (``vnsearch serve``)."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from indexer.home import IndexHome
from search_api.config import Config, ConfigError, env_name

APP = "search_api.wsgi:app"
GUNICORN_CONFIG = "python:search_api.gunicorn_conf"

# Explicit arguments of run() and the CLI flags they come from (for messages).
_FLAGS = {
    "bind": "--bind",
    "workers": "--workers",
    "threads": "--threads",
    "index_dir": "--index-dir",
    "log_level": "--log-level",
}


def gunicorn_command(
    bind: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    index_dir: str | os.PathLike | None = None,
    *,
    log_level: str | None = None,
    access_log: bool = False,
    environ: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str], Config]:
    """The gunicorn argv, its environment and the effective config.

    Arguments that are not ``None`` override the ``VNSEARCH_*`` variables of
    ``environ`` (default ``os.environ``); they reach gunicorn and the app as
    environment variables, so the workers see exactly this config. Raises
    :class:`ConfigError` naming the flag or variable at fault.
    """
    env = dict(os.environ if environ is None else environ)
    config = Config.from_env(env)
    given: dict[str, Any] = {  # typed per field by Config; checked by replace()
        "bind": bind,
        "workers": workers,
        "threads": threads,
        "index_dir": str(Path(index_dir).absolute()) if index_dir is not None else None,
        "log_level": log_level.lower() if log_level is not None else None,
    }
    overrides = {k: v for k, v in given.items() if v is not None}
    try:
        config = dataclasses.replace(config, **overrides)
    except ConfigError as exc:
        field = next((k for k in overrides if env_name(k) == exc.variable), None)
        if field is None:
            raise
        raise ConfigError(exc.variable, str(exc).replace(exc.variable, _FLAGS[field])) from None
    for name, value in overrides.items():
        env[env_name(name)] = str(value)
    argv = [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG]
    if access_log:
        argv += ["--access-logfile", "-"]
    argv.append(APP)
    return argv, env, config


def exposure_warning(config: Config) -> str | None:
    """A warning when gunicorn would face other machines' clients directly.

    gunicorn's threads read request headers with no deadline: 16 clients sending
    a header line every 5 s, or 200 idle sockets, stall 2 workers × 4 threads
    (docs/operations.md, "Slow and idle clients"). Loopback and unix sockets are
    reachable only from this machine; ``VNSEARCH_BEHIND_PROXY=1`` says a proxy
    that reads requests whole (deploy/nginx/vnsearch.conf) is the only client.
    """
    if config.behind_proxy or config.bind.startswith("unix:"):
        return None
    host = config.bind.rpartition(":")[0].removeprefix("[").removesuffix("]")
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass  # a host name: it may resolve to any address
    return (
        f"warning: {config.bind} is reachable from other machines and no proxy is "
        "declared: a few slow or idle clients can hold every gunicorn thread. Put "
        "nginx in front (deploy/nginx/vnsearch.conf) and set VNSEARCH_BEHIND_PROXY=1, "
        'or bind 127.0.0.1 (docs/operations.md, "Slow and idle clients")'
    )


def run(
    bind: str | None = None,
    workers: int | None = None,
    threads: int | None = None,
    index_dir: str | os.PathLike | None = None,
    *,
    log_level: str | None = None,
    access_log: bool = False,
) -> NoReturn:
    """Replace this process with a gunicorn master serving the search API.

    Each argument left as ``None`` comes from its ``VNSEARCH_*`` variable (see
    :mod:`search_api.config`), then from the default:

    - ``bind``: ``HOST:PORT`` or ``unix:PATH`` (``VNSEARCH_BIND``, 127.0.0.1:8000)
    - ``workers``: worker processes (``VNSEARCH_WORKERS``, 2)
    - ``threads``: threads per worker (``VNSEARCH_THREADS``, 4)
    - ``index_dir``: the index home (``VNSEARCH_INDEX_DIR``, ``index``)
    - ``log_level``: debug/info/warning/error/critical (``VNSEARCH_LOG_LEVEL``, info)
    - ``access_log``: log every request to stderr (off by default)

    Validates everything first and raises :class:`ConfigError` (message names
    the flag, e.g. ``--workers``) before anything starts. A missing index is
    only a warning: the server starts, ``/readyz`` answers 503 until ``vnsearch
    index build`` makes one. Does not return: the process becomes gunicorn (so
    signals such as SIGTERM for a graceful stop go straight to it).
    """
    argv, env, config = gunicorn_command(
        bind, workers, threads, index_dir, log_level=log_level, access_log=access_log
    )
    if warning := exposure_warning(config):
        print(warning, file=sys.stderr)
    if IndexHome(config.index_dir).current_name() is None:
        print(
            f"warning: no index in {config.index_dir} yet; /readyz answers 503 until "
            f"one is built (vnsearch index build SOURCE... --index-dir {config.index_dir})",
            file=sys.stderr,
        )
    where = config.bind if config.bind.startswith("unix:") else f"http://{config.bind}"
    print(
        f"vnsearch: serving {config.index_dir} on {where} "
        f"({config.workers} workers × {config.threads} threads)",
        file=sys.stderr,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, env)
