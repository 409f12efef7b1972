"""Word segmentation with pyvi, with offsets, and the per-document caches the
tokenizer uses: each text is split into syllables and words once per document,
and a document whose text did not change reuses its stored segmentation
(``pack_words`` / ``known_words``) instead of running pyvi again.

:func:`word_spans` is the one call into pyvi; the caches call it through this
module's global, so a test or benchmark that replaces
``indexer.analysis.segment.word_spans`` sees every segmentation.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Any

from indexer.analysis.forms import canonical_tones, syllable_spans

_PYVI: tuple[Any, re.Pattern[str]] | None = None


def _pyvi() -> tuple[Any, re.Pattern[str]]:
    """Import pyvi lazily: it costs ~1 s and ~100 MB, and only indexing needs it."""
    global _PYVI
    if _PYVI is None:
        from pyvi.ViTokenizer import ViTokenizer

        specials = [r"==>", r"->", r"\.\.\.", r">>"]
        abbreviations = [r"[A-ZĐ]+\.", r"Tp\.", r"Mr\.", r"Mrs\.", r"Ms\.", r"Dr\.", r"ThS\."]
        # The same alternatives, in the same order, as ViTokenizer.sylabelize, so
        # the CRF sees exactly the tokens it was trained on; finditer gives spans.
        pattern = "|".join(
            [
                *abbreviations,
                *specials,
                r"\w+://[^\s]+",
                r"[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+",
                r"\d+(?:[\.,_]\d+)+",
                r"[^\w\s]",
                r"\w+",
            ]
        )
        _PYVI = (ViTokenizer, re.compile(pattern))
    return _PYVI


# pyvi's CRF cost grows with sequence length only linearly, but its features are
# built per token in Python; paragraphs keep sequences (and memory) small.
_MAX_SEGMENT_TOKENS = 400


def word_spans(text: str) -> list[tuple[int, int]]:
    """Spans of pyvi's multi-syllable words in ``text`` (offsets into ``text``).

    Single-syllable words are not returned: they are the syllables themselves.
    The text is tone-canonicalised first (length-preserving), because pyvi's
    dictionary only knows ``hoà bình``, not ``hòa bình``.
    """
    tokenizer, pattern = _pyvi()
    canon = canonical_tones(text)
    out: list[tuple[int, int]] = []
    punct = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    for para in re.finditer(r"[^\n]+", canon):
        base = para.start()
        matches = list(pattern.finditer(para.group()))
        for lo in range(0, len(matches), _MAX_SEGMENT_TOKENS):
            chunk = matches[lo : lo + _MAX_SEGMENT_TOKENS]
            toks = [m.group() for m in chunk]
            if len(toks) < 2:
                continue
            labels = tokenizer.model.predict([tokenizer.sent2features(toks, False)])[0]
            start = 0
            for i in range(1, len(toks) + 1):
                # The same join rule as ViTokenizer.tokenize.
                joined = (
                    i < len(toks)
                    and labels[i] == "I_W"
                    and toks[i] not in punct
                    and toks[i - 1] not in punct
                    and not toks[i][0].isdigit()
                    and not toks[i - 1][0].isdigit()
                    and not (toks[i][0].istitle() and not toks[i - 1][0].istitle())
                )
                if not joined:
                    if i - start >= 2:
                        out.append((base + chunk[start].start(), base + chunk[i - 1].end()))
                    start = i
    return out


# Indexing analyses each text into several fields in a row (title: 7, body: 5)
# and ``to_document`` counts its syllables first: the syllable regex, pyvi and
# the token tuples are computed once per text and kept for the document being
# indexed (a handful of entries; the cache is emptied when it fills up).
_CACHE_ENTRIES = 8
_SPANS_CACHE: dict[str, list[tuple[int, int]]] = {}
_ITEMS_CACHE: dict[tuple[str, bool], list[tuple[int, int, int, str]]] = {}


def _cached_syllable_spans(text: str) -> list[tuple[int, int]]:
    hit = _SPANS_CACHE.get(text)
    if hit is None:
        if len(_SPANS_CACHE) >= _CACHE_ENTRIES:
            _SPANS_CACHE.clear()
        hit = _SPANS_CACHE[text] = syllable_spans(text)
    return hit


def syllable_count(text: str) -> int:
    """``len(syllable_spans(text))``, sharing the indexer's per-document cache."""
    return len(_cached_syllable_spans(text))


