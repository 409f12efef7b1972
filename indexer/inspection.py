"""Looking at an index home without changing it: ``stats`` and ``check``.

Both read the live generation through Whoosh's own readers (stored fields,
columns, the segment table of contents), never through the search engine, so
a broken index is reported here rather than half-served.
"""

from __future__ import annotations

import gc
import itertools
import warnings
from collections import Counter
from datetime import UTC, datetime

from whoosh import index as whoosh_index

from indexer.errors import StoreError, WriterBusy
from indexer.files import tree_size
from indexer.home import LOCK, IndexHome, Manifest
from indexer.lock import writer_lock
from indexer.schema import SCHEMA_VERSION, VN_TZ

__all__ = ["check", "stats"]

# Stored fields every document must have (written by schema.to_document).
_REQUIRED = ("id", "title", "body", "hash")


def _column(reader, name: str) -> list:
    """One value per document number, None where there is none. Read segment
    by segment, as ``search_api/engine/columns.py`` does: a segment where no document
    had the field has no column, and Whoosh's multi-segment column reader then
    skips it and returns fewer values than documents."""
    values: list = []
    for seg, _offset in reader.leaf_readers():
        n = seg.doc_count_all()
        col = list(seg.column_reader(name, translate=True)) if seg.has_column(name) else []
        values.extend(col if len(col) == n else [None] * n)
    return values


def _text(value) -> str:
    return (value.decode("utf-8") if isinstance(value, bytes) else value) or ""


def _counts(values: list, alive: list[bool]) -> Counter[str]:
    return Counter(_text(v) or "(none)" for v, ok in zip(values, alive, strict=True) if ok)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).astimezone(VN_TZ).isoformat(timespec="seconds")


def stats(home: IndexHome, *, top: int = 20) -> dict:
    """Numbers about the live generation and the home it lives in."""
    ix, manifest = home.open()
    live = manifest.generation
    try:
        with ix.reader() as reader:
            alive = [not reader.is_deleted(n) for n in range(reader.doc_count_all())]
            sites = _counts(_column(reader, "site"), alive)
            cats = _counts(_column(reader, "category"), alive)
            years = [_text(v) for v in _column(reader, "year")]
            stamps = [
                int(ts)
                for ts, year, ok in zip(_column(reader, "pubts"), years, alive, strict=True)
                if ok and year
            ]
            segments = len(list(reader.leaf_readers()))
            doc_count = reader.doc_count()
            deleted = reader.doc_count_all() - doc_count
    finally:
        ix.close()
    generations = []
    for name in home.generations():
        entry = {"name": name, "live": name == live, "size_bytes": tree_size(home.path / name)}
        try:
            m = Manifest.read(home.path / name)
            entry.update(doc_count=m.doc_count, built_at=m.built_at, updated_at=m.updated_at)
        except (OSError, ValueError, TypeError):
            entry["problem"] = "unreadable MANIFEST.json"
        generations.append(entry)
    return {
        "index_dir": str(home.path),
        "generation": live,
        "documents": doc_count,
        "deleted_not_merged": deleted,
        "segments": segments,
        "schema_version": manifest.schema_version,
        "size_bytes": tree_size(home.path / live),
        "home_size_bytes": tree_size(home.path),
        "generations": generations,
        "date_range": {
            "dated": len(stamps),
            "undated": doc_count - len(stamps),
            "first": _iso(min(stamps)) if stamps else None,
            "last": _iso(max(stamps)) if stamps else None,
        },
        "sites": dict(sites.most_common(top)),
        "site_count": len(sites),
        "categories": dict(cats.most_common(top)),
        "category_count": len(cats),
        "last_build": {
            "at": manifest.built_at,
            "seconds": manifest.build_seconds,
            "sources": manifest.sources,
        },
        "updated_at": manifest.updated_at,
        "last_change": manifest.last_change,
    }


def check(
    home: IndexHome, *, wait: float = 0.0, generation: str | None = None, deep: bool = False
) -> dict:
    """Open every segment, read every stored document and compare the count with
    the manifest. ``problems`` empty means healthy.

    ``generation`` checks that generation instead of the live one (say, the one
    ``rollback`` would return to). ``deep`` also reads every posting list of
    every term (a byte changed inside a segment file is found there; a
    truncated file is found without it); it takes about as long as reading
    the whole index once.

    The check holds the writer lock while it reads (waiting up to ``wait``
    seconds), so no update can change the index under it. If another writer
    keeps the lock, the check still reads the index but only warns when the
    manifest's count differs: a commit may have landed between the two reads.
    """
    problems: list[str] = []
    warnings: list[str] = []
    result: dict = {"index_dir": str(home.path), "problems": problems, "warnings": warnings}
    if home.current_name() is None and generation is None:
        problems.append(f"no index in {home.path}")
        result["ok"] = False
        result["missing"] = True
        return result
    try:
        # record=False: the check writes nothing, so it works on a full disk.
        with writer_lock(home, wait=wait, record=False):
            _check(home, result, locked=True, generation=generation, deep=deep)
    except FileNotFoundError:  # no write.lock: no writer has ever run here
        _check(home, result, locked=True, generation=generation, deep=deep)
    except WriterBusy as exc:
        warnings.append(f"{exc}; checked without the lock")
        _check(home, result, locked=False, generation=generation, deep=deep)
    except StoreError as exc:
        problems.append(str(exc))
    result["ok"] = not problems
    return result


