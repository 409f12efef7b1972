"""Vietnamese text typed in the legacy 8-bit font encodings, converted to Unicode.

Before Unicode, Vietnamese web pages were typed with fonts that draw Vietnamese
letters in place of Latin-1 ones; the text is Latin-1 letters that only look
Vietnamese in the right font. Two encodings are still found on old portal pages:

- **TCVN3** (TCVN 5712:1993, the "ABC" fonts ``.VnTime``, ``.VnArial``, ...):
  one byte a letter. ``ViÖt Nam`` is ``Việt Nam``. The table below is the
  Latin-1 range 0xA1-0xFF of glibc's ``TCVN5712-1`` converter (``iconv -f
  TCVN5712-1``; ``tests/test_crawl_text.py`` compares them when iconv is there),
  without 0xB0-0xB4 (combining marks there, but ``°`` and ``±`` in real text).
  Capitals in ABC are drawn by separate fonts (``.VnTimeH``) with the lower-case
  codes, so they come out in lower case: the font, not the text, held the case.
- **VNI** (``VNI-Times``, ...): a vowel followed by a mark character. ``Vieät
  Nam`` is ``Việt Nam``: ``ä`` after ``e`` is circumflex + dot below. Written
  here as its rules (which mark characters mean which diacritics) rather than a
  list of 134 pairs.

Which text is legacy is decided per text run (see :func:`convert_html`): runs in
Unicode Vietnamese are never touched, so a page with Unicode menus and a TCVN3
article converts correctly.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["convert_html", "detect_font", "from_tcvn3", "from_vni", "looks_tcvn3"]

_TCVN3_FROM = (
    "¡¢£¤¥¦§¨©ª«¬\xad®¯µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ"
)
_TCVN3_TO = (
    "ĂÂÊÔƠƯĐăâêôơưđẰàảãáạẲằẳẵắẴẮẦẨẪẤỀặầẩẫấậèỂẻẽéẹềểễếệìỉỄẾỒĩíịòỔỏõóọồổỗốộờởỡớợùỖủũúụừửữứựỳỷỹýỵỐ"
)
_TCVN3 = str.maketrans(_TCVN3_FROM, _TCVN3_TO)

# Latin-1 letters that are also Vietnamese letters in Unicode: their presence
# says nothing. The other table characters (¸ µ ¹ ® Ö ...) never occur in
# Unicode Vietnamese words and give TCVN3 away.
_SHARED = set("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")
_TCVN3_SIGNS = frozenset(_TCVN3_FROM) - _SHARED - {"\xad"}
# Letters that only Unicode Vietnamese has (ă, ơ, ư, đ and the tone-marked
# ones outside Latin-1): a run holding one is already Unicode.
_UNICODE_VI = re.compile(
    "[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9]"
)

# VNI: tone marks after a vowel; circumflex or breve combined with a tone.
_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_VNI_TONES = {"ø": _GRAVE, "ù": _ACUTE, "û": _HOOK, "õ": _TILDE, "ï": _DOT}
_VNI_TONES |= {k.upper(): v for k, v in _VNI_TONES.items()}
# After a, e or o: circumflex, alone (â) or with a tone.
_VNI_CIRCUMFLEX = {"â": "", "á": _ACUTE, "à": _GRAVE, "å": _HOOK, "ã": _TILDE, "ä": _DOT}
_VNI_CIRCUMFLEX |= {k.upper(): v for k, v in _VNI_CIRCUMFLEX.items()}
# After a: breve, alone (ê) or with a tone.
_VNI_BREVE = {"ê": "", "é": _ACUTE, "è": _GRAVE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT}
_VNI_BREVE |= {k.upper(): v for k, v in _VNI_BREVE.items()}
# Letters VNI draws with one character.
_VNI_SINGLE = {
    "ô": "ơ",
    "ö": "ư",
    "ñ": "đ",
    "ì": "ì",
    "í": "í",
    "æ": "ỉ",
    "ó": "ĩ",
    "ò": "ị",
    "î": "ỵ",
}
_VNI_SINGLE |= {k.upper(): v.upper() for k, v in _VNI_SINGLE.items()}
_VOWELS = set("aeiouyAEIOUYăâêôơưĂÂÊÔƠƯ")

_FONT = re.compile(r"(?P<tcvn3>\.Vn[A-Z][A-Za-z]*)|(?P<vni>VNI[- ][A-Za-z]+)")


def from_tcvn3(text: str) -> str:
    """TCVN3 (ABC) text read as Latin-1, in Unicode NFC."""
    return text.translate(_TCVN3)


def from_vni(text: str) -> str:
    """VNI text read as Latin-1, in Unicode NFC."""
    out: list[str] = []
    for c in text:
        prev = out[-1] if out else ""
        if c in _VNI_CIRCUMFLEX and prev in ("a", "e", "o", "A", "E", "O"):
            out[-1] = unicodedata.normalize("NFC", prev + "\u0302" + _VNI_CIRCUMFLEX[c])
        elif c in _VNI_BREVE and prev in ("a", "A"):
            out[-1] = unicodedata.normalize("NFC", prev + "\u0306" + _VNI_BREVE[c])
        elif c in _VNI_TONES and prev and unicodedata.normalize("NFD", prev)[0] in "aeiouyAEIOUY":
            base = unicodedata.normalize("NFD", prev)
            if len(base) == 1 or base[1] in "\u0302\u0306\u031b":  # no tone on it yet
                out[-1] = unicodedata.normalize("NFC", prev + _VNI_TONES[c])
            else:
                out.append(c)
        elif c in _VNI_SINGLE:
            out.append(_VNI_SINGLE[c])
        else:
            out.append(c)
    return "".join(out)


def looks_tcvn3(text: str) -> bool:
    """A run of text that reads as TCVN3: several of its giveaway characters
    and no letter that only Unicode Vietnamese has."""
    if _UNICODE_VI.search(text):
        return False
    signs = sum(c in _TCVN3_SIGNS for c in text)
    letters = sum(c.isalpha() for c in text)
    return signs >= 2 and signs * 12 >= letters


def detect_font(html: str) -> str | None:
    """``"tcvn3"`` or ``"vni"`` when the page names a legacy font (in CSS or a
    ``<font face>``), else None."""
    found = _FONT.search(html)
    if found is None:
        return None
    return "tcvn3" if found["tcvn3"] else "vni"


# Text between tags (markup is ASCII in both encodings, so runs are safe to convert).
_TEXT_RUN = re.compile(r">([^<]+)<")


def _is_tcvn3_run(text: str, kind: str | None) -> bool:
    if kind == "tcvn3":  # the page names a TCVN3 font: one giveaway character is enough
        return any(c in _TCVN3_SIGNS for c in text)
    return kind is None and looks_tcvn3(text)


def convert_html(html: str, legacy: str = "auto") -> tuple[str, str | None]:
    """Convert the legacy-encoded text runs of a page; returns the page and the
    encoding converted from (None when nothing was).

    ``legacy``: ``"auto"`` (the font the page names decides; without one, only
    runs that look like TCVN3 are converted), ``"tcvn3"`` or ``"vni"`` (the site
    is known to use it), ``"none"``. A run holding a letter that only Unicode
    Vietnamese has is never converted.
    """
    if legacy == "none":
        return html, None
    kind = legacy if legacy in ("tcvn3", "vni") else detect_font(html)
    changed = False

    def run(m: re.Match[str]) -> str:
        nonlocal changed
        text = m.group(1)
        if text.isascii() or _UNICODE_VI.search(text):
            return m.group(0)
        if kind == "vni":
            new = from_vni(text)
        elif _is_tcvn3_run(text, kind):
            new = from_tcvn3(text)
        else:
            return m.group(0)
        changed = changed or new != text
        return ">" + new + "<"

    out = _TEXT_RUN.sub(run, html)
    return out, ((kind or "tcvn3") if changed else None)
