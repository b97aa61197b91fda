"""Issue 13, finding 2 end to end (slow: a full build against the test tree):
`skiffbuild build`, then `skiffbuild run` with a stand-in qemu that writes into its
drive. The default throw-away copy leaves the release matching SHA256SUMS; after
--persist, image:<ws> is no longer up to date and rebuilds it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project, ran
from httpserver import FaultyServer
from test_run import QEMU

pytestmark = pytest.mark.slow


def sums_ok(image_dir: Path) -> bool:
    return subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=image_dir,
                          capture_output=True, check=False).returncode == 0


def image_ran(project: DoitProject) -> bool:
    """Whether doit image:qemu-x86_64 ran; a failure shows why doit said it would."""
    info = project.doit("info", "image:qemu-x86_64", check=False).stdout
    result = ran(project.doit("image:qemu-x86_64").stdout)["image:qemu-x86_64"]
    if result and "SHA256SUMS match it" not in info:
        print(info)
    return result


def test_run_keeps_the_release_and_image_rebuilds_a_written_one(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    project = make_doit_project(tmp_path / "p", testtree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = upstream.url
    built = project.skiffbuild("build", "qemu-x86_64")
    assert built.returncode == 0, built.stderr
    assert built.stdout == ("qemu-x86_64: workspaces/qemu-x86_64/image/qemu-x86_64.img "
                            "(checksums: workspaces/qemu-x86_64/image/SHA256SUMS)\n")
    image_dir = project.root / "workspaces/qemu-x86_64/image"
    assert sums_ok(image_dir)

    bin_dir, record = tmp_path / "bin", tmp_path / "record"
    bin_dir.mkdir()
    record.mkdir()
    (bin_dir / "qemu-system-x86_64").write_text(QEMU)
    (bin_dir / "qemu-system-x86_64").chmod(0o755)
    project.env["PATH"] = f"{bin_dir}:{project.env['PATH']}"
    project.env["RECORD"] = str(record)

    booted = project.skiffbuild("run", "qemu-x86_64", "virt/qemu/run", "--", "-snapshot")
    assert booted.returncode == 0, booted.stderr
    assert sums_ok(image_dir)
    assert image_ran(project) is False

    booted = project.skiffbuild("run", "--persist", "qemu-x86_64", "virt/qemu/run")
    assert booted.returncode == 0, booted.stderr
    assert not sums_ok(image_dir)
    assert image_ran(project) is True
    assert sums_ok(image_dir)
    assert image_ran(project) is False
