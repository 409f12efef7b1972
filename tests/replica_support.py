"""Signed publications for the replica tests: the publisher's key pair (made once
per test session, in memory) and a way to put it on disk for the CLI."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from indexer.signing import SigningKey, TrustedKeys

PUBLISHER = SigningKey("publisher", Ed25519PrivateKey.generate())
TRUSTED = TrustedKeys((("publisher.pub", PUBLISHER.private.public_key()),))


def write_pair(directory: Path, signer: SigningKey = PUBLISHER) -> tuple[Path, Path]:
    """``signer`` as ``directory/<name>.key`` (0600) and ``.pub``, as keygen writes them."""
    directory.mkdir(parents=True, exist_ok=True)
    key, pub = directory / f"{signer.name}.key", directory / f"{signer.name}.pub"
    key.write_bytes(
        signer.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(key, 0o600)
    pub.write_bytes(
        signer.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return key, pub


def other_signer(name: str = "intruder") -> SigningKey:
    return SigningKey(name, Ed25519PrivateKey.generate())
