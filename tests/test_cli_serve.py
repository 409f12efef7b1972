"""`vnsearch serve`: flags reach search_api.server.run; bad flags exit 2."""

from __future__ import annotations

from click.testing import CliRunner

from search_api import cli


def test_serve_passes_flags_to_run(monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("search_api.server.run", lambda **kw: seen.update(kw))
    result = CliRunner().invoke(
        cli.main,
        [
            "serve",
            "--index-dir",
            str(tmp_path),
            "--bind",
            "127.0.0.1:9999",
            "--workers",
            "3",
            "--threads",
            "2",
            "--log-level",
            "debug",
        ],
    )
    assert result.exit_code == 0, result.output
    assert seen == {
        "bind": "127.0.0.1:9999",
        "workers": 3,
        "threads": 2,
        "index_dir": str(tmp_path),
        "log_level": "debug",
        "access_log": False,
    }


def test_serve_rejects_bad_values(tmp_path):
    result = CliRunner().invoke(cli.main, ["serve", "--index-dir", str(tmp_path), "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers" in result.output
