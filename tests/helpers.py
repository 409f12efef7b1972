"""Helpers shared by the tests: the one error-shape check, clients, markup checks, a small disk."""

from __future__ import annotations

import contextlib
import re
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import falcon.testing
import orjson
import pytest

from search_api.app import create_app
from search_api.config import Config

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


def client_for(index_dir: str | Path, **env: str) -> falcon.testing.TestClient:
    """A test client on ``index_dir``; ``env`` holds more ``VNSEARCH_*`` settings."""
    config = Config.from_env({"VNSEARCH_INDEX_DIR": str(index_dir), **env})
    return falcon.testing.TestClient(create_app(config))


def assert_security_headers(resp: falcon.testing.Result) -> None:
    assert resp.headers.get("X-Content-Type-Options") == "nosniff"
    assert resp.headers.get("Referrer-Policy") == "no-referrer"


def assert_problem(
    resp: falcon.testing.Result, status: int, code: str, param: str | None = None
) -> dict[str, Any]:
    """``resp`` is our problem+json error with this status, code and param (or no
    param when ``param`` is None). Returns the decoded body."""
    assert resp.status_code == status, (resp.status_code, resp.text[:500])
    assert resp.headers.get("Content-Type") == "application/problem+json", resp.headers
    assert resp.headers.get("Cache-Control") == "no-store"
    assert_security_headers(resp)
    body = orjson.loads(resp.content)
    assert body.keys() >= PROBLEM_KEYS, body
    assert set(body) <= PROBLEM_KEYS | {"param"}, body
    assert body["status"] == status
    assert body["code"] == code, body
    assert SNAKE.fullmatch(body["code"])
    assert body["type"].endswith(":" + code)
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    if param is None:
        assert "param" not in body, body
    else:
        assert body.get("param") == param, body
    assert "Traceback" not in resp.text and 'File "' not in resp.text
    return body


# -- markup in responses ------------------------------------------------------------

# Fields that carry plain text by contract (the visitor's query, stored document
# fields; facet values too, as keys): JSON-encoded, never HTML, so a client must
# insert them as text. Every other string must be free of markup; highlight
# strings may contain exactly <mark> and </mark> and nothing else unescaped.
_PLAIN_TEXT_KEYS = {"text", "normalized", "did_you_mean", "id", "url", "title", "category", "site"}
_PLAIN_TEXT_KEYS |= {"query"}  # suggest echoes q as plain text
_SCRIPT = re.compile(r"<\s*/?\s*script", re.IGNORECASE)


def _strings(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield from _strings(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _strings(value, (*path, i))


def assert_no_unescaped_markup(body: dict[str, Any]) -> None:
    """Highlights are escaped except <mark>; no HTML field carries <script>."""
    for path, value in _strings(body):
        if "highlight" in path:
            bare = value.replace("<mark>", "").replace("</mark>", "")
            assert "<" not in bare and ">" not in bare, (path, value)
        elif path[-1] not in _PLAIN_TEXT_KEYS:
            assert not _SCRIPT.search(value), (path, value)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` (a real full disk); skips without root."""
    path.mkdir(parents=True)
    try:
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            check=True, capture_output=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {exc}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=10)