def _check(
    home: IndexHome, result: dict, *, locked: bool, generation: str | None, deep: bool
) -> None:
    # Whoosh leaves the file of a segment it failed to read unclosed: it is
    # closed when the exception goes away, which is expected here, not a bug
    # worth a ResourceWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        _check_generation(home, result, locked=locked, generation=generation, deep=deep)
        gc.collect()


def _check_generation(
    home: IndexHome, result: dict, *, locked: bool, generation: str | None, deep: bool
) -> None:
    problems, warnings = result["problems"], result["warnings"]
    name = generation or home.current_name()
    result["generation"] = name
    result["live"] = name == home.current_name()
    if name is None:
        problems.append(f"no CURRENT pointer in {home.path}")
        return
    gen = home.path / name
    if generation is not None and generation not in home.generations():
        problems.append(f"no generation {generation} in {home.path}: {home.generations()}")
        return
    if not gen.is_dir():
        problems.append(f"CURRENT names {name}, which does not exist")
        return
    try:
        manifest = Manifest.read(gen)
    except (OSError, ValueError, TypeError) as exc:
        problems.append(f"{gen / 'MANIFEST.json'} is unreadable: {exc}")
        return
    if manifest.schema_version != SCHEMA_VERSION:
        problems.append(
            f"schema version {manifest.schema_version}, this vnsearch needs {SCHEMA_VERSION}"
        )
    leftovers = [p.name for p in home.path.iterdir() if p.is_dir() and p.name.endswith(".tmp")]
    if leftovers and locked:
        warnings.append(f"abandoned build directories (removed by the next writer): {leftovers}")
    if (home.path / "CURRENT.tmp").exists() and locked:
        warnings.append(
            "CURRENT.tmp: a build was stopped while switching generations; CURRENT was not "
            "changed (removed by the next writer)"
        )
    if (home.path / LOCK).exists() and not locked:
        warnings.append("a writer is running")
    try:
        ix = whoosh_index.open_dir(str(gen))
    except Exception as exc:
        problems.append(f"cannot open the Whoosh index in {gen}: {exc}")
        return
    counted = 0
    ids: Counter[str] = Counter()
    try:
        with ix.reader() as reader:
            segments = list(reader.leaf_readers())
            result["segments"] = len(segments)
            for seg, offset in segments:
                for local in range(seg.doc_count_all()):
                    if seg.is_deleted(local):
                        continue
                    try:
                        stored = seg.stored_fields(local)
                    except Exception as exc:
                        problems.append(f"document {offset + local}: unreadable ({exc})")
                        continue
                    counted += 1
                    missing = [f for f in _REQUIRED if f not in stored]
                    if missing:
                        problems.append(f"document {offset + local} lacks {', '.join(missing)}")
                    if stored.get("id"):
                        ids[stored["id"]] += 1
            for column in ("pubts", "tlen", "blen", "site", "category", "year"):
                values = _column(reader, column)
                if len(values) != reader.doc_count_all():
                    problems.append(f"column {column} has {len(values)} values")
            reader_count = reader.doc_count()
            if deep:
                result["terms"] = _check_postings(segments, problems)
    except Exception as exc:
        problems.append(f"reading the index failed: {type(exc).__name__}: {exc}")
        return
    finally:
        ix.close()
    result["documents"] = counted
    result["manifest_doc_count"] = manifest.doc_count
    duplicated = [i for i, n in ids.items() if n > 1]
    if duplicated:
        problems.append(f"{len(duplicated)} ids occur more than once, e.g. {duplicated[:5]}")
    if counted != reader_count:
        problems.append(f"read {counted} documents, the segments say {reader_count}")
    if counted != manifest.doc_count:
        message = (
            f"the index holds {counted} documents, MANIFEST.json says {manifest.doc_count} "
            "(a writer stopped after its commit; the next update, delete or publish repairs it)"
        )
        (problems if locked else warnings).append(message)


def _check_postings(segments: list, problems: list[str], limit: int = 20) -> int:
    """Read every posting list of every segment: ids ascending, within the
    segment, as many as the term's document frequency says. Returns the number
    of terms read; stops a segment at its first unreadable structure."""
    terms = 0
    for seg, offset in segments:
        n = seg.doc_count_all()
        where = f"segment at document {offset}"
        try:
            for fieldname, text in seg.all_terms():
                terms += 1
                info = seg.term_info(fieldname, text)
                ids = list(seg.postings(fieldname, text).all_ids())
                ordered = all(a < b for a, b in itertools.pairwise(ids))
                if len(ids) != info.doc_frequency() or not ordered or (ids and ids[-1] >= n):
                    problems.append(f"{where}: bad posting list for {fieldname}:{text!r}")
                    if len(problems) >= limit:
                        return terms
        except Exception as exc:
            problems.append(f"{where}: postings unreadable: {type(exc).__name__}: {exc}")
    return terms
