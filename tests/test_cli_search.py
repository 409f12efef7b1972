"""`vnsearch index build` + `vnsearch search` from the terminal, as an admin would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from search_api import cli

SAMPLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "samples"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    if not SAMPLE.is_dir():
        pytest.skip("data/sample is absent")
    home = tmp_path_factory.mktemp("cli") / "index"
    sources = [str(SAMPLE / "articles.jsonl"), str(SAMPLE / "pages")]
    if SAMPLES.is_dir():
        sources.append(str(SAMPLES))
    result = CliRunner().invoke(
        cli.main, ["index", "build", *sources, "--index-dir", str(home), "--workers", "1", "-q"]
    )
    assert result.exit_code == 0, result.output
    assert "rejected 0" in result.output
    return home


def test_search_unaccented_marks_the_accented_words(index_dir):
    result = CliRunner().invoke(cli.main, ["search", "tuyen giao", "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    assert "did you mean: tuyên giáo" in result.output
    assert "tuyên giáo" in result.output  # ANSI colours are off under the runner


def test_search_json_has_the_api_keys(index_dir):
    result = CliRunner().invoke(
        cli.main, ["search", "tuyen giao", "--index-dir", str(index_dir), "--json", "-n", "20"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    hit = data["hits"][0]
    assert {"id", "title", "url", "published", "category", "score", "highlight"} <= set(hit)
    assert "<mark>tuyên giáo</mark>" in hit["highlight"]["title"]
    ids = [h["id"] for h in data["hits"]]
    if SAMPLES.is_dir():
        assert "portal-page-quan5-2017-03-07" in ids
    assert data["did_you_mean"] == "tuyên giáo"


def test_search_without_an_index_exits_3_with_a_hint(tmp_path):
    result = CliRunner().invoke(cli.main, ["search", "x", "--index-dir", str(tmp_path / "none")])
    assert result.exit_code == 3
    assert "no index" in result.output and "vnsearch index build" in result.output


def test_bad_flag_exits_2(index_dir):
    result = CliRunner().invoke(cli.main, ["search", "x", "--limit", "0"])
    assert result.exit_code == 2


def test_search_reads_the_abbreviations_setting(index_dir, tmp_path):
    custom = tmp_path / "abbr.tsv"
    custom.write_text("XQZW\ttuyên giáo\n", "utf-8")
    args = ["search", "xqzw", "--index-dir", str(index_dir), "--json"]
    plain = CliRunner().invoke(cli.main, args, env={"VNSEARCH_ABBREVIATIONS": None})
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.output)["total_hits"] == 0
    mine = CliRunner().invoke(cli.main, args, env={"VNSEARCH_ABBREVIATIONS": str(custom)})
    assert mine.exit_code == 0, mine.output
    assert json.loads(mine.output)["total_hits"] > 0
    bad = CliRunner().invoke(
        cli.main, args, env={"VNSEARCH_ABBREVIATIONS": str(tmp_path / "missing.tsv")}
    )
    assert bad.exit_code == 2 and "VNSEARCH_ABBREVIATIONS" in bad.output
