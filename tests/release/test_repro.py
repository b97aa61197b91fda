"""repro: identical builds, and a nondeterministic layer pinned down to its file (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PinnedTree, make_doit_project, use_standin_pi_kernel
from httpserver import FaultyServer

from skiffbuild.release.repro import parse_sums

pytestmark = pytest.mark.slow


def project_for(tmp_path: Path, tree: PinnedTree, server: FaultyServer):
    project = make_doit_project(tmp_path / "p", tree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
    return project


def test_bundled_qemu_board_is_identical_then_a_clock_is_caught(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    project = project_for(tmp_path, testtree, upstream)
    same = project.skiffbuild("repro", "qemu-x86_64")
    assert same.returncode == 0, same.stdout + same.stderr
    report = json.loads((project.root / "workspaces/qemu-x86_64/repro/report.json").read_text())
    assert report["verdict"] == "identical"
    assert [a["name"] for a in report["artifacts"]] == [
        "partitions/boot.vfat", "partitions/persist.ext4", "qemu-x86_64.img"]

    hook = project.root / "overrides" / "hooks" / "post-build.sh"
    hook.parent.mkdir(parents=True)
    # Not `date`: with BR2_REPRODUCIBLE, Buildroot's fakedate pins it (the tree's too).
    hook.write_text('#!/bin/sh\ncat /proc/uptime > "$1/etc/build-time"\n')
    hook.chmod(0o755)
    differ = project.skiffbuild("repro", "qemu-x86_64")
    assert differ.returncode == 1, differ.stdout + differ.stderr
    report = json.loads((project.root / "workspaces/qemu-x86_64/repro/report.json").read_text())
    assert report["verdict"] == "different"
    paths = {(d["partition"], d["path"], d["kind"]) for d in report["differences"]}
    assert ("boot", "rootfs.cpio.gz:etc/build-time", "content") in paths
    assert "  boot: rootfs.cpio.gz:etc/build-time: content" in differ.stdout

    # The release check: one fresh build against the published SHA256SUMS of build a.
    published = project.root / "cache/repro/qemu-x86_64/a/workspaces/qemu-x86_64/image"
    sums = tmp_path / "published" / "SHA256SUMS"
    sums.parent.mkdir()
    sums.write_text((published / "SHA256SUMS").read_text())
    hook.unlink()
    check = project.skiffbuild("repro", "qemu-x86_64", "--against", str(sums))
    assert check.returncode == 1  # the published set came from the clock-writing build
    assert parse_sums(sums.read_text()).keys() == {
        "qemu-x86_64.img", "partitions/boot.vfat", "partitions/persist.ext4"}


def test_bundled_pi4_board_is_identical(tmp_path: Path, testtree: PinnedTree,
                                        upstream: FaultyServer) -> None:
    project = project_for(tmp_path, testtree, upstream)
    use_standin_pi_kernel(project, tmp_path / "site")
    result = project.skiffbuild("repro", "pi4")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((project.root / "workspaces/pi4/repro/report.json").read_text())
    assert report["verdict"] == "identical"
    assert len(report["artifacts"]) == 4  # disk, boot, rootfs, persist


def test_against_a_missing_file_is_a_usage_error(tmp_path: Path, testtree: PinnedTree,
                                                 upstream: FaultyServer) -> None:
    project = project_for(tmp_path, testtree, upstream)
    result = project.skiffbuild("repro", "qemu-x86_64", "--against", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert f"error: cannot read {tmp_path / 'nope'}: No such file or directory" in result.stderr
