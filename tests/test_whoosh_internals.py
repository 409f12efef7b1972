"""The pin that protects indexer/whoosh_internals/ (docs/design.md, "Whoosh
internals and the pin"): the installed Whoosh is the pinned one, the package
refuses any other, and the private members it relies on are still there."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import whoosh
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3LeafMatcher, W3TermsReader
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.writing import PostingPool, SegmentWriter

from indexer.whoosh_internals import TESTED_WHOOSH

ROOT = Path(__file__).resolve().parent.parent


def test_the_pin_the_tested_version_and_the_installed_one_agree():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    pins = [d for d in deps if d.lower().startswith("whoosh")]
    assert len(pins) == 1 and re.fullmatch(r"whoosh-reloaded==\d+\.\d+\.\d+", pins[0]), pins
    pinned = tuple(int(x) for x in pins[0].split("==")[1].split("."))
    assert pinned == TESTED_WHOOSH
    assert tuple(whoosh.__version__[:3]) == TESTED_WHOOSH


def test_another_whoosh_is_refused_at_import():
    code = "import whoosh; whoosh.__version__ = (2, 7, 6);import indexer.whoosh_internals.reading"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode != 0
    assert "ImportError" in run.stderr and "2.7.5" in run.stderr and "pyproject" in run.stderr


def test_the_private_members_relied_on_exist():
    # What reading.py, writing.py and naming.py call or override; a release that
    # renames one of them fails here, by name, before anything misreads an index.
    expected = {
        W3LeafMatcher: ["_goto", "_next_block", "_read_ids", "_read_weights", "_read_values"],
        W3TermsReader: ["matcher", "term_info"],
        SegmentWriter: ["_flush_segment", "_commit_toc"],
        MpWriter: ["_new_task"],
        SubWriterTask: ["run"],
        PostingPool: ["add"],
        whoosh_index.TOC: ["_pattern", "_segment_pattern", "read"],
    }
    missing = [
        f"{c.__name__}.{m}" for c, names in expected.items() for m in names if not hasattr(c, m)
    ]
    assert missing == []
    assert whoosh_index._DEF_INDEX_NAME == "MAIN"
