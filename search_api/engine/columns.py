"""Per-document columns of an open index (published time, views, lengths, facet
values) read into NumPy arrays, one value per global docnum."""

from __future__ import annotations

from typing import Any

import numpy as np


def column(leaves: list[tuple[Any, int]], name: str) -> list:
    """One value per docnum. Read segment by segment: a segment where no
    document had the field has no column at all, and Whoosh's multi-reader
    then silently returns fewer values than documents."""
    values: list = []
    for seg, _offset in leaves:
        n = seg.doc_count_all()
        if seg.has_column(name):
            col = list(seg.column_reader(name, translate=True))
            values.extend(col if len(col) == n else [None] * n)
        else:
            values.extend([None] * n)
    return values


def numeric(leaves: list[tuple[Any, int]], name: str, dtype: Any) -> np.ndarray:
    values = column(leaves, name)
    return np.asarray([v or 0 for v in values], dtype=dtype)


def factorize(leaves: list[tuple[Any, int]], name: str) -> tuple[np.ndarray, np.ndarray]:
    """Column values as integer codes (-1 for missing) and the code table."""
    raw = [(v.decode("utf-8") if isinstance(v, bytes) else v) or "" for v in column(leaves, name)]
    values, codes = np.unique(np.asarray(raw, dtype=object), return_inverse=True)
    codes = codes.astype(np.int32)
    if len(values) and values[0] == "":
        codes -= 1  # "" sorts first: it becomes -1, "missing"
        values = values[1:]
    return codes, values
