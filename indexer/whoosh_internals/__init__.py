"""Everything that depends on Whoosh's private internals, in one place.

vnsearch reads and writes Whoosh's W3 codec below its public API for speed
(docs/design.md, "Module map" and "Whoosh internals and the pin"): block
readers and faster lexicon/postings files on the read side (``reading``,
``structfiles``), posting pools and sub-writers on the write side
(``writing``), and Whoosh's file names (``naming``). Those members may change
in any release, so ``whoosh-reloaded`` is pinned to one exact version in
pyproject.toml, only the modules of this package may touch them
(tests/test_architecture.py), and importing this package with another Whoosh
fails at once with a clear message instead of misreading an index later.
Bumping the pin means reviewing this package, updating :data:`TESTED_WHOOSH`
and running tests/test_whoosh_internals.py and the whole suite.
"""

from __future__ import annotations

import whoosh

# The whoosh-reloaded release this package was written and tested against
# (the pin in pyproject.toml).
TESTED_WHOOSH: tuple[int, int, int] = (2, 7, 5)

if tuple(whoosh.__version__[:3]) != TESTED_WHOOSH:
    raise ImportError(
        f"vnsearch reads Whoosh's private internals as of whoosh-reloaded "
        f"{'.'.join(map(str, TESTED_WHOOSH))}, but {whoosh.versionstring()} is installed; "
        "install the version pinned in pyproject.toml (pip install -e .)"
    )
