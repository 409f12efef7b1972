"""Bytes of a fetched page to Unicode text (NFC), whatever its charset claims.

Order of trust:

1. a byte-order mark;
2. UTF-8, when the bytes are valid UTF-8 (random legacy bytes almost never
   are, and portals often declare ISO-8859-1 while sending UTF-8);
3. the charset declared by the HTTP header or a ``<meta>`` tag, when the bytes
   decode with it and charset-normalizer finds that reading plausible;
4. charset-normalizer's best guess.

``windows-1258`` writes most tone marks as combining characters (``e`` +
U+0301), so every result is NFC-normalised: the index, the highlighter and a
visitor's query all meet in NFC. Legacy font encodings (TCVN3, VNI) are Latin-1
text at this stage; :mod:`indexer.crawl.legacy` converts them afterwards.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes

__all__ = ["decode_page"]

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def decode_page(body: bytes, header_charset: str | None = None) -> tuple[str, str]:
    """The page as NFC text and the name of the encoding used (``"-> guessed"``
    is appended when the declared one was not believed)."""
    text, used = _decode(body, header_charset)
    return unicodedata.normalize("NFC", text), used


def _decode(body: bytes, header_charset: str | None) -> tuple[str, str]:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body.decode(name, "replace"), name
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    meta = _META.search(body[:4096])
    declared = _codec(header_charset) or _codec(meta.group(1).decode("ascii") if meta else None)
    sample = body[:262144]
    if declared and declared != "utf-8":
        try:
            text = body.decode(declared)
        except UnicodeDecodeError:
            text = None
        # charset-normalizer drops an encoding whose reading of the bytes is
        # chaotic (letters of mixed scripts, controls): a lie is not believed.
        if (
            text is not None
            and from_bytes(sample, cp_isolation=[declared], preemptive_behaviour=False).best()
        ):
            return text, declared
    best = from_bytes(sample, preemptive_behaviour=False).best()
    if best is not None and best.encoding:
        return body.decode(best.encoding, "replace"), f"{declared or 'none'} -> {best.encoding}"
    return body.decode(declared or "utf-8", "replace"), declared or "utf-8"
