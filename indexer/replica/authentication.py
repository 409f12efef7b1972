"""The first step of a pull: read LATEST, PUBLISHED.json and its signature from
the distribution directory (each within a small size cap, regular files only,
never through a symbolic link) and check the signature against the trusted
keys, before anything of the publication is parsed or opened."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import ExitCode
from indexer.replica.publication import (
    LATEST,
    MAX_PUBLISHED_BYTES,
    PUBLISHED,
    SIGNATURE,
    CorruptPublication,
    Publication,
    ReplicaError,
    Unauthenticated,
    incomplete,
    read_latest,
)
from indexer.signing import SIGNATURE_BYTES, TrustedKeys
from indexer.untrusted import Missing, UntrustedDir

__all__ = ["Authenticated", "authenticate_retrying", "nothing_published"]


@dataclass
class Authenticated:
    source: UntrustedDir  # the publication's directory, open
    pub: Publication
    raw: bytes  # PUBLISHED.json exactly as signed
    signed_by: str | None


def nothing_published(dist: Path) -> ReplicaError:
    return ReplicaError(
        f"nothing published in {dist} (no {LATEST})",
        hint="run vnsearch index publish --to DIR on the indexing host",
        exit_code=ExitCode.NO_INDEX,
    )


def authenticate_retrying(root: UntrustedDir, trusted: TrustedKeys | None) -> Authenticated:
    """:func:`_authenticate`, once more after a pause if the signature did not
    match: a re-publication (rollback) replaces PUBLISHED.json and its signature
    with two renames, and a pull may read between them."""
    try:
        return _authenticate(root, trusted)
    except Unauthenticated:
        time.sleep(0.5)
        return _authenticate(root, trusted)


def _authenticate(root: UntrustedDir, trusted: TrustedKeys | None) -> Authenticated:
    """Read LATEST, PUBLISHED.json and its signature (capped, regular files only)
    and check the signature; parse PUBLISHED.json only after that."""
    pub_id = read_latest(root)
    if pub_id is None:
        raise nothing_published(Path(root.label))
    try:
        source = root.subdir(pub_id)
    except Missing:
        raise ReplicaError(
            f"{root.label}/{LATEST} names {pub_id}, which is not there",
            hint="publish again (vnsearch index publish); LATEST is written last",
        ) from None
    try:
        try:
            raw = source.read_small(PUBLISHED, MAX_PUBLISHED_BYTES)
        except Missing:
            raise incomplete(f"{source.label}/{PUBLISHED}") from None
        signed_by = None
        if trusted is not None:
            signed_by = _verify(source, raw, trusted)
        pub = Publication.parse(raw, f"{source.label}/{PUBLISHED}")
        if pub.publication != pub_id:
            raise CorruptPublication(
                f"{source.label}/{PUBLISHED} is the manifest of {pub.publication}, not of {pub_id}"
            )
    except BaseException:
        source.close()
        raise
    return Authenticated(source, pub, raw, signed_by)


def _verify(source: UntrustedDir, raw: bytes, trusted: TrustedKeys) -> str:
    where = f"{source.label}/{PUBLISHED}"
    try:
        signature = source.read_small(SIGNATURE, SIGNATURE_BYTES)
    except Missing:
        raise Unauthenticated(
            f"{where} is not signed ({SIGNATURE} is missing): refused",
            hint="publish with vnsearch index publish --sign-key FILE; pull an unsigned "
            "publication only from a trusted local directory, with --allow-unsigned",
        ) from None
    name = trusted.verify(raw, signature)
    if name is None:
        raise Unauthenticated(
            f"{where} is not signed by a trusted key (tried {', '.join(trusted.names)}): "
            "refused; the live index is unchanged",
            hint="if the publisher's key was replaced, add its new .pub file to the "
            "--verify-key directory; otherwise someone else wrote this publication",
        )
    return name
