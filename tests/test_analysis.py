"""The Vietnamese analysis chain: normalisation, tones, folding, offsets."""

from __future__ import annotations

import pickle
import unicodedata
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.analysis import (
    STOPWORDS,
    canonical_tones,
    detone,
    fold,
    forget_words,
    is_accented,
    key,
    known_words,
    normalize,
    pack_words,
    segment,
    syllable_spans,
    syllables,
    unpack_words,
    word_spans,
)
from indexer.schema import FIELD_FORMS, _analyzer, build_schema

VIETNAMESE_LETTERS = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
vi_text = st.text(
    alphabet=st.sampled_from(
        VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + "  \n.,;:!?-_/0123456789\"'()"
    ),
    max_size=120,
)
any_text = st.text(max_size=200)


class TestNormalize:
    def test_nfc(self):
        assert normalize(unicodedata.normalize("NFD", "Hòa bình")) == "Hòa bình"

    def test_d_lookalikes(self):
        assert normalize("\u00d0à N\u1eb5ng") == "Đà Nẵng"
        assert normalize("\u0189ông") == "Đông"
        assert normalize("\u00f0i") == "đi"

    def test_invisible_and_control(self):
        assert normalize("tuy\u200bên\u00ad gi\ufeffáo\x00\x07") == "tuyên giáo"
        assert normalize("a\r\nb\rc") == "a\nb\nc"
        assert normalize("a\u00a0b\u2009c") == "a b c"
        assert normalize("x\ud800y") == "xy"

    @given(any_text)
    def test_idempotent(self, text):
        once = normalize(text)
        assert normalize(once) == once
        assert unicodedata.is_normalized("NFC", once)


class TestTones:
    @pytest.mark.parametrize(
        ("old", "new"),
        [
            ("hoà", "hòa"),
            ("thuỷ", "thủy"),
            ("khoẻ", "khỏe"),
            ("HOÀ", "HÒA"),
            ("hoạ", "họa"),
            ("tuỳ", "tùy"),
            ("loà", "lòa"),
            ("uỷ", "ủy"),
        ],
    )
    def test_old_and_new_placement_match(self, old, new):
        assert key(old) == key(new) == key(old.lower())
        assert canonical_tones(new) == canonical_tones(old)

    @pytest.mark.parametrize(
        "word", ["quý", "quỳ", "già", "giã", "hoàng", "toán", "quyết", "thuyền", "ngoài", "khuya"]
    )
    def test_untouched(self, word):
        assert canonical_tones(word) == word

    @given(vi_text)
    def test_length_preserving(self, text):
        text = normalize(text)
        assert len(canonical_tones(text)) == len(text)
        assert fold(canonical_tones(text)) == fold(text)


class TestFold:
    def test_examples(self):
        assert fold("Đà Nẵng") == "da nang"
        assert fold("TUYÊN GIÁO") == "tuyen giao"
        assert fold(unicodedata.normalize("NFD", "Hồ Chí Minh")) == "ho chi minh"
        assert detone("Tuyến") == "tuyên"
        assert is_accented("giáo") and not is_accented("giao")

    @given(any_text)
    def test_idempotent(self, text):
        assert fold(fold(text)) == fold(text)

    @given(vi_text)
    def test_key_then_fold(self, text):
        assert fold(key(text)) == fold(text)


class TestSegmentation:
    def test_syllables(self):
        assert syllables("TP.HCM, ngày 3/3/2017: hoà_bình") == [
            "TP",
            "HCM",
            "ngày",
            "3",
            "3",
            "2017",
            "hoà",
            "bình",
        ]

    def test_pyvi_words_with_offsets(self):
        text = "Quận ủy Quận 5 triển khai công tác tuyên giáo năm 2017"
        words = [text[s:e] for s, e in word_spans(text)]
        assert "tuyên giáo" in words
        assert "công tác" in words

    def test_new_tone_placement_is_segmented_like_old(self):
        # pyvi's dictionary only knows "hoà bình"; canonicalising first joins both.
        text = "hòa bình và hoà bình"
        assert [text[s:e] for s, e in word_spans(text)] == ["hòa bình", "hoà bình"]

    def test_long_syllables_skipped(self):
        assert syllable_spans("a " + "x" * 41 + " b") == [(0, 1), (44, 45)]

    def test_stopwords_are_keys(self):
        assert "của" in STOPWORDS and all(key(w) == w for w in STOPWORDS)


@dataclass(frozen=True)
class Tok:
    text: str
    pos: int
    startchar: int
    endchar: int


