"""The question benchmark's instrument (bench/question_eval.py, bench/questions.py):
metrics, length buckets and aggregation on hand-made rankings, the reference
BM25 and the peers' any-word mode on articles written here, and a refusal by
the API counted as one."""

from __future__ import annotations

import json
import math
import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import peers
import question_eval as qe
import questions

from indexer.sources import Article

R = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]


def test_mrr_is_one_over_the_first_relevant_rank_within_k():
    assert qe.mrr_at(R, ["a"]) == 1.0
    assert qe.mrr_at(R, ["c"]) == pytest.approx(1 / 3)
    assert qe.mrr_at(R, ["j"]) == pytest.approx(0.1)
    assert qe.mrr_at(R, ["k"]) == 0.0  # rank 11: outside the top 10
    assert qe.mrr_at(R, ["e", "b"]) == 0.5  # the first relevant one counts
    assert qe.mrr_at([], ["a"]) == 0.0  # a refusal
    assert qe.mrr_at(R, ["c"], k=2) == 0.0


def test_recall_is_the_share_of_relevant_ids_in_the_top_k():
    assert qe.recall_at(R, ["b"]) == 1.0
    assert qe.recall_at(R, ["b", "z"]) == 0.5
    assert qe.recall_at(R, ["b", "k"]) == 0.5  # k is rank 11
    assert qe.recall_at(["b", "b", "x"], ["b", "c"]) == 0.5  # a repeated id counts once
    assert qe.recall_at([], ["a"]) == 0.0
    with pytest.raises(ValueError):
        qe.recall_at(R, [])


