"""Query-time expansions: abbreviations, y/i spelling variants, Telex typed
without an input method. Built on the shared analysis chain; nothing here
changes what is indexed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import cast

from indexer.analysis import fold, key, syllables

# -- y/i ------------------------------------------------------------------------

# After these onsets a lone final y or i is the same syllable spelled two ways
# (quý/quí, kỹ/kĩ, lý/lí, mỹ/mĩ, sỹ/sĩ, tỷ/tỉ, hy/hi); elsewhere y and i differ
# (tay/tai, tuy/tui), so nothing else is touched.
_YI = re.compile(r"^(qu|[hklmst])([yi])$")


def yi_variant(folded: str) -> str | None:
    """The folded other spelling of a y/i syllable (``quy`` -> ``qui``), or None."""
    m = _YI.match(folded)
    if m is None:
        return None
    return m.group(1) + ("i" if m.group(2) == "y" else "y")


# -- Telex ----------------------------------------------------------------------

_TONE_KEYS = {"s": "\u0301", "f": "\u0300", "r": "\u0309", "x": "\u0303", "j": "\u0323"}
_VOWEL_KEYS = [("aa", "â"), ("aw", "ă"), ("ee", "ê"), ("oo", "ô"), ("ow", "ơ"), ("uw", "ư")]
_VOWELS = "aăâeêioôơuưy"
_MARKED = "ăâêôơư"


def _place_tone(word: str, tone: str) -> str:
    """Put ``tone`` (a combining mark) on the vowel that carries it."""
    found = re.match(r"^(qu|gi(?=[aăâeêoôơuưy])|[^aăâeêioôơuưy]*)", word)
    onset = found.group(0) if found else ""  # always found: the last branch matches ""
    rest = word[len(onset) :]
    m = re.match(f"[{_VOWELS}]+", rest)
    if m is None:
        if onset == "gi":  # "gì": the i is the vowel after all
            return "g" + unicodedata.normalize("NFC", "i" + tone) + rest
        return word
    vowels, tail = m.group(0), rest[m.end() :]
    if len(vowels) == 1:
        i = 0
    elif "ươ" in vowels:
        i = vowels.index("ơ")
    elif any(c in _MARKED for c in vowels):
        i = max(vowels.index(c) for c in vowels if c in _MARKED)
    elif tail or vowels in ("oa", "oe", "uy"):
        i = len(vowels) - 1
    else:
        i = 0
    marked = unicodedata.normalize("NFC", vowels[i] + tone)
    return onset + vowels[:i] + marked + vowels[i + 1 :] + tail


def telex_decode(word: str) -> str | None:
    """Decode one Telex-typed syllable (``tuyeen`` -> ``tuyên``, ``giaos`` ->
    ``giáo``, ``ddaf`` -> ``đà``, ``nawngx`` -> ``nẵng``); None when the word has
    no Telex keys or does not decode to something syllable-shaped."""
    w = word.lower()
    if not w.isascii() or not w.isalpha() or len(w) < 2:
        return None
    tone = ""
    if w[-1] in _TONE_KEYS and len(w) > 2 and any(c in "aeiouy" for c in w[:-1]):
        tone, w = _TONE_KEYS[w[-1]], w[:-1]
    out = w.replace("dd", "đ", 1) if w.startswith("dd") else w
    for src, dst in _VOWEL_KEYS:
        out = out.replace(src, dst)
    if "w" in out:  # a lone w is ư ("tw" -> "tư")
        out = out.replace("uow", "ươ").replace("w", "ư")
    if out == w and not tone:
        return None
    if not re.fullmatch(r"[bcdđghklmnpqrstvx]*[aăâeêioôơuưy]+[cghmnpt]*", out):
        return None
    return key(_place_tone(out, tone) if tone else out)


# -- abbreviations -----------------------------------------------------------------


_SLOT = "NUMBERSLOT"


@dataclass(frozen=True, slots=True)
class Abbreviations:
    """Two-way pairs of folded syllable sequences (``ubnd`` <-> ``uy ban nhan dan``).
    A file line holds tab-separated forms that all mean the same; ``{n}`` stands
    for any number (``Q.{n}`` <-> ``Quận {n}``)."""

    pairs: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]

    @classmethod
    def parse(cls, text: str) -> Abbreviations:
        pairs = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split("\t") if p.strip()]
            if len(parts) < 2:
                continue
            forms = [
                tuple(
                    "{n}" if s == _SLOT else fold(s)
                    for s in syllables(p.replace("{n}", f" {_SLOT} "))
                )
                for p in parts
            ]
            # Every form on a line stands for every other (TP.HCM, TPHCM, Thành phố ...).
            for i, a in enumerate(forms):
                for b in forms[i + 1 :]:
                    pairs.append((a, b))
        return cls(tuple(pairs))

    def alternatives(self, folded: list[str]) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, replacement) for every dictionary form found in ``folded``."""
        out = []
        for a, b in self.pairs:
            for src, dst in ((a, b), (b, a)):
                n = len(src)
                for i in range(len(folded) - n + 1):
                    window = folded[i : i + n]
                    num = None
                    ok = True
                    for want, got in zip(src, window, strict=True):
                        if want == "{n}":
                            ok = got.isdigit()
                            num = got
                        else:
                            ok = want == got
                        if not ok:
                            break
                    if ok:
                        rep = tuple(num if s == "{n}" else s for s in dst)
                        # Both forms of a dictionary line carry {n}: num is set.
                        out.append((i, i + n, cast(tuple[str, ...], rep)))
        return out


def _builtin_text() -> str:
    return resources.files("indexer").joinpath("data/abbreviations.tsv").read_text("utf-8")


@lru_cache(maxsize=8)
def load_abbreviations(path: str | None = None) -> Abbreviations:
    """The built-in dictionary, or the file at ``path`` (the API's
    ``VNSEARCH_ABBREVIATIONS``, read in search_api/config.py)."""
    text = Path(path).read_text("utf-8") if path else _builtin_text()
    return Abbreviations.parse(text)