def _tokens(form: str, text: str) -> list[Tok]:
    # Whoosh reuses one Token object: copy each as it comes.
    return [
        Tok(t.text, t.pos, t.startchar, t.endchar)
        for t in _analyzer(form)(text, positions=True, chars=True)
    ]


class TestWhooshAnalyzers:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(vi_text)
    def test_offsets_slice_back(self, raw):
        text = normalize(raw)
        for form in FIELD_FORMS["t"]:
            for t in _tokens(form, text):
                piece = text[t.startchar : t.endchar]
                norms = {"p": (key, fold)}.get(form, (key,) if form in "swa" else (fold,))
                # Syllables, bigrams and words alike: the token is its slice's
                # syllables in matching form, joined by "_".
                expected = {"_".join(n(p) for p in syllables(piece)) for n in norms}
                assert t.text in expected, (form, piece)

    def test_nfd_and_nfc_give_same_tokens(self):
        nfc = "Hòa bình Đà Nẵng tuyên giáo"
        nfd = normalize(unicodedata.normalize("NFD", nfc))
        for form in FIELD_FORMS["t"]:
            assert [t.text for t in _tokens(form, nfc)] == [t.text for t in _tokens(form, nfd)]

    def test_forms(self):
        text = "Công tác Tuyên giáo"
        assert [t.text for t in _tokens("s", text)] == ["công", "tác", "tuyên", "giáo"]
        assert [t.text for t in _tokens("f", text)] == ["cong", "tac", "tuyen", "giao"]
        assert [t.text for t in _tokens("g", text)] == ["cong_tac", "tac_tuyen", "tuyen_giao"]
        assert [t.text for t in _tokens("w", text)] == ["công_tác", "tuyên_giáo"]
        assert [t.text for t in _tokens("v", text)] == ["cong_tac", "tuyen_giao"]
        assert [t.pos for t in _tokens("w", text)] == [0, 2]
        p = [(t.text, t.pos) for t in _tokens("p", "Tuyên giao")]
        assert p == [("tuyên", 0), ("tuyen", 0), ("giao", 1)]

    def test_schema_pickles(self):
        schema = build_schema()
        again = pickle.loads(pickle.dumps(schema))
        assert [t.text for t in again["bw"].analyzer("tuyên giáo")] == ["tuyên_giáo"]


# Real syllables, so that pyvi forms words of two and three syllables among them.
SENTENCE_PARTS = [
    *(
        "Ủy ban nhân dân quận 5 công tác tuyên giáo hội nghị triển khai thành phố Hồ Chí Minh "
        "giáo dục văn hóa xã hội kinh tế đầu tư xây dựng giao thông môi trường y tế hoà bình"
    ).split(),
    *[",", ".", "\n", "2017", "TP.HCM", "-", "(", ")"],
]
sentences = st.lists(st.sampled_from(SENTENCE_PARTS), max_size=40).map(" ".join)


class TestStoredSegmentation:
    """``pack_words`` is what the index stores so that a views-only update can
    re-add a document without pyvi: it must give back exactly pyvi's word tokens."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(sentences)
    def test_packed_words_give_the_same_tokens_without_pyvi(self, raw):
        text = normalize(raw)
        forget_words()
        expected = {form: _tokens(form, text) for form in "wv"}
        packed = pack_words(text)
        forget_words()
        real = segment.word_spans
        segment._WORD_CACHE.clear()
        segment.word_spans = _no_pyvi
        try:
            assert known_words(text, packed)
            got = {form: _tokens(form, text) for form in "wv"}
        finally:
            segment.word_spans = real
            forget_words()
        # Positions and texts are what the index keeps (no character offsets).
        assert {f: [(t.text, t.pos) for t in got[f]] for f in got} == {
            f: [(t.text, t.pos) for t in expected[f]] for f in expected
        }

    def test_bitmap(self):
        text = "Công tác tuyên giáo"
        assert pack_words(text) == bytes([0b101])  # công_tác, tuyên_giáo
        assert unpack_words(text, bytes([0b101])) == [(0, 8), (9, 19)]
        assert unpack_words(text, bytes([0b111])) == [(0, 19)]
        assert pack_words("") == b"" and unpack_words("", b"") == []

    def test_packed_words_of_another_text_are_refused(self):
        assert unpack_words("một hai ba bốn năm sáu bảy tám chín mười", b"\x01") is None
        assert not known_words("một hai", b"\x01\x00")


def _no_pyvi(text: str):
    raise AssertionError(f"pyvi ran on {text!r}")
