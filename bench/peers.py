"""Search systems for side-by-side benchmarks, behind one small interface.

Every system is used in-process and indexes the same articles:

    system.build(articles)          # an iterable of indexer.sources.Article
    system.search(q, k) -> [id]     # q is what a visitor types; best first
    system.close()

Peers are configured the way a team would set them up out of the box for
Vietnamese text (accent folding switched on where the engine has it), not tuned:

- ``Fts5Peer``: SQLite FTS5 from the standard library, ``unicode61
  remove_diacritics 2`` (with the default ``1``, letters with two marks such as
  ``ộ`` do not fold), bm25 ranking with equal column weights. FTS5 does not fold
  ``đ`` to ``d``: an unaccented ``dien`` does not find ``điện``. That is left as
  is, because that is what a peer gets.
- ``WhooshPeer``: plain Whoosh, ``StandardAnalyzer() | CharsetFilter(accent_map)``
  on title and body (no segmentation; ``accent_map`` does fold ``đ``; the
  analyzer drops English stopwords and one-letter tokens), ``MultifieldParser``
  over title+body with an AND group, BM25F.
- ``TantivyPeer`` (only when ``import tantivy`` works; ``pip install tantivy``):
  tantivy's ``default`` tokenizer (lowercase, no folding), or with ``fold=True``
  a ``simple`` tokenizer + lowercase + ``ascii_fold``; an AND of the words over
  title+body, BM25.
- ``Vnsearch``: the engine under test through its public API
  (``indexer.build.build`` + ``search_api.engine.service.SearchService``).

User text is escaped for each peer's query syntax: every whitespace-separated
word becomes one quoted phrase (so ``TP.HCM`` or ``COVID-19`` stay together) and
double quotes are dropped, so no query is a syntax error. ``Fts5Peer`` and
``TantivyPeer`` take ``phrases=True`` to keep each quoted part of a query as one
phrase instead (``bench/latency.py``); the default is unchanged.

The default is an AND of the words (what keyword search boxes do). For whole
questions (``bench/questions.py``) ``Fts5Peer``, ``WhooshPeer`` and
``TantivyPeer`` take ``any_word=True``: an OR of the words, ranked by the same
BM25, which is how these engines are set up for natural-language queries
(tantivy's own ``parse_query`` default; an AND of a 15-word question rarely
matches its answer). Words without a letter or digit are dropped in that mode.
``SyllableBm25`` is the plain BM25 over syllables that the questions-dev README
quotes as a reference (not an engine).
"""

from __future__ import annotations

import contextlib
import math
import re
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from indexer.sources import Article

try:  # optional peer
    import tantivy
except ImportError:  # pragma: no cover - depends on the environment
    tantivy = None

HAVE_TANTIVY = tantivy is not None


_HAS_WORD_CHAR = re.compile(r"\w")


def any_word_parts(q: str) -> list[str]:
    """The words of ``q`` that hold a letter or digit (an OR of a bare "–" or
    "?" would be a syntax error or a match-nothing clause in some peers)."""
    return [w for w in query_words(q) if _HAS_WORD_CHAR.search(w)]


def query_words(q: str) -> list[str]:
    """The words of a typed query, without double quotes (the one character
    every peer syntax gives meaning to inside a phrase)."""
    return q.replace('"', " ").replace("\u201c", " ").replace("\u201d", " ").split()


_QUOTED = re.compile('["\u201c\u201d]([^"\u201c\u201d]*)["\u201c\u201d]')


def query_parts(q: str, phrases: bool = False) -> list[str]:
    """The units of a typed query: its words (``query_words``), or with
    ``phrases=True`` the words outside quotes plus each quoted phrase as one unit
    (its words joined by a space), for peers asked to honour phrases."""
    if not phrases:
        return query_words(q)
    parts: list[str] = []
    pos = 0
    for m in _QUOTED.finditer(q):
        parts += query_words(q[pos : m.start()])
        inner = " ".join(query_words(m.group(1)))
        if inner:
            parts.append(inner)
        pos = m.end()
    return parts + query_words(q[pos:])


class System:
    """The common interface. ``name`` labels tables."""

    name = "system"

    def build(self, articles: Iterable[Article]) -> None:
        raise NotImplementedError

    def search(self, q: str, k: int = 10) -> list[str]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- SQLite FTS5 ----------------------------------------------------------------------


