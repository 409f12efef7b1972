"""``vnsearch index keygen``, ``index publish`` and ``index pull``: the CLI of
:mod:`indexer.replica` and :mod:`indexer.signing`, on the ``index`` group
(:mod:`indexer.cli.group`).

Exit codes (:class:`indexer.errors.ExitCode`): 0 success (also: already
live) · 1 error (e.g. an incompatible schema version, a bad key file, no
room) · 2 bad usage (e.g. a pull with no ``--verify-key``) · 3 no index to
publish / nothing published · 65 a file of the publication refused
(signature, size, checksum, not a regular file, an older publication) · 75
writer busy.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from indexer.cli.options import fail, index_dir_option, store_errors, wait_option
from indexer.home import IndexHome

_dist_type = click.Path(file_okay=False, path_type=Path)


@click.command("keygen")
@click.option(
    "--out",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for NAME.key and NAME.pub (made with mode 0700 if absent).",
)
@click.option(
    "--name",
    default=None,
    help="File name stem for the pair.  [default: vnsearch-<key id>]",
)
@store_errors
def index_keygen(directory: Path, name: str | None) -> None:
    """Make an Ed25519 key pair for signing publications.

    DIR/NAME.key is the private key (PKCS#8 PEM, mode 0600): it stays on the
    indexing host (`index publish --sign-key`). DIR/NAME.pub is the public key
    (PEM): copy it to every API host (`index pull --verify-key`). Existing files
    are never overwritten.
    """
    from indexer.signing import generate, load_signing_key

    key_path, pub_path = generate(directory, name)
    key = load_signing_key(key_path)
    click.echo(f"key id {key.key_id}")
    click.echo(f"private key: {key_path} (keep on the indexing host: index publish --sign-key)")
    click.echo(f"public key:  {pub_path} (copy to every API host: index pull --verify-key)")


@click.command("publish")
@click.option(
    "--to",
    "dist",
    required=True,
    type=_dist_type,
    help="Distribution directory (shared or rsync'd).",
)
@index_dir_option()
@click.option(
    "--sign-key",
    envvar="VNSEARCH_SIGN_KEY",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key that signs PUBLISHED.json (vnsearch index keygen; env VNSEARCH_SIGN_KEY).",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Publish without a signature (only pull --allow-unsigned takes it).",
)
@click.option(
    "--keep",
    type=click.IntRange(1),
    default=3,
    show_default=True,
    help="Publications kept in the distribution directory (LATEST always among them).",
)
@wait_option()
@store_errors
def index_publish(
    dist: Path,
    index_dir: Path,
    sign_key: Path | None,
    allow_unsigned: bool,
    keep: int,
    wait: float,
) -> None:
    """Copy the live generation to DIST for API hosts to pull.

    Writes DIST/<generation>.<commit>/ (the index files the current commit
    needs and PUBLISHED.json: sizes, SHA-256, document count, schema version,
    time), signs PUBLISHED.json with --sign-key (PUBLISHED.json.sig), then
    points DIST/LATEST at it. Files unchanged since the previous publication
    are hard-linked, not copied. Publishing an existing publication again
    signs it anew and moves LATEST: after `vnsearch index rollback`, this
    rolls the fleet back.
    """
    from indexer.replica.publishing import publish
    from indexer.signing import load_signing_key

    if sign_key is None and not allow_unsigned:
        raise click.UsageError(
            "publish signs with --sign-key FILE (or VNSEARCH_SIGN_KEY); make a key pair "
            "with `vnsearch index keygen --out DIR`, or pass --allow-unsigned for pulls "
            "from a trusted local directory"
        )
    if sign_key is not None and allow_unsigned:
        raise click.UsageError("--sign-key and --allow-unsigned exclude each other")
    try:
        signer = load_signing_key(sign_key) if sign_key is not None else None
        report = publish(IndexHome(index_dir), dist, signer=signer, wait=wait, keep=keep)
    except OSError as exc:
        fail(str(exc))
    click.echo(report.summary())
    if report.removed:
        click.echo(f"removed older publications: {', '.join(report.removed)}")


@click.command("pull")
@click.option(
    "--from", "dist", required=True, type=_dist_type, help="Distribution directory to pull from."
)
@index_dir_option()
@click.option(
    "--verify-key",
    "verify_keys",
    multiple=True,
    envvar="VNSEARCH_VERIFY_KEY",
    type=click.Path(exists=False, path_type=Path),
    help="Public key (.pub) a publication must be signed with, or a directory of them: "
    "any one may sign (key rotation). Repeatable; env VNSEARCH_VERIFY_KEY "
    "(several separated by ':').",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Take a publication without checking a signature: only for a local directory "
    "that only trusted users can write.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(1),
    default=1800.0,
    show_default=True,
    metavar="SECONDS",
    help="Give up (exit 65, the live index unchanged) when one pull takes longer.",
)
@click.option(
    "--loop",
    "interval",
    type=click.FloatRange(0.1, 86400),
    default=None,
    metavar="SECONDS",
    help="Keep polling every SECONDS for new publications until SIGTERM.",
)
@wait_option()
@store_errors
def index_pull(
    dist: Path,
    index_dir: Path,
    verify_keys: tuple[Path, ...],
    allow_unsigned: bool,
    timeout: float,
    interval: float | None,
    wait: float,
) -> None:
    """Make the publication DIST/LATEST names live in the local index home.

    First checks that PUBLISHED.json is signed by a --verify-key; then copies
    only the files no local generation already has (same name, size and
    SHA-256), each within its signed size and checked while copied (regular
    files only, never through a symbolic link); only then opens the staged
    generation and switches CURRENT atomically; API workers follow within a
    second. A publication that is unsigned, signed by another key, signed
    before the live one, or has a missing, truncated or corrupt file, or an
    incompatible schema version, leaves the live index as it was. With --loop,
    a failed pull is reported and retried at the next poll, and SIGTERM or
    SIGINT stops cleanly.
    """
    from indexer.replica.pulling import pull, pull_loop
    from indexer.signing import load_trusted

    if not verify_keys and not allow_unsigned:
        raise click.UsageError(
            "pull checks signatures: pass --verify-key FILE|DIR (or VNSEARCH_VERIFY_KEY) "
            "with the publisher's public key (vnsearch index keygen wrote it), or "
            "--allow-unsigned for a local directory that only trusted users can write"
        )
    if verify_keys and allow_unsigned:
        raise click.UsageError("--verify-key and --allow-unsigned exclude each other")
    trusted = load_trusted(verify_keys) if verify_keys else None
    home = IndexHome(index_dir)
    if interval is None:
        try:
            report = pull(
                home,
                dist,
                trusted=trusted,
                allow_unsigned=allow_unsigned,
                wait=wait,
                timeout=timeout,
            )
        except OSError as exc:
            fail(str(exc))
        click.echo(report.summary())
        return

    stop = threading.Event()

    def _stop(signum, frame) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    keys = ", ".join(trusted.names) if trusted else "none (--allow-unsigned)"
    click.echo(f"pulling from {dist} into {home.path} every {interval:g} s; trusted keys: {keys}")

    def echo(line: str) -> None:
        click.echo(line, err=line.startswith("error:"))
        sys.stdout.flush()

    pull_loop(
        home,
        dist,
        interval,
        stop=stop,
        echo=echo,
        verify_keys=verify_keys,
        trusted=trusted,
        allow_unsigned=allow_unsigned,
        wait=wait,
        timeout=timeout,
    )
    click.echo("stopped")
