"""Everything that depends on Whoosh's private internals, in one place.

vnsearch reads and writes Whoosh's W3 codec below its public API for speed
(docs/design.md, "Whoosh internals"): block readers and memory-mapped files on
the read side, posting pools and sub-writers on the write side, and Whoosh's
file names. Those members may change in any release, so the dependency is
pinned to one exact ``whoosh-reloaded`` version in pyproject.toml, and only the
modules of this package may touch them: bumping the pin means reviewing this
package and running its tests (tests/test_postings_arrays.py,
tests/test_whoosh_internals.py).
"""
