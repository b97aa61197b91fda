"""A real Buildroot 2026.02.3 build of a small board through skiffbuild's tasks, offline.

The board (tests/real/, see its README): x86_64, the external toolchain made from Debian
packages by scripts/setup-real, BusyBox init, Debian's packaged kernel, a layer with an overlay,
a post-build hook, a BusyBox fragment and a BR2_EXTERNAL package of its own built from source.
Its three sources come from shared/sources and tests/real/make-ext-tarball through
``SKIFFBUILD_PRIMARY_SITE``; make runs with no network at all (``unshare -n``).

fetch → config → sources → compile → image → a qemu boot to a shell showing each layer input;
then a no-op that never calls make, a fragment change that rebuilds no package, a package
developed through ``<PKG>_OVERRIDE_SRCDIR`` whose edit reaches the image, and ``repro:``.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    REAL_BOARD,
    REAL_BUILD_NEEDS,
    REAL_TOOLCHAIN,
    DoitProject,
    make_real_board_project,
    ran,
    require_shared,
)
from console import ConsoleSession, qemu_disk_argv

# The first test builds the whole board (module fixture): about 10 minutes here.
pytestmark = [pytest.mark.real_buildroot, pytest.mark.slow, pytest.mark.timeout(3000)]

REAL = REAL_BOARD
WS = "tiny"


@dataclass(frozen=True)
class RealBuild:
    project: DoitProject
    first: subprocess.CompletedProcess[str]

    @property
    def ws(self) -> Path:
        return self.project.root / "workspaces" / WS

    def doit(self, *args: str) -> subprocess.CompletedProcess[str]:
        # No network namespace: nothing in a build may reach the network.
        proc = subprocess.run(["unshare", "-n", sys.executable, "-m", "doit", *args],
                              cwd=self.project.root, env=self.project.env,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, f"doit {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc


@pytest.fixture(scope="module")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealBuild]:
    require_shared(*REAL_BUILD_NEEDS)
    project = make_real_board_project(tmp_path_factory.mktemp("realbuild"))
    build = RealBuild(project, subprocess.CompletedProcess([], 0))
    first = build.doit(f"image:{WS}")
    yield RealBuild(project, first)


def _make_runs(log: Path, since: int) -> list[str]:
    """The make command lines compile:<ws> logged after byte ``since``."""
    text = log.read_bytes()[since:].decode(errors="replace")
    return [line for line in text.splitlines() if line.startswith("$ make ")]


def _built_packages(log: Path, since: int) -> set[str]:
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\x1b\(B", "", log.read_bytes()[since:].decode(
        errors="replace"))
    return {line.split()[1] for line in text.splitlines()
            if line.startswith(">>> ") and line.rstrip().endswith(" Building")}


def _initramfs(build: RealBuild) -> bytes:
    return gzip.decompress((build.ws / "output" / "images" / "rootfs.cpio.gz").read_bytes())


def test_real_board_builds_boots_and_rebuilds_only_what_changed(real_build: RealBuild) -> None:
    build = real_build
    assert ran(build.first.stdout) == {"fetch:buildroot": True, f"config:{WS}": True,
                                       f"sources:{WS}": True, f"compile:{WS}": True,
                                       f"image:{WS}": True}
    sources = json.loads((build.ws / "config" / "sources.json").read_text())["sources"]
    assert sorted(s["file"] for s in sources) == [
        "busybox-1.37.0.tar.bz2", "patchelf-0.13-skiffbuild.tar.gz", "skiffhello-1.0.tar.gz"]
    image = build.ws / "image" / f"{WS}.img"
    sums = (build.ws / "image" / "SHA256SUMS").read_text()
    assert f"  {WS}.img\n" in sums

    # Boot the disk image (syslinux, Debian's kernel, the initramfs) to a shell.
    console = ConsoleSession(qemu_disk_argv(image))
    try:
        console.login()
        seen = {cmd: console.run(cmd) for cmd in (
            "hostname", "cat /etc/skiff-tiny-overlay", "cat /etc/skiff-tiny-postbuild",
            "cal 1 2000", "skiffhello")}
    finally:
        console.close()
    assert seen["hostname"] == ("skiff-tiny-real\n", 0)
    assert seen["cat /etc/skiff-tiny-overlay"] == (
        (REAL / "layers/real/tiny/root_overlay/etc/skiff-tiny-overlay").read_text(), 0)
    assert seen["cat /etc/skiff-tiny-postbuild"][0].splitlines() == [
        "skiff-tiny-postbuild: layer=real/tiny",
        "skiff-tiny-postbuild: target hostname=skiff-tiny-real buildroot=2026.02.3-dirty"]
    cal, status = seen["cal 1 2000"]  # off in Buildroot's BusyBox config: the fragment's
    assert status == 0 and "January 2000" in cal and cal.rstrip().endswith("30 31")
    assert seen["skiffhello"] == (
        "skiffhello 1.0: built by Buildroot from a BR2_EXTERNAL package, running on x86_64\n", 0)

    # Nothing changed: every task up to date, make never called.
    log = build.ws / "logs" / "compile.log"
    size = log.stat().st_size
    noop = build.doit(f"image:{WS}")
    assert set(ran(noop.stdout).values()) == {False}
    assert log.stat().st_size == size

    # A fragment change that needs no package rebuilt: only Buildroot's finalize steps.
    frag = build.project.root / "overrides" / "workspaces" / WS / "buildroot"
    frag.mkdir(parents=True)
    (frag / "hostname").write_text('BR2_TARGET_GENERIC_HOSTNAME="skiff-tiny-two"\n')
    changed = build.doit(f"image:{WS}")
    assert ran(changed.stdout)[f"compile:{WS}"] is True
    runs = _make_runs(log, size)
    assert len(runs) == 1 and "clean" not in runs[0], runs  # no clean, no dirclean
    assert _built_packages(log, size) == set()
    assert (build.ws / "output" / "target" / "etc" / "hostname").read_text() == \
        "skiff-tiny-two\n"
    assert (build.ws / "image" / "SHA256SUMS").read_text() != sums

    # skiffhello developed from a local tree: its edit reaches the image.
    src = build.project.root.parent / "skiffhello-dev"
    shutil.copytree(REAL / "ext-src" / "skiffhello-1.0", src)
    local = build.project.root.parent / "local.mk"
    local.write_text(f"SKIFFHELLO_OVERRIDE_SRCDIR = {src}\n")
    (frag / "local-mk").write_text(f'BR2_PACKAGE_OVERRIDE_FILE="{local}"\n')
    build.doit(f"image:{WS}")
    assert b"built by Buildroot from a BR2_EXTERNAL package" in _initramfs(build)
    code = src / "skiffhello.c"
    code.write_text(code.read_text().replace("built by Buildroot from a BR2_EXTERNAL package",
                                             "edited in a local tree"))
    size = log.stat().st_size
    edited = build.doit(f"image:{WS}")
    assert ran(edited.stdout)[f"compile:{WS}"] is True
    assert f"compile:{WS}: source tree changed, rebuilding skiffhello (from {src})" in \
        edited.stdout + edited.stderr
    assert _built_packages(log, size) == {"skiffhello"}
    assert b"skiffhello 1.0: edited in a local tree" in _initramfs(build)
    info = json.loads((build.ws / "image" / "build-info.json").read_text())
    assert list(info["overrides"]) == ["skiffhello"]
    # What Buildroot took from outside its tree is on record with the image.
    assert info["external_toolchain"]["path"] == str(REAL_TOOLCHAIN)
    assert len(info["external_toolchain"]["digest"]) == 64
    assert info["buildroot_tree"]["commit"] == "679b9ead7620bbf193620d1ebf56f53c1764d37a"
    assert info["host_tools"]["make"].startswith("GNU Make ")


def test_real_board_is_reproducible(real_build: RealBuild) -> None:
    proc = subprocess.run(["unshare", "-n", sys.executable, "-m", "doit", f"repro:{WS}"],
                          cwd=real_build.project.root, env=real_build.project.env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((real_build.ws / "repro" / "report.json").read_text())
    assert report["verdict"] == "identical", report
