"""Whoosh's file names: what vnsearch knows of how Whoosh names the files of an
index (``_MAIN_<generation>.toc``, ``MAIN_<segment id>.<ext>``).

The writer uses them to remove what a failed commit left behind, replicas to
tell which files a publication may list and to apply a commit the way Whoosh
does. Whoosh keeps these patterns in private members (``TOC._pattern``,
``TOC._segment_pattern``, ``_DEF_INDEX_NAME``); they are read here only.
"""

from __future__ import annotations

import re

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import Storage

# Whoosh's default index name ("MAIN"), the only one vnsearch writes.
INDEX_NAME: str = whoosh_index._DEF_INDEX_NAME

# A table of contents (one per commit) and a segment file, as plain names:
# nothing that could leave the directory (replicas check publications with them).
TOC_FILE = re.compile(rf"_{INDEX_NAME}_([0-9]+)\.toc")
SEGMENT_FILE = re.compile(rf"{INDEX_NAME}_[0-9a-z]+\.[A-Za-z0-9_.]+")

# Whoosh's own patterns, as its commit uses them to clean up.
_TOCS = whoosh_index.TOC._pattern(INDEX_NAME)
_SEGMENTS = whoosh_index.TOC._segment_pattern(INDEX_NAME)


def toc_name(generation: int) -> str:
    """The file name of commit ``generation``'s table of contents."""
    return f"_{INDEX_NAME}_{generation}.toc"


def read_toc(storage: Storage) -> whoosh_index.TOC:
    """The latest commit's table of contents (its generation and segments)."""
    return whoosh_index.TOC.read(storage, INDEX_NAME)


def unused_by(name: str, toc: whoosh_index.TOC) -> bool:
    """Whether the file ``name`` of an index is one of Whoosh's that commit
    ``toc`` does not use: an older table of contents, a segment the commit does
    not list, or a table of contents that never got its final name
    (``_MAIN_7.toc.<time>``)."""
    keep = {s.segment_id() for s in toc.segments}
    toc_match, seg_match = _TOCS.match(name), _SEGMENTS.match(name)
    return bool(
        (toc_match and int(toc_match.group(1)) != toc.generation)
        or (seg_match and not name.startswith(".") and seg_match.group(1) not in keep)
        or (name.startswith(f"_{INDEX_NAME}_") and ".toc." in name)
    )


def segment_file(segment_id: str, extension: str) -> str:
    """A file of our own named after a segment (``MAIN_<id>.<extension>``). It
    matches Whoosh's segment pattern, so Whoosh deletes it together with the
    segment after a merge, and replicas copy it with the segment's files."""
    return f"{segment_id}.{extension}"
