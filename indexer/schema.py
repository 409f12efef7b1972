"""The Whoosh schema and the mapping from an Article to an index document.

Each of title and body is stored once (NFC, what the API returns and highlights)
and analysed into fields named by a one-letter prefix (``t`` title, ``b`` body)
and a one-letter form:

  s  syllables with diacritics (key form)     ranking by exact diacritics
  f  folded syllables                         matching
  p  key and folded syllables, positions      phrases (each query syllable in its typed form)
  w  pyvi words with diacritics               compound-word precision
  v  folded pyvi words                        compounds rebuilt from unaccented queries
  a  bigrams of key syllables (title only)    exact-diacritic proximity, did-you-mean stats
  g  bigrams of folded syllables (title only) selective title pairs for unaccented queries

Matching always happens on folded syllables; the other forms only rank. ``s``
and ``f`` carry no positions on purpose: their posting lists are the long ones
that every query reads, and a Whoosh block with positions is ~7x slower to
decode. Positions live in ``p`` alone, read only to check phrase candidates.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from whoosh import fields

from indexer.analysis import (
    BigramFilter,
    FoldFilter,
    KeyFilter,
    KeyFoldFilter,
    VietnameseTokenizer,
    normalize,
    syllable_count,
)
from indexer.sources.article import Article

# Bump when the schema or the analysis changes incompatibly: an index built with
# another version must be rebuilt (the API refuses to open it).
SCHEMA_VERSION = 2

VN_TZ = timezone(timedelta(hours=7))

FORMS = ("s", "f", "p", "w", "v", "a", "g")
# Bigrams of whole bodies would multiply the lexicon (nearly every pair of
# syllables is a new term: 40 MB for 300 articles); titles are short and their
# bigrams are exactly what did-you-mean and title-word queries need.
FIELD_FORMS = {"t": FORMS, "b": ("s", "f", "p", "w", "v")}
PREFIXES = {"title": "t", "body": "b"}


def _analyzer(form: str):
    tok = VietnameseTokenizer(words=form in "wv")
    if form == "p":
        return tok | KeyFoldFilter()
    chain = tok | KeyFilter() if form in "swa" else tok | FoldFilter()
    if form in "ag":
        chain = chain | BigramFilter()
    return chain


def build_schema() -> fields.Schema:
    analysed = {}
    for prefix, forms in FIELD_FORMS.items():
        for form in forms:
            analysed[prefix + form] = fields.TEXT(
                analyzer=_analyzer(form), phrase=form == "p", stored=False
            )
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        url=fields.STORED(),
        title=fields.STORED(),
        body=fields.STORED(),
        published=fields.STORED(),  # ISO 8601 string, +07:00 (or a plain date)
        site=fields.ID(stored=True, sortable=True),
        category=fields.ID(stored=True, sortable=True),
        # Seconds since the epoch; undated documents have none (column default 0).
        pubts=fields.NUMERIC(bits=64, signed=True, sortable=True),
        year=fields.ID(sortable=True),
        month=fields.ID(sortable=True),
        day=fields.ID(sortable=True),
        views=fields.NUMERIC(bits=64, stored=True, sortable=True),
        # Syllable counts: BM25 length normalisation without reading Whoosh's
        # lossy one-byte lengths.
        tlen=fields.NUMERIC(bits=32, sortable=True),
        blen=fields.NUMERIC(bits=32, sortable=True),
        origin=fields.ID(stored=True),
        hash=fields.STORED(),
        # pyvi's segmentation of title and body (indexer.analysis.pack_words),
        # written by indexer.whoosh_internals.writing: a views-only update reuses it.
        seg=fields.STORED(),
        **analysed,
    )


def clean_id(raw: object) -> str:
    """The id as stored and looked up: NFC, stripped. An NFD ``hoà`` and an NFC
    ``hoà`` are one document (the API normalises the ids it is asked for too)."""
    return unicodedata.normalize("NFC", str(raw)).strip()


def _clean_title(text: str) -> str:
    return " ".join(normalize(text).split())


def _clean_body(text: str) -> str:
    lines = (" ".join(line.split()) for line in normalize(text).split("\n"))
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True, slots=True)
class DatedParts:
    iso: str
    ts: int
    year: str
    month: str
    day: str


def date_parts(published: datetime | date | None) -> DatedParts | None:
    """ISO string (in Vietnam time), epoch seconds and facet keys of a date."""
    if published is None:
        return None
    if isinstance(published, datetime):
        local = (published if published.tzinfo else published.replace(tzinfo=VN_TZ)).astimezone(
            VN_TZ
        )
        iso = local.isoformat(timespec="seconds")
        day = local.date()
        ts = int(local.timestamp())
    else:
        day = published
        iso = day.isoformat()
        ts = int(datetime(day.year, day.month, day.day, tzinfo=VN_TZ).timestamp())
    return DatedParts(iso, ts, f"{day.year:04d}", f"{day:%Y-%m}", day.isoformat())


def _shown_fields(article: Article) -> dict:
    """The stored, searchable and shown values of an article: everything the
    content hash covers, without any analysis."""
    doc: dict = {
        "id": clean_id(article.id),
        "title": _clean_title(article.title or ""),
        "body": _clean_body(article.body or ""),
    }
    if article.url:
        doc["url"] = article.url
    if article.site:
        doc["site"] = article.site.strip()
    if article.category:
        doc["category"] = " ".join(normalize(article.category).split())
    parts = date_parts(article.published)
    if parts:
        doc.update(
            published=parts.iso, pubts=parts.ts, year=parts.year, month=parts.month, day=parts.day
        )
    return doc


def article_hash(article: Article) -> str:
    """``content_hash`` of the document an article would become, computed without
    segmenting anything: ``article_hash(a) == to_document(a)["hash"]``."""
    return content_hash(_shown_fields(article))


def to_document(article: Article) -> dict:
    """The Whoosh document for an article: stored fields, columns, analysed twins."""
    doc = _shown_fields(article)
    title, body = doc["title"], doc["body"]
    doc["tlen"] = syllable_count(title)
    doc["blen"] = syllable_count(body)
    doc["origin"] = article.origin or ""
    if article.views is not None:
        doc["views"] = int(article.views)
    for prefix, text in (("t", title), ("b", body)):
        if text:
            for form in FIELD_FORMS[prefix]:
                doc[prefix + form] = text
    doc["hash"] = content_hash(doc)
    return doc


_HASHED = ("id", "title", "body", "url", "site", "category", "published")


def content_hash(doc: dict) -> str:
    """Hash of what is searchable and shown; views are left out so that a new
    view count does not force re-segmenting unchanged text."""
    h = hashlib.blake2b(digest_size=16)
    h.update(str(SCHEMA_VERSION).encode())
    for name in _HASHED:
        h.update(b"\x00" + str(doc.get(name, "")).encode("utf-8", "surrogatepass"))
    return h.hexdigest()