class Fts5Peer(System):
    name = "sqlite-fts5"

    def __init__(
        self,
        path: str | Path = ":memory:",
        tokenize: str = "unicode61 remove_diacritics 2",
        phrases: bool = False,
        any_word: bool = False,
    ):
        self.path = str(path)
        self.tokenize = tokenize
        # True: quoted parts of a query are FTS5 phrases (default: every word alone).
        self.phrases = phrases
        # True: an OR of the words (questions); default: an AND.
        self.any_word = any_word
        self.db: sqlite3.Connection | None = None

    def build(self, articles: Iterable[Article]) -> None:
        self.close()
        if self.path != ":memory:":
            Path(self.path).unlink(missing_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        tokenize = "'" + self.tokenize.replace("'", "''") + "'"
        self.db.execute(
            f"CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, tokenize={tokenize})"
        )
        with self.db:
            self.db.executemany(
                "INSERT INTO docs(id, title, body) VALUES (?, ?, ?)",
                ((a.id, a.title or "", a.body or "") for a in articles),
            )
            self.db.execute("INSERT INTO docs(docs) VALUES ('optimize')")

    @staticmethod
    def to_match(q: str, phrases: bool = False) -> str:
        # Quoted strings joined by spaces: an implicit AND of phrases.
        return " ".join('"' + w + '"' for w in query_parts(q, phrases))

    def search(self, q: str, k: int = 10) -> list[str]:
        if self.any_word:
            expr = " OR ".join('"' + w + '"' for w in any_word_parts(q))
        else:
            expr = self.to_match(q, self.phrases)
        if not expr:
            return []
        rows = self.db.execute(
            "SELECT id FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?", (expr, k)
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


# -- plain Whoosh ---------------------------------------------------------------------


class WhooshPeer(System):
    name = "whoosh-plain"

    def __init__(
        self,
        directory: str | Path | None = None,
        procs: int = 1,
        limitmb: int = 256,
        any_word: bool = False,
    ):
        self.directory = Path(directory) if directory else None
        self.any_word = any_word  # True: an OrGroup (questions); default: an AndGroup
        self._own_dir = directory is None
        self.procs = procs
        self.limitmb = limitmb
        self.ix = None
        self.searcher = None
        self.parser = None

    @staticmethod
    def schema():
        from whoosh import fields
        from whoosh.analysis import CharsetFilter, StandardAnalyzer
        from whoosh.support.charset import accent_map

        analyzer = StandardAnalyzer() | CharsetFilter(accent_map)
        return fields.Schema(
            id=fields.ID(stored=True, unique=True),
            title=fields.TEXT(analyzer=analyzer),
            body=fields.TEXT(analyzer=analyzer),
        )

    def build(self, articles: Iterable[Article]) -> None:
        from whoosh import index
        from whoosh.qparser import AndGroup, MultifieldParser, OrGroup

        self.close()
        if self.directory is None:
            self.directory = Path(tempfile.mkdtemp(prefix="whoosh-peer-"))
        elif self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        schema = self.schema()
        self.ix = index.create_in(str(self.directory), schema)
        if self.procs > 1:
            writer = self.ix.writer(procs=self.procs, multisegment=True, limitmb=self.limitmb)
        else:
            writer = self.ix.writer(limitmb=self.limitmb)
        for a in articles:
            writer.add_document(id=a.id, title=a.title or "", body=a.body or "")
        writer.commit()
        self.searcher = self.ix.searcher()  # BM25F by default
        group = OrGroup if self.any_word else AndGroup
        self.parser = MultifieldParser(["title", "body"], schema, group=group)

    @staticmethod
    def to_query(q: str) -> str:
        return " ".join('"' + w + '"' for w in query_words(q))

    def search(self, q: str, k: int = 10) -> list[str]:
        if self.any_word:
            text = " ".join('"' + w + '"' for w in any_word_parts(q))
        else:
            text = self.to_query(q)
        if not text:
            return []
        query = self.parser.parse(text)
        return [hit["id"] for hit in self.searcher.search(query, limit=k)]

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None
        if self.ix is not None:
            self.ix.close()
            self.ix = None
        if self._own_dir and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


# -- tantivy (optional) ---------------------------------------------------------------


class TantivyPeer(System):
    def __init__(
        self,
        fold: bool = False,
        heap_mb: int = 256,
        phrases: bool = False,
        any_word: bool = False,
        threads: int = 0,
    ):
        if tantivy is None:
            raise RuntimeError("tantivy is not installed (pip install tantivy)")
        self.fold = fold
        # True: quoted parts of a query are phrase queries (default: every word alone).
        self.phrases = phrases
        # True: an OR of the words (tantivy's own default; questions); default: an AND.
        self.any_word = any_word
        # Indexing threads (0: tantivy's choice). 1 gives the same segments, hence
        # the same order among equal scores, on every run.
        self.threads = threads
        self.name = "tantivy-fold" if fold else "tantivy"
        self.heap_mb = heap_mb
        self.index = None
        self.searcher = None

    def build(self, articles: Iterable[Article]) -> None:
        tokenizer = "vnfold" if self.fold else "default"
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("title", tokenizer_name=tokenizer)
        sb.add_text_field("body", tokenizer_name=tokenizer)
        schema = sb.build()
        self.index = tantivy.Index(schema)  # in RAM
        if self.fold:
            analyzer = (
                tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                .filter(tantivy.Filter.remove_long(40))
                .filter(tantivy.Filter.lowercase())
                .filter(tantivy.Filter.ascii_fold())
                .build()
            )
            self.index.register_tokenizer("vnfold", analyzer)
        writer = self.index.writer(heap_size=self.heap_mb * 1024 * 1024, num_threads=self.threads)
        for a in articles:
            writer.add_document(tantivy.Document(id=a.id, title=a.title or "", body=a.body or ""))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()

    @staticmethod
    def to_query(q: str, phrases: bool = False) -> str:
        return " ".join('"' + w.replace("\\", " ") + '"' for w in query_parts(q, phrases))

    def search(self, q: str, k: int = 10) -> list[str]:
        if self.any_word:
            text = " ".join('"' + w.replace("\\", " ") + '"' for w in any_word_parts(q))
        else:
            text = self.to_query(q, self.phrases)
        if not text:
            return []
        query = self.index.parse_query(
            text, ["title", "body"], conjunction_by_default=not self.any_word
        )
        result = self.searcher.search(query, k)
        return [self.searcher.doc(addr)["id"][0] for _score, addr in result.hits]

    def close(self) -> None:
        self.searcher = None
        self.index = None


# -- vnsearch -------------------------------------------------------------------------


class Vnsearch(System):
    """The engine under test, through ``indexer.build.build`` and ``SearchService``.

    ``home`` is an index home directory; ``build`` writes a new generation there.
    ``open()`` searches an existing home without building. ``last`` holds the
    last response (for ``did_you_mean``)."""

    name = "vnsearch"

    def __init__(
        self,
        home: str | Path,
        workers: int = 1,
        progress: Callable[[int], None] | None = None,
    ):
        self.home = Path(home)
        self.workers = workers
        self.progress = progress
        self.service = None
        self.last: dict = {}
        self.report = None

    def build(self, articles: Iterable[Article]) -> None:
        from indexer.build import build
        from indexer.home import IndexHome

        self.close()
        self.report = build(
            IndexHome(self.home), articles, workers=self.workers, progress=self.progress
        )
        self.open()

    def open(self) -> None:
        from search_api.engine.service import SearchService

        self.close()
        self.service = SearchService(str(self.home))

    def query(self, q: str, k: int = 10) -> dict:
        from search_api.engine.request import SearchRequest

        self.last = {}
        self.last = self.service.search(SearchRequest(q=q, per_page=k, facets=()))
        return self.last

    def search(self, q: str, k: int = 10) -> list[str]:
        return [hit["id"] for hit in self.query(q, k)["hits"]]

    def close(self) -> None:
        if self.service is not None:
            with contextlib.suppress(Exception):
                self.service.close()
            self.service = None


# -- a plain BM25 over syllables (a reference, not an engine) ---------------------------

_SYLLABLE_TOKEN = re.compile(r"\w+")


class SyllableBm25(System):
    """BM25 over the lower-cased ``\\w+`` tokens (syllables) of title + body,
    k1 1.2, b 0.75, any query syllable may match (each distinct one counted
    once), idf ``log(1 + (N - df + 0.5) / (df + 0.5))``: the "plain BM25 written
    for this check" of ``../shared/eval/questions-dev/README.md``. No folding.
    Equal scores keep the indexing order."""

    name = "bm25-syllables"

    def __init__(self, k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.ids: list[str] = []
        self.postings: dict[str, tuple] = {}
        self.norm = None

    def build(self, articles: Iterable[Article]) -> None:
        import numpy as np

        lists: dict[str, tuple[list[int], list[int]]] = {}
        lengths = []
        self.ids = []
        for i, a in enumerate(articles):
            tokens = _SYLLABLE_TOKEN.findall(f"{a.title or ''} {a.body or ''}".lower())
            self.ids.append(a.id)
            lengths.append(len(tokens))
            for tok, tf in Counter(tokens).items():
                docs, tfs = lists.setdefault(tok, ([], []))
                docs.append(i)
                tfs.append(tf)
        dl = np.asarray(lengths, dtype=np.float64)
        self.norm = self.k1 * (1 - self.b + self.b * dl / max(dl.mean(), 1.0))
        n = len(self.ids)
        self.postings = {
            tok: (
                np.asarray(docs, dtype=np.int64),
                np.asarray(tfs, dtype=np.float64),
                math.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5)),
            )
            for tok, (docs, tfs) in lists.items()
        }

    def search(self, q: str, k: int = 10) -> list[str]:
        import numpy as np

        scores = np.zeros(len(self.ids))
        for tok in dict.fromkeys(_SYLLABLE_TOKEN.findall(q.lower())):
            hit = self.postings.get(tok)
            if hit is not None:
                docs, tf, idf = hit
                scores[docs] += idf * tf * (self.k1 + 1) / (tf + self.norm[docs])
        found = np.flatnonzero(scores > 0)
        best = found[np.lexsort((found, -scores[found]))][:k]
        return [self.ids[i] for i in best]


def available_peers() -> list[str]:
    names = ["sqlite-fts5", "whoosh-plain"]
    if HAVE_TANTIVY:
        names += ["tantivy", "tantivy-fold"]
    return names
