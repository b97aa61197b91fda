"""Packages built from a local source tree (``<PKG>_OVERRIDE_SRCDIR``) through the real doit
CLI, against the test tree: nothing downloaded for them, the tree an input of the build, an
edit that reaches the image, and the tree in build-info.json and the lock."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, add_external_package, make_doit_project, ran
from httpserver import FaultyServer

from skiffbuild.buildroot.overrides import tree_digest

pytestmark = pytest.mark.slow

INSTALL = ("HELLO_INSTALL_TARGET_CMDS = install -D -m 0644 $(@D)/message "
           "$(TARGET_DIR)/usr/share/hello/message\n")


def override_project(tmp_path: Path, testtree: PinnedTree,
                     upstream: FaultyServer) -> tuple[DoitProject, Path]:
    project = make_doit_project(tmp_path / "p", testtree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = upstream.url
    data = b"hello release\n"
    upstream.files["/hello/hello-1.0.tar.gz"] = data
    add_external_package(project, "hello", "1.0", {"hello.hash": (
        f"sha256  {hashlib.sha256(data).hexdigest()}  hello-1.0.tar.gz\n")}, INSTALL)
    src = tmp_path / "hello-src"
    (src / ".git").mkdir(parents=True)
    (src / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (src / "message").write_text("v1\n")
    local = tmp_path / "local.mk"
    local.write_text(f"HELLO_OVERRIDE_SRCDIR = {src}\n")
    (project.root / "overrides" / "buildroot" / "local-mk").write_text(
        f'BR2_PACKAGE_OVERRIDE_FILE="{local}"\n')
    return project, src


def external_deps(project: DoitProject, ws: str) -> list[str]:
    out = subprocess.run(["make", "-s", "-C", str(project.root / "workspaces" / ws / "output"),
                          "external-deps"], capture_output=True, text=True, check=True).stdout
    return sorted(out.split())


def test_override_tree_is_built_tracked_and_recorded(tmp_path: Path, testtree: PinnedTree,
                                                     upstream: FaultyServer) -> None:
    project, src = override_project(tmp_path, testtree, upstream)
    ws = project.root / "workspaces" / "qemu-x86_64"
    first = project.doit("image:qemu-x86_64")
    assert ran(first.stdout)["compile:qemu-x86_64"] is True
    # Buildroot's show-info lists hello-custom.tar.gz; nothing fetched it or asked its hash.
    info = json.loads((ws / "config" / "show-info.json").read_text())
    assert info["info"]["hello"]["downloads"][0]["source"] == "hello-custom.tar.gz"
    assert info["overrides"] == {"hello": str(src)}
    assert not [p for p in upstream.requests if "hello" in p]
    listing = json.loads(project.skiffbuild("sources", "qemu-x86_64", "--json").stdout)
    recorded = json.loads((ws / "config" / "sources.json").read_text())
    assert recorded["overrides"] == {"hello": str(src)}
    assert sorted([row["file"] for row in listing] + [f"file://{src}"]) == \
        external_deps(project, "qemu-x86_64")
    assert project.skiffbuild("check", "qemu-x86_64").returncode == 0
    target = ws / "output" / "target" / "usr" / "share" / "hello" / "message"
    assert target.read_text() == "v1\n"
    info1 = json.loads((ws / "image" / "build-info.json").read_text())
    assert info1["overrides"] == {"hello": {"dir": str(src), "sha256": tree_digest(src)}}

    # Nothing changed: make is not called.
    log = ws / "logs" / "compile.log"
    size = log.stat().st_size
    again = project.doit("image:qemu-x86_64")
    assert ran(again.stdout) == {"fetch:buildroot": False, "config:qemu-x86_64": False,
                                 "sources:qemu-x86_64": False, "compile:qemu-x86_64": False,
                                 "image:qemu-x86_64": False}
    assert log.stat().st_size == size

    # A commit in the tree's .git is not a change of what rsync copies.
    (src / ".git" / "HEAD").write_text("ref: refs/heads/other\n")
    # An edit is: the package is rebuilt from the tree and the image has it.
    (src / "message").write_text("v2\n")
    edited = project.doit("image:qemu-x86_64")
    assert ran(edited.stdout)["compile:qemu-x86_64"] is True
    assert (f"compile:qemu-x86_64: source tree changed, rebuilding hello (from {src})"
            in edited.stderr + edited.stdout)
    assert target.read_text() == "v2\n"
    info2 = json.loads((ws / "image" / "build-info.json").read_text())
    assert info2["overrides"]["hello"]["sha256"] == tree_digest(src) != \
        info1["overrides"]["hello"]["sha256"]
    assert info2["sha256"] != info1["sha256"]

    # The lock records the tree; an edit is drift.
    assert project.skiffbuild("lock", "qemu-x86_64").returncode == 0
    lock = (project.root / "skiffbuild.lock").read_text()
    assert f"    overrides:\n      hello:\n        dir: {src}\n        sha256: " \
           f"{tree_digest(src)}\n" in lock
    old = tree_digest(src)
    (src / "message").write_text("v3\n")
    drift = project.skiffbuild("lock", "--check", "qemu-x86_64")
    assert drift.returncode == 1
    assert [line for line in drift.stderr.splitlines() if line.startswith("qemu-x86_64:")] == [
        f"qemu-x86_64: hello: source tree changed (lock {src} {old[:12]}…, now {src} "
        f"{tree_digest(src)[:12]}…)"]
