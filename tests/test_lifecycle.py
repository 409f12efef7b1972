"""Index generations, updates in place and the single writer: what happens when
builds fail or are killed, and that readers keep being served throughout."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from index_support import article, child_pids, cli, eventually, ids, write_jsonl

import indexer.analysis as analysis
import indexer.build as building
import indexer.update as updating
import indexer.writer as writing
from indexer.analysis import segment
from indexer.build import build
from indexer.errors import StoreError, WriterBusy
from indexer.generations import rollback, switch
from indexer.home import CURRENT, LOCK, IndexHome, Manifest
from indexer.inspection import check
from indexer.lock import writer_lock
from indexer.schema import FIELD_FORMS, article_hash, to_document
from indexer.sources import Article, Rejection, read_sources
from indexer.update import NothingRead, delete, update
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService


@pytest.fixture
def home(tmp_path: Path) -> IndexHome:
    h = IndexHome(tmp_path / "index")
    build(h, [article(i) for i in range(3)])
    return h


# -- failed and killed builds -------------------------------------------------------


class Boom(RuntimeError):
    pass


def failing(n_good: int):
    for i in range(n_good):
        yield article(100 + i)
    raise Boom("source broke mid-way")


@pytest.mark.parametrize("workers", [1, 2])
def test_build_that_raises_leaves_live_index_untouched(home: IndexHome, workers: int) -> None:
    svc = SearchService(str(home.path), refresh_interval=0)
    try:
        before = ids(svc)
        live, gens = home.current_name(), home.generations()
        with pytest.raises(Boom):
            build(home, failing(5), workers=workers)
        assert home.current_name() == live
        assert home.generations() == gens
        assert not [p for p in home.path.iterdir() if p.name.endswith(".tmp")]
        assert ids(svc) == before == {"a0", "a1", "a2"}
    finally:
        svc.close()


def test_next_build_removes_leftovers_and_succeeds(home: IndexHome) -> None:
    leftover = home.path / "g000007.tmp"
    (leftover / "junk").mkdir(parents=True)
    report = build(home, [article(i, tag="mới") for i in range(4)])
    assert not leftover.exists()
    assert report.generation == home.current_name() != "g000001"
    svc = SearchService(str(home.path))
    try:
        assert ids(svc, "mới") == {"a0", "a1", "a2", "a3"}
    finally:
        svc.close()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 60.0) -> str:
    """Read the build's progress (tqdm on stderr) and SIGKILL it once ``ready(count)``."""
    buf = bytearray()
    done = threading.Event()

    def pump() -> None:
        # os.read, not the buffered reader: closing that would wait for this read.
        fd = proc.stderr.fileno()
        with contextlib.suppress(OSError):
            while chunk := os.read(fd, 4096):
                buf.extend(chunk)
        done.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done.is_set():
        counts = [int(n) for n in re.findall(rb"(\d+) docs", bytes(buf))]
        if counts and ready(max(counts)):
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            done.wait(10)  # EOF once the sub-writers (holding the pipe too) are gone
            return bytes(buf).decode("utf-8", "replace")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"build did not reach the kill point: {bytes(buf)[-500:]!r}")


