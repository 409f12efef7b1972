"""Replicas: ``index publish`` on the indexing host, ``index pull`` on API hosts.

Round trip, checksums, what is fetched and what is reused (counted in bytes read
from the distribution directory), refusals (schema version, corrupt or truncated
files, nothing published) that leave the live generation serving, idempotence,
rollback through re-publishing, the CLI's exit codes and the ``--loop`` service.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import FIXTURE_ARTICLES, ROOT
from replica_support import PUBLISHER, TRUSTED, write_pair

from indexer.build import build
from indexer.generations import rollback
from indexer.home import MANIFEST, IndexHome
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
)
from indexer.replica.publishing import publish
from indexer.replica.pulling import pull
from indexer.schema import SCHEMA_VERSION
from indexer.update import update
from search_api.cli import main
from search_api.engine.request import SearchRequest
from search_api.engine.service import SearchService

EXTRA = replace(
    FIXTURE_ARTICLES[0],
    id="fx-replica-extra",
    title="Khánh thành nhà văn hóa khu phố Quỳnh Lâm",
    body="Nhà văn hóa Quỳnh Lâm mở cửa phục vụ người dân từ tháng sáu.",
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["index", *args], catch_exceptions=False)


@pytest.fixture
def origin(tmp_path: Path) -> IndexHome:
    """The indexing host's index home, with one generation of 6 fixture articles."""
    home = IndexHome(tmp_path / "origin")
    build(home, FIXTURE_ARTICLES[:6])
    return home


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    return tmp_path / "dist"


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """The publisher's key pair on disk, for the CLI: (private .key, public .pub)."""
    return write_pair(tmp_path / "keys")


@pytest.fixture
def host(tmp_path: Path) -> IndexHome:
    """An API host's (empty) index home."""
    return IndexHome(tmp_path / "host")


