"""A preinstalled external toolchain and the host tools: what compile records and checks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project, ran
from httpserver import FaultyServer

from skiffbuild.buildroot.toolchain import (
    content_digest,
    external_toolchain,
    host_tool_versions,
    quick_key,
)

QEMU = "qemu-x86_64"
GCC = """#!/bin/sh
# A stand-in cross compiler: just what Buildroot's toolchain probes ask.
here=$(cd "$(dirname "$0")/.." && pwd)
case "$1" in
-v) echo "gcc version {version} (skiffbuild test toolchain)" >&2 ;;
-dumpversion) echo {version} ;;
-print-sysroot) echo "$here/sysroot" ;;
*) echo "stand-in compiler: $*" >&2; exit 1 ;;
esac
"""


def make_toolchain(root: Path, headers: tuple[int, int] = (6, 1), gcc: str = "12.2.0") -> Path:
    """An installed x86_64-linux glibc toolchain: compiler, loader, C library, headers."""
    (root / "bin").mkdir(parents=True)
    compiler = root / "bin" / "x86_64-linux-gcc"
    compiler.write_text(GCC.format(version=gcc))
    compiler.chmod(0o755)
    (root / "bin" / "x86_64-linux-cc").symlink_to("x86_64-linux-gcc")
    sysroot = root / "sysroot"
    (sysroot / "lib").mkdir(parents=True)
    (sysroot / "lib" / "ld-linux-x86-64.so.2").write_bytes(b"loader")
    (sysroot / "lib" / "libc.so.6").write_bytes(b"libc 2.36")
    (sysroot / "usr" / "include" / "linux").mkdir(parents=True)
    (sysroot / "usr" / "include" / "stdio.h").write_text("/* stdio */\n")
    set_headers(root, *headers)
    return root


def set_headers(root: Path, major: int, minor: int) -> None:
    code = (major << 16) + (minor << 8) + 1
    (root / "sysroot" / "usr" / "include" / "linux" / "version.h").write_text(
        f"#define LINUX_VERSION_CODE {code}\n")


def dotconfig(path: str) -> str:
    return ('#\n# Buildroot configuration\n#\nBR2_ARCH="x86_64"\nBR2_TOOLCHAIN_EXTERNAL=y\n'
            f'BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED=y\nBR2_TOOLCHAIN_EXTERNAL_PATH="{path}"\n'
            'BR2_TOOLCHAIN_EXTERNAL_PREFIX="$(ARCH)-linux"\n')


def test_the_toolchain_is_found_as_buildroot_finds_it(tmp_path: Path) -> None:
    tree, output = tmp_path / "tree", tmp_path / "o"
    home = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin"}
    assert external_toolchain("BR2_TOOLCHAIN_EXTERNAL_DOWNLOAD=y\n", tree, output, home) is None
    found = external_toolchain(dotconfig("$(HOME)/x-tools/../tc"), tree, output, home)
    assert found is not None and found.path == tmp_path / "home" / "tc"
    found = external_toolchain(dotconfig("toolchains/tc"), tree, output, home)
    assert found is not None and found.path == tree / "toolchains" / "tc"
    # An empty path: the directory of <prefix>-gcc on PATH.
    make_toolchain(tmp_path / "tc")
    found = external_toolchain(dotconfig(""), tree, output,
                               {"PATH": f"/nonexistent:{tmp_path / 'tc' / 'bin'}"})
    assert found is not None and found.path == tmp_path / "tc"
    found = external_toolchain(dotconfig(""), tree, output, {"PATH": "/nonexistent"})
    assert found is not None and found.path is None and found.setting == "x86_64-linux-gcc on PATH"


def test_replacing_the_toolchain_changes_its_keys_a_faithful_copy_only_the_quick_one(
        tmp_path: Path) -> None:
    root = make_toolchain(tmp_path / "tc")
    quick, (digest, files) = quick_key(root), content_digest(root)
    assert files == 12 and quick_key(root) == quick and content_digest(root) == (digest, files)
    # Copied away and back with its times (cp -a): new inodes, same toolchain.
    shutil.copytree(root, tmp_path / "copy", symlinks=True)
    shutil.rmtree(root)
    (tmp_path / "copy").rename(root)
    assert quick_key(root) != quick
    assert content_digest(root)[0] == digest
    quick = quick_key(root)
    # The C library overwritten in place, same size and time: both see it.
    libc = root / "sysroot" / "lib" / "libc.so.6"
    stat = libc.stat()
    libc.write_bytes(b"libc 2.37")
    os.utime(libc, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert quick_key(root) != quick and content_digest(root)[0] != digest
    quick, digest = quick_key(root), content_digest(root)[0]
    # Another file changed: the listing's size and time.
    (root / "sysroot" / "usr" / "include" / "stdio.h").write_text("/* stdio, new */\n")
    assert content_digest(root)[0] != digest
    assert quick_key(tmp_path / "missing") != quick


def test_host_tools_versions() -> None:
    versions = host_tool_versions({"PATH": os.environ["PATH"]})
    assert versions["make"].startswith("GNU Make ")
    assert versions["python3"].startswith("Python 3.")
    assert host_tool_versions({"PATH": "/nonexistent"})["make"] == "not found"


def use_toolchain(project: DoitProject, root: Path) -> None:
    """A workspace override: the Buildroot toolchain replaced by the installed one."""
    override = project.root / "overrides" / "workspaces" / QEMU / "buildroot"
    override.mkdir(parents=True)
    (override / "toolchain").write_text(
        "BR2_TOOLCHAIN_EXTERNAL=y\nBR2_TOOLCHAIN_EXTERNAL_CUSTOM=y\n"
        f'BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED=y\nBR2_TOOLCHAIN_EXTERNAL_PATH="{root}"\n'
        "BR2_TOOLCHAIN_EXTERNAL_GCC_12=y\nBR2_TOOLCHAIN_EXTERNAL_HEADERS_6_1=y\n"
        "BR2_TOOLCHAIN_EXTERNAL_CUSTOM_GLIBC=y\n")


@pytest.mark.slow
def test_installed_toolchain_is_probed_recorded_and_a_replaced_one_rebuilds_all(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    project = make_doit_project(tmp_path / "p", testtree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = upstream.url
    root = make_toolchain(tmp_path / "toolchain", headers=(5, 10))
    use_toolchain(project, root)

    # Buildroot's probe refuses headers of another series than the configured one.
    failed = project.doit(f"image:{QEMU}", check=False)
    assert failed.returncode != 0
    assert (f"error: compile of {QEMU} failed in package toolchain-external-custom "
            "(Configuring); last lines of the log:") in failed.stderr
    assert "  | Incorrect selection of kernel headers: expected 6.1.x, got 5.10.x" \
        in failed.stderr

    set_headers(root, 6, 1)
    fixed = project.doit(f"image:{QEMU}")
    assert f"compile:{QEMU}: external toolchain {root} changed (digest " in fixed.stderr
    compiled = json.loads((project.root / "workspaces" / QEMU / "state" /
                           "compile.json").read_text())
    assert compiled["external_toolchain"] == {"path": str(root),
                                              "digest": content_digest(root)[0], "files": 12}
    assert compiled["host_tools"]["make"].startswith("GNU Make ")
    assert compiled["buildroot_tree"]["commit"] == testtree.sha
    assert not any(ran(project.doit(f"image:{QEMU}").stdout).values())

    # Replaced under the same path by a faithful copy: built again, nothing cleaned.
    shutil.copytree(root, tmp_path / "copy", symlinks=True)
    shutil.rmtree(root)
    (tmp_path / "copy").rename(root)
    again = project.doit(f"image:{QEMU}")
    assert ran(again.stdout)[f"compile:{QEMU}"] is True
    assert "make clean" not in again.stderr and " Building" not in again.stderr

    # Replaced by another toolchain: everything is built again with it.
    (root / "sysroot" / "lib" / "libc.so.6").write_bytes(b"libc 2.36, rebuilt")
    replaced = project.doit(f"image:{QEMU}")
    assert (f"compile:{QEMU}: external toolchain {root} changed (digest "
            in replaced.stderr)
    assert "…): full rebuild (make clean)" in replaced.stderr
    assert f"compile:{QEMU} >>> busybox 1.37.0 Building" in replaced.stderr
    assert not any(ran(project.doit(f"image:{QEMU}").stdout).values())