@pytest.mark.parametrize("workers", [1, 2])
def test_sigkilled_build_leaves_live_generation_serving(tmp_path: Path, workers: int) -> None:
    home = IndexHome(tmp_path / "index")
    build(home, [article(i) for i in range(3)])
    live = home.current_name()
    source = write_jsonl(tmp_path / "big.jsonl", [article(i, words=400) for i in range(300)])
    svc = SearchService(str(home.path), refresh_interval=0)
    children: set[int] = set()
    # With sub-writers the parent reads ahead and the sub-writers may finish a
    # moment after they start (an idle CI machine did, and the build switched
    # before the kill): they hang at start instead, so the kill always comes
    # while they are alive.
    env = {**os.environ, "VNSEARCH_FAULT": "subwriter-start:hang"} if workers > 1 else None
    try:
        with cli("index", "build", str(source), "--index-dir", str(home.path),
                 "--workers", str(workers), env=env) as proc:  # fmt: skip

            def halfway(count: int) -> bool:
                children.update(child_pids(proc.pid))
                return count >= 150 and (workers == 1 or len(children) >= workers)

            _kill_when(proc, halfway)
        assert proc.returncode == -signal.SIGKILL
        assert home.current_name() == live
        assert any(p.name.endswith(".tmp") for p in home.path.iterdir())  # it was mid-way
        assert ids(svc) == {"a0", "a1", "a2"}
        assert check(home)["ok"]  # what `vnsearch index check` runs
        # Sub-writers die with their parent: nothing keeps the lock.
        deadline = time.monotonic() + 10
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(c) for c in children)
        report = build(home, [article(i, tag="sau") for i in range(5)], wait=0)
        assert home.current_name() == report.generation != live
        assert not any(p.name.endswith(".tmp") for p in home.path.iterdir())
        expected = {f"a{i}" for i in range(5)}
        assert eventually(svc, "sau", expected) == expected
    finally:
        svc.close()
        for pid in children:  # only if the test failed: do not leave orphans behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


# -- generations --------------------------------------------------------------------


