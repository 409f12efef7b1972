"""The ``vnsearch index`` command group: its commands come from the modules
beside this one; :mod:`search_api.cli` adds the group to ``vnsearch``."""

from __future__ import annotations

import click

from indexer.cli.index import index_build, index_delete, index_rollback, index_update
from indexer.cli.inspect import index_check, index_stats
from indexer.cli.replica import index_keygen, index_publish, index_pull


@click.group()
def index() -> None:
    """Build and manage the index."""


for _command in (
    index_build,
    index_update,
    index_delete,
    index_rollback,
    index_stats,
    index_check,
    index_keygen,
    index_publish,
    index_pull,
):
    index.add_command(_command)
