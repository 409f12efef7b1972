"""Replica trust: a publication is proven authentic before anything in it is read,
and a pull reads only what it must, never more than declared.

Someone who can write the distribution directory (a shared mount, an rsync
target) is the adversary here. The hostile cases run ``vnsearch index pull`` in
a subprocess under an address-space limit (``RLIMIT_AS``) and a wall-clock
timeout, and check: exit 65 naming the file, no traceback, nothing about files
outside the distribution directory told, nothing written outside the index
home, the live generation unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURE_ARTICLES, ROOT
from replica_support import PUBLISHER, TRUSTED, other_signer, write_pair

from indexer.build import build
from indexer.generations import rollback
from indexer.home import IndexHome
from indexer.lock import writer_lock
from indexer.replica import pulling
from indexer.replica.publication import (
    LATEST,
    PUBLISHED,
    PULLED,
    SIGNATURE,
    CorruptPublication,
    Publication,
    ReplicaError,
    Unauthenticated,
)
from indexer.replica.publishing import publish
from indexer.replica.pulling import pull
from indexer.signing import KeyFileError, generate, load_signing_key, load_trusted
from search_api.cli import main

EXTRA = replace(
    FIXTURE_ARTICLES[0],
    id="fx-trust-extra",
    title="Khánh thành nhà văn hóa khu phố Quỳnh Lâm",
    body="Nhà văn hóa Quỳnh Lâm mở cửa phục vụ người dân từ tháng sáu.",
)
AS_LIMIT = 1536 * 2**20  # a normal pull of the fixture index fits in 300 MB (measured)
REFUSED_WITHIN = 20.0  # seconds, interpreter start-up included, on a loaded machine


@pytest.fixture
def origin(tmp_path: Path) -> IndexHome:
    home = IndexHome(tmp_path / "origin")
    build(home, FIXTURE_ARTICLES[:6])
    return home


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return write_pair(tmp_path / "keys")


@pytest.fixture
def serving(origin: IndexHome, tmp_path: Path) -> tuple[Path, Path, IndexHome]:
    """The host serves g000001 (signed); g000002 (7 documents) is published, signed.
    Returns (dist, the g000002.1 directory, host)."""
    dist, host = tmp_path / "dist", IndexHome(tmp_path / "host")
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    build(origin, [*FIXTURE_ARTICLES[:6], EXTRA])
    publish(origin, dist, signer=PUBLISHER)
    return dist, dist / "g000002.1", host


def _segment(pub_dir: Path) -> Path:
    return max(pub_dir.glob("*.seg"), key=lambda p: p.stat().st_size)


def _tree(root: Path, skip: Path | None = None) -> dict[str, tuple]:
    """Every path under ``root`` (not under ``skip``) with its type, size and mtime."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        if skip is not None and Path(dirpath).is_relative_to(skip):
            dirnames.clear()
            continue
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if skip is not None and path.is_relative_to(skip):
                continue
            st = path.lstat()
            found[str(path.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return found


def _live(host: IndexHome) -> dict[str, tuple]:
    """What the host serves: CURRENT, its generations and their files."""
    state = _tree(host.path)
    state.pop("write.lock", None)  # the pull's lock file (its content changes)
    return state


def run_pull(dist: Path, host: IndexHome, *args: str, tmp: Path) -> tuple[int, str, float]:
    """``vnsearch index pull`` in a subprocess under RLIMIT_AS; exit code,
    stdout + stderr, seconds."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))

    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    env["TMPDIR"] = str(tmp)
    argv = [sys.executable, "-c", "from search_api.cli import main; main()", "index", "pull"]
    argv += ["--from", str(dist), "--index-dir", str(host.path), *args]
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        cwd=ROOT,
        env=env,
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=REFUSED_WITHIN * 3,
    )
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started


# -- signatures ----------------------------------------------------------------------------


def test_a_signed_publication_pulls_under_the_memory_limit(serving, keys, tmp_path) -> None:
    """The baseline of the hostile cases below: the same subprocess, the same limit."""
    dist, pub_dir, host = serving
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    code, out, seconds = run_pull(dist, host, "--verify-key", str(keys[1]), tmp=scratch)
    assert code == 0, out
    assert "pulled g000002.1 (signed by publisher.pub)" in out and seconds < REFUSED_WITHIN
    assert host.current_name() == "g000002"
    assert (host.current_dir() / PULLED).read_bytes() == (pub_dir / PUBLISHED).read_bytes()


def test_an_unsigned_publication_is_refused_without_allow_unsigned(
    origin: IndexHome, tmp_path: Path, keys
) -> None:
    dist, host = tmp_path / "dist", IndexHome(tmp_path / "host")
    report = publish(origin, dist)  # no signer
    assert report.signed_by is None and "UNSIGNED" in report.summary()
    assert not (dist / "g000001.1" / SIGNATURE).exists()
    with pytest.raises(Unauthenticated, match=f"not signed.*{SIGNATURE} is missing"):
        pull(host, dist, trusted=TRUSTED)
    assert host.current_name() is None and not host.generations()

    runner = CliRunner()
    args = ["index", "pull", "--from", str(dist), "--index-dir", str(host.path)]
    result = runner.invoke(main, [*args, "--verify-key", str(keys[1])])
    assert result.exit_code == 65 and "PUBLISHED.json is not signed" in result.stderr
    assert "Traceback" not in result.output
    result = runner.invoke(main, [*args, "--allow-unsigned"])  # a trusted local directory
    assert result.exit_code == 0, result.output
    assert "pulled g000001.1 (unsigned)" in result.stdout
    result = runner.invoke(main, [*args, "--allow-unsigned", "--verify-key", str(keys[1])])
    assert result.exit_code == 2 and "exclude each other" in result.stderr


def test_a_removed_signature_is_refused(serving) -> None:
    dist, pub_dir, host = serving
    (pub_dir / SIGNATURE).unlink()
    before = _live(host)
    with pytest.raises(Unauthenticated, match="is not signed"):
        pull(host, dist, trusted=TRUSTED)
    assert _live(host) == before


def test_a_publication_signed_by_another_key_is_refused(serving) -> None:
    dist, pub_dir, host = serving
    intruder = other_signer()
    # A publication written and signed whole by someone else ...
    (pub_dir / SIGNATURE).write_bytes(intruder.sign((pub_dir / PUBLISHED).read_bytes()))
    before = _live(host)
    with pytest.raises(Unauthenticated, match="not signed by a trusted key") as caught:
        pull(host, dist, trusted=TRUSTED)
    assert "publisher.pub" in str(caught.value)  # which keys were tried
    assert _live(host) == before
    # ... and a genuine manifest changed after signing (one document more).
    (pub_dir / SIGNATURE).write_bytes(PUBLISHER.sign((pub_dir / PUBLISHED).read_bytes()))
    manifest = json.loads((pub_dir / PUBLISHED).read_text())
    manifest["doc_count"] += 1
    (pub_dir / PUBLISHED).write_text(json.dumps(manifest, indent=2) + "\n")
    with pytest.raises(Unauthenticated):
        pull(host, dist, trusted=TRUSTED)
    assert _live(host) == before


class _WritesMarker:
    """Unpickling this writes a file: what a hostile Whoosh TOC can do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"with open({str(self.marker)!r}, 'w') as f: f.write('code ran')",))


