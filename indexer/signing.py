"""Ed25519 keys and signatures for index publications (``cryptography``).

The indexing host signs each publication's ``PUBLISHED.json`` with its private
key; API hosts hold only public keys and check the signature before they read
anything else of the publication. A compromised API host therefore cannot forge
a publication for the others.

    <name>.key           private key: PKCS#8 PEM, unencrypted, mode 0600 (indexing host only)
    <name>.pub           public key: SubjectPublicKeyInfo PEM (every API host)
    PUBLISHED.json.sig   the raw 64-byte Ed25519 signature of PUBLISHED.json's exact bytes

What is signed is the file as written, byte for byte (no re-serialisation), so
a signature can also be checked without vnsearch (OpenSSL 3)::

    openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin \\
        -in PUBLISHED.json -sigfile PUBLISHED.json.sig

Several public keys may be trusted at once (a directory of ``.pub`` files): the
way to rotate a key without stopping the fleet (docs/scaling.md).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from indexer.errors import StoreError

SIGNATURE_BYTES = 64
_KEY_FILE_CAP = 16 * 1024  # a PEM Ed25519 key is about 120 bytes


class KeyFileError(StoreError):
    """A key file is missing, unreadable, of another kind, or too open."""


def key_id(public: Ed25519PublicKey) -> str:
    """A short stable name for a public key: 16 hex digits of its SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    name: str  # the key file's stem
    private: Ed25519PrivateKey

    @property
    def key_id(self) -> str:
        return key_id(self.private.public_key())

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


@dataclass(frozen=True)
class TrustedKeys:
    """The public keys a pull accepts a signature from (at least one)."""

    keys: tuple[tuple[str, Ed25519PublicKey], ...]  # (file name, key)

    def verify(self, data: bytes, signature: bytes) -> str | None:
        """The name of the trusted key that signed ``data``, or None."""
        if len(signature) != SIGNATURE_BYTES:
            return None
        for name, public in self.keys:
            try:
                public.verify(signature, data)
            except InvalidSignature:
                continue
            return name
        return None

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.keys]


def generate(directory: str | os.PathLike, name: str | None = None) -> tuple[Path, Path]:
    """Write a new key pair as ``directory/<name>.key`` (0600) and ``.pub``.

    ``name`` defaults to ``vnsearch-<key id>``. Existing files are never
    overwritten (KeyFileError).
    """
    directory = Path(directory)
    private = Ed25519PrivateKey.generate()
    name = name or f"vnsearch-{key_id(private.public_key())}"
    if not name or "/" in name or name.startswith("."):
        raise KeyFileError(f"{name!r} is not a key name", hint="use letters, digits, - and _")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path, pub_path = directory / f"{name}.key", directory / f"{name}.pub"
    for path in (key_path, pub_path):
        if path.exists() or path.is_symlink():
            raise KeyFileError(
                f"{path} already exists; keys are never overwritten",
                hint="choose another --name, or another --out directory",
            )
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(key_path, pem, 0o600)
    _write_new(pub_path, public, 0o644)
    return key_path, pub_path


def load_signing_key(path: str | os.PathLike) -> SigningKey:
    """The private key in ``path``; refused when others may read or write it."""
    path = Path(path)
    data, st = _read_key_file(path)
    if st.st_mode & 0o077:
        raise KeyFileError(
            f"{path} is accessible by others (mode {stat.S_IMODE(st.st_mode):04o}); "
            "a signing key must be readable by its owner only",
            hint=f"chmod 600 {path}",
        )
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(
            f"{path} is not an unencrypted PEM private key: {exc}",
            hint="make one with: vnsearch index keygen --out DIR",
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key", hint="vnsearch index keygen --out DIR")
    return SigningKey(path.stem, private)


def load_trusted(paths: Iterable[str | os.PathLike]) -> TrustedKeys:
    """The public keys in ``paths``: each a ``.pub`` file, or a directory whose
    ``*.pub`` files are all trusted (for rotation)."""
    found: dict[bytes, tuple[str, Ed25519PublicKey]] = {}
    for given in paths:
        given = Path(given)
        if given.is_dir():
            files = sorted(given.glob("*.pub"))
            if not files:
                raise KeyFileError(
                    f"{given} holds no .pub file",
                    hint="copy the publisher's public key (vnsearch index keygen wrote it) there",
                )
        else:
            files = [given]
        for path in files:
            public = _load_public(path)
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            found.setdefault(raw, (path.name, public))
    if not found:
        raise KeyFileError("no verify key given", hint="pass --verify-key FILE|DIR")
    return TrustedKeys(tuple(found.values()))


def _load_public(path: Path) -> Ed25519PublicKey:
    data, _ = _read_key_file(path)
    try:
        public = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(
            f"{path} is not a PEM public key: {exc}",
            hint="use the .pub file vnsearch index keygen wrote",
        ) from None
    if not isinstance(public, Ed25519PublicKey):
        raise KeyFileError(f"{path} is not an Ed25519 public key")
    return public


def _read_key_file(path: Path) -> tuple[bytes, os.stat_result]:
    try:
        # O_NONBLOCK: a FIFO in place of a key file must not hang the command.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise KeyFileError(f"{path} is not a regular file")
            data = f.read(_KEY_FILE_CAP + 1)
    except FileNotFoundError:
        raise KeyFileError(
            f"key file {path} does not exist",
            hint="make a key pair with: vnsearch index keygen --out DIR",
        ) from None
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be read: {exc.strerror}") from None
    if len(data) > _KEY_FILE_CAP:
        raise KeyFileError(f"{path} is too large to be a key file")
    return data, st


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)  # whatever the umask
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
