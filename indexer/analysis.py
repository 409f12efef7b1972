"""The one Vietnamese analysis chain, shared by the indexer and the search API.

Pure functions first (normalise, canonical tone placement, folding, syllable
and word segmentation with offsets), then thin Whoosh tokenizer/filter classes
built on them. Everything here is picklable: Whoosh pickles the schema, and with
it the analyzers, into the index.

Vocabulary used below:
  stored text  -- ``normalize(raw)``: what the index stores and every offset points into.
  key          -- a syllable or word for matching with diacritics: lowercase, tone
                  placement made canonical (``hòa`` and ``hoà`` both give ``hoà``).
  folded       -- lowercase, every diacritic removed, ``đ`` -> ``d``.
  detoned      -- lowercase with tone marks removed but vowel marks kept (``tuyến`` -> ``tuyên``).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources

from whoosh.analysis import Filter, Tokenizer
from whoosh.analysis.acore import Token

__all__ = [
    "QUESTION_WORDS",
    "STOPWORDS",
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

# Letters that look like Đ but are not (Icelandic eth, African D): typed by some
# keyboards and OCR, they would never match a real "Đ".
_LOOKALIKES = str.maketrans(
    {"\u00d0": "\u0110", "\u0189": "\u0110", "\u00f0": "\u0111", "\u0256": "\u0111"}
)

# Zero-width, bidi and soft-hyphen characters: invisible, but they split or glue words.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Control characters (except tab and newline) and lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Every other kind of space (NBSP, thin space, ideographic space...) becomes " ".
_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # huyền sắc ngã hỏi nặng

# A syllable: a run of letters/digits. "_" is a word character for `\w` but pyvi
# uses it to join words, so it separates syllables here.
_SYLLABLE = re.compile(r"[^\W_]+")
# Longer runs are not words (hashes, base64, glued URLs): they are not indexed.
MAX_SYLLABLE_CHARS = 40

# Open rhymes whose tone mark placement differs between the old style (hoà,
# thuỷ, khoẻ) and the new one (hòa, thủy, khỏe). The onset before them must be
# consonants only, and "qu" owns its u, so "quý" is never touched.
_OPEN_RHYME = re.compile(r"^([bcdđghklmnprstvx]*)(o[ae]|uy)$")


def normalize(text: str) -> str:
    """Clean raw text into the form the index stores: NFC, no invisible or control
    characters, one kind of space, CRLF as LF, and real Đ/đ for look-alikes."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    return unicodedata.normalize("NFC", text).translate(_LOOKALIKES)


@lru_cache(maxsize=65536)
def _canonical_word(word: str) -> str:
    low = _strip_tones(word.lower())
    m = _OPEN_RHYME.match(low)
    if m is None or (m.group(2) == "uy" and m.group(1).endswith("q")):
        return word
    i = len(m.group(1))  # index of the first vowel of the rhyme
    first = unicodedata.normalize("NFD", word[i])
    tones = [c for c in first if c in TONE_MARKS]
    if not tones:
        return word  # already canonical (or no tone at all)
    bare = "".join(c for c in first if c not in TONE_MARKS)
    moved = unicodedata.normalize("NFC", word[i + 1] + tones[0])
    out = word[:i] + unicodedata.normalize("NFC", bare) + moved + word[i + 2 :]
    return out if len(out) == len(word) else word


def canonical_tones(text: str) -> str:
    """Put tone marks of open oa/oe/uy rhymes where the old style puts them
    (``hòa`` -> ``hoà``, ``thủy`` -> ``thuỷ``). Length-preserving on NFC text, so
    offsets computed on the result are valid in the input. Old style is the
    canonical one because pyvi's dictionary is written that way."""
    return _SYLLABLE.sub(lambda m: _canonical_word(m.group()), text)


def _strip_tones(text: str) -> str:
    nfd = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in nfd if c not in TONE_MARKS))


@lru_cache(maxsize=131072)
def key(token: str) -> str:
    """Matching form with diacritics: lowercase, canonical tone placement."""
    return canonical_tones(unicodedata.normalize("NFC", token).lower())


@lru_cache(maxsize=131072)
def fold(text: str) -> str:
    """Lowercase, every combining mark removed, ``đ`` -> ``d``. Idempotent."""
    nfd = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    out = "".join(c for c in nfd if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", out).replace("đ", "d")


def detone(text: str) -> str:
    """Lowercase without tone marks, vowel marks kept (``Tuyến`` -> ``tuyên``)."""
    return _strip_tones(text.lower())


def is_accented(text: str) -> bool:
    """True when the text carries any Vietnamese diacritic (or đ)."""
    return fold(text) != text.lower()


def syllable_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every syllable of ``text`` (letters/digits runs)."""
    return [m.span() for m in _SYLLABLE.finditer(text) if m.end() - m.start() <= MAX_SYLLABLE_CHARS]


def syllables(text: str) -> list[str]:
    """The syllables of ``text`` as they are written."""
    return [text[s:e] for s, e in syllable_spans(text)]


def _load_words(name: str) -> frozenset[str]:
    text = resources.files("indexer").joinpath(f"data/{name}").read_text("utf-8")
    return frozenset(
        key(line.strip()) for line in text.splitlines() if line.strip() and line[0] != "#"
    )


STOPWORDS = _load_words("stopwords.txt")
# Words that only ask (gì, nào, bao nhiêu, ...): they weigh little in a question.
QUESTION_WORDS = _load_words("question_words.txt")


# -- word segmentation (pyvi) -------------------------------------------------

_PYVI = None


def _pyvi():
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


# -- Whoosh components --------------------------------------------------------


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
        items = _token_items(value, self.words)
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


def _token_items(value: str, words: bool) -> list[tuple[int, int, int, str]]:
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
    for pos, _s, _e, surface in _token_items(text, True):
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