def resign(pub_dir: Path, manifest: dict) -> None:
    """Write ``manifest`` as the publication's PUBLISHED.json, signed by the
    trusted publisher (as a compromised indexing host, or a bug there, could)."""
    raw = (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode()
    (pub_dir / PUBLISHED).write_bytes(raw)
    (pub_dir / SIGNATURE).write_bytes(PUBLISHER.sign(raw))


class CopySpy:
    """Counts what pull reads from the distribution directory."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, dist: Path):
        self.files: dict[str, int] = {}
        real = pulling._fetch

        def spy(source, entry, dst, deadline) -> str:
            digest = real(source, entry, dst, deadline)
            self.files[entry.name] = entry.size
            return digest

        monkeypatch.setattr(pulling, "_fetch", spy)

    @property
    def bytes(self) -> int:
        return sum(self.files.values())

    def reset(self) -> None:
        self.files.clear()


def search_ids(home: IndexHome, q: str) -> set[str]:
    service = SearchService(str(home.path), background=False)
    try:
        return {h["id"] for h in service.search(SearchRequest(q=q, per_page=50))["hits"]}
    finally:
        service.close()


# -- round trip ----------------------------------------------------------------------


def test_publish_writes_files_and_a_checksummed_manifest(origin: IndexHome, dist: Path) -> None:
    report = publish(origin, dist, signer=PUBLISHER)
    assert report.publication == "g000001.1" and not report.already_published
    assert (dist / LATEST).read_text().strip() == "g000001.1"
    pub_dir = dist / "g000001.1"
    pub = Publication.read(pub_dir)
    assert (pub.generation, pub.toc_generation) == ("g000001", 1)
    assert pub.schema_version == SCHEMA_VERSION and pub.doc_count == 6
    live = origin.current_dir()
    names = {f.name for f in pub.files}
    assert MANIFEST in names and "_MAIN_1.toc" in names
    assert "MAIN_WRITELOCK" not in names  # nothing but what the commit needs
    # Each segment travels with its postings arrays (same name, .vnp).
    assert (
        {n.removesuffix(".vnp") for n in names if n.endswith(".vnp")}
        == {n.removesuffix(".seg") for n in names if n.endswith(".seg")}
        != set()
    )
    assert names == {p.name for p in pub_dir.iterdir()} - {PUBLISHED, SIGNATURE}
    assert TRUSTED.verify((pub_dir / PUBLISHED).read_bytes(), (pub_dir / SIGNATURE).read_bytes())
    for f in pub.files:
        assert f.size == (live / f.name).stat().st_size == (pub_dir / f.name).stat().st_size
        assert f.sha256 == sha256(live / f.name) == sha256(pub_dir / f.name)
    assert report.bytes == pub.total_bytes == report.copied_bytes
    assert not list(dist.glob("*.tmp"))


def test_pull_round_trip_serves_the_published_generation(
    origin: IndexHome, dist: Path, host: IndexHome
) -> None:
    publish(origin, dist, signer=PUBLISHER)
    report = pull(host, dist, trusted=TRUSTED)
    assert (report.action, report.generation, report.previous) == ("new", "g000001", None)
    assert host.current_name() == "g000001"  # the indexing host's name, on every host
    pub = Publication.read(dist / "g000001.1")
    gen = host.current_dir()
    for f in pub.files:
        assert sha256(gen / f.name) == f.sha256
    # What this host serves, byte for byte as it was signed.
    assert (gen / PULLED).read_bytes() == (dist / "g000001.1" / PUBLISHED).read_bytes()
    assert report.signed_by == "publisher.pub" and "signed by publisher.pub" in report.summary()
    assert report.fetched_bytes == pub.total_bytes and report.reused_files == 0
    assert "fx-tuyen-giao" in search_ids(host, "tuyên giáo")
    assert not [p for p in host.path.iterdir() if p.name.endswith(".tmp")]


def test_pull_is_idempotent(origin: IndexHome, dist: Path, host: IndexHome, monkeypatch) -> None:
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    before = {p.name: p.stat() for p in host.current_dir().iterdir()}
    spy = CopySpy(monkeypatch, dist)
    for _ in range(2):
        report = pull(host, dist, trusted=TRUSTED)
        assert report.action == "unchanged" and report.fetched_files == 0
        assert "already live" in report.summary()
    assert spy.bytes == 0
    after = {p.name: p.stat() for p in host.current_dir().iterdir()}
    assert {n: (s.st_ino, s.st_mtime_ns) for n, s in before.items()} == {
        n: (s.st_ino, s.st_mtime_ns) for n, s in after.items()
    }
    assert host.generations() == ["g000001"]


def test_publishing_the_same_commit_twice_only_moves_latest(origin: IndexHome, dist: Path) -> None:
    publish(origin, dist, signer=PUBLISHER)
    again = publish(origin, dist, signer=PUBLISHER)
    assert again.already_published and again.copied_bytes == 0
    assert sorted(p.name for p in dist.iterdir()) == [LATEST, "g000001.1"]


# -- only what is missing -------------------------------------------------------------


def test_update_is_republished_and_pulled_by_fetching_only_new_files(
    origin: IndexHome, dist: Path, host: IndexHome, monkeypatch
) -> None:
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    first = Publication.read(dist / "g000001.1")
    service = SearchService(str(host.path), refresh_interval=0, background=False)
    try:
        assert service.status()["doc_count"] == 6

        update(origin, [*FIXTURE_ARTICLES[:6], EXTRA])  # adds a segment and a TOC
        republished = publish(origin, dist, signer=PUBLISHER)
        assert republished.publication == "g000001.2"
        assert republished.linked_files >= 1  # the first segment, from g000001.1
        second = Publication.read(dist / "g000001.2")
        old = {(f.name, f.sha256) for f in first.files}
        new_files = [f for f in second.files if (f.name, f.sha256) not in old]
        shared = [f for f in second.files if (f.name, f.sha256) in old]
        assert shared and new_files

        spy = CopySpy(monkeypatch, dist)
        live_before = {f.name: (host.current_dir() / f.name).stat().st_ino for f in shared}
        report = pull(host, dist, trusted=TRUSTED)
        assert report.action == "updated" and host.current_name() == "g000001"
        assert spy.files == {f.name: f.size for f in new_files}
        assert spy.bytes == report.fetched_bytes == sum(f.size for f in new_files)
        assert spy.bytes < second.total_bytes / 2
        assert report.reused_bytes == sum(f.size for f in shared)
        gen = host.current_dir()
        for f in second.files:
            assert sha256(gen / f.name) == f.sha256
        # Shared segments are the very same files (nothing rewritten); the old TOC is gone.
        assert {f.name: (gen / f.name).stat().st_ino for f in shared} == live_before
        assert not (gen / "_MAIN_1.toc").exists()

        # A searcher on the host follows the in-place commit, as after `index update`.
        status = service.status()
        assert (status["generation"], status["doc_count"]) == ("g000001", 7)
        assert "fx-replica-extra" in search_ids(host, "Quỳnh Lâm")
    finally:
        service.close()


def test_new_generation_is_switched_to_and_the_previous_kept(
    origin: IndexHome, dist: Path, host: IndexHome
) -> None:
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    build(origin, [*FIXTURE_ARTICLES, EXTRA])
    publish(origin, dist, signer=PUBLISHER)
    report = pull(host, dist, trusted=TRUSTED)
    assert (report.action, report.generation, report.previous) == ("new", "g000002", "g000001")
    assert host.current_name() == "g000002"
    assert host.generations() == ["g000001", "g000002"]  # kept for rollback
    assert "fx-replica-extra" in search_ids(host, "Quỳnh Lâm")


def _damage_in_place_of(path: Path) -> None:
    """Flip a byte of ``path`` through a new inode (live searchers keep theirs)."""
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.unlink()
    path.write_bytes(bytes(data))


def test_a_damaged_local_file_is_fetched_again_not_reused(
    origin: IndexHome, dist: Path, host: IndexHome, monkeypatch
) -> None:
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    build(origin, [*FIXTURE_ARTICLES, EXTRA])
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    # g000001 is kept for rollback; one of its segments gets damaged on this host.
    segments = sorted((host.path / "g000001").glob("*.seg"))
    _damage_in_place_of(segments[0])
    with writer_lock(origin):
        rollback(origin)
    publish(origin, dist, signer=PUBLISHER)  # the fleet rolls back to g000001.1

    spy = CopySpy(monkeypatch, dist)
    report = pull(host, dist, trusted=TRUSTED)
    assert (report.action, host.current_name()) == ("new", "g000001")
    assert segments[0].name in spy.files  # fetched again: its checksum did not match
    for f in Publication.read(dist / "g000001.1").files:
        assert sha256(host.current_dir() / f.name) == f.sha256


def test_a_damaged_live_file_stops_an_in_place_update(
    origin: IndexHome, dist: Path, host: IndexHome
) -> None:
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    update(origin, [*FIXTURE_ARTICLES[:6], EXTRA])
    publish(origin, dist, signer=PUBLISHER)
    damaged = sorted(host.current_dir().glob("*.seg"))[0]
    _damage_in_place_of(damaged)
    with pytest.raises(ReplicaError, match=damaged.name) as caught:
        pull(host, dist, trusted=TRUSTED)
    assert "index rollback" in caught.value.hint
    assert host.current_name() == "g000001"
    assert json.loads((host.current_dir() / PULLED).read_text())["publication"] == "g000001.1"
    assert (host.current_dir() / "_MAIN_1.toc").exists()
    assert not (host.current_dir() / "_MAIN_2.toc").exists()


def test_pull_killed_after_the_toc_switch_finishes_next_time(
    origin: IndexHome, dist: Path, host: IndexHome, monkeypatch
) -> None:
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    update(origin, [*FIXTURE_ARTICLES[:6], EXTRA])
    publish(origin, dist, signer=PUBLISHER)
    gen = host.path / "g000001"
    old_pulled = (gen / PULLED).read_text()
    old_manifest = (gen / MANIFEST).read_text()
    pull(host, dist, trusted=TRUSTED)
    # As if the pull had died between the TOC rename and the manifests.
    (gen / PULLED).write_text(old_pulled)
    (gen / MANIFEST).write_text(old_manifest)
    spy = CopySpy(monkeypatch, dist)
    report = pull(host, dist, trusted=TRUSTED)
    assert report.action == "updated" and set(spy.files) == {MANIFEST}
    assert json.loads((gen / PULLED).read_text())["publication"] == "g000001.2"
    assert json.loads((gen / MANIFEST).read_text())["doc_count"] == 7
    assert pull(host, dist, trusted=TRUSTED).action == "unchanged"


# -- refusals leave the live generation serving --------------------------------------------


@pytest.fixture
def serving(origin: IndexHome, dist: Path, host: IndexHome) -> tuple[IndexHome, Path, IndexHome]:
    """The host serves g000001; a new generation g000002 (7 docs) is published."""
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    build(origin, [*FIXTURE_ARTICLES[:6], EXTRA])
    publish(origin, dist, signer=PUBLISHER)
    return origin, dist / "g000002.1", host


def _segment(pub_dir: Path) -> Path:
    return max(
        (p for p in pub_dir.iterdir() if p.name.endswith(".seg")), key=lambda p: p.stat().st_size
    )


def assert_still_serving_g1(host: IndexHome) -> None:
    assert host.current_name() == "g000001"
    assert host.generations() == ["g000001"]
    assert not [p for p in host.path.iterdir() if p.name.endswith(".tmp")]
    service = SearchService(str(host.path), background=False)
    try:
        assert service.status() == {**service.status(), "generation": "g000001", "doc_count": 6}
        assert service.search(SearchRequest(q="tuyên giáo"))["total_hits"] > 0
    finally:
        service.close()


def test_corrupt_file_fails_naming_it_and_the_host_keeps_serving(serving, keys) -> None:
    _, pub_dir, host = serving
    seg = _segment(pub_dir)
    data = bytearray(seg.read_bytes())
    data[100] ^= 0x01  # one bit, same size
    seg.write_bytes(bytes(data))

    with pytest.raises(CorruptPublication) as caught:
        pull(host, pub_dir.parent, trusted=TRUSTED)
    assert str(seg) in str(caught.value) and "SHA-256" in str(caught.value)
    assert_still_serving_g1(host)

    result = cli(
        "pull",
        "--from",
        str(pub_dir.parent),
        "--index-dir",
        str(host.path),
        "--verify-key",
        str(keys[1]),
    )
    assert result.exit_code == 65
    assert seg.name in result.stderr and "corrupt" in result.stderr
    assert "live index is unchanged" in result.stderr
    assert_still_serving_g1(host)


def test_truncated_file_is_never_made_live(serving) -> None:
    _, pub_dir, host = serving
    seg = _segment(pub_dir)
    size = seg.stat().st_size
    with open(seg, "r+b") as f:
        f.truncate(size // 3)  # e.g. an rsync that was cut off
    with pytest.raises(
        CorruptPublication, match=rf"{seg.name} does not hold the {size} bytes.*truncated"
    ):
        pull(host, pub_dir.parent, trusted=TRUSTED)
    assert_still_serving_g1(host)


def test_missing_file_is_never_made_live(serving) -> None:
    _, pub_dir, host = serving
    seg = _segment(pub_dir)
    seg.unlink()
    with pytest.raises(CorruptPublication, match=rf"{seg.name} is missing"):
        pull(host, pub_dir.parent, trusted=TRUSTED)
    assert_still_serving_g1(host)


def test_copy_interrupted_midway_is_never_made_live(serving, monkeypatch) -> None:
    _, pub_dir, host = serving
    real = pulling._fetch
    calls = []

    def failing(source, entry, dst: Path, deadline) -> str:
        calls.append(entry.name)
        if len(calls) == 2:
            dst.write_bytes(b"\0" * 10)  # a partial file in the staging directory
            raise OSError(28, "No space left on device")
        return real(source, entry, dst, deadline)

    monkeypatch.setattr(pulling, "_fetch", failing)
    with pytest.raises(OSError, match="No space left"):
        pull(host, pub_dir.parent, trusted=TRUSTED)
    assert_still_serving_g1(host)
    monkeypatch.setattr(pulling, "_fetch", real)
    assert pull(host, pub_dir.parent, trusted=TRUSTED).generation == "g000002"


def test_leftover_staging_of_a_killed_pull_is_removed(serving) -> None:
    _, pub_dir, host = serving
    staging = host.path / "g000002.tmp"
    staging.mkdir()
    (staging / "MAIN_partial.seg").write_bytes(b"\0" * 10)
    assert host.current_name() == "g000001"  # a staging directory is never live
    report = pull(host, pub_dir.parent, trusted=TRUSTED)
    assert report.action == "new" and host.current_name() == "g000002"
    assert not staging.exists()


def test_incompatible_schema_is_refused_with_a_clear_message(serving, keys) -> None:
    _, pub_dir, host = serving
    manifest = json.loads((pub_dir / PUBLISHED).read_text())
    manifest["schema_version"] = SCHEMA_VERSION + 1
    resign(pub_dir, manifest)

    with pytest.raises(ReplicaError) as caught:
        pull(host, pub_dir.parent, trusted=TRUSTED)
    message = str(caught.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in message
    assert f"needs {SCHEMA_VERSION}" in message and "g000002.1" in message
    result = cli(
        "pull",
        "--from",
        str(pub_dir.parent),
        "--index-dir",
        str(host.path),
        "--verify-key",
        str(keys[1]),
    )
    assert result.exit_code == 1 and "schema version" in result.stderr
    assert "hint:" in result.stderr
    assert_still_serving_g1(host)


def test_hostile_file_names_in_a_manifest_are_refused(serving) -> None:
    _, pub_dir, host = serving
    manifest = json.loads((pub_dir / PUBLISHED).read_text())
    manifest["files"][0]["name"] = "../../CURRENT"
    resign(pub_dir, manifest)  # even a trusted signer cannot send files elsewhere
    with pytest.raises(CorruptPublication, match="unexpected file name"):
        pull(host, pub_dir.parent, trusted=TRUSTED)
    assert_still_serving_g1(host)


def test_nothing_published_exits_3(host: IndexHome, tmp_path: Path, keys) -> None:
    result = cli(
        "pull",
        "--from",
        str(tmp_path / "empty"),
        "--index-dir",
        str(host.path),
        "--verify-key",
        str(keys[1]),
    )
    assert result.exit_code == 3 and "nothing published" in result.stderr
    assert "index publish" in result.stderr  # the hint


def test_publish_without_an_index_exits_3(tmp_path: Path, keys) -> None:
    result = cli(
        "publish",
        "--to",
        str(tmp_path / "d"),
        "--index-dir",
        str(tmp_path / "none"),
        "--sign-key",
        str(keys[0]),
    )
    assert result.exit_code == 3 and "no index" in result.stderr


# -- rollback and the CLI ----------------------------------------------------------------


def test_fleet_rollback_by_republishing_the_previous_generation(
    origin: IndexHome, dist: Path, host: IndexHome, monkeypatch
) -> None:
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    build(origin, [*FIXTURE_ARTICLES, EXTRA])
    publish(origin, dist, signer=PUBLISHER)
    pull(host, dist, trusted=TRUSTED)
    assert host.current_name() == "g000002"

    with writer_lock(origin):
        assert rollback(origin) == "g000001"
    again = publish(origin, dist, signer=PUBLISHER)
    assert again.already_published and again.publication == "g000001.1"
    spy = CopySpy(monkeypatch, dist)
    report = pull(host, dist, trusted=TRUSTED)
    assert (report.action, host.current_name()) == ("new", "g000001")
    assert set(spy.files) == {MANIFEST}  # every segment came from the local g000001
    assert "fx-replica-extra" not in search_ids(host, "Quỳnh Lâm")


def test_cli_keygen_publish_and_pull(tmp_path: Path, origin: IndexHome, host: IndexHome) -> None:
    result = cli("keygen", "--out", str(tmp_path / "keys"), "--name", "indexer-2026")
    assert result.exit_code == 0, result.output
    key, pub = tmp_path / "keys" / "indexer-2026.key", tmp_path / "keys" / "indexer-2026.pub"
    assert key.stat().st_mode & 0o777 == 0o600 and pub.exists()
    assert "PRIVATE KEY" in key.read_text() and "PUBLIC KEY" in pub.read_text()
    again = cli("keygen", "--out", str(tmp_path / "keys"), "--name", "indexer-2026")
    assert again.exit_code == 1 and "never overwritten" in again.stderr  # the key is kept
    assert key.stat().st_mode & 0o777 == 0o600

    dist = tmp_path / "dist"
    result = cli(
        "publish", "--to", str(dist), "--index-dir", str(origin.path), "--sign-key", str(key)
    )
    assert result.exit_code == 0, result.output
    assert "published g000001.1" in result.stdout and "signed with indexer-2026" in result.stdout
    pull_args = ["pull", "--from", str(dist), "--index-dir", str(host.path)]
    result = cli(*pull_args, "--verify-key", str(pub))
    assert result.exit_code == 0, result.output
    assert "pulled g000001.1 (signed by indexer-2026.pub): generation g000001 live" in result.stdout
    result = cli(*pull_args, "--verify-key", str(tmp_path / "keys"))  # a directory of keys
    assert result.exit_code == 0 and "already live" in result.stdout


def test_cli_reads_keys_from_the_environment(
    tmp_path: Path, origin: IndexHome, host: IndexHome, keys
) -> None:
    dist = tmp_path / "dist"
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["index", "publish", "--to", str(dist), "--index-dir", str(origin.path)],
        env={"VNSEARCH_SIGN_KEY": str(keys[0])},
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main,
        ["index", "pull", "--from", str(dist), "--index-dir", str(host.path)],
        env={"VNSEARCH_VERIFY_KEY": str(keys[1])},
    )
    assert result.exit_code == 0 and "signed by publisher.pub" in result.stdout


def test_publish_and_pull_without_a_key_refuse_naming_the_option(
    tmp_path: Path, origin: IndexHome, host: IndexHome
) -> None:
    dist = tmp_path / "dist"
    result = cli("publish", "--to", str(dist), "--index-dir", str(origin.path))
    assert result.exit_code == 2 and "--sign-key" in result.stderr
    assert not dist.exists()
    result = cli("pull", "--from", str(dist), "--index-dir", str(host.path))
    assert result.exit_code == 2 and "--verify-key" in result.stderr
    with pytest.raises(ReplicaError, match="no verify key") as caught:
        pull(host, dist)  # the library refuses too
    assert "--verify-key" in caught.value.hint
    assert host.current_name() is None


def test_publish_keeps_a_bounded_number_of_publications(origin: IndexHome, dist: Path) -> None:
    for i in range(4):
        if i:
            update(origin, [*FIXTURE_ARTICLES[:6], replace(EXTRA, id=f"fx-extra-{i}")])
        publish(origin, dist, keep=2, signer=PUBLISHER)
    assert sorted(p.name for p in dist.iterdir()) == [LATEST, "g000001.3", "g000001.4"]


def test_pull_loop_follows_publications_and_stops_on_sigterm(
    origin: IndexHome, dist: Path, host: IndexHome, keys
) -> None:
    publish(origin, dist, signer=PUBLISHER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    argv = [sys.executable, "-c", "from search_api.cli import main; main()"]
    argv += ["index", "pull", "--from", str(dist), "--index-dir", str(host.path), "--loop", "0.2"]
    argv += ["--verify-key", str(keys[1])]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:

        def wait_for(name: str) -> None:
            deadline = time.monotonic() + 20
            while host.current_name() != name:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, f"{name} never became live"
                time.sleep(0.05)

        wait_for("g000001")
        (dist / LATEST).write_text("g000009.1\n")  # a broken pointer: reported, retried
        time.sleep(0.5)
        build(origin, [*FIXTURE_ARTICLES, EXTRA])
        publish(origin, dist, signer=PUBLISHER)
        wait_for("g000002")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "pulled g000001.1" in out and "pulled g000002.1" in out
    assert out.rstrip().endswith("stopped")
    assert err.count("g000009.1") == 1  # one line per distinct problem, not one per poll
    assert "Traceback" not in err


def test_systemd_pull_units_use_existing_options() -> None:
    """deploy/systemd's ExecStart lines for pull name real commands and options."""
    import shlex

    checked = 0
    for unit in sorted((ROOT / "deploy" / "systemd").glob("vnsearch-pull*.service")):
        for line in unit.read_text("utf-8").splitlines():
            if not line.startswith("ExecStart="):
                continue
            args = shlex.split(line.removeprefix("ExecStart="))[1:]
            command, ctx = main, None
            while args and not args[0].startswith("-"):
                command = command.get_command(ctx, args.pop(0))
                assert command is not None, (unit.name, line)
            known = {opt for p in command.params for opt in p.opts}
            assert {a for a in args if a.startswith("--")} <= known, (unit.name, line)
            # Pulls check signatures: a trusted-key directory, never --allow-unsigned.
            assert "--verify-key" in args and "--allow-unsigned" not in args, (unit.name, line)
            checked += 1
    assert checked == 2
