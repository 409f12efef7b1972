"""Highlights that mark the original (accented) words of the stored text.

Only the displayed hits are highlighted. The stored text is folded once with a
table over its UTF-16 code units (NumPy, offsets unchanged) and the query's
folded syllables are found with one regular expression, so a hit costs well
under a millisecond: no pyvi, and no per-syllable Python work over the whole
body. Everything is
HTML-escaped; the only tags that come out are ``<mark>`` and ``</mark>``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache
from html import escape

import numpy as np

from indexer.analysis import fold, syllable_spans

SNIPPET_WORDS = 30
ELLIPSIS = "…"
# Characters looked at around the best match to cut a snippet of SNIPPET_WORDS
# syllables (Vietnamese syllables average under 5 letters).
_REGION = 12 * SNIPPET_WORDS


def _fold_table() -> dict[int, str]:
    table = {}
    ranges = [range(0x00C0, 0x0250), range(0x1E00, 0x1F00)]
    for r in ranges:
        for cp in r:
            f = fold(chr(cp))
            if len(f) == 1 and f != chr(cp):
                table[cp] = f
    return table


_FOLD = _fold_table()
# The same table over UTF-16 code units: str.translate looks every non-ASCII
# character up in a dict (~0.3 ms for a 2,500-character body, the largest cost
# of highlighting); indexing an array with the text's code units is ~6x faster.
# Characters beyond U+FFFF are surrogate pairs, which the table leaves alone.
_FOLD_UNITS = np.arange(1 << 16, dtype=np.uint16)
_FOLD_UNITS[list(_FOLD)] = [ord(f) for f in _FOLD.values()]


def _fold_text(text: str) -> str | None:
    """``fold`` for a whole text, keeping every offset; None when lowercasing
    would change its length (then the slow, exact path is used)."""
    low = text.lower()
    if len(low) != len(text):
        return None
    try:
        units = np.frombuffer(low.encode("utf-16-le"), dtype=np.uint16)
    except UnicodeEncodeError:  # a lone surrogate
        return low.translate(_FOLD)
    return _FOLD_UNITS[units].tobytes().decode("utf-16-le")


@lru_cache(maxsize=1024)
def _pattern(folded: frozenset[str]) -> re.Pattern:
    # No lookbehind for the start of a syllable: a pattern that begins with one
    # is tried at every position, while one that begins with the alternatives
    # lets the regex engine skip to their first letters (2-20x faster on
    # bodies). _matches drops the matches that start inside a syllable; those
    # consume only letters, so they never hide a match that starts a syllable.
    alts = "|".join(re.escape(f) for f in sorted(folded, key=len, reverse=True))
    return re.compile(rf"(?:{alts})(?![^\W_])")


def _matches(text: str, folded: Collection[str]) -> list[tuple[int, int]]:
    """Spans of the syllables of ``text`` whose folded form is in ``folded``."""
    if not folded:
        return []
    ftext = _fold_text(text)
    if ftext is None:
        return [(s, e) for s, e in syllable_spans(text) if fold(text[s:e]) in folded]
    word = _WORD.match
    return [
        m.span()
        for m in _pattern(frozenset(folded)).finditer(ftext)
        if not (m.start() and word(ftext, m.start() - 1))
    ]


def _marked(text: str, lo: int, hi: int, spans: list[tuple[int, int]]) -> str:
    """Escaped text[lo:hi] with the given match spans (inside it) marked; matches
    separated only by spaces share one <mark>."""
    out: list[str] = []
    pos = lo
    i = 0
    while i < len(spans):
        start, end = spans[i]
        while i + 1 < len(spans) and text[end : spans[i + 1][0]].isspace():
            i += 1
            end = spans[i][1]
        out.append(escape(text[pos:start], quote=False))
        out.append("<mark>" + escape(text[start:end], quote=False) + "</mark>")
        pos = end
        i += 1
    out.append(escape(text[pos:hi], quote=False))
    return "".join(out)


def highlight(text: str, folded: Collection[str]) -> str:
    """The whole ``text``, escaped, with matching syllables marked."""
    return _marked(text, 0, len(text), _matches(text, folded))


def _best_start(text: str, spans: list[tuple[int, int]], width: int) -> int:
    """Start of the match that begins the densest window of ``width`` characters
    (most distinct matched syllables, then most matches)."""
    keys = [fold(text[s:e]) for s, e in spans]
    best, best_i = (-1, -1), 0
    j = 0
    for i, (s, _) in enumerate(spans):
        j = max(j, i)
        while j + 1 < len(spans) and spans[j + 1][1] - s <= width:
            j += 1
        score = (len(set(keys[i : j + 1])), j - i + 1)
        if score > best:
            best, best_i = score, i
    return spans[best_i][0]


def snippet(text: str, folded: Collection[str], words: int = SNIPPET_WORDS) -> str:
    """A window of about ``words`` syllables around the best match, or the start
    of the text when nothing matched; one line, escaped, matches marked."""
    matches = _matches(text, folded)
    anchor = _best_start(text, matches, 6 * words) if matches else 0
    region_lo = max(0, anchor - _REGION // 4)
    region = syllable_spans(text[region_lo : region_lo + _REGION])
    sylls = [(s + region_lo, e + region_lo) for s, e in region]
    if sylls and region_lo > 0 and sylls[0][0] == region_lo and _is_word(text[region_lo - 1]):
        sylls = sylls[1:]  # cut in the middle of a syllable
    if not sylls:
        return escape(" ".join(text[:200].split()), quote=False)
    # Start a few syllables before the anchor, so the match has context, and
    # earlier still when the text ends before the window is full.
    k = next((i for i, (s, _) in enumerate(sylls) if s >= anchor), 0)
    first = max(0, min(k - 5, len(sylls) - words))
    window = sylls[first : first + words]
    lo, hi = window[0][0], window[-1][1]
    inside = [(s, e) for s, e in matches if lo <= s and e <= hi]
    body = _marked(text, lo, hi, inside)
    prefix = ELLIPSIS + " " if _has_word(text[:lo]) else escape(text[:lo], quote=False)
    suffix = " " + ELLIPSIS if _has_word(text[hi:]) else escape(text[hi:], quote=False)
    # A snippet is one line of text: paragraph breaks become spaces.
    return " ".join((prefix + body + suffix).split("\n")).strip()


_WORD = re.compile(r"[^\W_]")


def _is_word(ch: str) -> bool:
    return bool(_WORD.match(ch))


def _has_word(text: str) -> bool:
    return _WORD.search(text) is not None