def test_a_toc_with_code_and_matching_checksums_is_refused_before_it_is_read(
    serving, keys, tmp_path
) -> None:
    dist, pub_dir, host = serving
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_WritesMarker(marker))
    # The payload is live: unpickled, it writes the marker.
    pickle.loads(payload)
    assert marker.read_text() == "code ran"
    marker.unlink()

    toc = pub_dir / "_MAIN_1.toc"
    toc.write_bytes(payload)
    manifest = json.loads((pub_dir / PUBLISHED).read_text())
    for f in manifest["files"]:
        if f["name"] == toc.name:  # checksums that match, as the attacker wrote
            f["size"], f["sha256"] = len(payload), hashlib.sha256(payload).hexdigest()
    (pub_dir / PUBLISHED).write_text(json.dumps(manifest, indent=2) + "\n")
    before = _live(host)

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    code, out, _ = run_pull(dist, host, "--verify-key", str(keys[1]), tmp=scratch)
    assert code == 65, out
    assert "PUBLISHED.json is not signed by a trusted key" in out and "Traceback" not in out
    assert not marker.exists()
    assert _live(host) == before
    # The library refuses it the same way, in this process.
    with pytest.raises(Unauthenticated):
        pull(host, dist, trusted=TRUSTED)
    assert not marker.exists()


