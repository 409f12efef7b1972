"""The one Vietnamese analysis chain, shared by the indexer and the search API.

- :mod:`indexer.analysis.forms`: pure functions on text (normalise, canonical
  tone placement, key and folded forms, syllables with offsets);
- :mod:`indexer.analysis.segment`: pyvi word segmentation with offsets, its
  per-document caches and the stored segmentation;
- here: the public names of both, and the thin Whoosh tokenizer and filters
  built on them.

The Whoosh classes live in this module on purpose: Whoosh pickles the schema,
and with it these analyzers, into every index by qualified name
(``indexer.analysis.VietnameseTokenizer``), so their address is part of the
index format. Everything here is picklable.
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.analysis import Filter, Tokenizer
from whoosh.analysis.acore import Token

from indexer.analysis.forms import (
    MAX_SYLLABLE_CHARS,
    QUESTION_WORDS,
    STOPWORDS,
    TONE_MARKS,
    canonical_tones,
    detone,
    fold,
    is_accented,
    key,
    normalize,
    syllable_spans,
    syllables,
)
from indexer.analysis.segment import (
    forget_words,
    known_words,
    pack_words,
    syllable_count,
    token_items,
    unpack_words,
    word_spans,
)

__all__ = [
    "MAX_SYLLABLE_CHARS",
    "QUESTION_WORDS",
    "STOPWORDS",
    "TONE_MARKS",
    "BigramFilter",
    "FoldFilter",
    "KeyFilter",
    "KeyFoldFilter",
    "VietnameseTokenizer",
    "canonical_tones",
    "detone",
    "fold",
    "forget_words",
    "is_accented",
    "key",
    "known_words",
    "normalize",
    "pack_words",
    "syllable_count",
    "syllable_spans",
    "syllables",
    "unpack_words",
    "word_spans",
]


class VietnameseTokenizer(Tokenizer):
    """Syllable tokens, or (``words=True``) pyvi multi-syllable word tokens.

    Token text is the surface form (words joined by ``_``); ``startchar`` and
    ``endchar`` point into the given text, ``pos`` counts syllables (for words:
    the position of their first syllable, so phrase positions stay comparable).
    The last pyvi result is cached: each document's body goes through several
    fields in a row, and segmentation is the expensive part.
    """

    def __init__(self, words: bool = False):
        self.words = words

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.words == self.words

    def __hash__(self) -> int:
        return hash((type(self), self.words))

    def __getstate__(self) -> dict:
        return {"words": self.words}

    def __setstate__(self, state: dict) -> None:
        self.words = state["words"]

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            t.original = t.text = value
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar, t.endchar = start_char, start_char + len(value)
            yield t
            return
        items = token_items(value, self.words)
        for pos, s, e, text in items:
            t.text = text
            t.boost = 1.0
            if keeporiginal:
                t.original = text
            t.stopped = False
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar, t.endchar = start_char + s, start_char + e
            yield t


class KeyFilter(Filter):
    """Token text -> matching form with diacritics (see :func:`key`)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = key(t.text)
            yield t


class FoldFilter(Filter):
    """Token text -> folded form (see :func:`fold`)."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold(t.text)
            yield t


class KeyFoldFilter(Filter):
    """Each token twice at the same position: key form, then folded form (once
    when they are equal). One positions field then answers phrases typed with
    or without diacritics, syllable by syllable."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            k = key(t.text)
            f = fold(t.text)
            t.text = k
            yield t
            if f != k:
                t.text = f
                yield t


class BigramFilter(Filter):
    """Adjacent pairs of tokens joined by ``_``: selective terms for phrases and
    for the word pairs of unaccented queries. Offsets span both tokens."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        prev_text = None
        prev_start = 0
        for t in tokens:
            text = t.text
            start = getattr(t, "startchar", 0)
            if prev_text is not None:
                t.text = f"{prev_text}_{text}"
                if hasattr(t, "startchar"):
                    t.startchar = prev_start
                if hasattr(t, "pos"):
                    t.pos -= 1
                yield t
                if hasattr(t, "pos"):
                    t.pos += 1
            prev_text, prev_start = text, start
