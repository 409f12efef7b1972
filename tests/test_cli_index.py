"""The ``vnsearch index`` commands through click's runner: summaries, JSON
output and exit codes (0 ok, 2 usage, 3 no index, 4 nothing read, 65 check
failed, 75 writer busy)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from indexer.home import IndexHome, Manifest
from indexer.lock import writer_lock
from search_api.cli import main

FIXTURES = Path(__file__).parent / "fixtures"

SUMMARY = re.compile(
    r"read (\d+) · added (\d+) · replaced (\d+) · unchanged (\d+) · deleted (\d+) · rejected (\d+)"
)


def row(i: int, tag: str = "") -> dict:
    return {
        "id": f"d{i}",
        "title": f"Thông báo số {i} {tag}".strip(),
        "body": f"Ủy ban nhân dân phường thông báo lịch tiếp công dân lần {i}. {tag}".strip(),
        "published": f"2019-05-{1 + i % 28:02d}T08:00:00+07:00",
        "category": "Thông báo" if i % 2 else "Tin tức sự kiện",
        "site": "phuong1",
    }


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["index", *args], catch_exceptions=False)


def summary(result: Result) -> tuple[int, ...]:
    found = SUMMARY.search(result.output)
    assert found, result.output
    return tuple(int(n) for n in found.groups())


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    source = write(tmp_path / "src.jsonl", [row(i) for i in range(5)])
    index_dir = tmp_path / "index"
    result = run("build", str(source), "--index-dir", str(index_dir), "--workers", "1", "-q")
    assert result.exit_code == 0, result.output
    assert summary(result) == (5, 5, 0, 0, 0, 0)
    return source, index_dir


def test_update_summary_and_delete_missing(built) -> None:
    source, index_dir = built
    write(source, [row(0), row(1, "sửa"), row(2), row(3), row(9)])
    result = run("update", str(source), "--index-dir", str(index_dir), "-q", "--dry-run")
    assert result.exit_code == 0
    assert summary(result) == (5, 1, 1, 3, 0, 0) and "dry run" in result.output
    result = run("update", str(source), "--index-dir", str(index_dir), "-q", "--delete-missing")
    assert result.exit_code == 0, result.output
    assert summary(result) == (5, 1, 1, 3, 1, 0)
    assert Manifest.read(IndexHome(index_dir).current_dir()).doc_count == 5


def test_update_with_nothing_read_exits_4(built, tmp_path: Path) -> None:
    _, index_dir = built
    result = run("update", str(tmp_path / "missing.jsonl"), "--index-dir", str(index_dir))
    assert result.exit_code == 4
    assert "no document was read" in result.stderr
    assert "missing.jsonl" in result.stderr  # the rejection is shown


def test_delete_dry_run_and_unknown_ids(built) -> None:
    _, index_dir = built
    result = run("delete", "d1", "nope", "--index-dir", str(index_dir), "--dry-run")
    assert result.exit_code == 0
    assert summary(result)[4] == 1 and "dry run" in result.output
    assert "not in the index: nope" in result.stderr
    assert Manifest.read(IndexHome(index_dir).current_dir()).doc_count == 5
    result = run("delete", "d1", "nope", "--index-dir", str(index_dir))
    assert result.exit_code == 0
    assert summary(result) == (2, 0, 0, 0, 1, 0)
    assert Manifest.read(IndexHome(index_dir).current_dir()).doc_count == 4


def test_stats_json_and_text(built) -> None:
    _, index_dir = built
    result = run("stats", "--index-dir", str(index_dir), "--json")
    assert result.exit_code == 0
    info = json.loads(result.output)
    assert info["documents"] == 5
    assert info["sites"] == {"phuong1": 5}
    assert info["categories"] == {"Tin tức sự kiện": 3, "Thông báo": 2}
    assert info["date_range"]["first"] == "2019-05-01T08:00:00+07:00"
    assert info["date_range"]["last"] == "2019-05-05T08:00:00+07:00"
    assert [g["live"] for g in info["generations"]] == [True]
    assert info["size_bytes"] > 0 and info["last_build"]["sources"]
    text = run("stats", "--index-dir", str(index_dir))
    assert "documents    5" in text.output and "phuong1" in text.output


def test_check_ok_and_corrupt(built) -> None:
    _, index_dir = built
    result = run("check", "--index-dir", str(index_dir), "--json")
    assert result.exit_code == 0
    assert json.loads(result.output)["ok"] is True
    gen = IndexHome(index_dir).current_dir()
    manifest = Manifest.read(gen)
    manifest.doc_count = 6
    manifest.write(gen)
    result = run("check", "--index-dir", str(index_dir))
    assert result.exit_code == 65
    assert "MANIFEST.json says 6" in result.stderr
    for seg in gen.glob("*.seg"):
        seg.write_bytes(b"\0" * 64)
    result = run("check", "--index-dir", str(index_dir), "--json")
    assert result.exit_code == 65
    assert json.loads(result.output)["problems"]


def test_missing_index_exits_3(tmp_path: Path) -> None:
    for args in (("stats",), ("check",), ("update", str(tmp_path)), ("delete", "x")):
        result = run(*args, "--index-dir", str(tmp_path / "none"))
        assert result.exit_code == 3, args
        if args[0] != "check":
            assert "hint: build one with" in result.stderr


def test_writer_busy_exits_75(built) -> None:
    source, index_dir = built
    home = IndexHome(index_dir)
    with writer_lock(home, wait=0, command="vnsearch index build (held by the test)"):
        for args in (("update", str(source)), ("delete", "d1"), ("rollback",),
                     ("build", str(source), "--workers", "1")):  # fmt: skip
            result = run(*args, "--index-dir", str(index_dir), "--wait", "0")
            assert result.exit_code == 75, args
            assert "another writer holds" in result.stderr
            assert "held by the test" in result.stderr
            assert "hint: wait for it to finish, or pass --wait SECONDS" in result.stderr
        # check still reads, and says why it could not take the lock
        result = run("check", "--index-dir", str(index_dir), "--json")
        assert result.exit_code == 0
        assert "checked without the lock" in json.loads(result.output)["warnings"][0]


def test_rollback(built, tmp_path: Path) -> None:
    source, index_dir = built
    assert run("rollback", "--index-dir", str(index_dir)).exit_code == 1  # nothing older
    write(source, [row(1)])
    assert run("build", str(source), "--index-dir", str(index_dir), "-q").exit_code == 0
    result = run("rollback", "--index-dir", str(index_dir))
    assert result.exit_code == 0 and "g000001" in result.output


def test_build_with_html_config(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    config = FIXTURES / "portal-sites.toml"
    result = run("build", str(FIXTURES / "html"), "--index-dir", str(index_dir),
                 "--html-config", str(config), "--workers", "1", "-q")  # fmt: skip
    assert result.exit_code == 0, result.output
    info = json.loads(run("stats", "--index-dir", str(index_dir), "--json").output)
    assert info["sites"] == {"quan5": 1, "tintuc.example.vn": 1}


def test_bad_html_config_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[default]\nbody = "div[["\n', "utf-8")
    result = run("build", str(FIXTURES / "html"), "--index-dir", str(tmp_path / "i"),
                 "--html-config", str(bad))  # fmt: skip
    assert result.exit_code == 2
    assert "invalid CSS selector" in result.stderr


def test_every_index_option_is_documented() -> None:
    """docs/operations.md cannot fall behind the commands it describes."""
    import click

    docs = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text("utf-8")
    group = main.commands["index"]
    for name in ("build", "update", "delete", "rollback", "stats", "check"):
        command = group.commands[name]
        assert f"index {name}" in docs or f"`{name}`" in docs, name
        for param in command.params:
            if isinstance(param, click.Option):
                flag = max(param.opts, key=len)
                if flag not in ("--help",):
                    assert flag in docs, f"{name} {flag}"
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 65 |", "| 75 |"):
        assert code in docs


def test_every_exit_code_is_documented() -> None:
    """One enum holds the exit codes of every command; the table lists each."""
    from indexer.errors import ExitCode

    docs = (Path(__file__).resolve().parents[1] / "docs" / "operations.md").read_text("utf-8")
    for code in ExitCode:
        assert f"| {int(code)} |" in docs, code.name


def test_the_vnsearch_script_is_search_api_cli() -> None:
    """The installed script runs the entry point at the top (reinstall when this fails)."""
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="vnsearch")
    assert script.value == "search_api.cli:main"
    assert script.load() is main


def test_the_index_and_crawl_commands_do_not_load_search_api() -> None:
    """indexer/ sits below search_api/: its commands import nothing of the API."""
    import subprocess
    import sys

    code = (
        "import sys, indexer.cli.group, indexer.crawl.cli; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'search_api'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