def test_keys_rotate_without_stopping_the_fleet(origin: IndexHome, tmp_path: Path) -> None:
    """Both keys trusted during the change-over; then the old one is retired."""
    trusted_dir = tmp_path / "trusted"
    generate(trusted_dir, "indexer-2025")
    generate(trusted_dir, "indexer-2026")
    (trusted_dir / "indexer-2025.key").rename(tmp_path / "indexer-2025.key")
    (trusted_dir / "indexer-2026.key").rename(tmp_path / "indexer-2026.key")
    old = load_signing_key(tmp_path / "indexer-2025.key")
    new = load_signing_key(tmp_path / "indexer-2026.key")
    dist, host = tmp_path / "dist", IndexHome(tmp_path / "host")

    publish(origin, dist, signer=old)
    report = pull(host, dist, trusted=load_trusted([trusted_dir]))
    assert report.signed_by == "indexer-2025.pub"
    build(origin, [*FIXTURE_ARTICLES[:6], EXTRA])
    publish(origin, dist, signer=new)  # the indexing host switches keys
    report = pull(host, dist, trusted=load_trusted([trusted_dir]))
    assert (report.generation, report.signed_by) == ("g000002", "indexer-2026.pub")

    (trusted_dir / "indexer-2025.pub").unlink()  # retired on every API host
    build(origin, FIXTURE_ARTICLES[:5])
    publish(origin, dist, signer=old)  # a stolen old key no longer works
    with pytest.raises(Unauthenticated, match=r"tried indexer-2026\.pub"):
        pull(host, dist, trusted=load_trusted([trusted_dir]))
    assert host.current_name() == "g000002"


def test_an_older_signed_publication_put_back_is_refused_and_a_rollback_is_not(
    origin: IndexHome, serving
) -> None:
    dist, _, host = serving
    assert pull(host, dist, trusted=TRUSTED).generation == "g000002"
    # The attacker cannot sign, but can point LATEST at the older, genuine g000001.1.
    (dist / LATEST).write_text("g000001.1\n")
    with pytest.raises(CorruptPublication, match=r"signed at .* before the live g000002\.1"):
        pull(host, dist, trusted=TRUSTED)
    assert host.current_name() == "g000002"
    # The operator's rollback signs g000001.1 anew: the fleet follows.
    with writer_lock(origin):
        rollback(origin)
    again = publish(origin, dist, signer=PUBLISHER)
    assert again.already_published and again.publication == "g000001.1"
    assert TRUSTED.verify(
        (dist / "g000001.1" / PUBLISHED).read_bytes(), (dist / "g000001.1" / SIGNATURE).read_bytes()
    )
    report = pull(host, dist, trusted=TRUSTED)
    assert (report.action, host.current_name()) == ("new", "g000001")


def test_a_pull_retries_once_when_it_reads_between_the_two_renames_of_a_republication(
    serving, monkeypatch
) -> None:
    """Re-signing replaces PUBLISHED.json, then its signature; a pull that read
    the new manifest with the old signature reads both again."""
    dist, pub_dir, host = serving
    good_sig = (pub_dir / SIGNATURE).read_bytes()
    (pub_dir / SIGNATURE).write_bytes(bytes(64))  # as between the renames
    slept = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        (pub_dir / SIGNATURE).write_bytes(good_sig)  # the publisher's second rename

    monkeypatch.setattr(pulling.time, "sleep", sleep)
    assert pull(host, dist, trusted=TRUSTED).generation == "g000002"
    assert slept == [0.5]


# -- reading only what is declared ---------------------------------------------------------


def _secret(tmp_path: Path) -> Path:
    """A file outside the distribution directory the pull user can read."""
    outside = tmp_path / "outside"
    outside.mkdir(exist_ok=True)
    secret = outside / "secret.txt"
    secret.write_text("s3cr3t " * 1111)
    return secret


def _replace_with_symlink(path: Path, target: str | Path) -> None:
    path.unlink()
    path.symlink_to(target)


def _hostile(case: str, dist: Path, pub_dir: Path, tmp_path: Path) -> str:
    """Make the distribution directory hostile; the name the refusal must give."""
    seg = _segment(pub_dir)
    if case == "segment is /dev/zero":
        _replace_with_symlink(seg, "/dev/zero")
    elif case == "segment is a FIFO":
        seg.unlink()
        os.mkfifo(seg)
    elif case == "segment links outside":
        _replace_with_symlink(seg, _secret(tmp_path))
    elif case == "segment is sparse and oversized":
        with open(seg, "r+b") as f:
            f.truncate(200 * 2**20)
    elif case == "LATEST is /dev/zero":
        _replace_with_symlink(dist / LATEST, "/dev/zero")
        return LATEST
    elif case == "LATEST is a FIFO":
        (dist / LATEST).unlink()
        os.mkfifo(dist / LATEST)
        return LATEST
    elif case == "manifest is /dev/zero":
        _replace_with_symlink(pub_dir / PUBLISHED, "/dev/zero")
        return PUBLISHED
    elif case == "manifest is a FIFO":
        (pub_dir / PUBLISHED).unlink()
        os.mkfifo(pub_dir / PUBLISHED)
        return PUBLISHED
    elif case == "signature is /dev/zero":
        _replace_with_symlink(pub_dir / SIGNATURE, "/dev/zero")
        return SIGNATURE
    elif case == "publication directory links outside":
        moved = tmp_path / "outside" / pub_dir.name
        moved.parent.mkdir(exist_ok=True)
        shutil.move(pub_dir, moved)
        pub_dir.symlink_to(moved)
        return pub_dir.name
    else:
        raise AssertionError(case)
    return seg.name


