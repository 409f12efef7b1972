"""The forms of a Vietnamese text: the stored form (``normalize``), canonical
tone placement, the matching key, the folded and detoned forms, and syllables
with their offsets. Pure functions, shared by the indexer and the API.

Vocabulary:
  stored text  -- ``normalize(raw)``: what the index stores and every offset points into.
  key          -- a syllable or word for matching with diacritics: lowercase, tone
                  placement made canonical (``hòa`` and ``hoà`` both give ``hoà``).
  folded       -- lowercase, every diacritic removed, ``đ`` -> ``d``.
  detoned      -- lowercase with tone marks removed but vowel marks kept (``tuyến`` -> ``tuyên``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from importlib import resources

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
