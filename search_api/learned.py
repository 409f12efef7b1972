"""Suggestions learned from searches: what many visitors typed and found, blended
into ``/v1/suggest`` beside the title suggestions. No HTTP here.

``vnsearch analytics suggestions`` (search_api/analytics/suggestions.py) writes
:data:`indexer.home.LEARNED_SUGGESTIONS` in the index home; each new
``index publish`` copies it into the generation it publishes and ``index pull``
installs it with that generation on the API hosts. So the file used is the
home's own, else the live generation's copy. Each worker re-reads it when it
changes (checked at most every :data:`CHECK_SECONDS`). A missing, oversized or
malformed file means no learned suggestions, never an error for the visitor.

A learned suggestion matches when its folded text starts with what was typed
(folded, single spaces); among matches, the most searched come first, and an
entry with the diacritics the visitor typed before one without.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import math
import os
import threading
import time
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

import orjson

from indexer.analysis import fold, key, normalize
from indexer.home import LEARNED_SUGGESTIONS, IndexHome
from search_api.engine.suggest import mark

log = logging.getLogger("vnsearch.learned")

FORMAT = 1
SOURCE = "searches"  # the "source" of a learned suggestion in /v1/suggest
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_ENTRIES = 50_000
MAX_TEXT_CHARS = 120
CHECK_SECONDS = 1.0
# Learned suggestions only once this much is typed (one letter matches too much).
MIN_TYPED_CHARS = 2
# At most this share of the slots (rounded up) goes to learned suggestions when
# titles can fill the rest.
SHARE = 0.5
_DENSE = 256
_TOP = "\U0010ffff"


@dataclass(frozen=True, slots=True)
class Learned:
    text: str  # normalised query (key form), as shown
    folded: str
    count: int


class LearnedSet:
    """The entries of one file, sorted by folded text (for prefix ranges) and by
    count (for short, dense prefixes)."""

    def __init__(self, entries: list[Learned], stamp: tuple = ()):
        self.stamp = stamp  # the file's inode, size and mtime: part of ETags
        self.by_folded = sorted(entries, key=lambda e: e.folded)
        self.keys = [e.folded for e in self.by_folded]
        self.by_count = sorted(entries, key=lambda e: (-e.count, e.folded))

    def __len__(self) -> int:
        return len(self.keys)

    def match(self, typed: str, limit: int) -> list[Learned]:
        """Up to ``limit`` entries whose folded text starts with ``typed``'s."""
        text = " ".join(normalize(typed).split())
        folded = fold(text)
        if len(folded) < MIN_TYPED_CHARS or limit <= 0:
            return []
        typed_key = key(text)
        lo = bisect_left(self.keys, folded)
        hi = bisect_left(self.keys, folded + _TOP, lo)
        if hi - lo <= _DENSE:
            pool = self.by_folded[lo:hi]
        else:  # many match: the most searched are found early in count order
            pool = []
            for e in self.by_count:
                if e.folded.startswith(folded):
                    pool.append(e)
                    if len(pool) >= 4 * limit:
                        break

        def rank(e: Learned) -> tuple:
            return (e.text.startswith(typed_key), e.count, e.text)

        return heapq.nlargest(limit, (e for e in pool if e.text != typed_key), key=rank)


def read(path: Path, stamp: tuple = ()) -> LearnedSet | None:
    """The learned suggestions in ``path`` (None when absent or unusable)."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    if len(data) > MAX_FILE_BYTES:
        log.warning("%s is larger than %d bytes: not used", path, MAX_FILE_BYTES)
        return None
    try:
        doc = orjson.loads(data)
        if doc.get("format") != FORMAT:
            raise ValueError(f"format {doc.get('format')!r}")
        entries = []
        for item in doc["suggestions"][:MAX_ENTRIES]:
            text = key(" ".join(normalize(str(item["text"])).split()))[:MAX_TEXT_CHARS]
            count = int(item["count"])
            if text and count > 0:
                entries.append(Learned(text, fold(text), count))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s is not a learned suggestions file (%s): not used", path, exc)
        return None
    return LearnedSet(entries, stamp)


class LearnedSuggestions:
    """The learned suggestions of an index home, re-read when the file changes."""

    def __init__(self, home: str | os.PathLike, check_seconds: float = CHECK_SECONDS):
        self.home = IndexHome(home)
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._stamp: tuple | None = None
        self._set: LearnedSet | None = None

    def current(self) -> LearnedSet | None:
        now = time.monotonic()
        if now - self._checked < self.check_seconds:
            return self._set
        with self._lock:
            if now - self._checked < self.check_seconds:
                return self._set
            self._checked = now
            path, stamp = self._find()
            if stamp != self._stamp:
                self._stamp = stamp
                self._set = read(path, stamp) if path is not None and stamp is not None else None
        return self._set

    def _find(self) -> tuple[Path | None, tuple | None]:
        """The file to use (the home's, else the live generation's) and its stamp."""
        candidates = [self.home.path / LEARNED_SUGGESTIONS]
        with contextlib.suppress(Exception):  # no index yet, unreadable CURRENT: home only
            live = self.home.current_name()
            if live:
                candidates.append(self.home.path / live / LEARNED_SUGGESTIONS)
        for path in candidates:
            try:
                st = path.stat()
            except OSError:
                continue
            return path, (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
        return None, None

    def blend(self, answer: dict, q: str, limit: int, learned: LearnedSet | None = None) -> dict:
        """``answer`` (title suggestions) with learned ones first: up to half of
        ``limit`` (rounded up), more when titles do not fill the list."""
        learned = learned or self.current()
        if learned is None or not len(learned):
            return answer
        titles = answer["suggestions"]
        room = max(limit - len(titles), math.ceil(limit * SHARE))
        found = learned.match(q, min(limit, room))
        if not found:
            return answer
        folded = fold(" ".join(normalize(q).split()))
        words = set(folded.split()[:-1]) if not q[-1:].isspace() else set(folded.split())
        prefix = None if q[-1:].isspace() else (folded.split() or [""])[-1] or None
        items = [
            {
                "source": SOURCE,
                "id": None,
                "title": e.text,
                "highlight": mark(e.text, words, prefix),
                "url": None,
                "published": None,
            }
            for e in found
        ]
        out = dict(answer)
        out["suggestions"] = items + titles[: limit - len(items)]
        return out
