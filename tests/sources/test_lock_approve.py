"""``skiffbuild lock --approve-unhashed``: a file no .hash lists (a SkiffOS custom kernel)
is approved once, recorded in skiffbuild.lock, and from then on accepted only with the
approved bytes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import DoitProject, PinnedTree, add_external_package, make_doit_project
from httpserver import FaultyServer

WS = "qemu-x86_64"
REL = "hello/hello-1.0.tar.gz"
DATA = b"the custom kernel, as first reviewed\n"
OTHER = b"other bytes under the same name\n"
HINT = (f"hint: review and approve it once: skiffbuild lock --approve-unhashed {WS} (records "
        "its sha256 in skiffbuild.lock), or add its hash to a layer's "
        "buildroot_patches/<package>/<package>.hash")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unhashed_project(dest: Path, tree: PinnedTree, server: FaultyServer) -> DoitProject:
    """The bundled boards with a package on qemu-x86_64 that no .hash file lists."""
    project = make_doit_project(dest, tree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
    add_external_package(project, "hello", "1.0", {})  # no hello.hash
    server.files[f"/{REL}"] = DATA
    return project


def locked_sources(project: DoitProject) -> dict[str, dict[str, object]]:
    data = yaml.safe_load((project.root / "skiffbuild.lock").read_text())
    return data["workspaces"][WS]["sources"]


@pytest.mark.slow
def test_approve_once_then_only_the_approved_bytes_are_accepted(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    project = unhashed_project(tmp_path / "p", testtree, upstream)
    cached = project.root / "cache/dl" / REL

    # Before approval: refused, before any download, naming the approval first.
    refused = project.doit(f"sources:{WS}", check=False)
    assert refused.returncode == 2
    assert f"  {REL} (hello): no hash (looked in: no .hash file exists for it)" in refused.stderr
    assert HINT in refused.stderr
    assert sum(upstream.requests.values()) == 0

    # The approval: downloaded through the normal downloader, printed for review, locked.
    approve = project.skiffbuild("lock", "--approve-unhashed", WS)
    assert approve.returncode == 0, approve.stderr
    url = f"{upstream.url}/{REL}"
    assert (f"{WS}: approved {REL} (hello): sha256 {sha(DATA)}, {len(DATA)} bytes, "
            f"url {url}") in approve.stdout.splitlines()
    assert f"skiffbuild.lock: updated ({WS})" in approve.stdout.splitlines()
    entries = locked_sources(project)
    assert entries[REL] == {"sha256": sha(DATA), "size": len(DATA), "approved": "unhashed",
                            "url": url}
    # Every other source is locked as before, by its .hash file: no approval marks.
    assert [p for p, e in entries.items() if "approved" in e] == [REL]
    count = len(entries)
    assert cached.read_bytes() == DATA

    # From then on sources: accepts it, and check counts it as hashed (by its approval).
    assert project.doit(f"sources:{WS}").returncode == 0
    check = project.skiffbuild("check", WS)
    assert check.returncode == 0, check.stderr
    assert check.stdout.splitlines() == [
        f"{WS}: ok (hash audit: {count} of {count} source files hashed, 1 of them approved in "
        "skiffbuild.lock)"]
    listing = project.skiffbuild("sources", WS)
    assert f"ok        {REL}  (hello)" in listing.stdout.splitlines()
    assert project.skiffbuild("lock", "--check", WS).returncode == 0
    # A plain lock keeps the approval, byte for byte.
    lock_bytes = (project.root / "skiffbuild.lock").read_bytes()
    plain = project.skiffbuild("lock", WS)
    assert plain.returncode == 0, plain.stderr
    assert f"skiffbuild.lock: unchanged ({WS})" in plain.stdout
    assert (project.root / "skiffbuild.lock").read_bytes() == lock_bytes

    # Upstream serves other bytes under the same name. Approving again does not
    # re-approve them: the file is already approved and the cache keeps its bytes.
    upstream.files[f"/{REL}"] = OTHER
    again = project.skiffbuild("lock", "--approve-unhashed", WS)
    assert again.returncode == 0, again.stderr
    assert f"{WS}: {REL}: already approved in skiffbuild.lock (sha256 {sha(DATA)})" in \
        again.stdout.splitlines()
    assert (project.root / "skiffbuild.lock").read_bytes() == lock_bytes
    assert cached.read_bytes() == DATA

    # A machine without the file (here: the cache emptied of it) is refused the new bytes.
    cached.unlink()
    swapped = project.doit(f"sources:{WS}", check=False)
    assert swapped.returncode == 2
    assert "TaskFailed" not in swapped.stdout + swapped.stderr
    assert (f"refused, sha256 expected {sha(DATA)}, got {sha(OTHER)} (skiffbuild.lock: {WS}: "
            f"{REL} (approved unhashed))") in swapped.stderr
    assert "a file approved in skiffbuild.lock was served with other bytes; nothing in the " \
        "cache was replaced" in swapped.stderr
    assert not cached.exists()  # nothing was put in the cache
    assert [p.read_bytes() for p in (project.root / "cache/rejected").glob("hello-1.0*")] == \
        [OTHER]
    assert (project.root / "skiffbuild.lock").read_bytes() == lock_bytes

    # The cached file replaced behind skiffbuild's back: lock --check names the approval;
    # a plain lock moves the copy aside, fetches the file again, and refuses other bytes.
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(OTHER)
    drift = project.skiffbuild("lock", "--check", WS)
    assert drift.returncode == 1
    assert (f"{WS}: {REL}: the cached file no longer matches its approval (approved "
            f"{sha(DATA)[:12]}…, cached {sha(OTHER)[:12]}…)") in drift.stderr
    relock = project.skiffbuild("lock", WS)
    assert relock.returncode == 2
    assert f"{REL.split('/')[1]}: cached copy failed verification (sha256 expected {sha(DATA)}, " \
        f"got {sha(OTHER)} (skiffbuild.lock: {WS}: {REL} (approved unhashed)))" in relock.stderr
    assert f"refused, sha256 expected {sha(DATA)}, got {sha(OTHER)}" in relock.stderr
    assert not cached.exists()
    assert (project.root / "skiffbuild.lock").read_bytes() == lock_bytes

    # Upstream back to the approved bytes: the tampered copy is moved aside, fetched again.
    upstream.files[f"/{REL}"] = DATA
    assert project.doit(f"sources:{WS}").returncode == 0
    assert cached.read_bytes() == DATA
    assert project.skiffbuild("lock", "--check", WS).returncode == 0

    # The package leaves the board: its approval is dropped, with a message.
    (project.root / "overrides/buildroot/hello").unlink()
    dropped = project.skiffbuild("lock", WS)
    assert dropped.returncode == 0, dropped.stderr
    assert f"{WS}: {REL}: approval dropped (no longer a source of the workspace)" in \
        dropped.stderr.splitlines()
    assert REL not in locked_sources(project)


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_offline_approval_takes_only_cached_files(tmp_path: Path, testtree: PinnedTree,
                                                  upstream: FaultyServer) -> None:
    project = unhashed_project(tmp_path / "p", testtree, upstream)
    # Offline with the file not in the cache: listed, non-zero, nothing recorded.
    offline = project.skiffbuild("lock", "--approve-unhashed", "--offline", WS)
    assert offline.returncode == 2
    assert (f"error: 1 unhashed source file(s) cannot be approved (offline mode); nothing was "
            f"recorded:\n  {WS}: {REL} (hello): not in the cache (offline mode: only a cached "
            "file can be approved)") in offline.stderr
    assert not (project.root / "skiffbuild.lock").exists()
    project.env["SKIFFBUILD_OFFLINE"] = "1"  # the variable says the same
    assert project.skiffbuild("lock", "--approve-unhashed", WS).returncode == 2
    assert sum(upstream.requests.values()) == 0

    # The files put in the cache by hand (every other one is verified by its hash):
    # approved from the cache, saying that its origin is unknown.
    shutil.copytree(tmp_path / "site", project.root / "cache/dl", dirs_exist_ok=True)
    (project.root / "cache/dl/hello").mkdir(parents=True, exist_ok=True)
    (project.root / "cache/dl" / REL).write_bytes(DATA)
    approved = project.skiffbuild("lock", "--approve-unhashed", WS)
    assert approved.returncode == 0, approved.stderr
    assert (f"{WS}: approved {REL} (hello): sha256 {sha(DATA)}, {len(DATA)} bytes, from the "
            "cache, url unknown (already in the cache, origin not recorded)") in \
        approved.stdout.splitlines()
    assert locked_sources(project)[REL]["approved"] == "unhashed"
    assert sum(upstream.requests.values()) == 0
    assert project.doit(f"sources:{WS}").returncode == 0


def test_approve_unhashed_user_mistakes_exit_2(tmp_path: Path, testtree: PinnedTree,
                                              upstream: FaultyServer) -> None:
    project = unhashed_project(tmp_path / "p", testtree, upstream)
    unknown = project.skiffbuild("lock", "--approve-unhashed", "no-such-board")
    assert unknown.returncode == 2
    assert "no-such-board" in unknown.stderr
    both = project.skiffbuild("lock", "--approve-unhashed", "--check", WS)
    assert both.returncode == 2
    assert "give one of them" in both.stderr
    # A plain lock of an unhashed file names the approval.
    plain = project.skiffbuild("lock", WS)
    assert plain.returncode == 2
    assert f"hint: review and approve the unhashed file(s) once: skiffbuild lock " \
        f"--approve-unhashed {WS}" in plain.stderr
    assert not (project.root / "skiffbuild.lock").exists()


def test_lock_format_of_an_approval_round_trips_and_is_checked(tmp_path: Path) -> None:
    from skiffbuild.core.errors import SkiffError
    from skiffbuild.core.project import Project
    from skiffbuild.sources.lockfile import (
        LockedSource,
        WorkspaceLock,
        lock_path,
        lock_text,
        read_lock,
    )

    project = Project(tmp_path)
    approved = LockedSource(REL, sha(DATA), len(DATA), "unhashed", "https://example.invalid/h")
    plain = LockedSource("busybox/busybox-1.37.0.tar.bz2", sha(OTHER), len(OTHER))
    entry = WorkspaceLock("https://example.invalid/br.git", "a" * 40, "b" * 64,
                          (plain, approved))
    text = lock_text({WS: entry})
    assert (f"      {REL}:\n        approved: unhashed\n        sha256: {sha(DATA)}\n"
            f"        size: {len(DATA)}\n        url: https://example.invalid/h\n") in text
    assert "busybox-1.37.0.tar.bz2:\n        sha256:" in text  # no approval marks on others
    lock_path(project).write_text(text)
    assert read_lock(project) == {WS: entry}
    assert read_lock(project)[WS].approvals() == {REL: approved}  # type: ignore[index]
    lock_path(project).write_text(text.replace("approved: unhashed", "approved: anything"))
    with pytest.raises(SkiffError, match=f"skiffbuild.lock: workspace {WS}: malformed entry"):
        read_lock(project)