HOSTILE = [
    "segment is /dev/zero",
    "segment is a FIFO",
    "segment links outside",
    "segment is sparse and oversized",
    "LATEST is /dev/zero",
    "LATEST is a FIFO",
    "manifest is /dev/zero",
    "manifest is a FIFO",
    "signature is /dev/zero",
    "publication directory links outside",
]


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_file_is_refused_quickly_in_bounded_memory(
    case: str, serving, keys, tmp_path: Path
) -> None:
    dist, pub_dir, host = serving
    name = _hostile(case, dist, pub_dir, tmp_path)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    live_before = _live(host)
    rest_before = _tree(tmp_path, skip=host.path)

    code, out, seconds = run_pull(dist, host, "--verify-key", str(keys[1]), tmp=scratch)

    assert code == 65, out
    assert name in out and "refused" in out, out
    assert "Traceback" not in out and "MemoryError" not in out
    assert seconds < REFUSED_WITHIN
    assert _live(host) == live_before  # the live generation unchanged, nothing left behind
    assert _tree(tmp_path, skip=host.path) == rest_before  # nothing written elsewhere
    if case == "segment links outside":
        secret = _secret(tmp_path)
        size, digest = secret.stat().st_size, hashlib.sha256(secret.read_bytes()).hexdigest()
        assert str(size) not in out and digest[:8] not in out


def test_hostile_files_are_refused_without_a_signature_check_too(serving, tmp_path: Path) -> None:
    """--allow-unsigned trusts the directory's writers, but reads stay bounded."""
    dist, pub_dir, host = serving
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for case in ("manifest is /dev/zero", "LATEST is /dev/zero"):
        name = _hostile(case, dist, pub_dir, tmp_path)
        code, out, seconds = run_pull(dist, host, "--allow-unsigned", tmp=scratch)
        assert code == 65 and name in out and "Traceback" not in out, out
        assert seconds < REFUSED_WITHIN
    assert host.current_name() == "g000001"


def test_free_space_is_checked_against_the_signed_total_before_copying(
    serving, monkeypatch
) -> None:
    dist, pub_dir, host = serving
    manifest = json.loads((pub_dir / PUBLISHED).read_text())
    seg = _segment(pub_dir)
    for f in manifest["files"]:
        if f["name"] == seg.name:
            f["size"] = 2**50  # one pebibyte, signed (a bug on the indexing host, say)
    raw = (json.dumps(manifest, indent=2) + "\n").encode()
    (pub_dir / PUBLISHED).write_bytes(raw)
    (pub_dir / SIGNATURE).write_bytes(PUBLISHER.sign(raw))
    fetched = []
    monkeypatch.setattr(pulling, "_fetch", lambda *a: fetched.append(a) or "")
    with pytest.raises(ReplicaError, match=r"needs 1024\.0 TB on the filesystem") as caught:
        pull(host, dist, trusted=TRUSTED)
    assert caught.value.exit_code == 1 and PUBLISHED in str(caught.value)
    assert fetched == []  # refused before anything was copied
    assert host.current_name() == "g000001"


def test_the_whole_pull_has_a_time_limit(serving) -> None:
    dist, _, host = serving
    with pytest.raises(CorruptPublication, match=r"time limit ran out") as caught:
        pull(host, dist, trusted=TRUSTED, timeout=0.0)
    assert "g000002.1/" in str(caught.value)  # the file being read
    assert host.current_name() == "g000001"
    assert not [p for p in host.path.iterdir() if p.name.endswith(".tmp")]
    assert pull(host, dist, trusted=TRUSTED).generation == "g000002"


