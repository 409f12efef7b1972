"""The layout rules of docs/design.md ("Module map"), checked on the source.

Layers, lowest first: analysis <- sources, schema and the index on disk
(indexer/) <- the query engine (search_api/engine/) <- the HTTP API (the rest
of search_api/) <- the CLI (indexer/cli/ for the ``index`` commands,
search_api/cli.py on top). An import may only point down. Every import is
read, including those inside functions, so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("indexer", "search_api")
MAX_LINES = 400  # issue 19: "no module over ~400 lines"


def _modules() -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module of the project that ``name`` imports, anywhere in its body."""
    tree = ast.parse(path.read_text("utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            # ``from indexer import store`` imports the module indexer.store.
            out.update(f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES)
    return {m for m in out if m.split(".")[0] in PACKAGES}


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def layer(module: str) -> int:
    """0 analysis, 1 the rest of indexer/, 2 engine, 3 API, 4 CLI (any ``cli`` module)."""
    if module == "indexer.analysis" or module.startswith("indexer.analysis."):
        return 0
    if "cli" in module.split("."):  # search_api.cli, indexer.cli.*, indexer.crawl.cli, ...
        return 4
    if module.startswith("indexer"):
        return 1
    if module == "search_api.engine" or module.startswith("search_api.engine."):
        return 2
    return 3


def test_the_layers_are_known():
    # The rules below would pass vacuously if the packages moved.
    assert "indexer.analysis" in MODULES or "indexer.analysis.__init__" in MODULES
    assert any(m.startswith("search_api.engine.") for m in MODULES)
    assert "search_api.cli" in MODULES
    assert any(m.startswith("indexer.cli") for m in MODULES)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    up = sorted(m for m in IMPORTS[module] if layer(m) > layer(module))
    assert not up, f"{module} (layer {layer(module)}) imports a higher layer: {up}"


def test_indexer_never_imports_search_api():
    bad = {m: sorted(i for i in imps if i.startswith("search_api")) for m, imps in IMPORTS.items()}
    assert {m: v for m, v in bad.items() if m.startswith("indexer") and v} == {}


def test_no_import_cycles():
    # Every cycle has an edge a -> b with a < b from which a is reachable again;
    # a search from each such edge is enough for ~100 modules.
    graph = {m: {i for i in imps if i in MODULES and i != m} for m, imps in IMPORTS.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(graph.get(node, ()))
        return False

    # A package importing its own submodules (``__init__`` re-exports) is no cycle
    # unless a submodule imports the package's __init__ back.
    cycles = sorted(
        (a, b)
        for a, deps in graph.items()
        for b in deps
        if a < b and reaches(b, a) and not (b.startswith(a + ".") or a.startswith(b + "."))
    )
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small(module):
    lines = MODULES[module].read_text("utf-8").count("\n")
    assert lines <= MAX_LINES, f"{MODULES[module].relative_to(ROOT)} has {lines} lines"


def test_whoosh_private_members_only_in_whoosh_internals():
    """Whoosh's private members (``._name`` on its objects, its private modules)
    are used only by indexer/whoosh_internals/, the code the version pin guards."""
    whoosh_private = (
        "whoosh.codec",
        "whoosh.filedb.structfile",
        "whoosh.filedb.compound",
        "whoosh.multiproc",
        "whoosh.writing",
    )
    # Private members of Whoosh's readers and matchers that the fast paths use.
    members = re.compile(
        r"\b(?!self\.)\w+\._(terms|next_block|lastblock|read_values|read_data|read_ids|"
        r"read_weights|maxid|text_to_bytes|segment|postfile|dataoffset|blocklength|"
        r"compression|perdoc|codec)\b"
    )
    offenders = []
    for name, path in MODULES.items():
        if name.startswith("indexer.whoosh_internals"):
            continue
        text = path.read_text("utf-8")
        offenders += [f"{name}: imports {p}" for p in whoosh_private if f"from {p}" in text]
        if "W3LeafMatcher" in text or "StructFile" in text:
            offenders.append(f"{name}: names a Whoosh codec class")
        offenders += [f"{name}: uses Whoosh's ._{m}" for m in set(members.findall(text))]
        if "_DEF_INDEX_NAME" in text or re.search(r"[\"'][_]?MAIN_", text):
            offenders.append(f"{name}: spells Whoosh's file names")
    assert offenders == []