def token_items(value: str, words: bool) -> list[tuple[int, int, int, str]]:
    """(syllable position, start, end, surface text) of each token of ``value``."""
    ck = (value, words)
    items = _ITEMS_CACHE.get(ck)
    if items is not None:
        return items
    syl = _cached_syllable_spans(value)
    if words:
        starts = [s for s, _ in syl]
        items = []
        for s, e in _cached_word_spans(value):
            i = bisect_left(starts, s)
            j = bisect_left(starts, e, lo=i)
            # A word counts when it starts on a syllable and holds two or more.
            if j - i >= 2 and starts[i] == s:
                items.append((i, s, e, "_".join(value[a:b] for a, b in syl[i:j])))
    else:
        items = [(i, s, e, value[s:e]) for i, (s, e) in enumerate(syl)]
    if len(_ITEMS_CACHE) >= _CACHE_ENTRIES:
        _ITEMS_CACHE.clear()
    _ITEMS_CACHE[ck] = items
    return items


_WORD_CACHE: dict[str, list[tuple[int, int]]] = {}
# Word spans given by the caller for the document being indexed (see ``known_words``).
_KNOWN_WORDS: dict[str, list[tuple[int, int]]] = {}


def _cached_word_spans(text: str) -> list[tuple[int, int]]:
    hit = _KNOWN_WORDS.get(text)
    if hit is not None:
        return hit
    hit = _WORD_CACHE.get(text)
    if hit is None:
        hit = word_spans(text)
        _WORD_CACHE.clear()  # one entry: the document being indexed
        _WORD_CACHE[text] = hit
    return hit


# -- stored segmentation --------------------------------------------------------
# pyvi is the costly step of indexing. The index stores which syllable gaps pyvi
# joined into words (one bit per gap, ~1 byte per 8 syllables), so a document
# whose text did not change (only its view count did) is re-added with the same
# word tokens without running pyvi again.


def pack_words(text: str) -> bytes:
    """The pyvi words of ``text`` that the index uses, as a bitmap over the gaps
    between syllables: bit ``k`` is set when syllables ``k`` and ``k + 1`` belong
    to one word. ``unpack_words`` inverts it."""
    gaps = max(len(_cached_syllable_spans(text)) - 1, 0)
    bits = bytearray((gaps + 7) // 8)
    for pos, _s, _e, surface in token_items(text, True):
        # Syllables never contain "_", so the surface form counts the joins.
        for k in range(pos, pos + surface.count("_")):
            bits[k >> 3] |= 1 << (k & 7)
    return bytes(bits)


def unpack_words(text: str, packed: bytes) -> list[tuple[int, int]] | None:
    """Word spans of ``text`` from ``pack_words(text)``: the spans from which
    the tokenizer makes the same word tokens as from pyvi's. None when ``packed``
    cannot belong to ``text`` (a different syllable count)."""
    syl = _cached_syllable_spans(text)
    if len(packed) != (max(len(syl) - 1, 0) + 7) // 8:
        return None
    out: list[tuple[int, int]] = []
    start = -1
    for k in range(len(syl) - 1):
        if packed[k >> 3] >> (k & 7) & 1:
            if start < 0:
                start = k
        elif start >= 0:
            out.append((syl[start][0], syl[k][1]))
            start = -1
    if start >= 0:
        out.append((syl[start][0], syl[-1][1]))
    return out


def known_words(text: str, packed: bytes) -> bool:
    """Use ``packed`` (from ``pack_words``) as the segmentation of ``text`` until
    ``forget_words``; False (and pyvi will run) when it does not fit the text."""
    spans = unpack_words(text, packed)
    if spans is None:
        return False
    _KNOWN_WORDS[text] = spans
    return True


def forget_words() -> None:
    """End of a document: drop given segmentations and the per-document caches."""
    _KNOWN_WORDS.clear()
    _SPANS_CACHE.clear()
    _ITEMS_CACHE.clear()