def test_ndcg_with_binary_gains():
    assert qe.ndcg_at(R, ["a"]) == 1.0
    assert qe.ndcg_at(R, ["b"]) == pytest.approx(1 / math.log2(3))
    assert qe.ndcg_at(R, ["k"]) == 0.0
    # Two relevant at ranks 2 and 4 against the ideal ranks 1 and 2.
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    assert qe.ndcg_at(R, ["b", "d"]) == pytest.approx(dcg / (1 + 1 / math.log2(3)))
    assert qe.ndcg_at(["a", "a", "b"], ["a", "b"]) == pytest.approx(
        (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    )  # the repeated "a" gains nothing
    assert qe.ndcg_at(R, ["a", "b"]) == pytest.approx(1.0)
    assert qe.ndcg_at([], ["a"]) == 0.0


def test_mean_scores():
    m = qe.mean_scores([qe.scores(R, ["a"]), qe.scores(R, ["b"]), qe.scores([], ["a"])])
    assert m["n"] == 3
    assert m["mrr"] == pytest.approx((1 + 0.5 + 0) / 3)
    assert m["recall"] == pytest.approx(2 / 3)
    assert qe.mean_scores([]) == {"n": 0, "mrr": None, "recall": None, "ndcg": None}


@pytest.mark.parametrize(
    ("n", "bucket"),
    [(0, "≤5"), (1, "≤5"), (5, "≤5"), (6, "6–15"), (15, "6–15"), (16, "16–30"),
     (30, "16–30"), (31, ">30"), (400, ">30")],
)  # fmt: skip
def test_length_buckets(n, bucket):
    assert qe.bucket_of(n) == bucket


def test_syllables_are_runs_of_letters_and_digits():
    assert qe.syllable_count("Tôi đang cho con bú, có nên tiêm vaccine hay không?") == 11
    assert qe.syllable_count("TP.HCM năm 2024?") == 4
    assert qe.bucket_of(qe.syllable_count("Thủ tục đăng ký khai sinh?")) == "6–15"


def test_load_questions_takes_splits_in_file_order_and_limits_each(tmp_path):
    lines = [
        {"id": "q1", "query": "Một hai ba?", "relevant": ["p1"], "split": "dev"},
        {"id": "q2", "query": "Một hai ba bốn năm sáu?", "relevant": ["p2"], "split": "test"},
        {"id": "q3", "query": "a b c d e f g h i j k l m n o p", "relevant": ["p3"],
         "split": "dev"},
        {"id": "q4", "query": "x?", "relevant": ["p4", "p5"], "split": "dev"},
    ]  # fmt: skip
    (tmp_path / "queries.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    got = qe.load_questions(tmp_path, ("dev",))
    assert [q["id"] for q in got] == ["q1", "q3", "q4"]
    assert [q["bucket"] for q in got] == ["≤5", "16–30", "≤5"]
    assert [q["id"] for q in qe.load_questions(tmp_path, ("dev", "test"), limit=1)] == ["q1", "q2"]
    assert got[2]["relevant"] == ["p4", "p5"]


def test_aggregate_by_split_form_and_bucket():
    questions_ = [
        {"id": "q1", "split": "dev", "query": "một hai", "syllables": 2, "bucket": "≤5",
         "relevant": ["p1"]},
        {"id": "q2", "split": "dev", "query": "x " * 20, "syllables": 20, "bucket": "16–30",
         "relevant": ["p2"]},
    ]  # fmt: skip
    records = questions.make_records(questions_, ("accented", "unaccented"))
    ranked = {"q1": ["p1", "p9"], "q2": ["p9", "p2"]}
    for rec in records:
        refused = rec["id"] == "q2" and rec["form"] == "unaccented"
        rec["results"]["e"] = {
            "ids": [] if refused else ranked[rec["id"]],
            "status": "refused 400 query_too_long" if refused else "ok",
            "ms": 1.0,
        }
    figures = questions.aggregate(records, ["e"])
    acc = figures["metrics"]["dev"]["accented"]["e"]
    un = figures["metrics"]["dev"]["unaccented"]["e"]
    assert acc["all"]["mrr"] == pytest.approx(0.75) and acc["all"]["refused"] == 0
    assert acc["16–30"]["mrr"] == 0.5 and acc["16–30"]["n"] == 1
    assert un["all"]["mrr"] == pytest.approx(0.5) and un["all"]["refused"] == 1
    assert un["16–30"]["recall"] == 0.0 and "6–15" not in un
    assert figures["latency"]["dev"]["e"]["all"]["n"] == 3  # the refusal is left out
    assert figures["latency"]["dev"]["e"]["6–15"] == {"n": 0}


ARTICLES = [
    Article(id="a", title="Sông Hồng", body="Sông Hồng chảy qua Hà Nội và đổ ra biển."),
    Article(id="b", title="Sông Mê Kông", body="Sông Mê Kông chảy qua sáu nước."),
    Article(id="c", title="Núi Phan Xi Păng", body="Núi cao nhất Việt Nam ở Lào Cai."),
]


def test_reference_bm25_ranks_by_shared_syllables_and_keeps_order_on_ties():
    bm = peers.SyllableBm25()
    bm.build(ARTICLES)
    assert bm.search("Sông nào chảy qua Hà Nội?")[0] == "a"
    assert bm.search("Núi nào cao nhất Việt Nam?") == ["c"]
    assert bm.search("chảy qua") == ["b", "a"]  # b is shorter: larger BM25
    assert bm.search("không có gì") == []
    assert bm.search("song hong") == []  # no folding


def test_peers_match_any_word_only_when_asked():
    q = "Sông nào chảy qua Hà Nội?"
    with peers.Fts5Peer() as all_words, peers.Fts5Peer(any_word=True) as any_word:
        all_words.build(ARTICLES)
        any_word.build(ARTICLES)
        assert all_words.search(q) == []  # "nào" is in no article
        assert any_word.search(q)[0] == "a"
        assert any_word.search("? –") == []  # nothing to match, no syntax error


def test_a_query_the_api_refuses_counts_as_a_refusal(sample_index):
    api = questions.VnsearchApi(sample_index)
    assert api.search("Hà Nội")  # the shipped sample has it
    with pytest.raises(questions.Refused) as err:
        api.search("tin " * 3000)  # beyond any limit the API documents
    assert 400 <= err.value.status < 500
    recs = questions.make_records(
        [{"id": "q", "split": "dev", "query": "tin " * 3000, "syllables": 3000,
          "bucket": ">30", "relevant": ["x"]}],
        ("accented",),
    )  # fmt: skip
    questions.run_engine(api, "vnsearch", recs)
    assert recs[0]["results"]["vnsearch"]["status"].startswith("refused 4")
    assert recs[0]["results"]["vnsearch"]["ids"] == []


def test_diff_of_two_runs_counts_gains_and_losses(tmp_path, capsys):
    def run(name: str, ranked: dict[str, list[str]]) -> None:
        recs = questions.make_records(
            [{"id": q, "split": "dev", "query": q, "syllables": 1, "bucket": "≤5",
              "relevant": ["p"]} for q in ranked],
            ("accented",),
        )  # fmt: skip
        for rec in recs:
            rec["results"]["vnsearch"] = {"ids": ranked[rec["id"]], "status": "ok", "ms": 1.0}
        (tmp_path / f"{name}.json").write_text("{}")
        (tmp_path / f"{name}.queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))

    run("old", {"q1": ["x", "p"], "q2": ["p"], "q3": []})
    run("new", {"q1": ["p"], "q2": ["x", "y", "p"], "q3": []})
    assert questions.diff(tmp_path / "old.json", tmp_path / "new.json", samples=5) == 0
    out = capsys.readouterr().out
    assert "vnsearch: MRR@10 better on 1 queries, worse on 1" in out
    assert "| vnsearch | dev | accented | all | 3 | 0.500 → 0.444 (-0.056) |" in out
