"""Property tests over any Unicode string: the query parser, the analysis chain
on text it was not written for, and the highlighter. (tests/test_analysis.py
covers normalize/key/fold idempotence and offsets on Vietnamese-like text.)"""

from __future__ import annotations

import html
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis import fold, key, normalize, syllable_spans, word_spans
from indexer.schema import FIELD_FORMS, _analyzer
from search_api.engine.highlight import highlight, snippet
from search_api.engine.query import parse

# Any code point, lone surrogates and non-characters included, plus strings
# built from the characters the query syntax cares about.
any_unicode = st.text(st.characters(codec=None, exclude_categories=()), max_size=200)
syntax = st.text(
    st.sampled_from('"“”-+*?~^:()[]{}\\/ \t\n\u200b\u202eaăâđeêoôơuưyAĐ0123456789ÀÁẢÃẠàáảãạ'),
    max_size=120,
)
texts = st.one_of(any_unicode, syntax)
FAST = settings(max_examples=150, deadline=None)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(texts, st.integers(1, 40))
def test_parse_never_raises_and_keeps_its_promises(text, budget):
    pq = parse(text, max_syllables=budget)
    assert pq.text == text
    assert unicodedata.is_normalized("NFC", pq.normalized)
    assert len(pq.syllables) <= budget
    for syl in [*pq.syllables, *pq.excluded]:
        assert syl.surface and syl.key == key(syl.surface) and syl.folded == fold(syl.surface)
        assert syl.surface in normalize(text)
        assert not any(c.isspace() or c == '"' for c in syl.surface)
    assert all(g.syllables for g in pq.groups)
    assert pq.empty == (not pq.groups)


@FAST
@given(texts)
def test_parse_is_stable_on_its_own_normalized_text(text):
    """Parsing the echoed normalized query finds the same words (lowercase)."""
    pq = parse(text, max_syllables=1000)
    again = parse(pq.normalized, max_syllables=1000)
    assert [s.key for s in again.syllables] == [s.key for s in pq.syllables]
    assert [s.folded for s in again.excluded] == [s.folded for s in pq.excluded]
    assert parse(again.normalized, max_syllables=1000).normalized == again.normalized


@FAST
@given(texts)
def test_normalize_key_fold_on_any_unicode(text):
    n = normalize(text)
    assert normalize(n) == n
    assert key(key(n)) == key(n)
    assert fold(fold(n)) == fold(n)
    assert fold(key(n)) == fold(n)
    assert "\x00" not in n and "\ufeff" not in n and "\u202e" not in n


@FAST
@given(texts)
def test_syllable_offsets_are_valid_on_any_unicode(text):
    n = normalize(text)
    last = 0
    for s, e in syllable_spans(n):
        assert last <= s < e <= len(n)
        last = e


@SLOW
@given(texts)
def test_pyvi_word_offsets_are_valid_on_any_unicode(text):
    n = normalize(text)
    last = 0
    for s, e in word_spans(n):
        assert last <= s < e <= len(n)
        assert not n[s].isspace() and not n[e - 1].isspace()
        last = e


@SLOW
@given(texts)
def test_every_analyzer_takes_any_unicode_with_valid_offsets(text):
    n = normalize(text)
    for form in FIELD_FORMS["t"]:
        for t in _analyzer(form)(n, positions=True, chars=True):
            assert 0 <= t.startchar < t.endchar <= len(n), form
            assert t.text and "\x00" not in t.text


@FAST
@given(texts, st.lists(st.sampled_from(["a", "tuyen", "giao", "script", "lt", "amp"])))
def test_highlights_escape_everything_but_mark(text, folds):
    n = normalize(text)
    for out in (highlight(n, set(folds)), snippet(n, set(folds))):
        bare = out.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in bare and ">" not in bare
        assert out.count("<mark>") == out.count("</mark>")
    # Nothing is lost or added: unmarked and unescaped, a highlight is the text.
    shown = highlight(n, set(folds)).replace("<mark>", "").replace("</mark>", "")
    assert html.unescape(shown) == n
