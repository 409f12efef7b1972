"""Index replicas (this package): publish the live generation to a distribution directory on the
indexing host, pull it into the local index home on every API host.

    <dist>/LATEST               id of the publication to serve (replaced atomically)
    <dist>/g000007.3/           generation g000007 at Whoosh commit (TOC) 3:
        MANIFEST.json             the generation's manifest, as it was when published
        _MAIN_3.toc               Whoosh's table of contents of that commit
        MAIN_<segment>.seg ...    the segment files that TOC needs
        PUBLISHED.json            file list with sizes and SHA-256 (written last)
        PUBLISHED.json.sig        Ed25519 signature of PUBLISHED.json's exact bytes
    <dist>/g000007.3.tmp/       a publication being written (never named by LATEST)

Trust: anyone who can write ``<dist>`` could otherwise run code on every API host
(Whoosh's TOC and parts of its segments are pickles). So ``pull`` first reads
LATEST, PUBLISHED.json and its signature (each within a small size cap, regular
files only, never through a symbolic link: :mod:`indexer.untrusted`) and checks
the signature against the trusted public keys (:mod:`indexer.signing`); then it
copies each listed file with its signed size as a byte limit and its SHA-256
checked while copying; only then does anything open the staged index.

Whoosh segment files never change once written; an ``index update`` adds segments
and a new TOC. So a publication is named by generation *and* TOC generation, and
a re-publication after an update shares most of its files with the one before:
``publish`` hard-links them from the previous publication, and ``pull`` reuses
them from the local generations (checked by SHA-256), fetching only the rest.

``pull`` stages a complete copy in ``<home>/<generation>.tmp/``, checks every
file's size and checksum and that the staged index opens with the published
document count, and only then makes it live under the local writer lock:

- a generation this host does not have is renamed into place and CURRENT is
  switched to it (the previous one is kept for ``index rollback``);
- a newer commit of the live generation (an update on the indexing host) is
  applied the way Whoosh commits: the new segment files first, then the TOC
  (readers switch here), then the manifest. As on the indexing host, an update
  is not a generation of its own: rollback goes to the previous generation.

Local generations keep the indexing host's names, so ``/readyz`` on every API
host reports the same generation once a roll-out has converged.

Modules: :mod:`~indexer.replica.publication` (PUBLISHED.json, its checks, the
errors, LATEST), :mod:`~indexer.replica.publishing` (``publish``),
:mod:`~indexer.replica.authentication` (the signature, checked first),
:mod:`~indexer.replica.pulling` (``pull``, staging, ``pull_loop``),
:mod:`~indexer.replica.installing` (making a staged copy live) and
:mod:`~indexer.replica.copying` (checksums and copies of local files).
"""
