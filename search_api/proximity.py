"""Proximity of query syllables in the text of the top candidates.

The index has bigram fields for titles (``ta``/``tg``) but none for bodies: body
bigrams made the index several times larger (docs/design.md), and positions
(``bp``) are far too slow to read for every candidate. So query syllables that
stand next to each other in a body were only rewarded when pyvi made them one
word. For the best candidates of a query (``PROXIMITY_DEPTH`` in
search_api/search.py) the stored title and body are read back and every run of
consecutive query syllables (two to five) that stands contiguous there scores
like a term of an n-gram field: BM25 of its count with the field's length
normalisation, and as idf the sum of its syllables' idfs (the idf of the run if
its syllables occurred independently).

Runs are compared on folded syllables, the forms that matching uses, so
``nha lam`` and ``nhà làm`` are judged alike (diacritics already grade the
terms); ``y``/``i`` spellings count as the same syllable; punctuation between
two syllables does not separate them, as in phrase matching. Texts are folded to
ASCII bytes with one table lookup per character (NumPy) and runs are found with
``bytes.count``: about 0.1 ms a candidate, most of it reading the stored text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from indexer.analysis import fold

# Characters of a text looked at (a bound on the work for a huge document; a
# news body is a few thousand characters).
MAX_TEXT_CHARS = 50_000
# What a letter or digit without an ASCII folding becomes: a word character
# that no folded query syllable contains.
_OPAQUE = 0x01
_SPACE = 0x20
_WORD = re.compile(r"[^\W_]")
# The only blocks with characters that fold to ASCII (Latin, Latin Extended
# Additional, letterlike symbols such as the Kelvin sign): tests check the BMP.
_FOLDABLE = ((0x0000, 0x0250), (0x1E00, 0x1F00), (0x2100, 0x2150))


@cache
def _table() -> np.ndarray:
    """Code point (BMP) -> one byte: the ASCII folding of a letter or digit
    (``Ế`` -> ``e``, ``đ`` -> ``d``), ``_OPAQUE`` for other letters and digits,
    a space for everything else (syllables are runs of ``[^\\W_]``)."""
    table = np.full(0x10000, _SPACE, dtype=np.uint8)
    plane = "".join(map(chr, range(0x10000)))
    table[[m.start() for m in _WORD.finditer(plane)]] = _OPAQUE
    table[0] = 0  # fold_fields' separator
    for lo, hi in _FOLDABLE:
        for m in _WORD.finditer(plane, lo, hi):
            base = fold(m.group())
            if len(base) == 1 and base.isascii() and base.isalnum():
                table[m.start()] = ord(base)
    return table


@dataclass(frozen=True, slots=True)
class Run:
    """Query syllables ``start:end`` and the byte strings that find them."""

    start: int
    end: int
    patterns: list[bytes]


def fold_bytes(text: str) -> bytes:
    """``text`` as folded ASCII syllables, each with a space before and after
    it and no two spaces in a row inside: `` tieng viet 2017 ``."""
    return fold_fields([text])[0]


def fold_fields(texts: list[str]) -> list[bytes]:
    """``fold_bytes`` of several texts in one pass (one NumPy call for a title
    and its body)."""
    # UTF-16 units index the table; surrogates (astral characters) are spaces.
    # Stored text has no NUL (normalize drops control characters): it separates.
    joined = "\0".join(t[:MAX_TEXT_CHARS] for t in texts)
    folded = _table()[np.frombuffer(joined.encode("utf-16-le", "surrogatepass"), np.uint16)]
    space = folded == _SPACE
    keep = np.ones(len(folded), dtype=bool)
    keep[1:] = ~(space[1:] & space[:-1])  # one space for a run of separators
    return [b" " + part + b" " for part in folded[keep].tobytes().split(b"\0")]


def query_runs(folded_syllables: list[list[str]], longest: int) -> list[Run]:
    """Every run of 2..``longest`` consecutive query syllables (each syllable
    given as its folded spellings), shortest first, with the byte strings that
    find it in ``fold_bytes`` output. A syllable without an ASCII folding (not
    Vietnamese) breaks runs."""
    out = []
    n = len(folded_syllables)
    usable = [[f for f in forms if f.isascii() and f.isalnum()] for forms in folded_syllables]
    for length in range(2, min(longest, n) + 1):
        for start in range(n - length + 1):
            combos = [""]
            for forms in usable[start : start + length]:
                combos = [f"{c} {f}" for c in combos for f in forms]
            if combos:
                out.append(Run(start, start + length, [f"{c} ".encode("ascii") for c in combos]))
    return out


def run_counts(folded_text: bytes, runs: list[Run]) -> list[int]:
    """Occurrences of each run in a ``fold_bytes`` text. A run longer than two
    is only looked for when both runs one syllable shorter inside it occur."""
    found: dict[tuple[int, int], int] = {}
    out = []
    for run in runs:
        if run.end - run.start > 2 and not (
            found.get((run.start, run.end - 1)) and found.get((run.start + 1, run.end))
        ):
            count = 0
        else:
            count = sum(folded_text.count(p) for p in run.patterns)
        found[(run.start, run.end)] = count
        out.append(count)
    return out