def test_publish_does_not_follow_links_planted_in_the_previous_publication(
    serving, origin: IndexHome, tmp_path: Path, keys
) -> None:
    """The indexing host links unchanged segments from the previous publication;
    a planted /dev/zero there must neither hang it nor get published."""
    dist, pub_dir, host = serving
    from indexer.update import update

    seg = _segment(pub_dir)
    _replace_with_symlink(seg, "/dev/zero")
    argv = [sys.executable, "-c", "from search_api.cli import main; main()", "index", "publish"]
    argv += ["--to", str(dist), "--index-dir", str(origin.path), "--sign-key", str(keys[0])]
    update(origin, [*FIXTURE_ARTICLES[:6], EXTRA, replace(EXTRA, id="fx-trust-2")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    proc = subprocess.run(
        argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=REFUSED_WITHIN * 3
    )
    assert proc.returncode == 0, proc.stderr
    new = dist / "g000002.2"
    assert not (new / seg.name).is_symlink()
    pub = Publication.read(new)
    assert {f.name for f in pub.files} >= {seg.name}
    assert pull(host, dist, trusted=TRUSTED).publication == "g000002.2"


# -- keys ----------------------------------------------------------------------------------


def test_a_signing_key_others_can_read_is_refused(tmp_path: Path) -> None:
    key, _ = generate(tmp_path / "k")
    key.chmod(0o644)
    with pytest.raises(KeyFileError, match="accessible by others") as caught:
        load_signing_key(key)
    assert "chmod 600" in caught.value.hint


def test_bad_verify_keys_are_reported_with_their_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(KeyFileError, match=r"holds no \.pub file"):
        load_trusted([tmp_path / "empty"])
    (tmp_path / "junk.pub").write_text("not a key\n")
    with pytest.raises(KeyFileError, match=r"junk\.pub is not a PEM public key"):
        load_trusted([tmp_path / "junk.pub"])
    with pytest.raises(KeyFileError, match="does not exist"):
        load_trusted([tmp_path / "absent.pub"])
    result = CliRunner().invoke(
        main,
        ["index", "pull", "--from", str(tmp_path), "--verify-key", str(tmp_path / "junk.pub")],
    )
    assert result.exit_code == 1 and "junk.pub" in result.stderr
    assert "Traceback" not in result.output


def test_pull_loop_reads_the_trusted_keys_afresh_at_every_poll(
    origin: IndexHome, tmp_path: Path
) -> None:
    """A key added to the --verify-key directory counts without a restart."""
    import threading

    from indexer.replica.pulling import pull_loop

    trusted_dir, spare = tmp_path / "trusted", tmp_path / "spare"
    generate(trusted_dir, "old")
    new_key, new_pub = generate(spare, "new")
    dist, host = tmp_path / "dist", IndexHome(tmp_path / "host")
    publish(origin, dist, signer=load_signing_key(new_key))
    lines: list[str] = []
    stop = threading.Event()
    loop = threading.Thread(
        target=pull_loop,
        args=(host, dist, 0.1),
        kwargs={"stop": stop, "echo": lines.append, "verify_keys": [trusted_dir]},
    )
    loop.start()
    try:
        deadline = time.monotonic() + 20
        while not any("not signed by a trusted key" in line for line in lines):
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)
        assert host.current_name() is None
        shutil.copy(new_pub, trusted_dir / "new.pub")  # the rotation's step 2
        while host.current_name() != "g000001":
            assert time.monotonic() < deadline, lines
            time.sleep(0.05)
    finally:
        stop.set()
        loop.join(10)
    assert any("signed by new.pub" in line for line in lines)


def test_publish_writes_nothing_through_links_planted_in_the_distribution_directory(
    origin: IndexHome, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    publish(origin, dist, signer=PUBLISHER)
    victim = tmp_path / "outside" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("untouched")
    (dist / "LATEST.tmp").symlink_to(victim)  # what LATEST is written through
    (dist / "g000002.1.tmp").symlink_to(victim.parent)  # the next staging directory
    build(origin, [*FIXTURE_ARTICLES[:6], EXTRA])
    report = publish(origin, dist, signer=PUBLISHER)
    assert report.publication == "g000002.1"
    assert victim.read_text() == "untouched" and sorted(victim.parent.iterdir()) == [victim]
    assert (dist / LATEST).read_text() == "g000002.1\n" and not (dist / LATEST).is_symlink()
    # A publication directory replaced by a link: refused, nothing written there.
    (dist / "g000002.1").rename(tmp_path / "moved")
    (dist / "g000002.1").symlink_to(victim.parent)
    with pytest.raises(ReplicaError, match="not a directory publish made"):
        publish(origin, dist, signer=PUBLISHER)
    assert sorted(victim.parent.iterdir()) == [victim]
