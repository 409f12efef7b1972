"""Highlight and snippet properties: marks land on whole syllables whose folded
form was searched, and nothing but <mark> comes out unescaped."""

from __future__ import annotations

import html
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.analysis import fold, normalize, syllables
from search_api.engine.highlight import highlight, snippet

TEXT = st.text(
    alphabet=st.sampled_from(list("aàáâầấđeêếiíoòóôồơờuùưừyý <>&\"'\n.,0123 TUYÊNGIÁO")),
    max_size=300,
)
MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.lists(st.sampled_from(["tuyen", "giao", "a", "do", "o", "uy"]), max_size=3))
def test_highlight_is_the_text_with_marks(raw, terms):
    text = normalize(raw)
    out = highlight(text, set(terms))
    assert html.unescape(MARK.sub(lambda m: m.group(1), out)) == text
    assert "<" not in MARK.sub("", out).replace("<mark>", "").replace("</mark>", "")
    for marked in MARK.findall(out):
        for syl in syllables(html.unescape(marked)):
            assert fold(syl) in terms


@settings(max_examples=200, deadline=None)
@given(TEXT, st.lists(st.sampled_from(["tuyen", "giao", "a", "do"]), max_size=3))
def test_snippet_is_escaped_and_marks_only_query_syllables(raw, terms):
    text = normalize(raw)
    out = snippet(text, set(terms))
    plain = MARK.sub(lambda m: m.group(1), out)
    assert "<" not in plain and "\n" not in out
    for marked in MARK.findall(out):
        for syl in syllables(html.unescape(marked)):
            assert fold(syl) in terms


def test_adjacent_matches_share_one_mark_and_accents_are_kept():
    text = "Ban Tuyên giáo Quận ủy; tuyến giao hàng."
    assert highlight(text, {"tuyen", "giao"}) == (
        "Ban <mark>Tuyên giáo</mark> Quận ủy; <mark>tuyến giao</mark> hàng."
    )


def test_snippet_window_is_around_the_best_match():
    filler = " ".join(["câu chuyện"] * 60)
    text = f"Mở đầu. {filler} công tác tuyên giáo được đẩy mạnh. {filler}"
    out = snippet(text, {"tuyen", "giao"})
    assert out.startswith("… ") and out.endswith(" …")
    assert "<mark>tuyên giáo</mark>" in out
    assert len(syllables(MARK.sub(lambda m: m.group(1), out))) <= 30


def test_snippet_without_match_is_the_start():
    assert snippet("Một hai ba.", {"xyz"}) == "Một hai ba."
