"""Postings arrays (indexer/postings_arrays.py): long lists beside each segment.

The sample corpus is small, so ``MIN_DF`` is lowered to 2 here: nearly every
list then goes through the arrays path, which must give exactly what Whoosh's
blocks give.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURE_ARTICLES, sample_sources
from whoosh.index import TOC

import indexer.postings_arrays as postings_arrays
import search_api.engine.snapshot as snapshot_mod
from indexer.build import build
from indexer.home import IndexHome
from indexer.sources import read_sources
from indexer.update import delete, update
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService
from search_api.engine.snapshot import Snapshot

QUERIES = [
    "tuyen giao",
    "tuyên giáo",
    "ủy ban nhân dân",
    '"nhân dân"',
    "quan 5",
    "hoà bình",
    "da nang",
    "cong an phuong",
]


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> IndexHome:
    monkeypatch.setattr(postings_arrays, "MIN_DF", 2)
    h = IndexHome(tmp_path / "index")
    build(h, [*read_sources(sample_sources()), *FIXTURE_ARTICLES])
    return h


def _open(home: IndexHome, arrays: bool) -> Snapshot:
    ix, manifest = home.open(mmap=False)  # as the API opens it
    snap = Snapshot(ix, manifest, cache_bytes=0)
    if not arrays:
        snap._arrays = [None] * len(snap._arrays)
    return snap


def _terms(snap: Snapshot) -> set[tuple[str, str]]:
    return {
        (field, term)
        for arrays in snap._arrays
        if arrays is not None
        for field, table in arrays._fields.items()
        for term in table
    }


def _segment_files(home: IndexHome) -> tuple[set[str], set[str]]:
    """(segment ids of the live commit, segment ids that have an arrays file)."""
    gen = home.current_dir()
    ix, _ = home.open()
    try:
        live = {s.segment_id() for s in TOC.read(ix.storage, "MAIN").segments}
    finally:
        ix.close()
    return live, {p.name.removesuffix(".vnp") for p in gen.glob("*.vnp")}


def test_every_segment_has_arrays_and_they_equal_whooshs_lists(home: IndexHome) -> None:
    live, with_arrays = _segment_files(home)
    assert live and live == with_arrays
    fast, slow = _open(home, True), _open(home, False)
    try:
        assert all(a is not None for a in fast._arrays)
        terms = _terms(fast)
        assert len(terms) > 500  # the arrays path is what is being compared
        for field, term in terms:
            a, b = fast.postings(field, term), slow.postings(field, term)
            assert np.array_equal(a.ids, b.ids) and np.array_equal(a.tf, b.tf), (field, term)
            assert a.ids.dtype == b.ids.dtype and a.tf.dtype == b.tf.dtype
    finally:
        fast._close()
        slow._close()


def test_positions_from_arrays_equal_whooshs(home: IndexHome) -> None:
    fast, slow = _open(home, True), _open(home, False)
    try:
        rng = np.random.default_rng(7)
        positional = [(f, t) for f, t in sorted(_terms(fast)) if f in ("tp", "bp")]
        assert len(positional) > 100
        for field, term in positional:
            every = slow.postings(field, term).ids.astype(np.int64)
            for targets in (every, np.sort(rng.choice(fast.size, 12, replace=False))):
                a, b = fast.positions(field, term, targets), slow.positions(field, term, targets)
                assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]), (field, term)
                assert a[0].dtype == b[0].dtype == a[1].dtype == np.int64
    finally:
        fast._close()
        slow._close()


def _answers(home: IndexHome) -> list:
    svc = SearchService(str(home.path), refresh_interval=0, result_cache_size=0)
    try:
        out = []
        for q in QUERIES:
            res = svc.search(SearchRequest(q=q, per_page=50))
            out.append((q, res["total_hits"], [(h["id"], h["score"]) for h in res["hits"]]))
        return out
    finally:
        svc.close()


def test_search_answers_do_not_depend_on_the_arrays(home: IndexHome, monkeypatch) -> None:
    with_arrays = _answers(home)
    assert any(total for _, total, _ in with_arrays)
    monkeypatch.setattr(snapshot_mod, "open_for", lambda *a: None)
    assert _answers(home) == with_arrays


def test_a_damaged_arrays_file_is_ignored(home: IndexHome) -> None:
    expected = _answers(home)
    for path in home.current_dir().glob("*.vnp"):
        path.write_bytes(path.read_bytes()[:-5])  # truncated footer
    snap = _open(home, True)
    try:
        assert snap._arrays == [None] * len(snap._arrays)
    finally:
        snap._close()
    assert _answers(home) == expected


def test_updates_and_deletes_keep_one_arrays_file_per_segment(home: IndexHome) -> None:
    snap = _open(home, True)
    try:
        term = next(iter(sorted(_terms(snap))))
        before = snap.postings(*term)
        victim = snap.stored(int(before.ids[0]))["id"]
    finally:
        snap._close()
    for i in range(3):  # several commits: new segments, then Whoosh merges them
        update(home, [dataclasses.replace(a, id=f"{a.id}-copy{i}") for a in FIXTURE_ARTICLES])
    delete(home, [victim])
    live, with_arrays = _segment_files(home)
    assert live == with_arrays  # every segment has one, merged-away ones are gone
    fast, slow = _open(home, True), _open(home, False)
    try:
        after, reference = fast.postings(*term), slow.postings(*term)
        assert np.array_equal(after.ids, reference.ids)
        assert fast.docnum_for_id(victim) is None
    finally:
        fast._close()
        slow._close()
