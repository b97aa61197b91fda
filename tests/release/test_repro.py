"""repro: identical builds, a clock leak at day granularity pinned down to its file, and a
failed build reported by its cause (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PinnedTree, make_doit_project, use_standin_pi_kernel
from httpserver import FaultyServer
from keys import ed25519_keypair

from skiffbuild.release.repro import first_error, sums_of

pytestmark = pytest.mark.slow


def project_for(tmp_path: Path, tree: PinnedTree, server: FaultyServer):
    project = make_doit_project(tmp_path / "p", tree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
    return project


def test_bundled_qemu_board_is_identical_then_a_year_stamp_is_caught(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    project = project_for(tmp_path, testtree, upstream)
    # A stage cache configured: repro's builds must never ask it (both really build).
    _, trusted = ed25519_keypair(tmp_path / "keys", "builder")
    store = FaultyServer()
    project.env.update(SKIFFBUILD_CACHE_URL=store.url, SKIFFBUILD_CACHE_TRUST=str(trusted))
    try:
        same = project.skiffbuild("repro", "qemu-x86_64")
    finally:
        store.stop()
    assert same.returncode == 0, same.stdout + same.stderr
    # (its sources may come from the store: they are verified as from any site)
    assert [path for _method, path in store.methods if path.startswith(("/ac/", "/cas/"))] == []
    assert store.methods  # the store was reachable: a lookup would have been made
    report = json.loads((project.root / "workspaces/qemu-x86_64/repro/report.json").read_text())
    assert report["verdict"] == "identical"
    # The SBOM and the provenance statement are compared byte for byte like the images.
    assert [a["name"] for a in report["artifacts"]] == [
        "partitions/boot.vfat", "partitions/persist.ext4", "provenance.intoto.json",
        "qemu-x86_64.img", "sbom.cdx.json"]
    # Build b ran a year (373 days) ahead; the pinned SOURCE_DATE_EPOCH kept it identical.
    assert report["builds"]["b"]["variant"]["faketime"] == "+373d"
    assert report["pin"]["commit"] == testtree.sha and report["pin"]["tag"] == "2026.02.3-test"
    assert all(build["seconds"] > 0 for build in report["builds"].values())
    assert all(len(a["a"]) == 64 and a["a"] == a["b"] for a in report["artifacts"])

    hook = project.root / "overrides" / "hooks" / "post-build.sh"
    hook.parent.mkdir(parents=True)
    # A date stamp from the build machine's clock: the same year for builds a second (or
    # an hour) apart, caught only when the second build runs a year away. (/bin/date, not
    # `date`: with BR2_REPRODUCIBLE, Buildroot's fakedate pins that one, the tree's too.)
    hook.write_text('#!/bin/sh\n/bin/date +%Y > "$1/etc/build-year"\n')
    hook.chmod(0o755)
    differ = project.skiffbuild("repro", "qemu-x86_64")
    assert differ.returncode == 1, differ.stdout + differ.stderr
    report = json.loads((project.root / "workspaces/qemu-x86_64/repro/report.json").read_text())
    assert report["verdict"] == "different"
    paths = {(d["partition"], d["path"], d["kind"]) for d in report["differences"]}
    assert ("boot", "rootfs.cpio.gz:etc/build-year", "content") in paths
    assert "  boot: rootfs.cpio.gz:etc/build-year: content" in differ.stdout

    # The release check: one fresh build against the published SHA256SUMS of build a.
    published = project.root / "cache/repro/qemu-x86_64/a/workspaces/qemu-x86_64/image"
    sums = tmp_path / "published" / "SHA256SUMS"
    sums.parent.mkdir()
    sums.write_text((published / "SHA256SUMS").read_text())
    hook.unlink()
    check = project.skiffbuild("repro", "qemu-x86_64", "--against", str(sums))
    assert check.returncode == 1  # the published set came from the year-writing build

    assert sums_of(sums).keys() == {
        "qemu-x86_64.img", "partitions/boot.vfat", "partitions/persist.ext4"}


def test_bundled_pi4_board_is_identical(tmp_path: Path, testtree: PinnedTree,
                                        upstream: FaultyServer) -> None:
    project = project_for(tmp_path, testtree, upstream)
    use_standin_pi_kernel(project, tmp_path / "site")
    result = project.skiffbuild("repro", "pi4")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((project.root / "workspaces/pi4/repro/report.json").read_text())
    assert report["verdict"] == "identical"
    assert len(report["artifacts"]) == 6  # disk, boot, rootfs, persist, SBOM, provenance


def test_against_a_missing_file_is_a_usage_error(tmp_path: Path, testtree: PinnedTree,
                                                 upstream: FaultyServer) -> None:
    project = project_for(tmp_path, testtree, upstream)
    result = project.skiffbuild("repro", "qemu-x86_64", "--against", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert f"error: cannot read {tmp_path / 'nope'}: No such file or directory" in result.stderr


def test_a_failed_build_is_reported_by_its_cause(tmp_path: Path, testtree: PinnedTree,
                                                 upstream: FaultyServer) -> None:
    project = project_for(tmp_path, testtree, upstream)
    hook = project.root / "overrides" / "hooks" / "post-build.sh"
    hook.parent.mkdir(parents=True)
    hook.write_text('#!/bin/sh\nset -e\necho "installing firmware"\n'
                    'cp /nonexistent/firmware.bin "$1/etc/"\n')
    hook.chmod(0o755)
    result = project.skiffbuild("repro", "qemu-x86_64")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads((project.root / "workspaces/qemu-x86_64/repro/report.json").read_text())
    assert report["verdict"] == "error"
    error = report["error"]
    # The cause, not make's "*** … Error 2" nor the log's last line.
    assert error["cause"] == ("cp: cannot stat '/nonexistent/firmware.bin': "
                              "No such file or directory")
    assert error["build"] == "a" and error["step"].startswith('step "Executing post-build script ')
    assert f"build a failed: {error['cause']}" in result.stdout
    assert "b" not in report["builds"]


def test_first_error_is_the_cause() -> None:
    log = ["make[2]: Entering directory '/x'",
           "gcc -Werror=implicit -c foo.c",
           "foo.c:3:1: error: unknown type name 'bar'",
           "foo.c:9:1: error: expected ';'",
           "make[2]: *** [Makefile:4: foo.o] Error 1",
           "make[1]: *** [package/pkg-generic.mk:273: build] Error 2",
           "make: *** [Makefile:15: _all] Error 2"]
    assert first_error(log) == "foo.c:3:1: error: unknown type name 'bar'"
    assert first_error(log[4:]) == "make[2]: *** [Makefile:4: foo.o] Error 1"
    assert first_error(["all fine"]) is None


def test_a_published_sha256sums_is_read_strictly(tmp_path: Path) -> None:
    sums = tmp_path / "SHA256SUMS"
    digest = "ab" * 32
    sums.write_text(f"{digest}  disk.img\n\n{digest}  partitions/boot.vfat\n")
    assert sums_of(sums) == {"disk.img": digest, "partitions/boot.vfat": digest}
    sums.write_text(f"{digest}  ../outside\n")
    with pytest.raises(ValueError) as caught:
        sums_of(sums)
    assert str(caught.value) == f"{sums}: not a SHA256SUMS line: '{digest}  ../outside'"
