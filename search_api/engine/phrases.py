"""Phrase matching: quoted phrases must occur as typed, as a sequence in the
title or the body; ``-word`` exclusions. Checked on the candidates only,
deciding from the cheap fields first and reading positions last."""

from __future__ import annotations

import itertools

import numpy as np

from search_api.engine.query import Syllable
from search_api.engine.request import Deadline
from search_api.engine.snapshot import Postings, Snapshot

# Added to (position - offset in the phrase) so that phrase keys stay positive.
_PHRASE_BIAS = 1 << 16


def any_form(snap: Snapshot, sylls: list[Syllable]) -> np.ndarray:
    """Documents containing any of ``sylls`` (exact form if typed with accents)."""
    mask = np.zeros(snap.size, dtype=bool)
    for s in sylls:
        for prefix in ("t", "b"):
            fld, term = (prefix + "s", s.key) if s.accented else (prefix + "f", s.folded)
            mask[snap.postings(fld, term).ids] = True
    return mask


def phrase_mask(
    snap: Snapshot,
    sylls: list[Syllable],
    candidates: np.ndarray,
    deadline: Deadline | None = None,
) -> np.ndarray:
    """Documents among ``candidates`` where ``sylls`` occur consecutively in the
    title or the body; each syllable in its typed form (key form when typed with
    diacritics, folded otherwise), as the ``p`` fields index both at each position.

    Positions are read only where the other fields cannot decide: title bigrams
    (``ta``/``tg``) hold every adjacent pair of title syllables, so a title
    candidate must have each pair of the phrase, and a two-syllable phrase typed
    all with or all without diacritics is decided by its bigram alone; a pyvi
    word (``bw``/``bv``) equal to the whole phrase proves it in the body. The
    rest is verified on positions (``_verify_phrase``); past the deadline it is
    skipped and the answer is flagged partial."""
    out = np.zeros(snap.size, dtype=bool)
    docs = np.flatnonzero(candidates)
    if len(docs) == 0:
        return out
    terms = [s.key if s.accented else s.folded for s in sylls]
    same_form = all(s.accented for s in sylls) or not any(s.accented for s in sylls)
    key_form = same_form and sylls[0].accented
    for prefix in ("t", "b"):
        fld = prefix + "p"
        # The documents of a term in the p field are those of its key form in
        # the s field, or of its folded form in the f field: the same tokens,
        # without positions (cheap blocks, and usually cached by matching).
        plain = [_doc_field(snap, prefix, s) for s in sylls]
        lists = sorted((p.ids for p in plain), key=len)  # rarest first: shrinks fastest
        cand = docs if prefix == "t" else docs[~out[docs]]
        for ids in lists:
            cand = np.intersect1d(cand, ids, assume_unique=True)
        if prefix == "t" and len(cand):
            for a, b in itertools.pairwise(sylls):
                if a.accented and b.accented:
                    fld2, pair = "ta", f"{a.key}_{b.key}"
                else:  # a mixed pair: its folded bigram is necessary
                    fld2, pair = "tg", f"{a.folded}_{b.folded}"
                cand = np.intersect1d(cand, snap.postings(fld2, pair).ids, assume_unique=True)
            if same_form and len(terms) == 2:
                out[cand] = True
                continue
        if prefix == "b" and same_form and len(cand):
            word = snap.postings("bw" if key_form else "bv", "_".join(terms)).ids
            proved = np.isin(cand, word, assume_unique=True)
            out[cand[proved]] = True
            cand = cand[~proved]
        if not _verify_phrase(snap, fld, terms, [p.df for p in plain], cand, out, deadline):
            return out
    return out


def _doc_field(snap: Snapshot, prefix: str, syl: Syllable) -> Postings:
    """Postings of a phrase syllable's typed form without positions."""
    return (
        snap.postings(prefix + "s", syl.key)
        if syl.accented
        else snap.postings(prefix + "f", syl.folded)
    )


def _verify_phrase(
    snap: Snapshot,
    fld: str,
    terms: list[str],
    dfs: list[int],
    cand: np.ndarray,
    out: np.ndarray,
    deadline: Deadline | None,
) -> bool:
    """Mark in ``out`` the ``cand`` documents where ``terms`` occur consecutively
    in ``fld``. Each occurrence becomes a key (docnum, position - offset in the
    phrase); the phrase holds where every term has the same key. Positions are
    read term by term, the rarest first, and only for the documents every
    earlier term left possible. False when the deadline stopped it (partial)."""
    if not len(cand):
        return True
    expired = None if deadline is None else deadline.expired
    order = sorted(range(len(terms)), key=lambda k: dfs[k])
    alive = cand
    keys = None
    for k in order:
        got = snap.positions(fld, terms[k], alive, expired)
        if got is None:  # only with a deadline, which has expired
            if deadline is not None:
                deadline.partial = True
            return False
        docs, pos = got
        # Sorted and unique: documents ascending, positions ascending in each.
        here = (docs << 32) | (pos - k + _PHRASE_BIAS)
        keys = here if keys is None else np.intersect1d(keys, here, assume_unique=True)
        if not len(keys):
            return True
        alive = np.unique(keys >> 32)
    out[alive] = True
    return True