def test_prune_keeps_exactly_live_and_previous(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    for n in range(4):
        build(home, [article(n)])
    assert home.generations() == ["g000003", "g000004"]
    assert home.current_name() == "g000004"


def test_rollback_switches_back_and_next_build_drops_the_bad_one(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(home, [article(1, tag="tốt")])
    build(home, [article(2, tag="hỏng")])
    svc = SearchService(str(home.path), refresh_interval=0)
    try:
        assert ids(svc) == {"a2"}
        assert rollback(home) == "g000001"
        assert home.current_name() == "g000001"
        assert eventually(svc, "", {"a1"}) == {"a1"}
        with pytest.raises(StoreError, match="no previous generation"):
            rollback(home)
        build(home, [article(3)])
        # The rolled-back-to generation is the one to return to; the bad one goes.
        assert home.generations() == ["g000001", "g000003"]
    finally:
        svc.close()


# -- update and delete ----------------------------------------------------------------


def test_update_adds_replaces_and_skips_unchanged(home: IndexHome, monkeypatch) -> None:
    calls: list[str] = []

    def counting(a: Article) -> dict:
        calls.append(a.id)
        return to_document(a)

    monkeypatch.setattr(updating, "to_document", counting)
    svc = SearchService(str(home.path), refresh_interval=0)
    try:
        items = [article(0), article(1, tag="sửa"), article(2), article(3)]
        report = update(home, items)
        assert (report.read, report.added, report.replaced, report.unchanged) == (4, 1, 1, 2)
        assert sorted(calls) == ["a1", "a3"]  # unchanged ones never reach the writer
        assert eventually(svc, "sửa", {"a1"}) == {"a1"}
        assert ids(svc) == {"a0", "a1", "a2", "a3"}
        manifest = Manifest.read(home.current_dir())
        assert manifest.doc_count == 4
        assert manifest.last_change["replaced"] == 1
        calls.clear()
        again = update(home, items)
        assert (again.unchanged, again.changed, calls) == (4, False, [])
        assert Manifest.read(home.current_dir()).updated_at == manifest.updated_at
    finally:
        svc.close()


def test_article_hash_equals_stored_hash() -> None:
    a = article(5, tag="Hoà bình", views=12)
    assert article_hash(a) == to_document(a)["hash"]


def _terms(home: IndexHome) -> dict[tuple[str, bytes], list[tuple[str, float, bytes]]]:
    """(analysed field, term) -> [(document id, weight, encoded positions)] over
    the live documents of the live index (deleted ones left out)."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(home.current_dir()))
    try:
        with ix.reader() as r:
            ids = {d: stored["id"] for d, stored in r.iter_docs()}
            out = {}
            for f, t in r.all_terms():
                if f[:1] not in FIELD_FORMS or f[1:] not in FIELD_FORMS[f[:1]]:
                    continue
                m = r.postings(f, t)
                items = []
                while m.is_active():
                    if not r.is_deleted(m.id()):
                        items.append((ids[m.id()], m.weight(), m.value() or b""))
                    m.next()
                if items:
                    out[(f, t)] = sorted(items)
            return out
    finally:
        ix.close()


def _no_pyvi(text: str):
    raise AssertionError("a views-only update ran pyvi")


def test_views_alone_refresh_without_resegmenting(home: IndexHome, monkeypatch) -> None:
    before = _terms(home)
    monkeypatch.setattr(segment, "word_spans", _no_pyvi)
    segment._WORD_CACHE.clear()
    report = update(home, [article(0, views=99), article(1, views=5), article(2)])
    assert (report.replaced, report.views_only, report.unchanged) == (2, 2, 1)
    assert "replaced 2 (2 view counts only)" in report.summary()
    # The re-added documents have exactly the terms (words included) they had.
    assert _terms(home) == before
    svc = SearchService(str(home.path))
    try:
        assert svc.document("a0")["views"] == 99
        res = svc.search(SearchRequest(q="", sort="popular"))
        assert [h["id"] for h in res["hits"]] == ["a0", "a1", "a2"]
    finally:
        svc.close()
    # Text that did change is segmented (and would fail here).
    with pytest.raises(AssertionError, match="ran pyvi"):
        update(home, [article(0, tag="mới", views=100)])


def test_views_refresh_in_parallel_keeps_the_same_terms(home: IndexHome) -> None:
    many = [article(i, words=20) for i in range(writing.PARALLEL_THRESHOLD + 20)]
    update(home, many, workers=2)
    before = _terms(home)
    report = update(home, [article(i, words=20, views=i) for i in range(len(many))], workers=2)
    assert report.views_only == report.replaced == len(many)
    assert _terms(home) == before


def test_views_refresh_of_an_index_without_stored_segmentation(tmp_path, monkeypatch) -> None:
    # Indexes built before `seg` existed: their documents are segmented again.
    old_schema = building.build_schema

    def without_seg():
        schema = old_schema()
        schema.remove("seg")
        return schema

    monkeypatch.setattr(building, "build_schema", without_seg)
    home = IndexHome(tmp_path / "index")
    build(home, [article(i) for i in range(3)])
    before = _terms(home)
    report = update(home, [article(0, views=7)])
    assert (report.replaced, report.views_only) == (1, 0)
    assert _terms(home) == before


def test_update_dry_run_writes_nothing(home: IndexHome) -> None:
    toc = sorted(p.name for p in home.current_dir().iterdir())
    report = update(home, [article(0, tag="x"), article(9)], dry_run=True)
    assert (report.added, report.replaced, report.dry_run) == (1, 1, True)
    assert sorted(p.name for p in home.current_dir().iterdir()) == toc


def test_update_reading_nothing_fails_and_changes_nothing(home: IndexHome) -> None:
    with pytest.raises(NothingRead) as err:
        update(home, [Rejection("x.jsonl", "file", "no such file")], delete_missing=True)
    assert err.value.exit_code == 4
    assert Manifest.read(home.current_dir()).doc_count == 3


def test_delete_missing_only_touches_files_read_completely(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    a = write_jsonl(tmp_path / "a.jsonl", [article(i) for i in range(4)])
    b = write_jsonl(tmp_path / "b.jsonl", [article(i) for i in range(10, 12)])
    bad = write_jsonl(tmp_path / "bad.jsonl", [article(20), article(21)])
    build(home, read_sources([a, b, bad]))
    # a.jsonl lost a1; b.jsonl is not given; bad.jsonl now has only broken lines.
    write_jsonl(a, [article(0), article(2), article(3), article(4)])
    bad.write_text("{not json\n", encoding="utf-8")
    report = update(home, read_sources([a, bad]), delete_missing=True)
    assert (report.added, report.deleted, report.unchanged) == (1, 1, 3)
    svc = SearchService(str(home.path))
    try:
        assert ids(svc) == {"a0", "a2", "a3", "a4", "a10", "a11", "a20", "a21"}
    finally:
        svc.close()


def test_delete_missing_works_from_another_directory(tmp_path: Path, monkeypatch) -> None:
    home = IndexHome(tmp_path / "index")
    (tmp_path / "src").mkdir()
    write_jsonl(tmp_path / "src" / "a.jsonl", [article(0), article(1)])
    monkeypatch.chdir(tmp_path)
    build(home, read_sources(["src/a.jsonl"]))  # a relative path
    write_jsonl(tmp_path / "src" / "a.jsonl", [article(0)])
    monkeypatch.chdir(tmp_path / "src")
    report = update(home, read_sources(["a.jsonl"]), delete_missing=True)
    assert report.deleted == 1


def test_delete_by_id(home: IndexHome) -> None:
    dry = delete(home, ["a1", "zz"], dry_run=True)
    assert (dry.deleted, dry.missing) == (1, ["zz"])
    assert Manifest.read(home.current_dir()).doc_count == 3
    report = delete(home, ["a1", "zz", "a1"])
    assert (report.read, report.deleted, report.missing) == (2, 1, ["zz"])
    assert Manifest.read(home.current_dir()).doc_count == 2
    svc = SearchService(str(home.path))
    try:
        assert ids(svc) == {"a0", "a2"}
    finally:
        svc.close()


def test_large_update_uses_parallel_writer(home: IndexHome) -> None:
    many = [article(i, words=20) for i in range(writing.PARALLEL_THRESHOLD + 20)]
    report = update(home, many, workers=2)
    assert (report.added, report.replaced) == (len(many) - 3, 3)
    assert Manifest.read(home.current_dir()).doc_count == len(many)


# -- one writer at a time -----------------------------------------------------------------


def test_second_writer_fails_fast_and_names_the_holder(home: IndexHome) -> None:
    with writer_lock(home, wait=0, command="vnsearch index build test"):
        with pytest.raises(WriterBusy) as err:
            update(home, [article(7)], wait=0)
        assert err.value.exit_code == 75
        assert f'"pid": {os.getpid()}' in str(err.value)
        assert "vnsearch index build test" in str(err.value)
        # A failed attempt must not wipe the holder's note.
        assert "vnsearch index build test" in (home.path / LOCK).read_text()
    assert (home.path / LOCK).read_text() == ""
    assert update(home, [article(7)], wait=0).added == 1


def test_concurrent_cli_writers_one_wins_the_other_exits_75(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    source = write_jsonl(tmp_path / "s.jsonl", [article(i, words=300) for i in range(250)])
    with cli("index", "build", str(source), "--index-dir", str(home.path),
             "--workers", "1", "-q") as first:  # fmt: skip
        deadline = time.monotonic() + 30
        while str(first.pid) not in _lock_note(home) and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.02)
        with cli("index", "update", str(source), "--index-dir", str(home.path),
                 "--wait", "0") as second:  # fmt: skip
            out, err = second.communicate(timeout=60)
        assert second.returncode == 75, err
        assert b"another writer holds" in err and str(first.pid).encode() in err
        assert b"--wait SECONDS" in err
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    with cli("index", "check", "--index-dir", str(home.path)) as check:
        out, err = check.communicate(timeout=60)
    assert check.returncode == 0, err
    assert b"ok: 250 documents" in out


def _lock_note(home: IndexHome) -> str:
    try:
        return (home.path / LOCK).read_text()
    except FileNotFoundError:
        return ""


def test_lock_of_a_killed_process_is_not_stale(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    code = (
        "import sys, time\nfrom indexer.home import IndexHome\n"
        "from indexer.lock import writer_lock\n"
        "with writer_lock(IndexHome(sys.argv[1]), wait=0):\n"
        "    print('locked', flush=True)\n    time.sleep(60)\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code, str(home.path)], stdout=subprocess.PIPE
    ) as holder:
        try:
            assert holder.stdout.readline() == b"locked\n"
            with pytest.raises(WriterBusy), writer_lock(home, wait=0):
                pass
        finally:
            holder.kill()
    with writer_lock(home, wait=0):  # the kernel released the flock
        pass


def test_writing_commands_accept_wait() -> None:
    from click.testing import CliRunner

    from search_api.cli import main

    for command in ("build", "update", "delete", "rollback"):
        result = CliRunner().invoke(main, ["index", command, "--help"])
        assert "--wait" in result.output, command


def test_current_pointer_is_replaced_atomically(home: IndexHome) -> None:
    assert (home.path / CURRENT).read_text() == home.current_name() + "\n"
    assert not (home.path / (CURRENT + ".tmp")).exists()


# -- readers follow the index without leaking ------------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _fds_settle(limit: int, timeout: float = 10.0) -> int:
    """The open descriptors once the service's background refresh has settled:
    a swap retires the old snapshot just after the new one starts answering, and a
    loader may still be opening a commit it noticed mid-update, so on a loaded
    machine the count drops a moment later. A real leak never drops."""
    deadline = time.monotonic() + timeout
    while (n := _open_fds()) > limit and time.monotonic() < deadline:
        time.sleep(0.05)
    return n


def test_100_switches_do_not_leak_file_handles(tmp_path: Path) -> None:
    home = IndexHome(tmp_path / "index")
    build(home, [article(1, tag="một")])
    first = home.current_name()
    build(home, [article(2, tag="hai")])
    second = home.current_name()
    svc = SearchService(str(home.path), refresh_interval=0)
    try:
        assert ids(svc) == {"a2"}
        before = _open_fds()
        for n in range(100):
            switch(home, first if n % 2 == 0 else second)
            expected = {"a1"} if n % 2 == 0 else {"a2"}
            assert eventually(svc, "", expected) == expected
        # New commits in the live generation replace the snapshot as well.
        for n in range(5):
            update(home, [article(10 + n)])
            expected = {"a2", *(f"a{10 + k}" for k in range(n + 1))}
            assert eventually(svc, "", expected) == expected
        assert _fds_settle(before) <= before
    finally:
        svc.close()
    assert _fds_settle(before - 1) < before


# -- the faster writer writes what Whoosh writes ----------------------------------------------


def _index_content(path: Path) -> dict:
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(path))
    try:
        with ix.reader() as r:
            names = ix.schema.scorable_names()
            n = r.doc_count_all()
            return {
                "postings": list(r.iter_postings()),
                "terms": [
                    (
                        f,
                        t,
                        i.weight(),
                        i.doc_frequency(),
                        i.min_length(),
                        i.max_length(),
                        i.max_weight(),
                        i.min_id(),
                        i.max_id(),
                    )
                    for f, t in r.all_terms()
                    for i in [r.term_info(f, t)]
                ],
                "stored": [r.stored_fields(d) for d in range(n)],
                "columns": {
                    c: list(r.column_reader(c)) for c in ix.schema.names() if r.has_column(c)
                },
                "lengths": {f: [r.doc_field_length(d, f) for d in range(n)] for f in names},
                "field_lengths": {f: r.field_length(f) for f in names},
            }
    finally:
        ix.close()


def test_fast_writer_writes_what_whoosh_writes(tmp_path: Path) -> None:
    from whoosh import index as whoosh_index

    from indexer.schema import build_schema
    from indexer.writer import open_writer

    batches = [
        [article(i, words=40 + i, tag="Hoà bình" if i % 3 else "") for i in range(12)],
        [article(i, words=30, tag="sửa") for i in range(6, 20)],  # replaces 6..11
    ]
    contents = []
    for name, make in (("whoosh", lambda ix: ix.writer()), ("fast", open_writer)):
        path = tmp_path / name
        path.mkdir()
        ix = whoosh_index.create_in(str(path), build_schema())
        for batch in batches:
            writer = make(ix)
            for a in batch:
                writer.update_document(**to_document(a))
            writer.commit()  # the second commit merges the first segment in
        ix.close()
        contents.append(_index_content(path))
    # The one difference by design: ours also stores pyvi's segmentation.
    for stored in contents[1]["stored"]:
        seg = stored.pop("seg")
        analysis.forget_words()
        assert seg == (analysis.pack_words(stored["title"]), analysis.pack_words(stored["body"]))
    assert contents[0] == contents[1]
    assert len(contents[0]["stored"]) == 20 + 6  # deleted documents stay until optimised
