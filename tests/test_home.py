"""API workers read the index through ``indexer.home`` and never load the
writing side: not the writer lock, not the writers (which bring Whoosh's
writing modules and ``multiprocessing``), not the replica code."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

# Modules only a writer needs.
WRITING_SIDE = (
    "indexer.build",
    "indexer.cli",  # the index commands, which import the writers
    "indexer.generations",
    "indexer.lock",
    "indexer.update",
    "indexer.writer",
    "indexer.whoosh_internals.writing",
    "indexer.replica",
    "multiprocessing",
    "whoosh.multiproc",
    "whoosh.writing",
)


def _loaded_after(imports: str) -> set[str]:
    """The modules a fresh interpreter has loaded after ``imports``."""
    code = f"import json, sys\n{imports}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(out.stdout))


def _writing_side(loaded: set[str]) -> list[str]:
    return sorted(m for m in loaded if any(m == w or m.startswith(w + ".") for w in WRITING_SIDE))


def test_api_workers_import_the_home_and_not_the_writer() -> None:
    loaded = _loaded_after("import search_api.app, search_api.server")
    assert "indexer.home" in loaded
    assert _writing_side(loaded) == []


@pytest.mark.parametrize("module", ["indexer.home", "indexer.schema", "indexer.postings_arrays"])
def test_reading_modules_do_not_import_the_writing_side(module: str) -> None:
    assert _writing_side(_loaded_after(f"import {module}")) == []


def test_the_writing_side_is_what_the_check_looks_for() -> None:
    # The check can fail: a writer's import brings these modules in.
    loaded = _loaded_after("import indexer.build, indexer.replica.pulling")
    assert {"indexer.lock", "indexer.writer", "multiprocessing", "whoosh.writing"} <= set(
        _writing_side(loaded)
    )
