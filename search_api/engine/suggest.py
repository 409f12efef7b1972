"""Search-as-you-type over titles (``GET /v1/suggest``). No HTTP here.

What the visitor has typed so far is split into syllables and folded (so
``ubnd q`` finds ``UBND Quận 5`` and ``tuyen gi`` finds ``tuyên giáo``). Every
syllable but the last is complete and must be a title syllable; the last one is
still being typed and matches as a prefix (unless the text ends with a space).

Per snapshot, one :class:`~search_api.engine.titles.TitleIndex` is built on
first use (engine/titles.py): a prefix is a contiguous range of its terms, and
the documents of a whole prefix range one contiguous slice of its postings.

Ranking: the number of typed words found dominates (titles with every word come
first; with three or more words typed, titles missing one may fill the list),
then a static prior from recency and views picks the leading candidates, which
are re-ranked with bonuses for a title that starts with the typed words, has
them in the typed order (early), is short, and has the diacritics that were
typed. Identical
titles (same folded syllables) are shown once, the best-ranked one.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import numpy as np

from indexer.analysis import fold, key, normalize, syllable_spans
from search_api.engine.snapshot import Snapshot
from search_api.engine.titles import TitleIndex, title_index

if TYPE_CHECKING:
    from search_api.engine.service import SearchService

log = logging.getLogger("vnsearch.suggest")

DEFAULT_LIMIT = 5
MAX_LIMIT = 10

# Score parts: found words dominate; the bonuses beat the prior (at most 1).
W_FOUND = 10.0
W_START = 2.0
W_ORDER = 3.0
# Where the typed words are found (earlier is better) and how short the title
# is (a suggestion is read at a glance; caption-like "titles" make poor ones).
W_EARLY = 0.5
W_SHORT = 0.5
SHORT_TITLE = 24
# Typed with diacritics and found with the same ones (share of such words).
W_ACCENT = 1.5
# Candidates (by words found and prior) re-ranked with the title-based bonuses,
# and the most looked at when duplicate titles use up the first window.
_REFINE = 48
_MAX_WINDOW = 2048


class Suggester:
    """Chooses the snapshot a suggest request runs on: the newest one whose title
    index is built.

    A new generation or commit gets a new snapshot, whose title index takes a
    second or two to build on a large index. Rather than stall the requests
    that arrive meanwhile, they are answered from the previous snapshot (kept
    open by one extra ``acquire``) while a background thread builds the new
    index; suggestions follow an index change a moment later. Only the very
    first build, with nothing to fall back on, is synchronous (and so is every
    build with ``background=False``).
    """

    def __init__(self, service: SearchService, *, background: bool = True):
        self.service = service
        self.background = background
        self._lock = threading.Lock()
        self._ready: Snapshot | None = None  # title index built; held by us
        self._building: Snapshot | None = None

    def acquire(self) -> Snapshot:
        """A snapshot with a built title index, acquired: ``release()`` it."""
        latest = self.service.snapshot()
        with self._lock:
            ready = self._ready
            if ready is latest:
                return latest
            if ready is not None and self.background:
                ready.acquire()
                if self._building is None:
                    self._building = latest
                    latest.acquire()  # for the builder
                    threading.Thread(
                        target=self._build, args=(latest,), name="vnsearch-suggest", daemon=True
                    ).start()
                latest.release()
                return ready
        title_index(latest)  # nothing to fall back on
        self._promote(latest)
        return latest

    def warm(self) -> None:
        """Build the live snapshot's title index now, before requests arrive
        (else a fresh worker's first suggest call waits a second or two)."""
        self.acquire().release()

    def _build(self, snap: Snapshot) -> None:
        try:
            title_index(snap)
            self._promote(snap)
        except Exception:
            log.warning("cannot build the suggest index of %s", snap.version, exc_info=True)
        finally:
            with self._lock:
                self._building = None
            snap.release()

    def _promote(self, snap: Snapshot) -> None:
        """Make ``snap`` the one to answer from; let go of the previous one."""
        with self._lock:
            old = self._ready
            if old is snap:
                return
            snap.acquire()
            self._ready = snap
        if old is not None:
            old.release()


@dataclass(frozen=True, slots=True)
class Typed:
    """What has been typed: complete folded words and the prefix being typed,
    and the key forms of the syllables typed with diacritics."""

    words: tuple[str, ...]
    prefix: str | None
    accented: tuple[str, ...] = ()
    accented_prefix: str | None = None

    @property
    def count(self) -> int:
        return len(self.words) + (self.prefix is not None)


def parse_typed(q: str, max_words: int) -> Typed:
    """Split ``q`` into complete words and the last, partial one. At most
    ``max_words`` syllables are kept (the last ones typed)."""
    text = normalize(q)
    sylls = [key(text[s:e]) for s, e in syllable_spans(text)][-max_words:]
    toks = [fold(x) for x in sylls]
    if not toks:
        return Typed((), None)
    accented = tuple(dict.fromkeys(k for k, f in zip(sylls, toks, strict=True) if k != f))
    if text[-1:].isspace() or not text[-1:].isalnum():
        return Typed(tuple(dict.fromkeys(toks)), None, accented)
    words = tuple(w for w in dict.fromkeys(toks[:-1]) if w != toks[-1])
    last = sylls[-1] if sylls[-1] != toks[-1] else None
    return Typed(words, toks[-1], tuple(a for a in accented if a != last), last)


def suggest(snap: Snapshot, q: str, limit: int = DEFAULT_LIMIT, max_words: int = 32) -> dict:
    """Up to ``limit`` titles for what has been typed so far."""
    typed = parse_typed(q, max_words)
    out: dict = {"query": q, "suggestions": []}
    if typed.count == 0:
        return out
    ix = title_index(snap)
    found = np.zeros(snap.size, dtype=np.int8)
    for w in typed.words:
        lo, hi = ix.exact(w)
        found[ix.postings(lo, hi)] += 1  # one term: no repeated docnums
    if typed.prefix is not None:
        lo, hi = ix.term_range(typed.prefix)
        hit = np.zeros(snap.size, dtype=bool)
        hit[ix.postings(lo, hi)] = True
        found += hit
    need = typed.count
    # With three or more words typed, titles missing one may fill the list.
    cands = np.flatnonzero(found >= (need - 1 if need >= 3 else need))
    if len(cands) == 0:
        return out
    score = W_FOUND * found[cands].astype(np.float32) + ix.prior[cands]
    marks = (set(typed.words), typed.prefix)
    for d in _top(ix, typed, cands, score, found, need, limit):
        t = ix.title(d)
        out["suggestions"].append(
            {
                "id": t.id,
                "title": t.text,
                "highlight": mark(t.text, *marks),
                "url": t.url,
                "published": t.published,
            }
        )
    return out


def _top(
    ix: TitleIndex,
    typed: Typed,
    cands: np.ndarray,
    score: np.ndarray,
    found: np.ndarray,
    need: int,
    limit: int,
) -> list[int]:
    """The best ``limit`` distinct titles: titles with every typed word first,
    titles missing one only fill up the list."""
    shown: list[int] = []
    seen: set[tuple[str, ...]] = set()
    has_all = found[cands] >= need
    for sel in (has_all, ~has_all) if need >= 3 else (has_all,):
        docs, sc = cands[sel], score[sel]
        want = limit - len(shown)
        k = min(len(docs), max(_REFINE, 8 * limit))
        while True:
            picked = _pick(ix, typed, docs, sc, k, want, seen)
            if len(picked) == want or k == len(docs):
                break
            if k >= _MAX_WINDOW:
                break
            k = min(len(docs), k * 4, _MAX_WINDOW)  # duplicate titles used up the window
        shown += picked
        seen.update(ix.title(d).folded for d in picked)
        if len(shown) == limit:
            break
    return shown


def _pick(
    ix: TitleIndex,
    typed: Typed,
    docs: np.ndarray,
    score: np.ndarray,
    k: int,
    want: int,
    seen: set[tuple[str, ...]],
) -> list[int]:
    """Up to ``want`` distinct titles among the ``k`` best by ``score``, after
    the in-order bonus (which needs the title syllables, so only for these)."""
    if k <= 0 or want <= 0:
        return []
    top = np.argpartition(-score, k - 1)[:k] if k < len(docs) else np.arange(len(docs))
    ranked = sorted(
        (-(float(score[i]) + _bonus(ix, int(docs[i]), typed)), int(docs[i])) for i in top
    )
    picked: list[int] = []
    keys = set(seen)
    for _neg, d in ranked:
        key = ix.title(d).folded
        if key not in keys:
            keys.add(key)
            picked.append(d)
            if len(picked) == want:
                break
    return picked


def _bonus(ix: TitleIndex, d: int, typed: Typed) -> float:
    """W_START when the title starts with the typed words, W_ORDER when they
    occur consecutively and in order (the last one as a prefix), W_EARLY the
    earlier they do, W_SHORT for a short title, plus W_ACCENT times the share of
    the syllables typed with diacritics that the title has with the same ones."""
    title = ix.title(d)
    toks = title.folded
    bonus = W_SHORT * max(0.0, 1.0 - len(toks) / SHORT_TITLE)
    seq = list(typed.words)
    n = len(seq)
    for i in range(len(toks) - typed.count + 1):
        if list(toks[i : i + n]) == seq and (
            typed.prefix is None or toks[i + n].startswith(typed.prefix)
        ):
            bonus += (W_START if i == 0 else 0.0) + (W_ORDER if typed.count >= 2 else 0.0)
            bonus += W_EARLY * (1.0 - i / len(toks))
            break
    asked = len(typed.accented) + (typed.accented_prefix is not None)
    if asked:
        keys = title.keyed
        same = sum(a in keys for a in typed.accented)
        if typed.accented_prefix is not None:
            same += any(k.startswith(typed.accented_prefix) for k in keys)
        bonus += W_ACCENT * same / asked
    return bonus


def mark(title: str, words: set[str], prefix: str | None) -> str:
    """``title`` HTML-escaped, with the typed part marked: whole syllables equal
    to a typed word, and the leading letters of syllables starting with the
    prefix. Marks on neighbouring syllables (only spaces between) merge."""
    spans: list[tuple[int, int]] = []
    for s, e in syllable_spans(title):
        f = fold(title[s:e])
        if f in words:
            spans.append((s, e))
        elif prefix and f.startswith(prefix):
            spans.append((s, s + _prefix_chars(title[s:e], len(prefix))))
    if not spans:
        return escape(title, quote=False)
    merged = [spans[0]]
    for s, e in spans[1:]:
        ps, pe = merged[-1]
        if title[pe:s].isspace() and _whole(title, ps, pe):
            merged[-1] = (ps, e)
        else:
            merged.append((s, e))
    out, pos = [], 0
    for s, e in merged:
        out.append(escape(title[pos:s], quote=False))
        out.append("<mark>" + escape(title[s:e], quote=False) + "</mark>")
        pos = e
    out.append(escape(title[pos:], quote=False))
    return "".join(out)


def _prefix_chars(syllable: str, n: int) -> int:
    """How many characters of ``syllable`` fold to its first ``n`` folded letters."""
    total = 0
    for i, ch in enumerate(syllable):
        total += len(fold(ch))
        if total >= n:
            return i + 1
    return len(syllable)


def _whole(text: str, s: int, e: int) -> bool:
    """The mark ends at the end of a syllable (not inside one)."""
    return e >= len(text) or not text[e].isalnum()
