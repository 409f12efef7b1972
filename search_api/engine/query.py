"""Parse what a visitor types into a safe query structure.

User text is never Whoosh query syntax. Supported: plain words, "quoted
phrases" and -excluded words. Everything else (``*``, ``?``, ``~``, ``^``,
``field:``, ``AND``/``OR``/``NOT``, brackets) is just punctuation or a word.
Parsing never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.analysis import fold, key, normalize, syllables


@dataclass(frozen=True, slots=True)
class Syllable:
    surface: str  # as typed (NFC)
    key: str  # lowercase, canonical tones
    folded: str

    @property
    def accented(self) -> bool:
        return self.key != self.folded


@dataclass(slots=True)
class Group:
    """Syllables that must be adjacent (a quoted phrase, or one typed token such
    as ``TP.HCM`` or ``3/3/2017``), or a single free syllable."""

    syllables: list[Syllable]
    quoted: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.syllables) > 1


@dataclass(slots=True)
class ParsedQuery:
    text: str
    normalized: str
    groups: list[Group] = field(default_factory=list)
    excluded: list[Syllable] = field(default_factory=list)

    @property
    def accented(self) -> bool:
        return any(s.accented for g in self.groups for s in g.syllables)

    @property
    def syllables(self) -> list[Syllable]:
        return [s for g in self.groups for s in g.syllables]

    @property
    def empty(self) -> bool:
        return not self.groups


# A quoted phrase, an excluded token, or a plain token. Unbalanced quotes fall
# through to the last alternative and are ignored as punctuation.
_TOKEN = re.compile(r'"([^"]*)"|(?<!\S)-(\S+)|(\S+)')


def _syllables(text: str) -> list[Syllable]:
    return [Syllable(s, key(s), fold(s)) for s in syllables(text)]


def parse(text: str, *, max_syllables: int = 400) -> ParsedQuery:
    """Parse ``text``; keeps at most ``max_syllables`` syllables (callers reject
    longer queries before this; the cap only bounds the work)."""
    clean = " ".join(normalize(text).split())
    q = ParsedQuery(text=text, normalized=key(clean))
    budget = max_syllables
    for m in _TOKEN.finditer(clean.replace("\u201c", '"').replace("\u201d", '"')):
        phrase, excluded, plain = m.groups()
        if excluded is not None:
            q.excluded.extend(_syllables(excluded)[:budget])
            continue
        syl = _syllables(phrase if phrase is not None else plain)[:budget]
        if not syl:
            continue
        budget -= len(syl)
        q.groups.append(Group(syl, quoted=phrase is not None))
        if budget <= 0:
            break
    return q
